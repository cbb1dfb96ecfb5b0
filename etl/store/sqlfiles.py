"""The SQL files beside the modules that run them (named by their path under etl/, without .sql: entities/orders/merge):
reading them, splitting them into statements, running them with bound parameters."""

from __future__ import annotations

import os
import re
import sys
import time
from importlib import resources

import duckdb

PROFILE = bool(os.environ.get("ETL_PROFILE_SQL"))  # print each statement's time to stderr


def sql(name: str) -> str:
    return resources.files("etl").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of an SQL file: each ends with a semicolon at the end of a line."""
    body = "\n".join(line for line in sql(name).splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";[ \t]*(?:\n|$)", body) if s.strip()]


def run_sql(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    """Run every statement of etl/NAME.sql with bound $parameters."""
    for statement in statements(name):
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        start = time.monotonic()
        con.execute(statement, used)
        if PROFILE:
            print(f"{time.monotonic() - start:7.3f}s {name}: {' '.join(statement.split())[:90]}", file=sys.stderr)
