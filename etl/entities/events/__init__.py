"""Events and their items, event deletes: entity.py runs the SQL files beside it."""
