"""Specification 002 (Kevel Audience, Offline Imports): every example and rule, imported, with what the store holds.

The table of rules, tests and statuses is docs/conformance/002.md. The orders CSV's rules are read off one import
(a module fixture: 002's example row, verbatim, among orders that exercise each rule); the other sections import
their own small files. 002 shows no broken example, so nothing is repaired here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from etl.display import layouts, terminal
from etl.errors import InputError, SpecError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conformance import formats
from tests.conftest import SAMPLE_CSV, SHARED_DATA, kevel_row, line_row, rows_of, write_csv

# 002's orders column table, in its order, and its Example column as one row (custom_<name...> has no example:
# custom_color, the name 002's own text uses)
HEADER = [
    "orderId", "userIdType", "userId", "currency", "total", "subtotal", "tax", "shipping", "discount", "refund",
    "paymentMethod", "shippingMethod", "shippingCountry", "source", "promotions", "createdAt", "lastUpdated",
    "custom_color", "lineItem_id", "lineItem_productId", "lineItem_itemGroupId", "lineItem_name", "lineItem_sku",
    "lineItem_brand", "lineItem_category", "lineItem_categories", "lineItem_currency", "lineItem_total",
    "lineItem_subtotal", "lineItem_tax", "lineItem_shipping", "lineItem_discount", "lineItem_refund",
    "lineItem_quantity", "lineItem_promotions", "lineItem_adult", "lineItem_subscriptionDuration", "lineItem_size",
    "lineItem_sizeSystem", "lineItem_status",
]  # fmt: skip
EXAMPLE_ROW = (
    "or123,email,john@email.com,EUR,102.5,85,11.5,6,5,0,Visa,UPS,France,,WINTERSALE,2020-09-16T10:38:06+0100,"
    "2020-09-16T20:13:31+0100,red,li125zc,p125zc,p125,My Product,p125zc-5,Nike,Men > Shirts > Short Sleeve Shirts,"
    "Men;Shirts;Short Sleeve Shirts,EUR,102.5,85,11.5,6,5,0,1.0,WINTERSALE,false,15552000000,S,EU,fulfilled"
)
STATUSES = ["placed", "paid", "fulfilled", "refunded", "cancelled"]  # 002's lineItem_status list


def import_spec(store: Path, spec: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
    return run_import(validate_spec(spec, "spec"), store, dry_run=dry_run)


def warnings_of(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["suite"], r["description"]) for r in report["validation"]["expectations"] if not r["success"]]


def reasons(store: Path) -> dict[str, list[tuple[str, str]]]:
    """Rejected rows by their orderId (or first column), with their reasons (column, hint)."""
    got: dict[str, list[tuple[str, str]]] = {}
    for row in rows_of(store, "SELECT raw, reasons FROM rejects ORDER BY line"):
        raw = json.loads(row["raw"])
        key = raw.get("orderId") or raw.get("id") or raw.get("Name") or next(iter(raw.values()))
        got.setdefault(key, []).extend((r["column"], r["hint"]) for r in row["reasons"])
    return got


# --- Orders: Kevel Audience CSV ----------------------------------------------------------------------------------


def order_rows() -> list[dict[str, Any]]:
    """Orders that each exercise a rule of 002's orders section (all balanced: total = subtotal + tax + shipping)."""
    two = dict(total="30", subtotal="24", tax="6", lineItem_total="15", lineItem_subtotal="12", lineItem_tax="3")
    return [
        # several line items: only the first row gives the order's details; the second leaves them empty, the
        # third's differ and are ignored
        kevel_row("multi", **two, promotions="A;B; C", custom_color="blue"),
        line_row("multi", **{k: v for k, v in two.items() if k.startswith("lineItem")}, lineItem_productId="p2",
                 lineItem_sku="p2-1", lineItem_categories="Home;Kitchen"),
        line_row("multi", **{k: v for k, v in two.items() if k.startswith("lineItem")}, lineItem_productId="p3",
                 lineItem_sku="p3-1", currency="USD", total="999", userId="other@example.com",
                 userIdType="email", createdAt="2001-01-01T00:00:00Z", custom_color="ignored"),
        # not sequential: run 1 of "split", then another order, then run 2 of "split" (only the last is persisted)
        kevel_row("split", lineItem_productId="early"),
        kevel_row("between"),
        kevel_row("split", lineItem_productId="late", userId="late@example.com"),
        # every status of the list, one line each, and one that is not in it
        *[(kevel_row if n == 0 else line_row)("statuses", lineItem_productId=f"p-{s}", lineItem_status=s.upper()
                                              if s == "paid" else s) for n, s in enumerate(STATUSES)],
        kevel_row("shipped", lineItem_status="shipped"),
        # userId validated by userIdType; a required value missing
        kevel_row("bad-email", userId="john-at-email.com"),
        kevel_row("no-sku", lineItem_sku=""),
        kevel_row("crm", userIdType="external_id", userId="CRM-42"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("orders")
    source = folder / "orders.csv"
    write_csv(folder / "rules.csv", order_rows(), HEADER)
    rules = (folder / "rules.csv").read_text(encoding="utf-8").splitlines()[1:]  # after the example row
    source.write_text("\n".join([",".join(HEADER), EXAMPLE_ROW, *rules]) + "\n", encoding="utf-8")
    store = folder / "cdp.duckdb"
    return store, import_spec(store, {"format": "kevel_orders", "source": str(source)})


def test_orders_the_example_row_is_stored_as_002_means_it_with_no_warning(orders) -> None:
    store, report = orders
    assert warnings_of(report) == []  # the money adds up in 002's meaning: total = subtotal + tax + shipping
    order = rows_of(store, "SELECT * EXCLUDE (customer_id, first_import_id, last_import_id) FROM orders "
                           "WHERE order_id = 'or123'")[0]  # fmt: skip
    assert {k: order[k] for k in ("user_id_type", "user_id", "currency", "total", "subtotal", "tax", "shipping",
                                  "discount", "refund", "payment_method", "shipping_method", "shipping_country",
                                  "source", "promotions")} == {
        "user_id_type": "email", "user_id": "john@email.com", "currency": "EUR", "total": 102.5, "subtotal": 85.0,
        "tax": 11.5, "shipping": 6.0, "discount": 5.0, "refund": 0.0, "payment_method": "Visa",
        "shipping_method": "UPS", "shipping_country": "France", "source": None, "promotions": ["WINTERSALE"],
    }  # fmt: skip
    times = rows_of(store, "SELECT strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') AS c, "
                           "strftime(last_updated AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') AS u FROM orders "
                           "WHERE order_id = 'or123'")  # fmt: skip
    assert times == [{"c": "2020-09-16T09:38:06", "u": "2020-09-16T19:13:31"}]  # +0100, stored in UTC
    assert json.loads(order["custom_fields"]) == {"color": "red"}  # custom_color -> customFields.color
    line = rows_of(
        store, "SELECT * EXCLUDE (order_id, custom_fields, last_import_id) FROM line_items WHERE order_id = 'or123'"
    )
    assert line == [{
        "line_no": 1, "line_item_id": "li125zc", "product_id": "p125zc", "item_group_id": "p125", "name": "My Product",
        "sku": "p125zc-5", "brand": "Nike", "category": "Men > Shirts > Short Sleeve Shirts",
        "categories": ["Men", "Shirts", "Short Sleeve Shirts"], "currency": "EUR", "total": 102.5, "subtotal": 85.0,
        "tax": 11.5, "shipping": 6.0, "discount": 5.0, "refund": 0.0, "quantity": 1.0, "promotions": ["WINTERSALE"],
        "adult": False, "subscription_duration_ms": 15552000000, "size": "S", "size_system": "EU",
        "status": "fulfilled",
    }]  # fmt: skip


def test_orders_the_bundled_sample_imports_with_no_warning(tmp_path) -> None:
    store = tmp_path / "cdp.duckdb"
    report = import_spec(store, {"format": "kevel_orders", "source": str(SAMPLE_CSV)})
    assert warnings_of(report) == []
    assert (report["valid"], report["rejected"]) == (5, 2)
    money = rows_of(store, "SELECT order_id, total, subtotal + tax + shipping AS parts FROM orders ORDER BY 1")
    assert all(abs(r["total"] - r["parts"]) < 0.005 for r in money) and len(money) == 4


def test_orders_only_the_first_row_gives_the_orders_details_and_every_row_a_line(orders) -> None:
    store, _ = orders
    order = rows_of(store, "SELECT user_id, currency, total, custom_fields FROM orders WHERE order_id = 'multi'")
    assert order == [{"user_id": "multi@example.com", "currency": "EUR", "total": 30.0,
                      "custom_fields": '{"color":"blue"}'}]  # fmt: skip
    lines = rows_of(store, "SELECT line_no, product_id, categories FROM line_items WHERE order_id = 'multi' ORDER BY 1")
    assert lines == [{"line_no": 1, "product_id": "p1", "categories": None},
                     {"line_no": 2, "product_id": "p2", "categories": ["Home", "Kitchen"]},
                     {"line_no": 3, "product_id": "p3", "categories": None}]  # fmt: skip


def test_orders_line_items_not_sequential_only_the_last_run_is_persisted(orders) -> None:
    store, _ = orders
    assert rows_of(store, "SELECT product_id FROM line_items WHERE order_id = 'split'") == [{"product_id": "late"}]
    assert rows_of(store, "SELECT user_id FROM orders WHERE order_id = 'split'") == [{"user_id": "late@example.com"}]
    assert reasons(store)["split"] == [
        ("orderId", "rows of this order are not contiguous: only its last contiguous run of rows is kept")
    ]


def test_orders_promotions_and_categories_are_lists_split_on_semicolons(orders) -> None:
    store, _ = orders
    assert rows_of(store, "SELECT promotions FROM orders WHERE order_id = 'multi'") == [{"promotions": ["A", "B", "C"]}]


def test_orders_every_listed_line_status_is_stored_and_another_rejects_the_order(orders) -> None:
    store, _ = orders
    got = rows_of(store, "SELECT status FROM line_items WHERE order_id = 'statuses' ORDER BY line_no")
    assert [r["status"] for r in got] == STATUSES  # "PAID" in any case
    assert rows_of(store, "SELECT count(*) AS n FROM orders WHERE order_id = 'shipped'") == [{"n": 0}]
    assert reasons(store)["shipped"] == [
        ("lineItem_status", "not a line item status (placed, paid, fulfilled, refunded, cancelled)")
    ]


def test_orders_user_id_is_validated_by_its_type_and_required_values_are_required(orders) -> None:
    store, report = orders
    found = reasons(store)
    assert found["bad-email"] == [("userId", "not a valid email (userIdType=email)")]
    assert found["no-sku"] == [("lineItem_sku", "required value is missing")]
    assert rows_of(store, "SELECT user_id FROM orders WHERE order_id = 'crm'") == [{"user_id": "CRM-42"}]
    stored = rows_of(store, "SELECT count(*) AS n FROM line_items")[0]["n"]
    assert report["items"] == report["valid"] + report["rejected"] and report["valid"] == stored


def test_orders_a_required_column_missing_from_the_header_refuses_the_file(tmp_path) -> None:
    source = write_csv(tmp_path / "orders.csv", [{k: v for k, v in kevel_row().items() if k != "userId"}])
    with pytest.raises(InputError, match=r"line 1: missing required column 'userId'"):
        import_spec(tmp_path / "cdp.duckdb", {"format": "kevel_orders", "source": str(source)})


def test_orders_an_email_user_id_can_be_hashed_to_email_sha256(tmp_path) -> None:
    source = write_csv(tmp_path / "orders.csv", [kevel_row("h1", userId=" John@Email.com ")])
    store = tmp_path / "cdp.duckdb"
    import_spec(store, {"format": "kevel_orders", "source": str(source), "options": {"hash_emails": True}})
    digest = hashlib.sha256(b"john@email.com").hexdigest()  # lowercased and trimmed first, as 002's Users says
    assert rows_of(store, "SELECT user_id_type, user_id FROM orders") == [
        {"user_id_type": "email_sha256", "user_id": digest}
    ]


# --- Orders: Shopify CSV ----------------------------------------------------------------------------------------


def shopify_row(name: str, **values: str) -> dict[str, str]:
    """An order of one line (tests/conformance/formats.py's), its buyer b<number>@example.com."""
    return formats.shopify_row(name, email=f"b{name.strip('#')}@example.com", **values)


FINANCIAL = ["authorized", "paid", "partially_paid", "pending", "refunded", "partially_refunded", "voided"]
FULFILLMENT = ["pending", "partial", "restocked", "fulfilled"]


@pytest.fixture(scope="module")
def shopify(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("shopify")
    rows = [shopify_row(f"#10{n}", **{"Financial Status": s}) for n, s in enumerate(FINANCIAL)]
    rows += [shopify_row(f"#20{n}", **{"Lineitem fulfillment status": s}) for n, s in enumerate(FULFILLMENT)]
    rows += [
        shopify_row("#301", **{"Financial Status": "unpaid"}),
        shopify_row("#302", **{"Created at": "2024-03-09T09:59:00+01:00"}),  # ISO, not Shopify's pattern
        shopify_row("#303", Email="not-an-email"),
        # a discount: Shopify's Subtotal is after it; the store's subtotal is Total - Taxes - Shipping
        shopify_row("#304", Subtotal="18.00", Total="24.50", Taxes="1.50", Shipping="5.00",
                    **{"Discount Amount": "2.00", "Lineitem price": "10.00", "Lineitem quantity": "2",
                       "Lineitem discount": "2.00"}),
    ]  # fmt: skip
    source = write_csv(folder / "orders_export.csv", rows)
    store = folder / "cdp.duckdb"
    return store, import_spec(store, {"format": "shopify_orders", "source": str(source)})


def test_shopify_every_financial_status_of_the_table_imports(shopify) -> None:
    store, report = shopify
    got = rows_of(store, "SELECT custom_fields->>'financial_status' AS s FROM orders WHERE order_id LIKE '#10%' "
                         "ORDER BY order_id")  # fmt: skip
    assert [r["s"] for r in got] == FINANCIAL
    assert reasons(store)["#301"] == [("Financial Status", "not a Shopify financial status (authorized, paid, "
                                                           "partially_paid, pending, refunded, partially_refunded, "
                                                           "voided)")]  # fmt: skip


def test_shopify_every_fulfillment_status_of_the_table_imports(shopify) -> None:
    store, _ = shopify
    got = rows_of(store, "SELECT order_id, status FROM line_items WHERE order_id LIKE '#20%' ORDER BY order_id")
    assert [r["status"] for r in got] == ["paid", "paid", "refunded", "fulfilled"]


def test_shopify_dates_in_its_pattern_and_no_other(shopify) -> None:
    store, _ = shopify
    got = rows_of(store, "SELECT strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS t FROM orders "
                         "WHERE order_id = '#100'")  # fmt: skip
    assert got == [{"t": "2024-03-09 08:59:00"}]
    assert reasons(store)["#302"] == [
        ("Created at", "not a Shopify date and time (yyyy-MM-dd HH:mm:ss Z, e.g. 2025-05-11 09:55:16 -0400)")
    ]
    assert reasons(store)["#303"] == [("Email", "not a valid email")]  # the email field is validated as an email


def test_shopify_money_has_the_stores_one_meaning_with_no_warning(shopify) -> None:
    store, report = shopify
    assert warnings_of(report) == []
    got = rows_of(store, "SELECT o.total, o.subtotal, o.tax, o.shipping, o.discount, l.subtotal AS line_subtotal, "
                         "l.total AS line_total, l.discount AS line_discount FROM orders AS o JOIN line_items AS l "
                         "USING (order_id) WHERE order_id = '#304'")  # fmt: skip
    assert got == [{"total": 24.5, "subtotal": 18.0, "tax": 1.5, "shipping": 5.0, "discount": 2.0,
                    "line_subtotal": 18.0, "line_total": 18.0, "line_discount": 2.0}]  # fmt: skip


def test_shopify_the_order_identifier_is_name_or_id_on_the_real_export(tmp_path) -> None:
    source = SHARED_DATA / "shopify" / "devstore_orders_export.csv"
    by_name, by_id = tmp_path / "name.duckdb", tmp_path / "id.duckdb"
    import_spec(by_name, {"format": "shopify_orders", "source": str(source)})
    import_spec(by_id, {"format": "shopify_orders", "source": str(source), "options": {"order_id": "id"}})
    names = rows_of(by_name, "SELECT order_id, custom_fields->>'id' AS id FROM orders ORDER BY order_id")
    ids = rows_of(by_id, "SELECT order_id, custom_fields->>'name' AS name FROM orders ORDER BY name")
    assert len(names) == len(ids) == 19
    assert [(r["order_id"], r["id"]) for r in names] == [(r["name"], r["order_id"]) for r in ids]
    assert rows_of(by_name, "SELECT count(*) AS n FROM line_items") == [{"n": 40}]


# --- Users --------------------------------------------------------------------------------------------------------


def users_spec(source: Path, steps: list | None = None, **options: Any) -> dict[str, Any]:
    spec = {"format": "kevel_users", "source": str(source),
            "options": {"id": {"field": "crm", "type": "external_id"}, **options}}  # fmt: skip
    if steps:
        spec["transforms"] = steps
    return spec


def attributes(store: Path) -> dict[str, dict]:
    got = rows_of(store, "SELECT i.id_value, c.attributes FROM customers AS c JOIN identities AS i USING "
                         "(customer_id) WHERE i.id_type = 'external_id'")  # fmt: skip
    return {r["id_value"]: json.loads(r["attributes"]) for r in got}


def test_users_every_field_is_an_attribute_as_text_and_the_merge_keeps_the_others(tmp_path) -> None:
    store = tmp_path / "cdp.duckdb"
    first = tmp_path / "crm.csv"
    first.write_text("crm,numberOfOrders,city,vip\nC1,21,Kyiv,true\n", encoding="utf-8")
    import_spec(store, users_spec(first))
    assert attributes(store) == {"C1": {"numberOfOrders": "21", "city": "Kyiv", "vip": "true"}}  # CSV: text
    later = tmp_path / "later.csv"
    later.write_text("crm,city\nC1,Lviv\n", encoding="utf-8")
    import_spec(store, users_spec(later))  # strategy merge (the default): numberOfOrders and vip stay
    assert attributes(store) == {"C1": {"numberOfOrders": "21", "city": "Lviv", "vip": "true"}}


def test_users_json_lines_keep_their_json_types(tmp_path) -> None:
    store = tmp_path / "cdp.duckdb"
    source = tmp_path / "crm.jsonl"
    source.write_text('{"crm": "C1", "numberOfOrders": 21, "vip": true, "score": 3.8, "tags": ["a"]}\n')
    import_spec(store, users_spec(source))
    assert attributes(store) == {"C1": {"numberOfOrders": 21, "vip": True, "score": 3.8, "tags": ["a"]}}
    assert rows_of(store, "SELECT count(*) AS n FROM customers WHERE (attributes->>'numberOfOrders')::INT > 20") == [
        {"n": 1}
    ]


# 002's cast table: value -> (string, integer, float, bool); None: Error
CAST_TABLE = {
    "2.4": ("2.4", 2, 2.4, True),
    "0": ("0", 0, 0.0, False),
    "car": ("car", None, None, None),
    "false": ("false", None, None, False),
}
CAST_TYPES = ("string", "integer", "float", "bool")


def test_users_cast_table_verbatim_through_a_users_csv(tmp_path) -> None:
    """Each (value, type) on a row of its own (a failing cast rejects its row): the stored attribute is the JSON
    type 002's table gives, an Error is a reject naming the step."""
    rows = [{"crm": f"{value}:{kind}", kind: value} for value in CAST_TABLE for kind in CAST_TYPES]
    source = write_csv(tmp_path / "crm.csv", rows, ["crm", *CAST_TYPES])
    steps = [{"rename": {"from": kind, "to": kind, "cast": kind}} for kind in CAST_TYPES]  # in place
    store = tmp_path / "cdp.duckdb"
    import_spec(store, users_spec(source, steps))
    stored, rejected = attributes(store), reasons(store)
    for value, results in CAST_TABLE.items():
        for kind, expected in zip(CAST_TYPES, results, strict=True):
            key = f"{value}:{kind}"
            if expected is None:
                step = f"transforms[{CAST_TYPES.index(kind)}] (rename {kind} -> {kind}, cast {kind})"
                hint = f"{step}: cannot be cast to {kind}"
                assert rejected[key] == [(kind, hint)], key
            else:
                got = stored[key][kind]
                assert (got, type(got)) == (expected, type(expected)), key


def test_users_cast_of_a_number_the_tables_last_row() -> None:
    """3.8 (a number, which only JSON gives: transforms apply to CSV files) -> "3.8", 3, 3.8, true."""
    import polars as pl

    from etl.transforms.cast import cast_value

    frame = pl.DataFrame({"v": [3.8]})
    got = [frame.select(cast_value(pl.col("v"), pl.Float64(), kind)[0]).item() for kind in CAST_TYPES]
    assert got == ["3.8", 3, 3.8, True]


# --- Product data and its import results -----------------------------------------------------------------------


def test_products_import_results_items_count_changes_sample_and_issues(tmp_path) -> None:
    store = tmp_path / "cdp.duckdb"
    first = tmp_path / "feed-1.jsonl"
    first.write_text("".join(json.dumps({"id": f"p{n}", "title": f"T{n}"}) + "\n" for n in range(3)))
    import_spec(store, {"format": "kevel_products", "source": str(first)})
    feed = [{"id": "p0", "title": "T0"}, {"id": "p1", "title": "New"}, *({"id": f"q{n}"} for n in range(10)),
            {"id": "bad", "price": "9,99 EUR"}, {"title": "no id"}]  # fmt: skip
    second = tmp_path / "feed-2.jsonl"
    second.write_text("".join(json.dumps(r) + "\n" for r in feed))
    report = import_spec(store, {"format": "kevel_products", "source": str(second)})
    assert report["items"] == 14  # "File Items Count"
    assert report["valid"] == 12 and report["entities"]["products"] == {"added": 10, "updated": 1, "unchanged": 1}
    assert [r["record"] for r in report["sample"]["first"]] == [1, 2, 3, 4, 5]
    # the last five imported products (records 13 and 14 were discarded: the sample is of the imported products)
    assert [r["record"] for r in report["sample"]["last"]] == [8, 9, 10, 11, 12]
    assert [(r["product_id"], r["name"], r["change"]) for r in report["sample"]["first"][:2]] == [
        ("p0", "T0", "unchanged"), ("p1", "New", "updated")]  # fmt: skip
    issues = {(i["column"], i["count"], i["percent"]) for i in report["issues"]}
    assert {column for column, _, _ in issues} == {"price", "id"} and all(c == 1 for _, c, _ in issues)
    assert all(abs(p - 100 / 14) < 0.01 for _, _, p in issues)
    assert rows_of(store, "SELECT count(*) AS n FROM products") == [{"n": 13}]  # errors discard the entry


# --- Dry run ------------------------------------------------------------------------------------------------------


def test_dry_run_runs_everything_stores_nothing_and_says_so(tmp_path) -> None:
    store = tmp_path / "cdp.duckdb"
    report = import_spec(store, {"format": "kevel_orders", "source": str(SAMPLE_CSV)}, dry_run=True)
    assert report["dry_run"] is True and (report["valid"], report["rejected"]) == (5, 2)
    assert report["entities"]["orders"]["added"] == 4  # what an import would do
    assert report["validation"]["success"] is True  # the values are validated
    stored = (
        "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM line_items) + (SELECT count(*) FROM customers) "
        "AS n"
    )
    assert rows_of(store, stored) == [{"n": 0}]  # nothing stored
    assert "DRY RUN: nothing was stored" in terminal.text(layouts.import_report(report))  # the banner


# --- Data transformation ----------------------------------------------------------------------------------------


def test_transformations_rename_copy_new_delete_map_and_custom_timestamp(tmp_path) -> None:
    source = write_csv(tmp_path / "crm.csv", [
        {"crm": "C1", "number_of_orders": "3", "visits": "7", "internal": "x", "level": "1",
         "seen": "2021/01/21 14:25"},
        {"crm": "C2", "number_of_orders": "5", "visits": "9", "internal": "y", "level": "other", "seen": ""},
    ])  # fmt: skip
    steps = [
        {"rename": {"from": "number_of_orders", "to": "completedOrders"}},  # the old field disappears
        {"copy": {"from": "visits", "to": "visitCount"}},  # the original is unaffected
        {"new": {"field": "source", "value": 0}},  # the same value on every line
        {"delete": {"field": "internal"}},
        {"rename": {"from": "level", "to": "level", "map": {"1": "one", "2": "two"}}},
        {"rename": {"from": "seen", "to": "seenAt", "timestamp": "yyyy/MM/dd hh:mm"}},
    ]
    store = tmp_path / "cdp.duckdb"
    import_spec(store, users_spec(source, steps))
    assert attributes(store) == {
        "C1": {"completedOrders": "3", "visits": "7", "visitCount": "7", "level": "one", "source": "0",
               "seenAt": "2021-01-21T14:25:00Z"},
        "C2": {"completedOrders": "5", "visits": "9", "visitCount": "9", "level": "other", "source": "0"},
    }  # fmt: skip


def test_transformations_a_number_from_never_matches_text_so_the_spec_is_refused() -> None:
    """002: value 1 is different from "1"; a CSV's values are all text, so a map from 1 would never match: the
    spec says so when it loads, instead of importing unmapped values."""
    spec = {
        "format": "kevel_orders",
        "source": "a.csv",
        "transforms": [{"rename": {"from": "state", "to": "lineItem_status", "map": {1: "one", "2": "two"}}}],
    }
    with pytest.raises(SpecError, match=r"map key 1 is a int, but kevel_orders reads text, so it never matches"):
        validate_spec(spec, "spec.yaml")


def test_transformations_a_required_column_cast_in_an_orders_import_is_read_by_its_schema(tmp_path) -> None:
    source = write_csv(tmp_path / "orders.csv", [kevel_row("c1", lineItem_quantity=" 2.0 ")])
    store = tmp_path / "cdp.duckdb"
    steps = [{"rename": {"from": "lineItem_quantity", "to": "lineItem_quantity", "cast": "integer"}}]
    import_spec(store, {"format": "kevel_orders", "source": str(source), "transforms": steps})
    assert rows_of(store, "SELECT quantity FROM line_items") == [{"quantity": 2.0}]
