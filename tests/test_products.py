"""Product feeds into the catalogue (issue 17): kevel_products JSON lines and Google Merchant's text and XML feeds,
merged by product id, with the product import results."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.errors import EtlError
from etl.formats import google_merchant, kevel_products
from etl.pipeline.importer import run_import
from etl.readers import jsonl
from etl.spec import validate_spec

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def jsonl_file(path: Path, records: list[dict | str]) -> Path:
    """JSON lines, one record a line (a str is written as it is)."""
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
                    encoding="utf-8")  # fmt: skip
    return path


def import_feed(store: Path, source: Path, fmt: str = "kevel_products", *, use_known: bool = True, **options) -> dict:
    spec = {"format": fmt, "source": str(source)}
    if options:
        spec["options"] = options
    return run_import(validate_spec(spec, "spec"), store, use_known=use_known)


def catalogue(store: Path, columns: str = "product_id, name, price, currency, availability") -> dict[str, dict]:
    """The stored products by id: the chosen columns (attributes as an object)."""
    with duckdb.connect(str(store), read_only=True) as con:
        cursor = con.execute(f"SELECT {columns} FROM products ORDER BY product_id")  # noqa: S608 (the tests' own)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row.get("attributes"), str):
            row["attributes"] = json.loads(row["attributes"])
    return {row.pop("product_id"): row for row in rows}


def rejects(store: Path, import_id: int) -> list[tuple[int, list[tuple[str, str]]]]:
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            "SELECT line, reasons FROM rejects WHERE import_id = ? ORDER BY line", [import_id]
        ).fetchall()
    return [(line, [(r["column"], r["hint"]) for r in reasons]) for line, reasons in rows]


# --- the format's rules, dict in, dict out ------------------------------------------------------------------


def typed(records: list[dict], **options) -> list[dict]:
    """Each record as the format types it: the canonical columns that were given, and the failed checks."""
    lines = pl.LazyFrame({"raw": [json.dumps(r) for r in records]}).with_columns(
        _line=pl.int_range(1, len(records) + 1).cast(pl.UInt32)
    )
    plan = kevel_products.plan([], kevel_products.Options(**options))
    frame, checks = plan.transform(jsonl.parse(lines))
    failed = [c.failed.fill_null(False).alias(f"check{n}") for n, c in enumerate(checks)]
    out = frame.with_columns(failed).collect()
    rows = []
    for row in out.to_dicts():
        given = {k: row[k] for k in ("product_id", "name", "category", "categories", "price", "sale_price",
                                     "currency", "availability", "condition") if row[k] is not None}  # fmt: skip
        given["failed"] = [checks[n].column for n in range(len(checks)) if row[f"check{n}"]]
        rows.append(given)
    return rows


def test_google_prices_availability_and_categories_are_read_as_google_writes_them():
    assert typed([
        {"id": " p1 ", "price": "15.00 USD", "availability": "in stock", "product_type": "Home > Kitchen > Knives"},
        {"id": "p2", "price": "EUR 9.5", "sale_price": "7 eur", "availability": "OUT_OF_STOCK", "condition": "Used"},
        {"id": 3, "title": "", "price": 12},
    ], currency="PLN") == [  # fmt: skip
        {"product_id": "p1", "category": "Home > Kitchen > Knives", "categories": ["Home", "Kitchen", "Knives"],
         "price": 15.0, "currency": "USD", "availability": "in_stock", "failed": []},
        {"product_id": "p2", "price": 9.5, "sale_price": 7.0, "currency": "EUR", "availability": "out_of_stock",
         "condition": "used", "failed": []},
        {"product_id": "3", "price": 12.0, "currency": "PLN", "failed": []},  # a number in options.currency
    ]  # fmt: skip


def test_what_google_would_refuse_is_rejected_with_its_reason():
    rows = typed([
        {"title": "no id"},
        {"id": "a", "price": "12"},  # no currency, and no options.currency
        {"id": "b", "price": "12,50 EUR"},
        {"id": "c", "price": "10 EUR", "sale_price": "8 USD"},
        {"id": "d", "availability": "sold out", "condition": "mint"},
        {"id": "e", "price": "-1 EUR"},
        {"id": "f", "title": {"text": "an object"}},
    ])  # fmt: skip
    assert [r["failed"] for r in rows] == [
        ["id"],
        ["price"],
        ["price"],
        ["sale_price"],
        ["availability", "condition"],
        ["price"],
        ["(record)"],
    ]


def test_a_field_given_as_a_list_takes_its_first_value():
    assert typed([{"id": "p", "product_type": ["Men > Shirts", "Sale"], "title": ["Shirt", "Hemd"]}]) == [
        {"product_id": "p", "name": "Shirt", "category": "Men > Shirts", "categories": ["Men", "Shirts"], "failed": []}
    ]


# --- imports --------------------------------------------------------------------------------------------------


def test_a_feed_is_stored_with_its_attributes_typed_and_its_rejects_named_by_line(tmp_path):
    source = jsonl_file(tmp_path / "feed.jsonl", [
        {"id": "p1", "title": "Chef knife", "price": "49.90 EUR", "brand": "Wüsthof", "stock": 12, "vip": True,
         "custom_label_0": "summer", "empty": None},
        {"title": "no id"},
        "not json",
        {"id": "p2", "title": "Apron", "price": "15 EUR", "shipping": {"country": "DE", "price": "4.95 EUR"}},
    ])  # fmt: skip

    report = import_feed(tmp_path / "s.duckdb", source)

    assert (report["items"], report["valid"], report["rejected"]) == (4, 2, 2)
    assert report["entities"] == {"products": {"added": 2, "updated": 0, "unchanged": 0}}
    assert catalogue(tmp_path / "s.duckdb", "product_id, name, brand, price, currency, attributes") == {
        "p1": {"name": "Chef knife", "brand": "Wüsthof", "price": 49.9, "currency": "EUR",
               "attributes": {"stock": 12, "vip": True, "custom_label_0": "summer"}},  # JSON types kept, null left out
        "p2": {"name": "Apron", "brand": None, "price": 15.0, "currency": "EUR",
               "attributes": {"shipping": {"country": "DE", "price": "4.95 EUR"}}},
    }  # fmt: skip
    assert [line for line, _ in rejects(tmp_path / "s.duckdb", report["import_id"])] == [2, 3]
    assert [(i["column"], i["count"], i["percent"]) for i in report["issues"]] == [("(line)", 1, 25.0), ("id", 1, 25.0)]


@pytest.mark.parametrize("skip", [True, False])
def test_a_re_import_is_unchanged_and_a_changed_product_is_updated(tmp_path, skip):
    records = [{"id": f"p{n}", "title": f"Product {n}", "price": f"{n}.50 EUR", "size": "M"} for n in range(5)]
    store = tmp_path / "s.duckdb"
    first = import_feed(store, jsonl_file(tmp_path / "a.jsonl", records), use_known=skip)
    again = import_feed(store, jsonl_file(tmp_path / "b.jsonl", records), use_known=skip)
    records[2]["price"] = "99 EUR"
    records[3] = {"size": "M", "price": "3.50 EUR", "title": "Product 3", "id": "p3"}  # the same fields, reordered
    changed = import_feed(store, jsonl_file(tmp_path / "c.jsonl", records), use_known=skip)

    assert first["entities"]["products"] == {"added": 5, "updated": 0, "unchanged": 0}
    assert again["entities"]["products"] == {"added": 0, "updated": 0, "unchanged": 5}
    assert again["known_products"] == (5 if skip else 0)
    assert changed["entities"]["products"] == {"added": 0, "updated": 1, "unchanged": 4}
    assert catalogue(store)["p2"]["price"] == 99.0
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT product_id, first_import_id, last_import_id FROM products WHERE product_id IN "
                           "('p2', 'p3') ORDER BY 1").fetchall() == [("p2", 1, 3), ("p3", 1, 1)]  # fmt: skip
    again_changed = import_feed(store, tmp_path / "c.jsonl", use_known=skip)
    assert again_changed["known_products"] == (5 if skip else 0)  # p3's new hash kept


def test_a_product_listed_twice_takes_its_later_record_and_is_counted(tmp_path):
    source = jsonl_file(tmp_path / "feed.jsonl", [
        {"id": "p1", "title": "old", "price": "1 EUR"}, {"id": "p2"}, {"id": "p1", "title": "new"},
        {"id": "p1", "price": "bad"},  # rejected: the valid later record wins
    ])  # fmt: skip

    report = import_feed(tmp_path / "s.duckdb", source)

    assert report["entities"]["products"]["added"] == 2 and report["repeated_products"] == 1
    assert catalogue(tmp_path / "s.duckdb")["p1"] == {"name": "new", "price": None, "currency": None,
                                                      "availability": None}  # fmt: skip


@pytest.mark.parametrize("skip", [True, False])
def test_a_known_record_and_a_changed_one_of_a_product_take_the_later(tmp_path, skip):
    store = tmp_path / "s.duckdb"
    same, changed = {"id": "p1", "title": "old"}, {"id": "p1", "title": "new"}
    import_feed(store, jsonl_file(tmp_path / "a.jsonl", [same, {"id": "p2"}]), use_known=skip)
    later_changed = import_feed(store, jsonl_file(tmp_path / "b.jsonl", [same, changed]), use_known=skip)
    assert (later_changed["entities"]["products"]["updated"], catalogue(store)["p1"]["name"]) == (1, "new")
    import_feed(store, jsonl_file(tmp_path / "c.jsonl", [same]), use_known=skip)  # back to the first record
    later_known = import_feed(store, jsonl_file(tmp_path / "d.jsonl", [changed, same]), use_known=skip)
    assert later_known["entities"]["products"] == {"added": 0, "updated": 0, "unchanged": 1}
    assert catalogue(store)["p1"]["name"] == "old" and later_known["repeated_products"] == 1


def test_products_a_full_feed_no_longer_lists_are_kept_or_marked_unavailable(tmp_path):
    full = [{"id": "p1", "availability": "in_stock"}, {"id": "p2", "availability": "in_stock"}]
    for missing in ("keep", "unavailable"):
        store = tmp_path / f"{missing}.duckdb"
        import_feed(store, jsonl_file(tmp_path / "full.jsonl", full), missing=missing)
        report = import_feed(store, jsonl_file(tmp_path / "less.jsonl", full[:1]), missing=missing)
        again = import_feed(store, tmp_path / "less.jsonl", missing=missing)
        back = import_feed(store, tmp_path / "full.jsonl", missing=missing)
        expected = {"option": missing, "kept": 1 if missing == "keep" else 0,
                    "marked_unavailable": 0 if missing == "keep" else 1}  # fmt: skip
        assert report["missing_products"] == expected
        assert again["missing_products"]["marked_unavailable"] == 0  # marked once
        if missing == "keep":
            assert back["entities"]["products"] == {"added": 0, "updated": 0, "unchanged": 2}
            continue
        assert back["entities"]["products"] == {"added": 0, "updated": 1, "unchanged": 1}
        with duckdb.connect(str(store), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM products WHERE missing_since IS NOT NULL").fetchall() == [(0,)]


def test_a_missing_product_of_a_full_feed_is_marked_out_of_stock_with_the_import_s_time(tmp_path):
    store = tmp_path / "s.duckdb"
    import_feed(store, jsonl_file(tmp_path / "a.jsonl", [{"id": "p1", "availability": "in_stock"}, {"id": "p2"}]))
    report = import_feed(store, jsonl_file(tmp_path / "b.jsonl", [{"id": "p2"}]), missing="unavailable")
    with duckdb.connect(str(store), read_only=True) as con:
        stored = con.execute("SELECT availability, missing_since IS NOT NULL, last_import_id FROM products "
                             "WHERE product_id = 'p1'").fetchall()  # fmt: skip
    assert stored == [("out_of_stock", True, report["import_id"])]


def test_a_dry_run_says_what_would_change_and_stores_nothing(tmp_path):
    store = tmp_path / "s.duckdb"
    import_feed(store, jsonl_file(tmp_path / "a.jsonl", [{"id": "p1", "title": "a"}]))
    spec = {"format": "kevel_products", "source": str(jsonl_file(tmp_path / "b.jsonl", [{"id": "p1", "title": "b"},
                                                                                         {"id": "p2"}]))}  # fmt: skip
    report = run_import(validate_spec(spec, "spec"), store, dry_run=True)
    assert report["dry_run"] and report["entities"]["products"] == {"added": 1, "updated": 1, "unchanged": 0}
    assert [row["change"] for row in report["sample"]["first"]] == ["updated", "added"]
    assert catalogue(store) == {"p1": {"name": "a", "price": None, "currency": None, "availability": None}}


def test_the_sample_holds_the_first_and_last_five_products_each_in_full(tmp_path):
    source = jsonl_file(tmp_path / "feed.jsonl", [{"id": f"p{n}", "title": f"T{n}", "x": n} for n in range(12)])
    report = import_feed(tmp_path / "s.duckdb", source)
    assert [r["product_id"] for r in report["sample"]["first"]] == ["p0", "p1", "p2", "p3", "p4"]
    assert [r["record"] for r in report["sample"]["last"]] == [8, 9, 10, 11, 12]
    detail = report["sample"]["last"][-1]["detail"]
    assert (detail["product_id"], detail["name"], detail["attributes"]) == ("p11", "T11", {"x": 11})


def test_a_sample_record_shows_its_own_values_not_a_later_duplicates(tmp_path):
    """Issue 33: record 1 showed p1 as the store holds it, i.e. record 3's values (the last record of p1 wins)."""
    records = [
        {"id": "p1", "title": "Old", "price": "5.00 EUR", "x": 1},
        {"id": "p2", "title": "Other"},
        {"id": "p1", "title": "New", "price": "7.00 EUR", "y": 2},
    ]
    source = jsonl_file(tmp_path / "feed.jsonl", records)
    store = tmp_path / "s.duckdb"
    report = import_feed(store, source)
    first = {r["record"]: r for r in report["sample"]["first"]}
    assert (first[1]["product_id"], first[1]["name"], first[1]["price"]) == ("p1", "Old", 5.0)
    assert first[1]["detail"]["attributes"] == {"x": 1}
    assert (first[3]["name"], first[3]["price"], first[3]["detail"]["attributes"]) == ("New", 7.0, {"y": 2})
    assert catalogue(store, "product_id, name, price, attributes") == {
        "p1": {"name": "New", "price": 7.0, "attributes": {"y": 2}},
        "p2": {"name": "Other", "price": None, "attributes": {}},
    }


def test_the_report_opens_a_sample_item_in_full(tmp_path, etl):
    source = jsonl_file(tmp_path / "feed.jsonl", [{"id": "p1", "title": "Knife", "stock": 3}, {"id": "p2"}])
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"format": "kevel_products", "source": str(source)}))
    run = etl("import", str(spec), "--json")
    assert run.code == 0, run.stderr

    item = etl("report", str(run.json["import_id"]), "--item", "1", "--json")
    shown = etl("report", str(run.json["import_id"]), "--item", "2")
    beyond = etl("report", str(run.json["import_id"]), "--item", "3")

    assert item.code == 0 and json.loads(item.stdout)["attributes"] == {"stock": 3}
    assert shown.code == 0 and "p2" in shown.stdout and "first_import_id" in shown.stdout
    assert beyond.code == 1 and "has no sample item 3: its sample has items 1 to 2" in beyond.stderr


def test_the_gate_checks_the_products_suite(tmp_path):
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "products.json").write_text(json.dumps({"name": "products", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "brand"}, "severity": "critical"}
    ]}))  # fmt: skip
    store = tmp_path / "s.duckdb"
    spec = validate_spec({"format": "kevel_products",
                          "source": str(jsonl_file(tmp_path / "a.jsonl", [{"id": "p1"}]))}, "spec")  # fmt: skip
    with pytest.raises(EtlError, match="brand"):
        run_import(spec, store, expectations=suites)
    assert catalogue(store) == {}


def test_naughty_strings_are_stored_as_names_exactly(tmp_path):
    strings = [s for s in json.loads((SHARED / "blns" / "blns.json").read_text(encoding="utf-8")) if s.strip()]
    source = jsonl_file(tmp_path / "feed.jsonl", [{"id": f"p{n}", "title": s} for n, s in enumerate(strings)])
    report = import_feed(tmp_path / "s.duckdb", source)
    assert report["rejected"] == 0
    stored = catalogue(tmp_path / "s.duckdb")
    assert [stored[f"p{n}"]["name"] for n in range(len(strings))] == strings


def test_a_fifty_megabyte_description_is_stored_whole(tmp_path):
    description = "Lorem ipsum dolor sit amet. " * (50 * 1024 * 1024 // 28)
    source = jsonl_file(tmp_path / "feed.jsonl", [{"id": "big", "description": description}, {"id": "small"}])
    report = import_feed(tmp_path / "s.duckdb", source)
    assert report["entities"]["products"]["added"] == 2
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT length(description) FROM products WHERE product_id = 'big'").fetchall() == [
            (len(description),)
        ]


# --- Google's text feed ---------------------------------------------------------------------------------------


def test_a_text_feed_reads_google_names_in_any_spelling(tmp_path):
    source = tmp_path / "feed.txt"
    source.write_text("ID\tTitle\tg:price\tImage Link\tcustom_label_0\n1\tShirt \"Blue\"\t9.99 USD\thttps://i/1.jpg\tx\n"
                      "2\t\t\t\t\n\t\t1 USD\t\t\n", encoding="utf-8")  # fmt: skip
    report = import_feed(tmp_path / "s.duckdb", source, "google_merchant")
    assert (report["items"], report["rejected"], report["files"][0]["delimiter"]) == (3, 1, "\t")
    assert catalogue(tmp_path / "s.duckdb", "product_id, name, price, image_link, attributes") == {
        "1": {"name": 'Shirt "Blue"', "price": 9.99, "image_link": "https://i/1.jpg",
              "attributes": {"custom_label_0": "x"}},
        "2": {"name": None, "price": None, "image_link": None, "attributes": {}},
    }  # fmt: skip
    assert rejects(tmp_path / "s.duckdb", report["import_id"]) == [(4, [("id", "required value is missing")])]


def test_a_text_feed_without_an_id_column_is_refused(tmp_path):
    source = tmp_path / "feed.tsv"
    source.write_text("title\tprice\nShirt\t1 USD\n", encoding="utf-8")
    with pytest.raises(EtlError, match="missing required column 'id'"):
        import_feed(tmp_path / "s.duckdb", source, "google_merchant")


def test_google_merchant_plans_name_the_fields_they_fill():
    plan = google_merchant.plan(["G:ID", "Sale Price", "colour"], google_merchant.Options())
    assert plan.missing == [] and plan.reader == "csv"
    assert google_merchant.plan(["title"], google_merchant.Options()).missing == ["id"]
