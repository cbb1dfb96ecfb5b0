"""The DuckDB store: connecting, its schema and views, its upgrades, the SQL files' runner, its docs."""
