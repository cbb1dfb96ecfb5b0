"""Segments: the SQL queries in etl/segments/sql/, with their parameters bound, never pasted.

Each file's header comment is its documentation and its contract: `-- Segment:` names it, the
lines after it say what it is, `-- Grain:` what one row is, and `-- Parameters:` lists each
parameter as `name  TYPE  default-or-required  what it means`. A segment runs from the command
line (`etl segment run`), from Python (`run()` returns a Polars DataFrame) and, in ad-hoc SQL,
as a DuckDB table macro of the same name that every import (re)creates in the store:
`SELECT * FROM rfm(DATE '2024-12-31')`, optional parameters by name: `statuses := ['paid']`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from etl.segments.catalog import (
    SEGMENTS_DIR,
    TYPES,
    Parameter,
    Segment,
    SegmentError,
    bind,
    catalog,
    get,
    install_macros,
    macro_sql,
    parse_value,
)

__all__ = [
    "SEGMENTS_DIR",
    "TYPES",
    "SegmentError",
    "Parameter",
    "Segment",
    "catalog",
    "get",
    "parse_value",
    "bind",
    "macro_sql",
    "install_macros",
    "run",
]


def run(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    store: Path | str | None = None,
    wait: float | None = None,
):
    """Run a segment and return a Polars DataFrame. Give an open connection, or a store path
    (opened read-only for the query only; default $ETL_STORE, else data/cdp.duckdb; `wait`:
    seconds to wait for an import holding it, default etl.store.connection.WAIT_S). Parameters may be
    Python values (date, int, list) or text as on the command line.

    Example: run("rfm", {"observation_end": date(2024, 12, 31)})
    """
    segment = get(name)
    values = bind(segment, params or {})
    if con is not None:
        return _run(con, segment, values)
    from etl.store.connection import WAIT_S, connect, store_path

    path = store_path(str(store) if store else None)
    with connect(path, read_only=True, wait=WAIT_S if wait is None else wait) as opened:
        return _run(opened, segment, values)


def _run(con: duckdb.DuckDBPyConnection, segment: Segment, values: dict[str, Any]):
    # a segment may call another's macro; as TEMP macros they are there even in a store opened
    # read-only that no import has given them yet
    install_macros(con, temporary=True)
    try:
        return con.sql(segment.body, params=values).pl()
    except duckdb.InvalidInputException as exc:  # error() of purchase_facts: out-of-date facts, bad statuses
        message = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
        if message.startswith(("order_facts is out of date", "statuses:")):
            raise SegmentError(f"segment {segment.name}: {message}") from None
        raise
