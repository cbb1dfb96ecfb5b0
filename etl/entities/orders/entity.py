"""The orders entity: orders and their line items from rows of line items, their buyers resolved through the
identity graph, merged by content hash, with the events they make (orderPlace, orderUpdate) and the order facts
the segments read.

Its formats stage one row per line item (stg_rows: the order's fields on each row, `_first` on the row that
starts a run of one order's rows, `_seq` the run). The steps, each an SQL file beside this module: known (the
orders stored as they are), assemble (orders and line items from the rows, the runs rejected whole), buyers +
etl.entities.identity.graph + keyed (each order's customer), merge + merge_compare + merge_changes (compare with
the store), apply (upsert, events), facts (the order facts the segments read).
"""

from __future__ import annotations

from typing import Any

import duckdb

from etl.entities import Run, known_needed, nothing_lost
from etl.entities.identity import graph as identity
from etl.formats.columns import CUSTOM_FIELD
from etl.store.sqlfiles import run_sql

NAME = "orders"
STAGING = ("order_id", "user_id_type", "user_id", "created_at", "last_updated", "line_no", "product_id", "status")
# an order is replaced whole when its content changed
STRATEGIES = {
    "upsert": (
        "entities/orders/merge",
        "entities/orders/merge_compare",
        "entities/orders/merge_changes",
        "entities/orders/apply",
    )
}
TABLES = ("orders", "line_items", "order_row_hashes", "events", "customers", "identities")
DERIVED = ("order_facts", "customer_keys")

# The high halves of the stored rows' hashes (order_row_hashes): the engine stages the rows with one of them as
# their keys and hash alone (etl.pipeline.known); orders whose rows were stored as they are skip the rest
# (entities/orders/known.sql).
KNOWN = "SELECT (row_hash >> 64)::UBIGINT AS hash_hi FROM order_row_hashes"


def store(con: duckdb.DuckDBPyConnection, run: Run) -> dict[str, int] | None:
    """Assemble, resolve the buyers, compare and apply; the identity graph's counts. None when orders staged as
    known are needed whole (stg_known_needed: the engine stages and stores them again)."""
    state = run.state
    with state.timed("known"):
        run_sql(con, "entities/orders/known")
        if known_needed(con):  # the rest would miss their rows
            return None
    with state.timed("assemble"):
        run_sql(con, "entities/orders/assemble", key_field=run.plans[0].facts.key_field)
        _pack_custom_fields(con)
    with state.timed("resolve_buyers"):
        run_sql(con, "entities/orders/buyers")
        people = identity.resolve(con, run.import_id, one_id_per_record=True)
        identity.add_customers(con, run.import_id)
        run_sql(con, "entities/orders/keyed")
    with state.timed("compare"):
        run_sql(con, "entities/orders/merge")
        (held,) = con.execute("SELECT count(*) FROM staged_orders SEMI JOIN orders USING (order_id)").fetchall()[0]
        if held:  # else nothing to compare: hashing a first import's orders cost 3 s a million
            run_sql(con, "entities/orders/merge_compare")
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE compared_orders (_seq UBIGINT, same BOOLEAN)")
        run_sql(con, "entities/orders/merge_changes")
    # a dry run applies too, so that the suites see what an import would store; it is rolled back
    with state.timed("apply"):
        run_sql(con, "entities/orders/apply", import_id=run.import_id, started_at=run.started_at, format=run.format)
        _check_applied(con, run.import_id)
        run_sql(con, "entities/orders/facts", import_id=run.import_id)  # what the segments read
    return people


def report(con: duckdb.DuckDBPyConnection, run: Run, people: dict[str, int]) -> dict[str, Any]:
    """Orders and line items, the events they made, and the people the buyers added to the graph."""
    known_orders, known_lines = con.execute(
        "SELECT count(*), coalesce(sum(line_count), 0) FROM stg_known_orders"
    ).fetchall()[0]  # unchanged, and not read beyond their hashes
    (kept,) = con.execute("SELECT count(*) FROM stg_line_items").fetchall()[0]  # a kept row is a line item
    kept += known_lines
    orders = _counts(
        con, "SELECT change, count(*) FROM order_changes GROUP BY change", ["added", "updated", "unchanged"]
    )
    orders["unchanged"] += known_orders
    lines = _counts(con, "SELECT change, line_count FROM line_changes", ["added", "updated", "unchanged", "removed"])
    lines["unchanged"] += known_lines
    # orders stored without a customer: a Shopify point-of-sale or draft order without an email, say
    (without_buyer,) = con.execute(
        "SELECT (SELECT count(*) FROM stg_orders_keyed WHERE user_id IS NULL) + "
        "(SELECT count(*) FROM orders SEMI JOIN stg_known_orders USING (order_id) WHERE orders.user_id IS NULL)"
    ).fetchall()[0]
    return {
        "kept": kept,
        "entities": {
            "orders": orders, "line_items": lines, "customers": {"added": people["customers_added"]},
            "identities": {"added": people["identities_added"]},
        },
        "events": {"orderPlace": orders["added"], "orderUpdate": orders["updated"]},
        "extra": {"merges": people["merges"], "orders_without_buyer": without_buyer, "known_orders": known_orders},
        "sample": {"first": _sample(con, "ASC"), "last": _sample(con, "DESC")},
        "sample_of": "orders",
        "notes": without_buyer_notes(without_buyer),
    }  # fmt: skip


def without_buyer_notes(orders: int) -> list[dict[str, Any]]:
    """The report's line on orders stored without a buyer, when there are any."""
    if not orders:
        return []
    return [{"text": f"Orders without a buyer (no email nor phone; stored, in no customer's segments): {orders:,}",
             "warning": False}]  # fmt: skip


def _counts(con: duckdb.DuckDBPyConnection, query: str, kinds: list[str]) -> dict[str, int]:
    """{kind: n} from a query of (change, n) rows; kinds absent from it count 0."""
    rows: dict[str, int] = {}
    for change, count in con.execute(query).fetchall():  # line_changes: one row per order and change
        rows[change] = rows.get(change, 0) + int(count or 0)
    return {kind: rows.get(kind, 0) for kind in kinds}


def _sample(con: duckdb.DuckDBPyConnection, direction: str, size: int = 5) -> list[dict[str, Any]]:
    """The first or last orders of the import, by file and row: record, order_id, currency, total, created_at,
    line_items, change (a known order's from the store). `direction` is one of two literals, never input."""
    cursor = con.execute(
        f"""
        WITH first_rows AS (
            SELECT * FROM (
                SELECT order_id, _file, _row FROM stg_order_rows
                ANTI JOIN stg_dropped_runs ON stg_dropped_runs._seq = stg_order_rows._seq
                UNION ALL
                SELECT order_id, first_file, first_row FROM stg_known_orders
            )
            ORDER BY _file {direction}, _row {direction} LIMIT $size
        ),
        line_counts AS (
            SELECT order_id, count(*) AS line_items FROM stg_line_items
            WHERE order_id IN (SELECT order_id FROM first_rows) GROUP BY order_id
            UNION ALL
            SELECT order_id, line_count FROM stg_known_orders WHERE order_id IN (SELECT order_id FROM first_rows)
        ),
        details AS (
            SELECT o.order_id, o.currency, o.total, o.created_at, c.change
            FROM stg_orders AS o JOIN order_changes AS c USING (order_id)
            WHERE o.order_id IN (SELECT order_id FROM first_rows)
            UNION ALL
            SELECT order_id, currency, total, created_at, 'unchanged' FROM orders
            WHERE order_id IN (SELECT order_id FROM stg_known_orders SEMI JOIN first_rows USING (order_id))
        )
        SELECT first_rows._row + 1 AS record, d.order_id, d.currency, d.total,
               d.created_at, line_counts.line_items, d.change
        FROM first_rows
        JOIN details AS d USING (order_id)
        JOIN line_counts USING (order_id)
        ORDER BY first_rows._file, first_rows._row
        """,  # noqa: S608
        {"size": size},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _pack_custom_fields(con: duckdb.DuckDBPyConnection) -> None:
    """stg_order_rows_packed: the order rows with the custom:<key> columns a format staged packed into
    packed_custom_fields, when it staged some (else null: the SQL cannot name columns that are not there)."""
    names = [row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE stg_rows)").fetchall()]
    if any(name.startswith(CUSTOM_FIELD) for name in names):
        run_sql(con, "entities/orders/custom_fields")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW stg_order_rows_packed AS "
            "SELECT *, NULL::JSON AS packed_custom_fields FROM stg_order_rows"
        )


def _check_applied(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Nothing lost: what the merge meant to write is what the store now holds for this run."""
    staged_orders, staged_lines, stored_orders, stored_lines = con.execute(
        """
        SELECT
            (SELECT count(*) FROM changed_orders),
            (SELECT count(*) FROM stg_line_items_keyed SEMI JOIN changed_orders USING (_seq)),
            (SELECT count(*) FROM orders WHERE last_import_id = $import_id),
            (SELECT count(*) FROM line_items WHERE last_import_id = $import_id)
        """,
        {"import_id": import_id},
    ).fetchall()[0]
    nothing_lost(("orders meant to be stored", staged_orders, "orders stored", stored_orders),
                 ("line items meant to be stored", staged_lines, "line items stored", stored_lines))  # fmt: skip
