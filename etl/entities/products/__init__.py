"""Products: entity.py runs the SQL files beside it."""
