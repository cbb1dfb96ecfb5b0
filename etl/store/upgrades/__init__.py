"""Upgrades of stores written by earlier versions."""
