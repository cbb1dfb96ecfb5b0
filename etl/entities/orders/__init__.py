"""Orders and their line items: entity.py runs the SQL files beside it, named by step."""
