"""Customers (people) and their attributes: entity.py runs the SQL files beside it."""
