"""Segments: the SQL queries of sql/, their catalog, and running them with bound parameters."""
