"""Entities: the kinds of record the store keeps (orders, customers ...), each with its merge strategies as
SQL files that read canonical staging columns only and know no vendor."""
