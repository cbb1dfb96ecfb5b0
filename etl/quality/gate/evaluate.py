"""Evaluate a suite's expectations in DuckDB: one scan of the rows checked, then a query
only for what the scan cannot settle (see etl.quality.gate.plan). Results come in GE's shape.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from etl.quality.gate import results
from etl.quality.gate.plan import ROWID, Planned, SuitePlan, quote, unexpected_rows_sql


def execute_bound(con: duckdb.DuckDBPyConnection, query: str, bound: dict[str, Any]):
    """DuckDB wants exactly the parameters a statement uses."""
    used = set(re.findall(r"\$([A-Za-z_]\w*)", query))
    return con.execute(query, {k: v for k, v in bound.items() if k in used})


def batch_query(entity: str, where: str | None) -> str:
    """The rows checked, numbered in table order (names from etl.quality.suites.ENTITIES, not input)."""
    query = f"SELECT rowid AS {ROWID}, * FROM main.{quote(entity)}"  # noqa: S608 (a quoted name)
    return query + (f" WHERE {where}" if where else "")


def evaluate(
    con: duckdb.DuckDBPyConnection,
    plan: SuitePlan,
    *,
    where: str | None = None,
    where_params: dict[str, Any] | None = None,
    skip_empty: bool = False,
) -> dict[int, dict[str, Any]] | None:
    """{position: GE-shaped result} for the planned expectations; None when skip_empty and
    there are no rows."""
    batch = batch_query(plan.entity, where)
    bound = dict(plan.params.values) | (where_params or {})
    aggregates = ["count(*)"] + [a for p in plan.planned for a in p.aggregates]
    values = list(execute_bound(con, f"SELECT {', '.join(aggregates)} FROM ({batch}) AS batch", bound).fetchone())  # noqa: S608
    total = values.pop(0)
    if skip_empty and total == 0:
        return None
    out: dict[int, dict[str, Any]] = {}
    queries = [p for p in plan.planned if p.kind.family == "unexpected_rows"]
    counts = _unexpected_row_counts(con, plan.entity, queries)
    for p in plan.planned:
        mine, values = values[: len(p.aggregates)], values[len(p.aggregates) :]
        if p.kind.family == "unexpected_rows":
            count = counts[p.position]
            success, result = count == 0, {"observed_value": count}
        elif p.kind.family == "row_count":
            k = p.kwargs
            success, result = results.between_success(mine[0], k.min_value, k.max_value, k.strict_min, k.strict_max)
        else:
            success, result = _map_outcome(con, p, mine, batch, bound)
        out[p.position] = results.expectation_result(p.config, success, result)
    return out


def _map_outcome(con, p: Planned, values: list[Any], batch: str, bound: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    family, mostly = p.kind.family, p.kwargs.mostly  # type: ignore[attr-defined]
    if family == "not_null":
        element_count, unexpected = values
        nulls = [None] * min(unexpected or 0, results.PARTIAL_UNEXPECTED_COUNT)
        return results.map_result(
            element_count=element_count, nonnull_count=None, unexpected_count=unexpected,
            unexpected_values=nulls, mostly=mostly,
        )  # fmt: skip
    if family == "unique":
        element_count, considered, distinct = values
        unexpected, listed = (0, []) if distinct == considered else _duplicates(con, p, [p.kwargs.column], batch, bound)
    elif family == "compound_unique":
        element_count, considered, complete, distinct = values
        columns = p.kwargs.column_list
        unexpected, listed = (0, []) if distinct == complete else _duplicates(con, p, columns, batch, bound)
    else:  # map, pair
        element_count, considered, unexpected, listed = values
        listed = listed or []
        if family == "pair":
            listed = [(pair["a"], pair["b"]) for pair in listed]  # GE's pairs are tuples
    return results.map_result(
        element_count=element_count, nonnull_count=considered, unexpected_count=unexpected,
        unexpected_values=listed, mostly=mostly,
    )  # fmt: skip


def _duplicates(con, p: Planned, columns: list[str], batch: str, bound: dict[str, Any]) -> tuple[int, list[Any]]:
    """How many rows hold a value (tuple) that occurs more than once, and the first of them."""
    names = ", ".join(quote(c) for c in columns)
    shown = (
        quote(columns[0])
        if p.kind.family == "unique"
        else "{" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': {quote(c)}" for c in columns) + "}"
    )
    query = f"""
        WITH batch AS ({batch}),
        duplicated AS (
            SELECT {names} FROM batch
            WHERE {p.domain} AND {p.unexpected}
            GROUP BY {names} HAVING count(*) >= 2
        )
        SELECT count(*), min_by({shown}, {ROWID}, {results.PARTIAL_UNEXPECTED_COUNT})
        FROM batch SEMI JOIN duplicated USING ({names})
        WHERE {p.domain}
    """  # noqa: S608 (names quoted, values bound)
    count, listed = execute_bound(con, query, bound).fetchone()
    return count, list(listed or [])


def _unexpected_row_counts(con, entity: str, queries: list[Planned]) -> dict[int, int]:
    if not queries:
        return {}
    counts = ", ".join(
        f"(SELECT count(*) FROM ({unexpected_rows_sql(entity, p.kwargs.unexpected_rows_query)}) AS q{i})"  # noqa: S608
        for i, p in enumerate(queries)
    )
    row = con.execute(f"SELECT {counts}").fetchone()  # noqa: S608 (the suite's own SQL, as GE runs it)
    return {p.position: row[i] for i, p in enumerate(queries)}
