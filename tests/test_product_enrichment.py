"""The catalogue fills what order lines omit (issue 17, item 3): order_lines_enriched, and the segments that read it.
The same whichever was imported first, and following later feeds."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from conftest import kevel_row, line_row, write_csv

from etl.pipeline.importer import run_import
from etl.segments import run as segment
from etl.spec import validate_spec

LINES = "product_id, name, brand, category, categories, item_group_id, price, in_catalogue"


def orders_csv(folder: Path) -> Path:
    return write_csv(folder / "orders.csv", [
        kevel_row("o1", userId="ann@example.com", lineItem_productId="p1", lineItem_sku="p1"),
        line_row("o1", lineItem_productId="p2", lineItem_sku="p2", lineItem_category="Gifts", lineItem_brand="Own"),
        line_row("o1", lineItem_productId="p3", lineItem_sku="p3", lineItem_currency="USD"),
        kevel_row("o2", userId="bob@example.com", lineItem_productId="p9", lineItem_sku="p9"),
    ])  # fmt: skip


def feed(folder: Path, name: str, kitchen: str = "Home > Kitchen") -> Path:
    records = [
        {"id": "p1", "title": "Chef knife", "brand": "Wüsthof", "product_type": kitchen, "price": "49.90 EUR",
         "item_group_id": "knives"},
        {"id": "p2", "title": "Apron", "brand": "Catalogue brand", "product_type": "Home > Textiles", "price": "9 EUR"},
        {"id": "p3", "title": "Pan", "price": "30 EUR"},  # the line is in USD: no price shown
    ]  # fmt: skip
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def imported(store: Path, *specs: dict) -> None:
    for n, spec in enumerate(specs):
        assert run_import(validate_spec(spec, f"spec {n}"), store)["status"] == "completed"


def enriched(store: Path) -> list[dict]:
    with duckdb.connect(str(store), read_only=True) as con:
        cursor = con.execute(f"SELECT {LINES} FROM order_lines_enriched ORDER BY order_id, line_no")  # noqa: S608
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


EXPECTED = [
    {"product_id": "p1", "name": "Chef knife", "brand": "Wüsthof", "category": "Home > Kitchen",
     "categories": ["Home", "Kitchen"], "item_group_id": "knives", "price": 49.9, "in_catalogue": True},
    # the line named its category and brand: kept (and its categories go with its category)
    {"product_id": "p2", "name": "Apron", "brand": "Own", "category": "Gifts", "categories": None,
     "item_group_id": None, "price": 9.0, "in_catalogue": True},
    {"product_id": "p3", "name": "Pan", "brand": None, "category": None, "categories": None, "item_group_id": None,
     "price": None, "in_catalogue": True},
    {"product_id": "p9", "name": None, "brand": None, "category": None, "categories": None, "item_group_id": None,
     "price": None, "in_catalogue": False},
]  # fmt: skip


def test_lines_show_what_the_catalogue_knows_whichever_came_first(tmp_path):
    orders = {"format": "kevel_orders", "source": str(orders_csv(tmp_path))}
    products = {"format": "kevel_products", "source": str(feed(tmp_path, "feed"))}
    imported(tmp_path / "orders-first.duckdb", orders, products)
    imported(tmp_path / "feed-first.duckdb", products, orders)

    assert enriched(tmp_path / "orders-first.duckdb") == EXPECTED
    assert enriched(tmp_path / "feed-first.duckdb") == EXPECTED
    with duckdb.connect(str(tmp_path / "orders-first.duckdb"), read_only=True) as con:  # the lines as imported
        assert con.execute("SELECT count(*) FROM line_items WHERE brand IS NOT NULL").fetchall() == [(1,)]


def test_lines_follow_a_later_feed(tmp_path):
    store = tmp_path / "s.duckdb"
    imported(store, {"format": "kevel_orders", "source": str(orders_csv(tmp_path))},
             {"format": "kevel_products", "source": str(feed(tmp_path, "a"))},
             {"format": "kevel_products", "source": str(feed(tmp_path, "b", kitchen="Garden > Tools"))})  # fmt: skip
    assert enriched(store)[0]["categories"] == ["Garden", "Tools"]


def test_a_category_segment_finds_buyers_only_the_catalogue_puts_in_it(tmp_path):
    store = tmp_path / "s.duckdb"
    imported(store, {"format": "kevel_orders", "source": str(orders_csv(tmp_path))})
    window = {"start": "2024-01-01", "days": 7, "product_category": "Kitchen"}
    before = segment.run("bought_product_within", window, store=store)
    imported(store, {"format": "kevel_products", "source": str(feed(tmp_path, "feed"))})

    after = segment.run("bought_product_within", window, store=store)
    interest = segment.run("category_interest", {"since": "2024-01-01", "observation_end": "2024-12-31"}, store=store)

    assert before.height == 0
    assert after["user_id"].to_list() == ["ann@example.com"]
    assert sorted(interest.select("category", "orders").rows()) == [("Gifts", 1), ("Home", 1), ("unknown", 1),
                                                                    ("unknown", 1)]  # fmt: skip
