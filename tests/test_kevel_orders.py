"""The kevel_orders format: each column's type and rule, dict in, dict out (through the library)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from etl.formats.rows import COMMA_HINT
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import kevel_row, line_row, write_csv


def import_rows(tmp_path: Path, rows: list[dict], **options) -> tuple[dict, Path]:
    source = write_csv(tmp_path / "orders.csv", rows)
    store = tmp_path / "cdp.duckdb"
    spec = validate_spec({"format": "kevel_orders", "source": str(source), "options": options}, "test")
    return run_import(spec, store), store


def select(store: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(store), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rejects(store: Path) -> list[dict]:
    return [
        {"line": r["line"], "reasons": [(x["column"], x["hint"]) for x in r["reasons"]]}
        for r in select(store, "SELECT line, reasons FROM rejects ORDER BY line")
    ]


def test_every_column_is_typed_as_the_spec_says(tmp_path):
    row = kevel_row(
        "or123",
        userId="John@Email.com",
        total=" 102.5 ",
        subtotal="85",
        tax="11.5",
        shipping="6",
        discount="5",
        refund="0",
        paymentMethod="Visa",
        shippingMethod="UPS",
        shippingCountry="France",
        source="web",
        promotions="WINTERSALE; VIP;;",
        createdAt="2020-09-16T10:38:06+0100",
        lastUpdated="2020-09-16T20:13:31.250+01:00",
        custom_color="red",
        custom_size="",
        lineItem_id="li125zc",
        lineItem_productId="p125zc",
        lineItem_itemGroupId="p125",
        lineItem_name="My Product",
        lineItem_sku="p125zc-5",
        lineItem_brand="Nike",
        lineItem_category="Men > Shirts",
        lineItem_categories="Men;Shirts;Short Sleeve Shirts",
        lineItem_currency="eur",
        lineItem_quantity="1e0",
        lineItem_promotions="WINTERSALE",
        lineItem_adult="TRUE",
        lineItem_subscriptionDuration="15552000000",
        lineItem_size="S",
        lineItem_sizeSystem="EU",
        lineItem_status="Fulfilled",
    )
    report, store = import_rows(tmp_path, [row])
    assert report["rejected"] == 0
    order = select(store, "SELECT * EXCLUDE (first_import_id, last_import_id) FROM orders")[0]
    [buyer] = select(
        store, "SELECT customer_id FROM identities WHERE id_type = 'email' AND id_value = 'john@email.com'"
    )
    assert {**order, "custom_fields": json.loads(order["custom_fields"])} == {
        "order_id": "or123",
        "customer_id": buyer["customer_id"],  # the buyer, resolved through the identity graph
        "user_id_type": "email",
        "user_id": "john@email.com",
        "currency": "EUR",
        "total": 102.5,
        "subtotal": 85.0,
        "tax": 11.5,
        "shipping": 6.0,
        "discount": 5.0,
        "refund": 0.0,
        "payment_method": "Visa",
        "shipping_method": "UPS",
        "shipping_country": "France",
        "source": "web",
        "promotions": ["WINTERSALE", "VIP"],
        "created_at": datetime(2020, 9, 16, 9, 38, 6, tzinfo=UTC),
        "last_updated": datetime(2020, 9, 16, 19, 13, 31, 250000, tzinfo=UTC),
        "custom_fields": {"color": "red", "size": None},
    }
    line = select(store, "SELECT * EXCLUDE (last_import_id) FROM line_items")[0]
    assert line == {
        "order_id": "or123",
        "line_no": 1,
        "line_item_id": "li125zc",
        "product_id": "p125zc",
        "item_group_id": "p125",
        "name": "My Product",
        "sku": "p125zc-5",
        "brand": "Nike",
        "category": "Men > Shirts",
        "categories": ["Men", "Shirts", "Short Sleeve Shirts"],
        "currency": "EUR",
        "total": 10.0,
        "subtotal": 8.0,
        "tax": 2.0,
        "shipping": 0.0,
        "discount": 0.0,
        "refund": 0.0,
        "quantity": 1.0,
        "promotions": ["WINTERSALE"],
        "adult": True,
        "subscription_duration_ms": 15552000000,
        "size": "S",
        "size_system": "EU",
        "status": "fulfilled",
        "custom_fields": None,  # the spec has no custom line columns
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-09-16T10:38:06+0100", datetime(2020, 9, 16, 9, 38, 6, tzinfo=UTC)),
        ("2020-09-16T10:38:06+01:00", datetime(2020, 9, 16, 9, 38, 6, tzinfo=UTC)),
        ("2020-09-16T10:38:06Z", datetime(2020, 9, 16, 10, 38, 6, tzinfo=UTC)),
        ("2020-09-16T10:38:06-0530", datetime(2020, 9, 16, 16, 8, 6, tzinfo=UTC)),
        ("2020-09-16 10:38:06+0000", datetime(2020, 9, 16, 10, 38, 6, tzinfo=UTC)),
        ("2020-09-16T10:38:06.123456Z", datetime(2020, 9, 16, 10, 38, 6, 123456, tzinfo=UTC)),
        ("2020-09-16T10:38:06", datetime(2020, 9, 16, 10, 38, 6, tzinfo=UTC)),  # no offset: read as UTC
    ],
)
def test_datetimes_in_iso_8601_are_stored_as_utc(tmp_path, text, expected):
    report, store = import_rows(tmp_path, [kevel_row(createdAt=text)])
    assert report["rejected"] == 0
    assert select(store, "SELECT created_at FROM orders") == [{"created_at": expected}]


@pytest.mark.parametrize(
    ("column", "text", "hint"),
    [
        ("total", "abc", "not a number (Double, e.g. 102.5)"),
        ("total", "1,5", COMMA_HINT),
        ("total", "1,234.5", COMMA_HINT),
        ("total", "NaN", "not a number (Double, e.g. 102.5)"),
        ("total", "inf", "not a number (Double, e.g. 102.5)"),
        ("lineItem_quantity", "two", "not a number (Double, e.g. 102.5)"),
        ("createdAt", "2020-02-30T10:00:00Z", "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)"),
        ("createdAt", "16/09/2020 10:38", "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)"),
        ("createdAt", "2020-09-16T10:38:06+0100junk", "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)"),
        ("lastUpdated", "yesterday", "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)"),
        ("lineItem_adult", "yes", "not a boolean (true or false)"),
        ("lineItem_subscriptionDuration", "1.5", "not a whole number (Long, e.g. 15552000000)"),
        ("lineItem_subscriptionDuration", "99999999999999999999", "not a whole number (Long, e.g. 15552000000)"),
        ("lineItem_status", "shipped", "not a line item status (placed, paid, fulfilled, refunded, cancelled)"),
        ("currency", "EURO", "not a three-letter currency code (e.g. EUR)"),
        ("lineItem_currency", "€", "not a three-letter currency code (e.g. EUR)"),
        ("orderId", "", "required value is missing"),
        ("userId", "", "required value is missing"),
        ("lineItem_sku", "", "required value is missing"),
        ("createdAt", "", "required value is missing"),
    ],
)
def test_a_value_that_breaks_its_rule_rejects_the_row_with_column_and_hint(tmp_path, column, text, hint):
    rows = [kevel_row("good"), kevel_row("bad", **{column: text}), kevel_row("good2")]
    report, store = import_rows(tmp_path, rows)
    assert (report["items"], report["valid"], report["rejected"]) == (3, 2, 1)
    assert rejects(store) == [{"line": 3, "reasons": [(column, hint)]}]
    # the reason carries the value that broke the rule (none when it was missing)
    (reasons,) = [r["reasons"] for r in select(store, "SELECT reasons FROM rejects")]
    assert [r["value"] for r in reasons] == [text or None]
    assert report["issues"] == [
        {"column": column, "hint": hint, "count": 1, "percent": 33.33, "examples": [text] if text else []}
    ]
    assert [r["order_id"] for r in select(store, "SELECT order_id FROM orders ORDER BY 1")] == ["good", "good2"]


def test_a_row_breaking_several_rules_lists_every_reason(tmp_path):
    _, store = import_rows(tmp_path, [kevel_row(total="x", lineItem_status="lost", lineItem_sku="")])
    assert rejects(store) == [
        {
            "line": 2,
            "reasons": [
                ("total", "not a number (Double, e.g. 102.5)"),
                ("lineItem_sku", "required value is missing"),
                ("lineItem_status", "not a line item status (placed, paid, fulfilled, refunded, cancelled)"),
            ],
        }
    ]


@pytest.mark.parametrize(
    ("id_type", "user_id", "stored", "hint"),
    [
        ("email", " Mary.Smith@Example.ORG ", "mary.smith@example.org", None),
        ("email", "not-an-email", None, "not a valid email (userIdType=email)"),
        ("email_sha256", "A" * 64, "a" * 64, None),
        ("email_sha256", "abc123", None, "not a sha256 hex digest (userIdType=email_sha256)"),
        ("phone", "+351 912 345 678", "+351 912 345 678", None),
        ("phone", "call me", None, "not a phone number (userIdType=phone)"),
        ("external_id", "CRM-000981", "CRM-000981", None),
        ("loyalty_card", "Card 7", "Card 7", None),  # other types are kept as given
    ],
)
def test_user_id_is_validated_by_its_type(tmp_path, id_type, user_id, stored, hint):
    report, store = import_rows(tmp_path, [kevel_row(userIdType=id_type, userId=user_id)])
    if hint is None:
        assert select(store, "SELECT user_id_type, user_id FROM orders") == [
            {"user_id_type": id_type, "user_id": stored}
        ]
    else:
        assert rejects(store) == [{"line": 2, "reasons": [("userId", hint)]}]


def test_hash_emails_hashes_the_lowercased_trimmed_email(tmp_path):
    rows = [kevel_row("o1", userId="  John@Email.COM "), kevel_row("o2", userIdType="phone", userId="+351912345678")]
    _, store = import_rows(tmp_path, rows, hash_emails=True)
    digest = hashlib.sha256(b"john@email.com").hexdigest()
    assert select(store, "SELECT order_id, user_id_type, user_id FROM orders ORDER BY 1") == [
        {"order_id": "o1", "user_id_type": "email_sha256", "user_id": digest},
        {"order_id": "o2", "user_id_type": "phone", "user_id": "+351912345678"},
    ]
    assert select(
        store,
        "SELECT o.order_id, i.id_type, i.id_value FROM orders AS o JOIN identities AS i USING (customer_id) ORDER BY 1",
    ) == [
        {"order_id": "o1", "id_type": "email_sha256", "id_value": digest},
        {"order_id": "o2", "id_type": "phone", "id_value": "+351912345678"},
    ]  # each buyer is a customer of the graph, with the id the order named


def test_only_the_first_row_supplies_the_order_and_every_row_a_line_item(tmp_path):
    rows = [
        kevel_row("o1", total="30", lineItem_sku="a", lineItem_status="paid"),
        line_row("o1", total="not even a number", currency="XXX", lineItem_sku="b", lineItem_status="placed"),
        line_row("o1", lineItem_sku="c", lineItem_status="cancelled"),
    ]
    report, store = import_rows(tmp_path, rows)
    assert report["rejected"] == 0
    assert select(store, "SELECT order_id, total, currency FROM orders") == [
        {"order_id": "o1", "total": 30.0, "currency": "EUR"}
    ]
    assert select(store, "SELECT line_no, sku, status FROM line_items ORDER BY line_no") == [
        {"line_no": 1, "sku": "a", "status": "paid"},
        {"line_no": 2, "sku": "b", "status": "placed"},
        {"line_no": 3, "sku": "c", "status": "cancelled"},
    ]


def test_a_rejected_line_item_rejects_its_whole_order_and_nothing_is_lost(tmp_path):
    rows = [
        kevel_row("o1", lineItem_sku="a"),
        line_row("o1", lineItem_sku="b", lineItem_quantity="lots"),
        kevel_row("o2"),
    ]
    report, store = import_rows(tmp_path, rows)
    assert (report["items"], report["valid"], report["rejected"]) == (3, 1, 2)
    assert rejects(store) == [
        {"line": 2, "reasons": [("orderId", "another row of the same order was rejected, so the whole order is")]},
        {"line": 3, "reasons": [("lineItem_quantity", "not a number (Double, e.g. 102.5)")]},
    ]
    raw = select(store, "SELECT raw FROM rejects WHERE line = 2")[0]["raw"]
    assert json.loads(raw)["lineItem_sku"] == "a"  # raw values of a row rejected for its order's sake
    assert select(store, "SELECT order_id FROM orders") == [{"order_id": "o2"}]


def test_rows_of_an_order_that_are_not_contiguous_keep_only_the_last_run(tmp_path):
    rows = [
        kevel_row("o1", total="1", lineItem_sku="first-run"),
        kevel_row("o2"),
        kevel_row("o1", total="2", lineItem_sku="last-run-a"),
        line_row("o1", lineItem_sku="last-run-b"),
    ]
    report, store = import_rows(tmp_path, rows)
    assert (report["items"], report["valid"], report["rejected"]) == (4, 3, 1)
    assert rejects(store) == [
        {
            "line": 2,
            "reasons": [
                ("orderId", "rows of this order are not contiguous: only its last contiguous run of rows is kept")
            ],
        }
    ]
    assert select(store, "SELECT order_id, total FROM orders ORDER BY 1") == [
        {"order_id": "o1", "total": 2.0},
        {"order_id": "o2", "total": 10.0},
    ]
    assert select(store, "SELECT sku FROM line_items WHERE order_id = 'o1' ORDER BY line_no") == [
        {"sku": "last-run-a"},
        {"sku": "last-run-b"},
    ]


def test_hash_emails_rejects_an_invalid_email_instead_of_hashing_it(tmp_path):
    report, store = import_rows(tmp_path, [kevel_row("o1", userId="not an email")], hash_emails=True)
    assert report["rejected"] == 1
    assert rejects(store) == [{"line": 2, "reasons": [("userId", "not a valid email (userIdType=email)")]}]
