"""Segments: the SQL queries in etl/segments/sql/, with their parameters bound, never pasted.

Each file's header comment is its documentation and its contract: `-- Segment:` names it, the
lines after it say what it is, `-- Grain:` what one row is, and `-- Parameters:` lists each
parameter as `name  TYPE  default-or-required  what it means`. A segment runs from the command
line (`etl segment run`), from Python (`run()` returns a Polars DataFrame) and, in ad-hoc SQL,
as a DuckDB table macro of the same name that every import (re)creates in the store:
`SELECT * FROM rfm(DATE '2024-12-31')`, optional parameters by name: `statuses := ['paid']`.

A segment's date defaults to the store's last purchase day (the macro last_purchase_day(statuses): the last day of
purchase_facts), the same from all three: `SELECT * FROM rfm()`. run_with_parameters() also says which day that was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
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
    purchase_statuses,
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
    "run_with_parameters",
]


def run(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    store: Path | str | None = None,
    wait: float | None = None,
):
    """Run a segment and return a Polars DataFrame (run_with_parameters' rows).

    Example: run("rfm", {"observation_end": date(2024, 12, 31)}); run("rfm"): up to the store's last purchase day
    """
    return run_with_parameters(name, params, con=con, store=store, wait=wait)[0]


def run_with_parameters(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    store: Path | str | None = None,
    wait: float | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Run a segment: its rows (a Polars DataFrame) and the values it ran with, every parameter, the defaults that
    the store decides resolved (observation_end: the store's last purchase day, a date; None when the store has no
    purchase). Give an open connection, or a store path (opened read-only for the query only; default $ETL_STORE,
    else data/cdp.duckdb; `wait`: seconds to wait for an import holding it, default etl.store.connection.WAIT_S).
    Parameters may be Python values (date, int, list) or text as on the command line.

    Example: frame, values = run_with_parameters("rfm")  # values["observation_end"]: date(2024, 12, 31)
    """
    segment = get(name)
    values = bind(segment, params or {})
    if con is not None:
        return _run_resolved(con, segment, values)
    from etl.store.connection import WAIT_S, connect, store_path

    path = store_path(str(store) if store else None)
    with connect(path, read_only=True, wait=WAIT_S if wait is None else wait) as opened:
        return _run_resolved(opened, segment, values)


def _resolve(con: duckdb.DuckDBPyConnection, segment: Segment, values: dict[str, Any]) -> dict[str, Any]:
    """`values` (bind()'s) with each parameter that is None and has a default the store decides (Parameter.
    store_default) set to the value the segment's SQL takes for it."""
    resolved = dict(values)
    known = {"statuses": purchase_statuses(), **values}  # geo has no statuses: purchase_facts' own
    for parameter in segment.parameters:
        if parameter.store_default is None or values.get(parameter.name) is not None:
            continue
        sql = parameter.store_default.sql
        with _segment_errors(segment):
            ((resolved[parameter.name],),) = con.execute(
                f"SELECT {sql}", {name: known[name] for name in re.findall(r"\$(\w+)", sql)}
            ).fetchall()
    return resolved


def _run_resolved(con: duckdb.DuckDBPyConnection, segment: Segment, values: dict[str, Any]):
    # a segment may call another's macro; as TEMP macros they are there even in a store opened
    # read-only that no import has given them yet (or that an earlier version gave other ones)
    install_macros(con, temporary=True)
    resolved = _resolve(con, segment, values)
    with _segment_errors(segment):
        return con.sql(segment.body, params=resolved).pl(), resolved


@contextmanager
def _segment_errors(segment: Segment) -> Iterator[None]:
    """The errors of purchase_facts (out-of-date facts, bad statuses) as SegmentErrors."""
    try:
        yield
    except duckdb.InvalidInputException as exc:  # error() of purchase_facts
        message = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ")
        if message.startswith(("order_facts is out of date", "statuses:")):
            raise SegmentError(f"segment {segment.name}: {message}") from None
        raise
