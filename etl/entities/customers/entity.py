"""The customers entity: people (etl.entities.identity.graph resolves records to them) and their attributes.

Its formats stage one row per record (stg_rows: `ids`, the values of the plan's `id_types`; `patch`, the
attributes as a JSON merge patch; `not_attributes`, `drop_nulls`, `updated_at`; `hash_hi`, `hash_lo`, the
record's hash). entities/customers/known.sql finds the records applied before, which change nothing and skip the rest
(a re-import costs a hash join); entities/customers/stage.sql gives the identity graph the others' ids;
entities/customers/records.sql pairs each record with its person; `apply_attributes` merges them into
`customers.attributes` with the format's strategy and returns the counts for the report.
"""

from __future__ import annotations

from typing import Literal

import duckdb

from etl.entities import Run, first_and_last, known_needed, nothing_lost
from etl.entities.identity import graph as identity
from etl.formats.columns import CUSTOMER_STAGED
from etl.store.sqlfiles import run_sql

NAME = "customers"
STAGING = CUSTOMER_STAGED
# merge: attributes not in the record stay; replace: the record's are the whole set. Attribute by attribute
# when the records carry updated_at (customers_attributes_timed), else whole objects (customers_attributes).
STRATEGIES = {"merge": ("entities/customers/attributes", "entities/customers/attributes_timed"),
              "replace": ("entities/customers/attributes", "entities/customers/attributes_timed")}  # fmt: skip
TABLES = ("customers", "identities", "identity_links", "customer_merges", "customer_attribute_times")
DERIVED = ()
# The high halves of the hashes of the records last applied to a customer alone (customers.record_hash): the engine
# stages the records with one of them apart (etl.pipeline.known; entities/customers/known.sql matches the whole
# hash and leaves out a hash two customers hold). Not distinct: a test against them needs none, and DISTINCT cost
# more than the rest of the lookup.
KNOWN = "SELECT (record_hash >> 64)::UBIGINT AS hash_hi FROM customers WHERE record_hash IS NOT NULL"


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
        con,
        "entities/customers/attributes_timed" if timed else "entities/customers/attributes",
        import_id=import_id,
        strategy=strategy,
    )
    counts = dict(con.execute("SELECT change, count(*) FROM customer_changes GROUP BY change").fetchall())
    (skipped,) = con.execute("SELECT count(DISTINCT customer_id) FROM stg_skipped").fetchall()[0]  # not in those
    counts["unchanged"] = counts.get("unchanged", 0) + skipped
    return {change: int(counts.get(change, 0)) for change in ("added", "updated", "unchanged")}


def store(con: duckdb.DuckDBPyConnection, run: Run) -> dict:
    """The engine's step: the staged records merged with the format's strategy (see `merge`)."""
    with run.state.timed("merge"):
        return merge(con, run.import_id, run.options.strategy, _id_types(run))  # None: known records are needed


def report(con: duckdb.DuckDBPyConnection, run: Run, stored: dict) -> dict:
    """customers {added, updated, unchanged} and identities {added}; merges, repeated_records and known_records;
    the sample."""
    counts = dict(stored)
    return {
        "kept": counts.pop("kept"),
        "entities": counts.pop("entities"),
        "extra": counts,
        "sample": sample(con, _id_types(run)),
    }


def _id_types(run: Run) -> tuple[str, ...]:
    return run.plans[0].facts.id_types  # the same options for every file: the same types


def merge(
    con: duckdb.DuckDBPyConnection, import_id: int, strategy: Literal["merge", "replace"], id_types: tuple[str, ...]
) -> dict | None:
    """The staged records (the view stg_rows: ids, patch ...) into the store: their ids (of `id_types`) resolved
    to people, their attributes merged; stg_rejects made from the rejected rows. The counts for the report; None
    when records staged as known are needed whole (stg_known_needed: the engine stages and stores them again)."""
    run_sql(con, "entities/customers/known")
    run_sql(con, "entities/customers/stage", id_types=list(id_types))
    resolved = identity.resolve(con, import_id)
    run_sql(con, "entities/customers/known_settle", id_types=list(id_types))
    if known_needed(con):  # a record staged as known is not skipped: the rest would miss its ids and attributes
        return None
    run_sql(con, "entities/customers/records")
    changes = apply_attributes(con, import_id, strategy)
    # the skipped records' customers are none of the others' (entities/customers/known_settle.sql): repeats add up
    kept, resolved_records, staged, skipped, repeated = con.execute(
        "SELECT (SELECT count(*) FROM stg_rows), (SELECT count(*) FROM stg_record_customers), "
        "(SELECT count(*) FROM stg_customer_records), (SELECT count(*) FROM stg_skipped), "
        "(SELECT count(*) - count(DISTINCT customer_id) FROM stg_record_customers) "
        "+ (SELECT count(*) - count(DISTINCT customer_id) FROM stg_skipped)"
    ).fetchall()[0]
    nothing_lost(  # every kept record reached a person
        ("records kept", kept, "resolved to customers or known from before", resolved_records + skipped),
        ("records kept", kept, "merged or known from before", staged + skipped),
    )
    return {
        "kept": kept,
        "entities": {"customers": changes, "identities": {"added": resolved["identities_added"]}},
        "merges": resolved["merges"],
        "repeated_records": repeated,  # records of a person who had an earlier record in this import
        "known_records": skipped,  # records applied before, as they were: skipped
    }


def sample(con: duckdb.DuckDBPyConnection, id_types: tuple[str, ...], size: int = 5) -> dict[str, list[dict]]:
    """The first and last records of the import: their record number, ids, customer and its change."""
    query = """
        WITH picked AS (  -- the few records first: the joins then touch five rows, not the import
            SELECT _file, _row, _seq, ids FROM stg_rows ORDER BY _file {direction}, _row {direction} LIMIT $size
        )
        SELECT r._row + 1 AS record,
               list_filter(list_transform(r.ids, lambda v, k: ($id_types::VARCHAR[])[k] || ':' || v),
                           lambda i: i IS NOT NULL) AS ids,
               c.customer_id, coalesce(ch.change, 'unchanged') AS change  -- none: skipped, known from before
        FROM picked AS r
        JOIN (SELECT record, customer_id FROM stg_record_customers
              UNION ALL SELECT record, customer_id FROM stg_skipped) AS c ON c.record = r._seq
        LEFT JOIN customer_changes AS ch USING (customer_id)
        ORDER BY r._file {direction}, r._row {direction}
    """
    return first_and_last(con, query, {"size": size, "id_types": list(id_types)})
