"""Order events into the orders entity: the orders that an events import's order events make or change (a format
with `feeds_orders`, eSputnik's orderCreated ... : etl/entities/events/orders.sql folds them), merged by the orders
entity exactly as an order import's rows are (orderPlace, orderUpdate, order facts, the gate), inside the same
transaction.

The events entity calls `fold` before it stores the events (an ignored order event is rejected, not stored) and
`merge` after: the orders entity's SQL reads stg_rows and stg_row_rejects, which then name the orders' rows.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from etl.entities import Run
from etl.formats.plan import OrdersFacts, Plan
from etl.store.sqlfiles import run_sql

# what the orders entity reads of a plan: the field named in its reasons for an order's key (no file is staged)
ORDER_ROWS_PLAN = Plan(transform=lambda lf: (lf, []), facts=OrdersFacts(key_field="externalOrderId"))


def fold(con: duckdb.DuckDBPyConnection, run: Run, id_types: list[str]) -> int:
    """stg_order_actions, stg_ignored_order_events and stg_event_order_rows (entities/events/orders.sql); how many
    orders the events change."""
    run_sql(con, "entities/events/orders", started_at=run.started_at, id_types=id_types,
            default_currency=run.plans[0].facts.default_currency)  # fmt: skip
    return con.execute("SELECT count(DISTINCT order_id) FROM stg_order_actions").fetchall()[0][0]


def merge(con: duckdb.DuckDBPyConnection, run: Run) -> dict:
    """The folded orders merged by the orders entity; its report's counts (entities, events, extra). The orders'
    rejects are added to the events' (stg_rejects)."""
    from etl.entities.orders import entity as orders

    con.execute("CREATE OR REPLACE TEMP VIEW stg_rows AS SELECT * FROM stg_event_order_rows")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW stg_row_rejects AS SELECT _file, _row, _seq, order_id, NULL::VARCHAR AS raw, "
        '[]::STRUCT("column" VARCHAR, hint VARCHAR, "value" VARCHAR)[] AS reasons, NULL::BIGINT AS _line '
        "FROM stg_event_order_rows WHERE false"
    )
    orders_run = replace(run, plans=[ORDER_ROWS_PLAN])
    people = orders.store(con, orders_run)
    counts = orders.report(con, orders_run, people)
    kept = counts["extra"]["orders_buyer_kept"] = buyer_kept(con)
    if kept["orders"]:  # eSputnik's order events naming another contact: the order kept its buyer
        examples = ", ".join(f"{e['order_id']} ({e['buyer']}, not {e['named']})" for e in kept["examples"])
        text = (f"{kept['orders']:,} orders keep their buyer although an event named another contact (the event "
                f"is stored on that contact): {examples}")  # fmt: skip
        counts["notes"].append({"text": text, "warning": True})
    return counts


def buyer_kept(con: duckdb.DuckDBPyConnection, size: int = 5) -> dict:
    """The orders whose events named another contact than their buyer (entities/events/orders.sql: the order keeps its
    buyer): how many, and a few as {order_id, buyer, named}."""
    (orders,) = con.execute("SELECT count(DISTINCT order_id) FROM stg_order_buyer_kept").fetchall()[0]
    rows = con.execute(
        "SELECT order_id, buyer_type || ' ' || buyer AS buyer, named_type || ' ' || named AS named "
        "FROM stg_order_buyer_kept ORDER BY order_id, named LIMIT $size",
        {"size": size},
    ).fetchall()
    return {"orders": orders, "examples": [dict(zip(("order_id", "buyer", "named"), r, strict=True)) for r in rows]}
