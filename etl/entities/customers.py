"""The customers entity: people (etl.identity resolves records to them) and their attributes.

A format of this entity stages `stg_customer_records` (see etl/sql/customers_attributes.sql for its
columns); `apply_attributes` merges them into `customers.attributes` with the format's strategy and
returns the counts for the report.
"""

from __future__ import annotations

from typing import Literal

import duckdb

from etl.store import run_sql

STRATEGIES = ("merge", "replace")


def apply_attributes(
    con: duckdb.DuckDBPyConnection, import_id: int, strategy: Literal["merge", "replace"] = "merge"
) -> dict[str, int]:
    """Apply the staged records' attributes; {added, updated, unchanged} customers."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    run_sql(con, "customers_attributes", import_id=import_id, strategy=strategy)
    counts = dict(con.execute("SELECT change, count(*) FROM customer_changes GROUP BY change").fetchall())
    return {change: int(counts.get(change, 0)) for change in ("added", "updated", "unchanged")}
