"""The customers entity: people (etl.identity resolves records to them) and their attributes.

A format of this entity stages `stg_customer_records` (see etl/sql/customers_attributes.sql for its
columns); `apply_attributes` merges them into `customers.attributes` with the format's strategy and
returns the counts for the report.
"""

from __future__ import annotations

from typing import Literal

import duckdb

from etl import identity
from etl.errors import EtlError
from etl.sqlfiles import run_sql

STRATEGIES = ("merge", "replace")


def apply_attributes(
    con: duckdb.DuckDBPyConnection, import_id: int, strategy: Literal["merge", "replace"] = "merge"
) -> dict[str, int]:
    """Apply the staged records' attributes; {added, updated, unchanged} customers."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    (timed,) = con.execute(
        "SELECT coalesce(bool_or(updated_at IS NOT NULL), false) FROM stg_customer_records"
    ).fetchall()[0]
    # attribute by attribute only when times decide; else whole objects, which is much cheaper
    if timed:  # that path patches stored customers: the new ones first get no attributes
        identity.add_customers(con, import_id)
    run_sql(
        con, "customers_attributes_timed" if timed else "customers_attributes", import_id=import_id, strategy=strategy
    )
    counts = dict(con.execute("SELECT change, count(*) FROM customer_changes GROUP BY change").fetchall())
    return {change: int(counts.get(change, 0)) for change in ("added", "updated", "unchanged")}


def store(
    con: duckdb.DuckDBPyConnection, import_id: int, strategy: Literal["merge", "replace"], id_types: tuple[str, ...]
) -> dict:
    """The staged records (the view stg_rows: ids, patch ...) into the store: their ids (of `id_types`) resolved
    to people, their attributes merged; stg_rejects made from the rejected rows. The counts for the report."""
    run_sql(con, "customers_stage", id_types=list(id_types))
    resolved = identity.resolve(con, import_id)
    run_sql(con, "customers_records")
    changes = apply_attributes(con, import_id, strategy)
    kept, resolved_records, staged, repeated = con.execute(
        "SELECT (SELECT count(*) FROM stg_rows), (SELECT count(*) FROM stg_record_customers), "
        "(SELECT count(*) FROM stg_customer_records), "
        "(SELECT count(*) - count(DISTINCT customer_id) FROM stg_customer_records)"
    ).fetchall()[0]
    if not kept == resolved_records == staged:  # nothing lost: every kept record reached a person
        raise EtlError(
            f"consistency check failed: {kept} records kept, {resolved_records} resolved to customers, "
            f"{staged} merged; nothing was stored"
        )
    return {
        "kept": kept,
        "entities": {"customers": changes, "identities": {"added": resolved["identities_added"]}},
        "merges": resolved["merges"],
        "repeated_records": repeated,  # records of a person who had an earlier record in this import
    }


def sample(con: duckdb.DuckDBPyConnection, id_types: tuple[str, ...], size: int = 5) -> dict[str, list[dict]]:
    """The first and last records of the import: their record number, ids, customer and its change."""
    query = """
        SELECT r._row + 1 AS record,
               list_filter(list_transform(r.ids, lambda v, k: ($id_types::VARCHAR[])[k] || ':' || v),
                           lambda i: i IS NOT NULL) AS ids,
               c.customer_id, ch.change
        FROM stg_rows AS r
        JOIN stg_record_customers AS c ON c.record = r._seq
        JOIN customer_changes AS ch USING (customer_id)
        ORDER BY r._file {direction}, r._row {direction}
        LIMIT $size
    """
    out = {}
    for which, direction in (("first", "ASC"), ("last", "DESC")):
        cursor = con.execute(
            query.format(direction=direction), {"size": size, "id_types": list(id_types)}
        )  # direction: one of two literals
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        out[which] = rows if which == "first" else rows[::-1]
    return out
