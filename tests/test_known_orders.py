"""Orders whose rows were stored as they are are known by their rows' hashes and left alone without being parsed
or compared (etl/entities/orders/known.sql): a re-import of the same export costs a hash join. Knowing them must never
change what an import gives: each test runs the same imports with it and without it (run_import's use_known) and
compares every order, line item, event and reject, and the reports' counts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import kevel_row, line_row, write_csv
from tests.test_shopify_orders import export, order_row
from tests.test_shopify_orders import line_row as shopify_line


def imported(store: Path, specs: list[dict], *, known: bool) -> list[dict]:
    return [run_import(validate_spec(spec, f"spec {n}"), store, use_known=known) for n, spec in enumerate(specs)]


def stored(store: Path) -> dict[str, list[tuple]]:
    """What the store holds of the orders (import ids and customer numbers left out: runs may number apart)."""
    queries = {
        "orders": "SELECT * EXCLUDE (customer_id, first_import_id, last_import_id) FROM orders ORDER BY order_id",
        "line_items": "SELECT * EXCLUDE (last_import_id) FROM line_items ORDER BY order_id, line_no",
        "events": "SELECT event_type, order_id, import_id, CASE event_type WHEN 'orderPlace' THEN occurred_at END "
        "FROM events ORDER BY event_id",  # an update without last_updated happens when its import starts
        "rejects": "SELECT import_id, line, record, reasons FROM rejects ORDER BY import_id, record",
    }
    with duckdb.connect(str(store), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}


def counts(report: dict) -> tuple:
    """What a report says an import did, but known_orders (which knowing alone sets)."""
    return (report["items"], report["rejected"], report["entities"]["orders"], report["entities"]["line_items"],
            report["events"], report["orders_without_buyer"])  # fmt: skip


def both_ways(tmp_path: Path, specs: list[dict]) -> list[dict]:
    """The imports with known orders and without give the same store and counts; the reports with them."""
    known = imported(tmp_path / "known.duckdb", specs, known=True)
    compared = imported(tmp_path / "compared.duckdb", specs, known=False)
    assert [counts(r) for r in known] == [counts(r) for r in compared]
    assert stored(tmp_path / "known.duckdb") == stored(tmp_path / "compared.duckdb")
    assert all(r["known_orders"] == 0 for r in compared)
    return known


def kevel(path: Path, rows: list[dict]) -> dict:
    return {"format": "kevel_orders", "source": str(write_csv(path, rows))}


def shopify(path: Path, rows: list[dict], **options) -> dict:
    return {"format": "shopify_orders", "source": str(export(path, rows)), **({"options": options} if options else {})}


SHOP = [order_row("#1001"), shopify_line("#1001"), order_row("#1002", Email="", Phone=""), order_row("#1003"),
        shopify_line("#1003", **{"Lineitem sku": "B-2"}), shopify_line("#1003", **{"Lineitem sku": "B-3"})]  # fmt: skip


def test_the_same_export_twice_is_known_order_by_order_and_changes_nothing(tmp_path):
    first, again = both_ways(tmp_path, [shopify(tmp_path / "a.csv", SHOP), shopify(tmp_path / "a.csv", SHOP)])
    assert (first["known_orders"], again["known_orders"]) == (0, 3)
    assert again["entities"]["orders"] == {"added": 0, "updated": 0, "unchanged": 3}
    assert again["entities"]["line_items"] == {"added": 0, "updated": 0, "unchanged": 6, "removed": 0}
    assert (again["items"], again["valid"], again["events"]) == (6, 6, {"orderPlace": 0, "orderUpdate": 0})
    assert again["orders_without_buyer"] == 1  # #1002, known, still counted
    assert [(o["order_id"], o["line_items"], o["change"]) for o in again["sample"]["first"]] == [
        ("#1001", 2, "unchanged"), ("#1002", 1, "unchanged"), ("#1003", 3, "unchanged"),
    ]  # fmt: skip


def test_an_order_whose_first_row_changed_is_read_and_updated_and_the_others_stay_known(tmp_path):
    changed = [*SHOP[:3], order_row("#1003", **{"Financial Status": "refunded"}), *SHOP[4:]]
    _, again = both_ways(tmp_path, [shopify(tmp_path / "a.csv", SHOP), shopify(tmp_path / "b.csv", changed)])
    assert again["known_orders"] == 2
    assert again["entities"]["orders"] == {"added": 0, "updated": 1, "unchanged": 2}
    assert again["entities"]["line_items"]["updated"] == 3  # every line of #1003 is refunded now
    assert again["events"] == {"orderPlace": 0, "orderUpdate": 1}


@pytest.mark.parametrize(
    "later",
    [
        pytest.param([*SHOP[:5], shopify_line("#1003", **{"Lineitem fulfillment status": "restocked"})],
                     id="a later line changed, the first row not"),
        pytest.param(SHOP[:5], id="the last line removed"),
        pytest.param([*SHOP, shopify_line("#1003", **{"Lineitem sku": "B-4"})], id="a line added"),
        pytest.param([*SHOP, order_row("#1001")], id="an order's rows not contiguous"),
    ],
)  # fmt: skip
def test_a_known_run_that_is_not_its_whole_stored_order_is_read_again(tmp_path, later):
    _, again = both_ways(tmp_path, [shopify(tmp_path / "a.csv", SHOP), shopify(tmp_path / "b.csv", later)])
    assert again["known_orders"] == 0  # the import ran again without known rows
    assert again["entities"]["orders"]["updated"] + again["rejected"] >= 1


def test_other_options_or_another_format_know_no_row(tmp_path):
    specs = [shopify(tmp_path / "a.csv", SHOP), shopify(tmp_path / "a.csv", SHOP, hash_emails=True),
             shopify(tmp_path / "a.csv", SHOP, hash_emails=True)]  # fmt: skip
    first, hashed, again = both_ways(tmp_path, specs)
    assert hashed["known_orders"] == 0 and hashed["entities"]["orders"]["updated"] == 2  # the two with an email
    assert again["known_orders"] == 3


def test_an_order_another_file_changed_since_is_compared_again(tmp_path):
    rows = [kevel_row("o1"), line_row("o1", lineItem_productId="p2"), kevel_row("o2")]
    changed = [kevel_row("o1", lineItem_status="refunded"), line_row("o1", lineItem_productId="p2")]
    specs = [kevel(tmp_path / "a.csv", rows), kevel(tmp_path / "b.csv", changed), kevel(tmp_path / "a.csv", rows),
             kevel(tmp_path / "a.csv", rows)]  # fmt: skip
    _, _, back, again = both_ways(tmp_path, specs)
    assert back["known_orders"] == 1  # o2; o1's stored rows are b.csv's now
    assert back["entities"]["orders"] == {"added": 0, "updated": 1, "unchanged": 1}
    assert (again["known_orders"], again["entities"]["orders"]["unchanged"]) == (2, 2)


def test_a_dry_run_of_a_known_export_says_unchanged_and_stores_nothing(tmp_path):
    spec = validate_spec(shopify(tmp_path / "a.csv", SHOP), "spec")
    run_import(spec, tmp_path / "cdp.duckdb")
    before = stored(tmp_path / "cdp.duckdb")
    report = run_import(spec, tmp_path / "cdp.duckdb", dry_run=True)
    assert (report["known_orders"], report["entities"]["orders"]["unchanged"]) == (3, 3)
    assert stored(tmp_path / "cdp.duckdb") == before
