"""Import shop history into a DuckDB customer store."""
