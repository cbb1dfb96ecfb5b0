"""Great Expectations on DuckDB: the workarounds GE 1.24 and duckdb-engine 0.17 need, in one place.

GE's SQL data source talks to DuckDB through SQLAlchemy and duckdb-engine. As shipped, three
things break (tests/test_gx_duckdb.py checks each of them against the unpatched libraries, so
that it fails, and tells us to drop a workaround, once upstream fixes it):

1. GE returns a query's result from a `with engine.connect()` block and fetches it after the
   connection went back to the pool, whose reset (a ROLLBACK) has discarded DuckDB's pending
   result: every metric fails with "list index out of range".
2. duckdb-engine reflects tables with PostgreSQL's catalog queries, which DuckDB 2.0 cannot
   answer (pg_collation, REGCLASS): table assets fail. Query assets need no reflection.
3. GE has no DuckDB regex expression: every *_match_regex expectation fails with
   "Regex is not supported for dialect duckdb".

Not a breakage, a cost: importing GE imports altair, whose jsonschema builds rfc3987_syntax's
Lark grammar at import, 1.7 s of Python on every import run, for an "iri" format checker that
nothing here uses (rfc3987-syntax comes with jupyterlab's jsonschema[format-nongpl]). Importing
this module first marks it absent, and jsonschema then leaves that one format out.

The engine here also has to see the import's own uncommitted rows, so it does not open
connections of its own: it borrows the import's connection, and SQLAlchemy's BEGIN, COMMIT,
ROLLBACK and close become no-ops on it (the import owns the transaction). That also cures 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import duckdb

if "jsonschema" not in sys.modules:  # afterwards it would be too late, and harmless to leave
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]  # None: "not installed"

# GE would otherwise try to send usage statistics (no network here) at import.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import sqlalchemy as sa  # noqa: E402
from duckdb_engine import ConnectionWrapper, CursorWrapper  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

_REGEX_MODULES = (
    "great_expectations.expectations.metrics.util",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex_list",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex_list",
    "great_expectations.expectations.metrics.column_aggregate_metrics.column_values_match_regex_values",
    "great_expectations.expectations.metrics.column_aggregate_metrics.column_values_not_match_regex_values",
)


class _Cursor(CursorWrapper):
    def __init__(self, con, wrapper: _BorrowedConnection) -> None:
        super().__init__(con, wrapper)
        self._failures = wrapper.failures

    def execute(self, statement, parameters=None, context=None):
        try:
            return super().execute(statement, parameters, context)
        except duckdb.InterruptException:
            # Ctrl-C inside a query: GE would catch it as a failed metric and go on; as
            # KeyboardInterrupt it passes GE's `except Exception` and cancels the import
            raise KeyboardInterrupt from None
        except Exception as exc:
            # DuckDB aborts the transaction on any failed statement, and every later one then fails
            # with "Current transaction is aborted": the first failure is the one worth reporting
            self._failures.append((" ".join(str(statement).split())[:300], str(exc).splitlines()[0]))
            raise


class _BorrowedConnection(ConnectionWrapper):
    """The import's DuckDB connection as a DB-API connection that leaves its transaction alone."""

    def __init__(self, con: duckdb.DuckDBPyConnection, failures: list[tuple[str, str]]) -> None:
        super().__init__(con)
        self._con = con
        self.failures = failures

    def cursor(self) -> _Cursor:
        return _Cursor(self._con, self)

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def engine_kwargs(con: duckdb.DuckDBPyConnection, failures: list[tuple[str, str]]) -> dict[str, Any]:
    """create_engine() keyword arguments (GE's SQL data source passes them on) for an engine
    whose only connection is `con`: one connection, never reset, never closed by SQLAlchemy.
    Statements that fail are appended to `failures` as (statement, error)."""
    return {
        "creator": lambda: _BorrowedConnection(con, failures),
        "poolclass": StaticPool,
        "pool_reset_on_return": None,
    }


def _duckdb_regex(original):
    def regex_expression(column, regex, dialect, positive=True):
        if getattr(getattr(dialect, "dialect", dialect), "name", None) == "duckdb":
            # regexp_matches searches (like Python's re.search and PostgreSQL's ~), as GE expects
            matches = sa.func.regexp_matches(column, sa.literal(regex))
            return matches if positive else sa.not_(matches)
        return original(column, regex, dialect, positive)

    regex_expression.original = original
    return regex_expression


def install() -> None:
    """Teach GE DuckDB's regex function (idempotent)."""
    import importlib

    for name in _REGEX_MODULES:
        module = importlib.import_module(name)
        current = module.get_dialect_regex_expression
        if not hasattr(current, "original"):
            module.get_dialect_regex_expression = _duckdb_regex(current)
