"""The orders entity: orders and their line items from rows of line items, their buyers resolved through the
identity graph, merged by content hash, with the events they make (orderPlace, orderUpdate) and the order facts
the segments read.

Its formats stage one row per line item (stg_rows: the order's fields on each row, `_first` on the row that
starts a run of one order's rows, `_seq` the run). The steps, each an SQL file of etl/sql: assemble_orders
(orders and line items from the rows, rejects), orders_buyers + etl.identity + orders_keyed (each order's
customer), merge_orders (compare with the store), merge_apply (upsert, events), refresh_order_facts.
"""

from __future__ import annotations

from typing import Any

import duckdb

from etl import identity
from etl.entities import Run
from etl.errors import EtlError
from etl.formats.rows import CUSTOM_FIELD
from etl.sqlfiles import run_sql

NAME = "orders"
STAGING = ("order_id", "user_id_type", "user_id", "created_at", "last_updated", "line_no", "product_id", "status")
STRATEGIES = {"upsert": ("merge_orders", "merge_apply")}  # an order is replaced whole when its content changed
TABLES = ("orders", "line_items", "events", "customers", "identities")
DERIVED = ("order_facts", "customer_keys")

# what computed orders.content_hash: DuckDB's hash() may change between versions, and a new expression is a
# new version (the buyer's customer_id left out once the identity graph could move it; line_items.custom_fields)
CONTENT_HASH_VERSION = f"duckdb {duckdb.__version__}, without customer_id, with line custom_fields"


def store(con: duckdb.DuckDBPyConnection, run: Run) -> dict[str, int]:
    """Assemble, resolve the buyers, compare and apply; the identity graph's counts."""
    state = run.state
    with state.timed("assemble"):
        run_sql(con, "assemble_orders", key_field=run.plans[0].key_field)
        _pack_custom_fields(con)
    with state.timed("resolve_buyers"):
        run_sql(con, "orders_buyers")
        people = identity.resolve(con, run.import_id, one_id_per_record=True)
        identity.add_customers(con, run.import_id)
        run_sql(con, "orders_keyed")
    with state.timed("compare"):
        _ensure_current_hashes(con)
        run_sql(con, "merge_orders")
    # a dry run applies too, so that the suites see what an import would store; it is rolled back
    with state.timed("apply"):
        run_sql(con, "merge_apply", import_id=run.import_id, started_at=run.started_at)
        _check_applied(con, run.import_id)
        run_sql(con, "refresh_order_facts", import_id=run.import_id)  # what the segments read
    return people


def report(con: duckdb.DuckDBPyConnection, run: Run, people: dict[str, int]) -> dict[str, Any]:
    """Orders and line items, the events they made, and the people the buyers added to the graph."""
    (kept,) = con.execute("SELECT count(*) FROM stg_line_items").fetchall()[0]  # a kept row is a line item
    orders = _counts(
        con, "SELECT change, count(*) FROM order_changes GROUP BY change", ["added", "updated", "unchanged"]
    )
    lines = _counts(con, "SELECT change, line_count FROM line_changes", ["added", "updated", "unchanged", "removed"])
    # orders stored without a customer: a Shopify point-of-sale or draft order without an email, say
    (without_buyer,) = con.execute("SELECT count(*) FROM stg_orders_keyed WHERE user_id IS NULL").fetchall()[0]
    return {
        "kept": kept,
        "entities": {
            "orders": orders, "line_items": lines, "customers": {"added": people["customers_added"]},
            "identities": {"added": people["identities_added"]},
        },
        "events": {"orderPlace": orders["added"], "orderUpdate": orders["updated"]},
        "extra": {"merges": people["merges"], "orders_without_buyer": without_buyer},
        "sample": {"first": _sample(con, "ASC"), "last": _sample(con, "DESC")},
    }  # fmt: skip


def _counts(con: duckdb.DuckDBPyConnection, query: str, kinds: list[str]) -> dict[str, int]:
    """{kind: n} from a query of (change, n) rows; kinds absent from it count 0."""
    rows: dict[str, int] = {}
    for change, count in con.execute(query).fetchall():  # line_changes: one row per order and change
        rows[change] = rows.get(change, 0) + int(count or 0)
    return {kind: rows.get(kind, 0) for kind in kinds}


def _sample(con: duckdb.DuckDBPyConnection, direction: str, size: int = 5) -> list[dict[str, Any]]:
    """The first or last orders of the import, by file and row: record, order_id, currency, total, created_at,
    line_items, change. `direction` is one of two literals, never input."""
    cursor = con.execute(
        f"""
        WITH first_rows AS (
            SELECT order_id, _file, _row FROM stg_order_rows
            ANTI JOIN stg_dropped_runs ON stg_dropped_runs._seq = stg_order_rows._seq
            ORDER BY _file {direction}, _row {direction} LIMIT $size
        ),
        line_counts AS (
            SELECT order_id, count(*) AS line_items FROM stg_line_items
            WHERE order_id IN (SELECT order_id FROM first_rows) GROUP BY order_id
        )
        SELECT first_rows._row + 1 AS record, o.order_id, o.currency, o.total,
               o.created_at, line_counts.line_items, c.change
        FROM first_rows
        JOIN stg_orders AS o USING (order_id)
        JOIN line_counts USING (order_id)
        JOIN order_changes AS c USING (order_id)
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
        run_sql(con, "orders_custom_fields")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW stg_order_rows_packed AS "
            "SELECT *, NULL::JSON AS packed_custom_fields FROM stg_order_rows"
        )


def _ensure_current_hashes(con: duckdb.DuckDBPyConnection) -> None:
    """orders.content_hash comes from DuckDB's hash(), which may change between versions: recompute the stored
    hashes once when what wrote them (CONTENT_HASH_VERSION) is not this."""
    stored = con.execute("SELECT max(value) FROM store_meta WHERE key = 'content_hash_version'").fetchall()[0][0]
    if stored != CONTENT_HASH_VERSION:
        run_sql(con, "rehash_orders", version=CONTENT_HASH_VERSION)


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
    if (staged_orders, staged_lines) != (stored_orders, stored_lines):
        raise EtlError(
            f"consistency check failed: meant to store {staged_orders} orders and {staged_lines} line items, "
            f"the store holds {stored_orders} and {stored_lines}; nothing was stored"
        )
