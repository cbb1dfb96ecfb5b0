"""Merge: upsert by order id, events, counts, dry run, and one transaction per import."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import etl.entities.orders.entity
from etl.errors import EtlError, ImportCancelled
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import kevel_row, line_row, write_csv

TABLES = ["orders", "line_items", "users", "events", "rejects"]


def run(tmp_path: Path, rows: list[dict], name: str = "orders.csv", dry_run: bool = False) -> dict:
    source = write_csv(tmp_path / name, rows)
    spec = validate_spec({"format": "kevel_orders", "source": str(source)}, "test")
    return run_import(spec, tmp_path / "cdp.duckdb", dry_run=dry_run)


def dump(tmp_path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: what an analyst would see."""
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}  # noqa: S608


def counts(report: dict) -> tuple:
    return report["entities"]["orders"], report["entities"]["line_items"], report["events"]


BASE = [
    kevel_row("o1", lineItem_sku="a"),
    line_row("o1", lineItem_sku="b"),
    kevel_row("o2", lineItem_sku="c"),
]


def test_first_import_adds_orders_and_generates_order_place_events(tmp_path):
    report = run(tmp_path, BASE)
    assert counts(report) == (
        {"added": 2, "updated": 0, "unchanged": 0},
        {"added": 3, "updated": 0, "unchanged": 0, "removed": 0},
        {"orderPlace": 2, "orderUpdate": 0},
    )
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        events = con.execute(
            "SELECT e.event_type, e.order_id, i.id_type, i.id_value FROM events AS e "
            "JOIN identities AS i USING (customer_id) WHERE i.id_type = 'email' ORDER BY e.order_id"
        ).fetchall()
    assert events == [("orderPlace", "o1", "email", "o1@example.com"), ("orderPlace", "o2", "email", "o2@example.com")]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path):
    run(tmp_path, BASE)
    before = dump(tmp_path)
    report = run(tmp_path, BASE)
    assert counts(report) == (
        {"added": 0, "updated": 0, "unchanged": 2},
        {"added": 0, "updated": 0, "unchanged": 3, "removed": 0},
        {"orderPlace": 0, "orderUpdate": 0},
    )
    assert dump(tmp_path) == before


@pytest.mark.parametrize(
    ("changed", "line_counts"),
    [
        # an order field
        (
            [kevel_row("o1", lineItem_sku="a", total="11"), line_row("o1", lineItem_sku="b"), BASE[2]],
            {"added": 0, "updated": 0, "unchanged": 2, "removed": 0},
        ),
        # a line item's status
        (
            [BASE[0], line_row("o1", lineItem_sku="b", lineItem_status="refunded"), BASE[2]],
            {"added": 0, "updated": 1, "unchanged": 1, "removed": 0},
        ),
        # a line item added
        (
            [*BASE[:2], line_row("o1", lineItem_sku="new"), BASE[2]],
            {"added": 1, "updated": 0, "unchanged": 2, "removed": 0},
        ),
        # a line item removed
        ([BASE[0], BASE[2]], {"added": 0, "updated": 0, "unchanged": 1, "removed": 1}),
    ],
    ids=["order-field", "line-status", "line-added", "line-removed"],
)
def test_a_changed_order_is_updated_with_one_order_update_event(tmp_path, changed, line_counts):
    run(tmp_path, BASE)
    report = run(tmp_path, changed, name="changed.csv")
    o1_lines = line_counts["added"] + line_counts["updated"] + line_counts["unchanged"]
    assert counts(report) == (
        {"added": 0, "updated": 1, "unchanged": 1},
        {**line_counts, "unchanged": line_counts["unchanged"] + 1},  # o2's line is unchanged too
        {"orderPlace": 0, "orderUpdate": 1},
    )
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM line_items WHERE order_id = 'o1'").fetchone()[0] == o1_lines
        assert con.execute(
            "SELECT event_type, order_id, import_id FROM events WHERE event_type = 'orderUpdate'"
        ).fetchall() == [("orderUpdate", "o1", 2)]
        assert con.execute("SELECT first_import_id, last_import_id FROM orders WHERE order_id = 'o1'").fetchone() == (
            1,
            2,
        )
        assert con.execute("SELECT first_import_id, last_import_id FROM orders WHERE order_id = 'o2'").fetchone() == (
            1,
            1,
        )


def test_a_later_file_adds_new_orders_and_keeps_those_it_does_not_mention(tmp_path):
    run(tmp_path, BASE)
    report = run(tmp_path, [kevel_row("o3")], name="more.csv")
    assert report["entities"]["orders"] == {"added": 1, "updated": 0, "unchanged": 0}
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        assert con.execute("SELECT list(order_id ORDER BY order_id) FROM orders").fetchone()[0] == ["o1", "o2", "o3"]


def test_dry_run_computes_counts_against_the_store_and_stores_nothing(tmp_path):
    run(tmp_path, BASE)
    before = dump(tmp_path)
    changed = [
        kevel_row("o1", lineItem_sku="a", total="99"),
        line_row("o1", lineItem_sku="b"),
        kevel_row("o9", total="x"),
    ]
    report = run(tmp_path, changed, name="changed.csv", dry_run=True)
    assert report["dry_run"] is True
    assert (report["items"], report["valid"], report["rejected"]) == (3, 2, 1)
    assert counts(report) == (
        {"added": 0, "updated": 1, "unchanged": 0},
        {"added": 0, "updated": 0, "unchanged": 2, "removed": 0},
        {"orderPlace": 0, "orderUpdate": 1},
    )
    assert dump(tmp_path) == before
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        assert con.execute("SELECT import_id, status, dry_run FROM imports ORDER BY 1").fetchall() == [
            (1, "completed", False),
            (2, "completed", True),
        ]


def _fail_during_apply(monkeypatch, error: BaseException) -> None:
    """Let the merge's first statements run for real, then fail in the middle of it."""
    real = etl.entities.orders.entity.run_sql

    def failing(con, name, **params):
        if name == "entities/orders/apply":
            statements = etl.store.connection.statements(name)
            for statement in statements[:4]:  # orders and line items half-written
                con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
            raise error
        return real(con, name, **params)

    monkeypatch.setattr(etl.entities.orders.entity, "run_sql", failing)


@pytest.mark.parametrize(
    ("error", "raised", "status"),
    [(RuntimeError("disk on fire"), RuntimeError, "failed"), (KeyboardInterrupt(), ImportCancelled, "cancelled")],
)
def test_a_failure_or_ctrl_c_in_the_middle_leaves_the_store_as_it_was(tmp_path, monkeypatch, error, raised, status):
    run(tmp_path, BASE)
    before = dump(tmp_path)
    _fail_during_apply(monkeypatch, error)
    with pytest.raises(raised):
        run(tmp_path, [kevel_row("o1", total="5"), kevel_row("o7")], name="next.csv")
    assert dump(tmp_path) == before
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        assert con.execute("SELECT import_id, status, error IS NOT NULL FROM imports ORDER BY 1").fetchall() == [
            (1, "completed", False),
            (2, status, True),
        ]


def test_bad_input_fails_the_import_records_it_and_stores_nothing(tmp_path):
    run(tmp_path, BASE)
    before = dump(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("orderId,total\no1,1\n", encoding="utf-8")
    spec = validate_spec({"format": "kevel_orders", "source": str(bad)}, "test")
    with pytest.raises(EtlError, match="missing required columns"):
        run_import(spec, tmp_path / "cdp.duckdb")
    assert dump(tmp_path) == before
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        status, error = con.execute("SELECT status, error FROM imports WHERE import_id = 2").fetchone()
    assert status == "failed" and "bad.csv: line 1: missing required columns" in error


def test_several_files_are_one_import(tmp_path):
    first = write_csv(tmp_path / "a.csv", [kevel_row("o1")])
    second = write_csv(tmp_path / "b.csv", [kevel_row("o2"), kevel_row("o3", total="bad")])
    spec = validate_spec({"format": "kevel_orders", "source": str(tmp_path / "*.csv")}, "test")
    report = run_import(spec, tmp_path / "cdp.duckdb")
    assert [(f["uri"], f["rows"]) for f in report["files"]] == [(str(first), 1), (str(second), 2)]
    assert (report["items"], report["valid"], report["rejected"]) == (3, 2, 1)
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        assert con.execute("SELECT source, line FROM rejects").fetchall() == [(str(second), 3)]


def test_an_order_in_a_later_file_of_the_same_import_supersedes_the_earlier_one(tmp_path):
    write_csv(tmp_path / "day1.csv", [kevel_row("o1", lineItem_status="placed"), kevel_row("o2")])
    write_csv(tmp_path / "day2.csv", [kevel_row("o1", lineItem_status="fulfilled")])
    spec = validate_spec({"format": "kevel_orders", "source": str(tmp_path / "day*.csv")}, "test")
    report = run_import(spec, tmp_path / "cdp.duckdb")
    assert (report["items"], report["valid"], report["rejected"]) == (3, 2, 1)
    assert report["issues"] == [{
        "column": "orderId",
        "hint": "the order appears again in a later file of this import: the later rows are kept",
        "count": 1,
        "percent": 33.33,
        "examples": ["o1"],
    }]  # fmt: skip
    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        assert con.execute("SELECT order_id, status FROM line_items ORDER BY 1").fetchall() == [
            ("o1", "fulfilled"),
            ("o2", "paid"),
        ]
        assert con.execute("SELECT source, line FROM rejects").fetchall() == [(str(tmp_path / "day1.csv"), 2)]
