"""order_facts and customer_keys: kept by every import, rebuilt after changes made by hand, and
refused by the segments while they are out of date."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import kevel_row, line_row, write_csv

from etl.segments import run as segment
from etl.segments.run import SegmentError
from etl.store.connection import connect, refresh_order_facts

FACTS = """
SELECT customer_keys.customer_id, order_facts.* EXCLUDE (customer_key)
FROM order_facts LEFT JOIN customer_keys USING (customer_key)
ORDER BY order_id
"""


def facts(store: Path) -> list[tuple]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(FACTS).fetchall()


def facts_rebuilt(store: Path, tmp_path: Path) -> list[tuple]:
    """The same, computed afresh from orders and line items (on a copy of the store)."""
    copy = tmp_path / "rebuilt.duckdb"
    copy.write_bytes(store.read_bytes())
    with connect(copy, read_only=False) as con:
        refresh_order_facts(con, force=True)
        return con.execute(FACTS).fetchall()


def customer_of(store, email: str) -> int:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(
            "SELECT customer_id FROM identities WHERE id_type = 'email' AND id_value = $e", {"e": email}
        ).fetchall()[0][0]


def test_imports_keep_order_facts_as_a_rebuild_computes_them(etl, store, tmp_path):
    first = write_csv(
        tmp_path / "first.csv",
        [
            kevel_row("o1", lineItem_status="paid", lineItem_total="10"),
            line_row("o1", lineItem_productId="p2", lineItem_status="cancelled", lineItem_total="4"),
            kevel_row("o2", userId="b@example.com", lineItem_status="placed", lineItem_total="7.5"),
            kevel_row("o3", lineItem_status="refunded", lineItem_total="3", createdAt="2024-03-31T23:30:00-02:00"),
        ],
    )
    assert etl("import", "--format", "kevel_orders", "--source", str(first)).code == 0
    rows = {row[1]: row for row in facts(store)}
    columns = ["customer_id", "order_id", "day", "created_at"]
    statuses = ("placed", "paid", "fulfilled", "refunded", "cancelled")
    columns += [f"{status}_{what}" for status in statuses for what in ("lines", "value")]
    o1, o3 = dict(zip(columns, rows["o1"], strict=True)), dict(zip(columns, rows["o3"], strict=True))
    assert (o1["customer_id"], o1["paid_lines"], o1["paid_value"]) == (customer_of(store, "o1@example.com"), 1, 10.0)
    assert (o1["cancelled_lines"], o1["cancelled_value"], o1["placed_lines"], o1["placed_value"]) == (1, 4.0, 0, None)
    assert str(o3["day"]) == "2024-04-01"  # 23:30 at -02:00 is 01:30 UTC the next day
    assert facts(store) == facts_rebuilt(store, tmp_path)

    second = write_csv(
        tmp_path / "second.csv",
        [
            kevel_row("o1", lineItem_status="fulfilled", lineItem_total="10"),  # its cancelled line removed
            kevel_row("o2", userId="b@example.com", lineItem_status="placed", lineItem_total="7.5"),  # unchanged
            kevel_row("o4", userId="new@example.com", lineItem_status="paid", lineItem_total="1"),
        ],
    )
    run = etl("import", "--format", "kevel_orders", "--source", str(second), "--json")
    assert run.code == 0, run.stderr
    assert (run.json["entities"]["orders"]["added"], run.json["entities"]["orders"]["updated"]) == (1, 1)
    after = {row[1]: dict(zip(columns, row, strict=True)) for row in facts(store)}
    assert sorted(after) == ["o1", "o2", "o3", "o4"]
    assert (after["o1"]["fulfilled_lines"], after["o1"]["cancelled_lines"], after["o1"]["paid_lines"]) == (1, 0, 0)
    assert facts(store) == facts_rebuilt(store, tmp_path)
    with duckdb.connect(str(store), read_only=True) as con:
        keys = con.execute("SELECT count(*), count(DISTINCT customer_key) FROM customer_keys").fetchall()[0]
    assert keys == (4, 4)  # o1, b, o3, new: one number each


def test_a_dry_run_leaves_order_facts_alone(etl, store, tmp_path):
    source = write_csv(tmp_path / "one.csv", [kevel_row("o1")])
    assert etl("import", "--format", "kevel_orders", "--source", str(source), "--dry-run").code == 0
    assert facts(store) == []


def test_rows_changed_by_hand_stop_the_segments_until_etl_refresh(etl, store, tmp_path):
    source = write_csv(tmp_path / "one.csv", [kevel_row("o1", lineItem_status="paid", lineItem_total="10")])
    assert etl("import", "--format", "kevel_orders", "--source", str(source)).code == 0
    with duckdb.connect(str(store)) as con:  # an analyst adds an order in SQL
        con.execute(
            "INSERT INTO orders (order_id, customer_id, user_id_type, user_id, currency, total, created_at) "
            "VALUES ('by-hand', 999, 'email', 'x@example.com', 'EUR', 5, "
            "TIMESTAMPTZ '2024-05-01 10:00:00+00')"
        )
        con.execute(
            "INSERT INTO line_items (order_id, line_no, product_id, currency, total, quantity, status) "
            "VALUES ('by-hand', 1, 'p9', 'EUR', 5, 1, 'paid')"
        )

    stale = etl("segment", "run", "rfm", "--param", "observation_end=2024-12-31", "--store", str(store))
    assert stale.code == 1
    assert "order_facts is out of date" in stale.stdout + stale.stderr and "etl refresh" in stale.stdout + stale.stderr
    with duckdb.connect(str(store), read_only=True) as con:  # ad-hoc SQL through the macros refuses too
        with pytest.raises(duckdb.InvalidInputException, match="order_facts is out of date"):
            con.execute("SELECT * FROM rfm(DATE '2024-12-31')").fetchall()

    refreshed = etl("refresh", "--store", str(store))
    assert refreshed.code == 0, refreshed.stdout + refreshed.stderr
    assert "2 orders of 2 customers" in refreshed.stdout + refreshed.stderr
    rfm = segment.run("rfm", {"observation_end": "2024-12-31"}, store=store)
    assert sorted(rfm["customer_id"].to_list()) == sorted([customer_of(store, "o1@example.com"), 999])


def test_statuses_outside_the_five_are_an_error(etl, store, tmp_path):
    source = write_csv(tmp_path / "one.csv", [kevel_row("o1")])
    assert etl("import", "--format", "kevel_orders", "--source", str(source)).code == 0
    with pytest.raises(SegmentError, match="statuses: each must be one of placed, paid"):
        segment.run("rfm", {"observation_end": "2024-12-31", "statuses": "paid,returned"}, store=store)


def test_etl_refresh_of_a_missing_store_says_so(etl, tmp_path):
    missing = tmp_path / "none.duckdb"
    run = etl("refresh", "--store", str(missing))
    assert run.code == 1 and "does not exist yet" in run.stdout + run.stderr
    assert not missing.exists()
