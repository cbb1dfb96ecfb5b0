"""The identity graph: which ids name one person, for every entity whose records carry ids.

An entity's import stages `stg_identity_links` (record, id_type, business_unit, id_value: every id of
each record, normalised by its format) and calls `resolve(con, import_id)` inside its transaction. The
records' links between their ids are added to `identity_links`, and the people are computed from all the
links, so that which ids belong together does not depend on the order of the imports:

- ids carried by one record are one person, and so are records sharing an id (transitively);
- an email and its sha256 (email_sha256) are one person: a record's email brings its hash along;
- at most one external id per person: an id seen with external ids belongs to the smallest of them
  (by value), and links through it to another external id's person are not followed; two external ids
  in one record stay two people;
- a person keeps the smallest customer_id its ids already had, so customer_id is stable across
  re-imports; customer_id values themselves depend on which import saw the person first. A customer
  whose ids all went to another is merged into it (customer_merges), attributes with it.

Only the clusters (connected parts of the graph) that the import's new ids and links touch are computed
again, on integer node numbers; a cluster with at most one external id is one person without more ado, and a
record whose ids are all new and its own is a new person without any propagation.
A re-import that adds nothing is a lookup.

It leaves `stg_record_customers` (record -> customer_id) for the entity's merge, and `stg_new_customers`
(customer_id), the people the entity adds to `customers` (`add_customers` adds them without attributes).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from etl.errors import EtlError
from etl.store.sqlfiles import run_sql

MAX_ROUNDS = 200  # propagation rounds; jumps along chains and star-shaped links keep them few


def resolve(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    *,
    one_id_per_record: bool = False,
    named_by: Sequence[str] = (),
) -> dict[str, int]:
    """Resolve this import's records to customers; the counts for the report. `one_id_per_record`: the entity's
    records carry one id each (an order's buyer): each distinct id is resolved once, for all its records, and the
    only links are those of emails to their sha256 (entities/identity/email_hashes.sql). `named_by`: the id types, in
    the
    order by which a record names its person (an event's user_id_type): its customer is that id's."""
    shared = one_id_per_record
    if shared:  # many records share an id (a buyer's orders): each id is resolved once
        run_sql(con, "entities/identity/shared_ids")
        (emails,) = con.execute("SELECT count(*) FROM stg_identity_links WHERE id_type = 'email'").fetchall()[0]
        one_id_per_record = emails == 0  # an email brings its hash: the two are linked
    run_sql(con, "entities/identity/email_hashes")
    run_sql(con, "entities/identity/nodes")
    if con.execute("SELECT count(*) FROM stg_new_ids").fetchall()[0][0]:
        run_sql(con, "entities/identity/nodes_numbered")
    run_sql(con, "entities/identity/id_nodes")
    if one_id_per_record:
        con.execute("CREATE OR REPLACE TEMP TABLE stg_new_links (a BIGINT, b BIGINT, external BOOLEAN)")
    else:
        run_sql(con, "entities/identity/new_links", import_id=import_id)
    new_ids, new_links = con.execute(
        "SELECT (SELECT count(*) FROM stg_id_nodes WHERE is_new), (SELECT count(*) FROM stg_new_links)"
    ).fetchall()[0]
    if new_ids == 0 and new_links == 0:  # the graph is as it was: a lookup
        con.execute("CREATE OR REPLACE TEMP TABLE stg_node_customers (node BIGINT, customer_id BIGINT)")
        con.execute("CREATE OR REPLACE TEMP TABLE stg_new_customers (customer_id BIGINT)")
        con.execute("CREATE OR REPLACE TEMP TABLE stg_isolated (record BIGINT, cluster BIGINT, customer_id BIGINT)")
        _records(con, shared, named_by)
        return {"customers_added": 0, "identities_added": 0, "merges": 0}
    run_sql(con, "entities/identity/isolated", import_id=import_id)  # people of their own: no propagation
    run_sql(con, "entities/identity/clusters")
    _settle(con, "entities/identity/clusters_propagate", labels="cl_labels", changes="cl_changes")
    run_sql(con, "entities/identity/region")
    _settle(con, "entities/identity/propagate", labels="id_nodes", changes="id_label_changes")
    run_sql(con, "entities/identity/assign")
    run_sql(con, "entities/identity/merge", import_id=import_id)
    run_sql(con, "entities/identity/place_ids", import_id=import_id)
    run_sql(con, "entities/identity/follow")  # stored orders and events move with their buyers' ids
    _records(con, shared, named_by)
    added, merges = con.execute(
        "SELECT (SELECT count(*) FROM stg_new_customers), (SELECT count(*) FROM stg_merges)"
    ).fetchall()[0]
    return {"customers_added": added, "identities_added": new_ids, "merges": merges}


def _records(con: duckdb.DuckDBPyConnection, shared: bool, named_by: Sequence[str]) -> None:
    """stg_record_customers: each record's customer (of the records that stood for their ids, when shared)."""
    run_sql(con, "entities/identity/records", named_by=list(named_by))
    if shared:
        run_sql(con, "entities/identity/shared_customers")


def add_customers(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """The import's new people into `customers`, without attributes (for entities that have none)."""
    con.execute(
        "INSERT INTO customers SELECT customer_id, '{}'::JSON, $import_id, $import_id, NULL FROM stg_new_customers",
        {"import_id": import_id},
    )


def _settle(con: duckdb.DuckDBPyConnection, step: str, *, labels: str, changes: str) -> None:
    """Run a propagation step until no label changes (labels, changes: temp tables of ours, not input)."""
    if con.execute(f"SELECT count(*) FROM {labels}").fetchall()[0][0] == 0:  # noqa: S608
        return
    for _ in range(MAX_ROUNDS):
        run_sql(con, step)
        if con.execute(f"SELECT changed FROM {changes}").fetchall()[0][0] == 0:  # noqa: S608
            return
    raise EtlError(f"the identity graph did not settle in {MAX_ROUNDS} rounds")
