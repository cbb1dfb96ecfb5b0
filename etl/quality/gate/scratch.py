"""Every compiled expectation tried on empty tables of the store's schema, in a DuckDB of its
own, before an import reads a row.

In the import's transaction a failing statement aborts the transaction, and everything
after it fails too. Tried here first, a value that cannot be compared with its column (text
bound against a number, a date that is not one), an invalid regex or a broken
unexpected_rows_query is reported as a mistake in the suite, naming the expectation.
"""

from __future__ import annotations

import duckdb

from etl.quality.gate.evaluate import batch_query, execute_bound
from etl.quality.gate.plan import SuitePlan, Unsupported, quote, unexpected_rows_sql


def check_on_empty_tables(columns: dict[str, dict[str, str]], plans: list[SuitePlan]) -> dict[str, list[str]]:
    """{entity: ["  expectations[i]...: problem", ...]} for the expectations that fail on empty tables."""
    problems: dict[str, list[str]] = {}
    with duckdb.connect() as scratch:
        for table, types in columns.items():
            scratch.execute(
                f"CREATE TABLE {quote(table)} ({', '.join(f'{quote(c)} {t}' for c, t in types.items())})"  # noqa: S608
            )
        for plan in plans:
            batch = batch_query(plan.entity, None)
            scan = [p for p in plan.planned if p.kind.family != "unexpected_rows"]
            try:  # the whole scan at once; one at a time only to find what failed
                _try(scratch, plan, scan, batch)
                scan = []
            except duckdb.Error:
                pass
            for p in scan + [p for p in plan.planned if p.kind.family == "unexpected_rows"]:
                try:
                    _try(scratch, plan, [p], batch)
                except (Unsupported, duckdb.Error) as exc:
                    where = f"  expectations[{p.position}] ({p.type})"
                    problems.setdefault(plan.entity, []).append(f"{where}: {str(exc).splitlines()[0]}")
    return problems


def _try(scratch: duckdb.DuckDBPyConnection, plan: SuitePlan, planned: list, batch: str) -> None:
    for p in planned:
        if p.kind.family == "unexpected_rows":
            query = unexpected_rows_sql(plan.entity, p.kwargs.unexpected_rows_query)
            scratch.execute(f"SELECT count(*) FROM ({query}) AS q").fetchall()  # noqa: S608
        elif p.kind.condition in ("regex", "not_regex"):  # compiled only when a row meets it
            scratch.execute("SELECT regexp_matches('', $regex)", {"regex": p.kwargs.regex}).fetchall()
    aggregates = [a for p in planned for a in p.aggregates]
    if aggregates:
        sql = f"SELECT {', '.join(aggregates)} FROM ({batch}) AS batch"  # noqa: S608
        execute_bound(scratch, sql, plan.params.values).fetchall()
