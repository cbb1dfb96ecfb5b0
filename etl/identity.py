"""The identity graph: which ids name one person, for every entity whose records carry ids.

An entity's import stages `stg_identity_links` (record, id_type, business_unit, id_value: every id of
each record, normalised by its format) and calls `resolve(con, import_id)` inside its transaction. That
adds the import's id sets to `identity_evidence` and recomputes the people from all the evidence, so
that which ids belong together does not depend on the order of the imports:

- ids carried by one record are one person, and so are records sharing an id (transitively);
- at most one external id per person: an id seen with external ids belongs to the smallest of them
  (by value), and links through it to another external id's person are not followed; two external ids
  in one record stay two people;
- a person keeps the smallest customer_id its ids already had, so customer_id is stable across
  re-imports; customer_id values themselves depend on which import saw the person first. A customer
  whose ids all went to another is merged into it (customer_merges), attributes with it.

It leaves `stg_record_customers` (record -> customer_id) for the entity's merge.
"""

from __future__ import annotations

import duckdb

from etl.errors import EtlError
from etl.store import run_sql

MAX_ROUNDS = 200  # label propagation rounds; each halves no distance, but star edges keep paths short


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    run_sql(con, "identity_schema")


def resolve(con: duckdb.DuckDBPyConnection, import_id: int) -> dict[str, int]:
    """Resolve this import's records to customers; the counts for the report."""
    ensure_tables(con)
    before = _counts(con)
    run_sql(con, "identity_evidence", import_id=import_id)
    if con.execute("SELECT count(*) FROM stg_new_evidence").fetchall()[0][0] == 0:  # nothing new: a lookup
        run_sql(con, "identity_records")
        return {"customers_added": 0, "identities_added": 0, "merges": 0}
    run_sql(con, "identity_graph")
    for _ in range(MAX_ROUNDS):
        run_sql(con, "identity_propagate")
        if con.execute("SELECT changed FROM id_label_changes").fetchall()[0][0] == 0:
            break
    else:
        raise EtlError(f"the identity graph did not settle in {MAX_ROUNDS} rounds")
    run_sql(con, "identity_assign", import_id=import_id)
    run_sql(con, "identity_records")
    after = _counts(con)
    merges = con.execute("SELECT count(*) FROM stg_merges").fetchall()[0][0]
    return {
        "customers_added": after["customers"] - before["customers"] + merges,
        "identities_added": after["identities"] - before["identities"],
        "merges": merges,
    }


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    customers, identities = con.execute(
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM identities)"
    ).fetchall()[0]
    return {"customers": customers, "identities": identities}
