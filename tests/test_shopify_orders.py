"""The shopify_orders format (issue 16): Shopify's Export orders CSV, on the real development-store export in
../shared/data/shopify (read from there) and on exports written here in each layout, with the quirks of real ones."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl.errors import InputError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import SHARED_DATA, write_csv

REAL_EXPORT = SHARED_DATA / "shopify" / "devstore_orders_export.csv"
HEADER_79 = next(csv.reader(REAL_EXPORT.open(encoding="utf-8", newline="")))
# Older layouts lack the columns Shopify added since: 78 without Payment References, 75 without the payment
# columns, 73 without the province names too.
LAYOUTS = {
    79: HEADER_79,
    78: [c for c in HEADER_79 if c != "Payment References"],
    75: [c for c in HEADER_79 if c not in {"Payment ID", "Payment Terms Name", "Next Payment Due At",
                                          "Payment References"}],
    73: [c for c in HEADER_79 if c not in {"Payment ID", "Payment Terms Name", "Next Payment Due At",
                                          "Payment References", "Billing Province Name", "Shipping Province Name"}],
}  # fmt: skip


def order_row(name: str = "#1001", **values: Any) -> dict[str, str]:
    """An order's first row, as Shopify writes it; keyword arguments override columns (by their names)."""
    row = {
        "Name": name, "Email": f"buyer{name.strip('#')}@example.com", "Financial Status": "paid",
        "Paid at": "2024-03-09 10:00:00 -0800", "Fulfillment Status": "fulfilled",
        "Fulfilled at": "2024-03-10 09:00:00 -0800", "Accepts Marketing": "yes", "Currency": "USD",
        "Subtotal": "18.00", "Shipping": "5.00", "Taxes": "1.50", "Total": "24.50", "Discount Code": "SPRING",
        "Discount Amount": "2.00", "Shipping Method": "Standard", "Created at": "2024-03-09 09:59:00 -0800",
        "Lineitem quantity": "2", "Lineitem name": "Wax", "Lineitem price": "10.00", "Lineitem sku": "WAX-1",
        "Lineitem requires shipping": "true", "Lineitem taxable": "true", "Lineitem fulfillment status": "fulfilled",
        "Shipping City": "Portland", "Shipping Zip": "'97201", "Shipping Country": "US", "Billing City": "Salem",
        "Payment Method": "Shopify Payments", "Refunded Amount": "0.00", "Vendor": "Acme", "Id": f"9{name[1:]}",
        "Tags": "vip, wholesale", "Risk Level": "Low", "Source": "web", "Lineitem discount": "2.00",
        "Tax 1 Name": "State Tax 8.3%", "Tax 1 Value": "1.50", "Phone": "+1 503 555 0100",
    }  # fmt: skip
    row.update(values)
    return row


def line_row(name: str = "#1001", **values: Any) -> dict[str, str]:
    """A further line item: Name, Created at and the Lineitem columns, the rest blank (Id too), as exports do."""
    row = {
        "Name": name, "Created at": "2024-03-09 09:59:00 -0800", "Lineitem quantity": "1", "Lineitem name": "Board",
        "Lineitem price": "4.50", "Lineitem sku": "", "Lineitem requires shipping": "true", "Lineitem taxable": "true",
        "Lineitem fulfillment status": "fulfilled", "Vendor": "Acme", "Lineitem discount": "0.00",
    }  # fmt: skip
    row.update(values)
    return row


def export(path: Path, rows: list[dict[str, str]], layout: int = 79, header: list[str] | None = None) -> Path:
    return write_csv(path, rows, header or LAYOUTS[layout])


def spec(source: Path, **options: Any) -> dict[str, Any]:
    return {"format": "shopify_orders", "source": str(source), **({"options": options} if options else {})}


def imported(store: Path, source: Path, *, dry_run: bool = False, **options: Any) -> dict[str, Any]:
    return run_import(validate_spec(spec(source, **options), "spec"), store, dry_run=dry_run)


def rows(store: Path, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    with duckdb.connect(str(store), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def file_books(path: Path) -> tuple[int, int, Decimal]:
    """Distinct Names, data rows, and the sum of Total over the order rows (an order's first row), by csv."""
    with path.open(encoding="utf-8", newline="") as handle:
        data = list(csv.DictReader(handle))
    firsts: dict[str, dict] = {}
    for row in data:
        firsts.setdefault(row["Name"], row)
    return len(firsts), len(data), sum((Decimal(r["Total"] or "0") for r in firsts.values()), Decimal(0))


# --- the real export ------------------------------------------------------------------------------------------


def test_the_real_development_store_export_is_reconciled_to_the_cent(tmp_path):
    store = tmp_path / "cdp.duckdb"
    report = imported(store, REAL_EXPORT)
    names, data_rows, total = file_books(REAL_EXPORT)
    assert (names, data_rows, total) == (19, 40, Decimal("14089.04"))  # the data README's checked facts
    assert report["rejected"] == 0 and report["items"] == data_rows
    assert report["entities"]["orders"]["added"] == names and report["entities"]["line_items"]["added"] == data_rows
    [books] = rows(store, "SELECT count(*) AS orders, sum(total)::DECIMAL(18, 2) AS total FROM orders")
    assert books == {"orders": names, "total": total}
    [lines] = rows(store, "SELECT count(*) AS n FROM line_items")
    assert lines["n"] == data_rows
    # half the orders have no email (draft orders): stored without a buyer, and counted
    assert report["orders_without_buyer"] == 10
    assert rows(store, "SELECT count(*) AS n FROM orders WHERE customer_id IS NULL") == [{"n": 10}]
    buyers = rows(store, "SELECT DISTINCT user_id FROM orders WHERE user_id IS NOT NULL ORDER BY 1")
    assert [b["user_id"] for b in buyers] == [
        "ayumu.hirano@example.com", "karine.ruby@example.com", "russel.winfield@example.com",
    ]  # lowercased, as the spec lowercases email ids  # fmt: skip
    assert report["entities"]["customers"]["added"] == 3


def test_the_real_export_maps_its_columns(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, REAL_EXPORT)
    [order] = rows(
        store,
        "SELECT order_id, currency, total, subtotal, tax, shipping, discount, refund, payment_method, source, "
        "created_at::VARCHAR AS created_at, last_updated::VARCHAR AS last_updated, custom_fields "
        "FROM orders WHERE order_id = '#1005'",
    )
    custom = json.loads(order.pop("custom_fields"))
    assert order == {
        "order_id": "#1005", "currency": "EUR", "total": 1635.55, "subtotal": 1635.55, "tax": 0.0, "shipping": 0.0,
        "discount": 0.0, "refund": 0.0, "payment_method": "manual", "source": "shopify_draft_order",
        "created_at": "2025-05-12 19:07:54+00", "last_updated": "2025-05-12 19:08:05+00",
    }  # fmt: skip
    assert custom["city"] == "Ottawa" and custom["shipping_zip"] == "K2P 2L8"
    assert custom["id"] == "6637078348107" and custom["financial_status"] == "paid"
    assert custom["fulfilled_at"] == "2025-05-12T19:08:05Z" and custom["accepts_marketing"] is False
    # every column of the 79 but those mapped to canonical ones or kept on the lines is kept on the order
    assert {"billing_province_name", "payment_references", "employee", "risk_level"} <= set(custom)
    assert "notes" not in custom  # an empty column is no key
    statuses = rows(store, "SELECT status, count(*) AS n FROM line_items GROUP BY ALL ORDER BY 1")
    assert statuses == [{"status": "fulfilled", "n": 32}, {"status": "paid", "n": 7}, {"status": "placed", "n": 1}]


def test_the_real_export_twice_changes_nothing(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, REAL_EXPORT)
    again = imported(store, REAL_EXPORT)
    assert again["entities"]["orders"] == {"added": 0, "updated": 0, "unchanged": 19}
    assert again["events"] == {"orderPlace": 0, "orderUpdate": 0}


# --- layouts and quirks ---------------------------------------------------------------------------------------


def canonical(store: Path) -> dict[str, list[dict]]:
    orders = rows(
        store,
        "SELECT order_id, user_id, currency, total, subtotal, tax, shipping, discount, promotions, created_at, "
        "custom_fields->>'city' AS city, custom_fields->'tags' AS tags FROM orders ORDER BY order_id",
    )
    lines = rows(
        store,
        "SELECT order_id, line_no, product_id, sku, name, brand, currency, quantity, subtotal, discount, total, "
        "status FROM line_items ORDER BY order_id, line_no",
    )
    return {"orders": orders, "lines": lines}


def sample_rows() -> list[dict[str, str]]:
    return [
        order_row("#1001"),
        line_row("#1001"),
        order_row("#1002", Email="", Phone="", Total="10.00", Subtotal="10.00", Taxes="0", Shipping="0",
                  **{"Discount Amount": "0", "Discount Code": "", "Lineitem discount": "0", "Lineitem price": "10",
                     "Lineitem quantity": "1"}),
    ]  # fmt: skip


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_imports_the_same_orders(tmp_path, layout):
    reference = tmp_path / "reference.duckdb"
    imported(reference, export(tmp_path / "79.csv", sample_rows(), 79))
    store = tmp_path / "cdp.duckdb"
    report = imported(store, export(tmp_path / f"{layout}.csv", sample_rows(), layout))
    assert len(LAYOUTS[layout]) == layout
    assert report["rejected"] == 0
    assert canonical(store) == canonical(reference)


def test_columns_are_found_by_name_in_any_order(tmp_path):
    reference = tmp_path / "reference.duckdb"
    imported(reference, export(tmp_path / "79.csv", sample_rows()))
    shuffled = list(HEADER_79)
    random.Random(16).shuffle(shuffled)
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "shuffled.csv", sample_rows(), header=shuffled))
    assert canonical(store) == canonical(reference)


def test_the_mapping_of_an_order_and_its_lines(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "orders.csv", sample_rows()))
    data = canonical(store)
    first = data["orders"][0]
    assert first["user_id"] == "buyer1001@example.com" and first["promotions"] == ["SPRING"]
    # 002's meaning (issue 33): subtotal after discounts, without tax and shipping: total = subtotal + tax + shipping
    # (Shopify's own Subtotal, 18.00 here); the discount is informational
    assert (first["total"], first["subtotal"], first["tax"], first["shipping"], first["discount"]) == (
        24.5, 18.0, 1.5, 5.0, 2.0)  # fmt: skip
    assert first["city"] == "Portland" and json.loads(first["tags"]) == ["vip", "wholesale"]
    taxes = rows(store, "SELECT custom_fields->>'tax_1_name' AS name, custom_fields->'tax_1_value' AS value, "
                        "custom_fields->'tax_2_name' AS empty FROM orders WHERE order_id = '#1001'")  # fmt: skip
    assert taxes == [{"name": "State Tax 8.3%", "value": "1.5", "empty": None}]  # a number; an empty one no key
    assert data["lines"][:2] == [
        {"order_id": "#1001", "line_no": 1, "product_id": "WAX-1", "sku": "WAX-1", "name": "Wax", "brand": "Acme",
         "currency": "USD", "quantity": 2.0, "subtotal": 18.0, "discount": 2.0, "total": 18.0, "status": "fulfilled"},
        # no SKU: the product is known by its name; the continuation row's currency is its order's
        {"order_id": "#1001", "line_no": 2, "product_id": "Board", "sku": None, "name": "Board", "brand": "Acme",
         "currency": "USD", "quantity": 1.0, "subtotal": 4.5, "discount": 0.0, "total": 4.5, "status": "fulfilled"},
    ]  # fmt: skip


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_quirks_of_real_exports(tmp_path, layout):
    notes = 'Leave at the door.\nRing twice,\n"please"'
    data = [
        # daylight saving changes inside one file: -0800 in winter, -0700 in summer
        order_row("#2001", **{"Created at": "2024-03-09 23:30:00 -0800", "Shipping Zip": "'4001", "Notes": notes}),
        line_row("#2001", **{"Created at": "2024-03-09 23:30:00 -0800"}),
        order_row("#2002", Currency="TRY", **{"Created at": "2024-03-10 23:30:00 -0700"}),
        order_row("#2003", Currency="BDT", Email="", Phone="", **{"Created at": "2024-11-03 01:30:00 -0700"}),
    ]
    store = tmp_path / "cdp.duckdb"
    report = imported(store, export(tmp_path / "quirks.csv", data, layout))
    assert report["rejected"] == 0 and report["orders_without_buyer"] == 1
    got = rows(
        store,
        "SELECT order_id, currency, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS utc, customer_id IS "
        "NULL AS no_buyer, custom_fields->>'shipping_zip' AS zip, custom_fields->>'notes' AS notes "
        "FROM orders ORDER BY order_id",
    )
    assert got == [
        {"order_id": "#2001", "currency": "USD", "utc": "2024-03-10 07:30", "no_buyer": False, "zip": "4001",
         "notes": notes},
        {"order_id": "#2002", "currency": "TRY", "utc": "2024-03-11 06:30", "no_buyer": False, "zip": "97201",
         "notes": None},
        {"order_id": "#2003", "currency": "BDT", "utc": "2024-11-03 08:30", "no_buyer": True, "zip": "97201",
         "notes": None},
    ]  # fmt: skip


def test_a_phone_is_the_buyer_when_there_is_no_email(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "pos.csv", [order_row("#3001", Email="", Phone="+1 503 555 0199")]))
    assert rows(store, "SELECT user_id_type, user_id FROM orders") == [
        {"user_id_type": "phone", "user_id": "+1 503 555 0199"}
    ]


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled", "status"),
    [
        ("paid", "fulfilled", "", "fulfilled"),
        ("paid", "pending", "", "paid"),
        ("partially_paid", "partial", "", "paid"),
        ("partially_refunded", "fulfilled", "", "fulfilled"),
        ("partially_refunded", "pending", "", "paid"),
        ("paid", "restocked", "", "refunded"),
        ("refunded", "fulfilled", "", "refunded"),
        ("voided", "pending", "", "cancelled"),
        ("paid", "fulfilled", "2024-03-11 10:00:00 -0700", "cancelled"),
        ("pending", "pending", "", "placed"),
        ("authorized", "pending", "", "placed"),
        ("pending", "fulfilled", "", "fulfilled"),
    ],
)
def test_line_status_from_financial_status_fulfillment_and_cancellation(tmp_path, financial, fulfillment, cancelled,
                                                                        status):  # fmt: skip
    rows_in = [
        order_row("#4001", **{"Financial Status": financial, "Lineitem fulfillment status": fulfillment,
                              "Cancelled at": cancelled}),
        line_row("#4001", **{"Lineitem fulfillment status": fulfillment}),
    ]  # fmt: skip
    store = tmp_path / "cdp.duckdb"
    report = imported(store, export(tmp_path / "status.csv", rows_in))
    assert report["rejected"] == 0, report["issues"]
    assert [r["status"] for r in rows(store, "SELECT status FROM line_items ORDER BY line_no")] == [status, status]


def test_shopifys_other_line_fulfillment_statuses_are_accepted_and_an_unknown_one_rejects_its_order(tmp_path):
    """Issue 33: real exports carry statuses beyond 002's four (Shopify's line item fulfillment_status has
    not_eligible for a line with nothing to fulfil, unfulfilled, and exports leave it empty): such orders were
    rejected whole. They leave the line's status to the order's Financial Status."""
    rows_in = [
        order_row("#6001", **{"Lineitem fulfillment status": "not_eligible", "Lineitem name": "Gift card",
                              "Lineitem sku": "GIFT"}),
        line_row("#6001", **{"Lineitem fulfillment status": "Unfulfilled"}),
        line_row("#6001", **{"Lineitem fulfillment status": "", "Lineitem sku": "TIP", "Lineitem name": "Tip"}),
        line_row("#6001", **{"Lineitem fulfillment status": "fulfilled", "Lineitem sku": "WAX-2"}),
        order_row("#6002", **{"Lineitem fulfillment status": "shipped"}),
    ]  # fmt: skip
    store = tmp_path / "cdp.duckdb"
    report = imported(store, export(tmp_path / "statuses.csv", rows_in))
    assert (report["valid"], report["rejected"]) == (4, 1)
    stored = rows(store, "SELECT order_id, line_no, sku, status, custom_fields->>'fulfillment_status' AS "
                         "fulfillment FROM line_items ORDER BY line_no")  # fmt: skip
    assert stored == [
        {"order_id": "#6001", "line_no": 1, "sku": "GIFT", "status": "paid", "fulfillment": "not_eligible"},
        {"order_id": "#6001", "line_no": 2, "sku": None, "status": "paid", "fulfillment": "Unfulfilled"},
        {"order_id": "#6001", "line_no": 3, "sku": "TIP", "status": "paid", "fulfillment": None},
        {"order_id": "#6001", "line_no": 4, "sku": "WAX-2", "status": "fulfilled", "fulfillment": "fulfilled"},
    ]
    rejected = rows(store, "SELECT raw->>'Name' AS name, reasons FROM rejects")
    assert [(r["name"], [(x["column"], x["hint"]) for x in r["reasons"]]) for r in rejected] == [
        ("#6002", [("Lineitem fulfillment status", "not a Shopify line item fulfillment status (pending, partial, "
                    "restocked, fulfilled, unfulfilled, not_eligible)")]),
    ]  # fmt: skip


def test_order_id_from_the_id_column(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "orders.csv", sample_rows()), order_id="id")
    got = rows(store, "SELECT order_id, custom_fields->>'name' AS name FROM orders ORDER BY order_id")
    assert got == [{"order_id": "91001", "name": "#1001"}, {"order_id": "91002", "name": "#1002"}]
    lines = rows(store, "SELECT order_id, line_no FROM line_items ORDER BY order_id, line_no")
    assert lines == [{"order_id": "91001", "line_no": 1}, {"order_id": "91001", "line_no": 2},
                     {"order_id": "91002", "line_no": 1}]  # fmt: skip


def test_hash_emails(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "orders.csv", [order_row("#1001", Email=" Buyer@Example.com ")]),
             hash_emails=True)  # fmt: skip
    # lowercased and trimmed, then hashed
    assert rows(store, "SELECT user_id_type, user_id FROM orders") == [
        {"user_id_type": "email_sha256", "user_id": hashlib.sha256(b"buyer@example.com").hexdigest()}
    ]


# --- bad input, and the books ---------------------------------------------------------------------------------


def test_a_kevel_csv_given_as_shopify_names_the_missing_columns(tmp_path):
    from tests.conftest import kevel_row

    path = write_csv(tmp_path / "kevel.csv", [kevel_row("o1")])
    with pytest.raises(InputError) as error:
        imported(tmp_path / "cdp.duckdb", path)
    message = str(error.value)
    assert "missing required columns 'Name', 'Email', 'Id'" in message
    assert "kevel_orders" in message  # the format the header fits


def test_rejects_with_their_reasons_and_the_books_stay_whole(tmp_path):
    data = [
        order_row("#5001"),
        line_row("#5001"),
        order_row("#5002", **{"Financial Status": "expired"}),
        line_row("#5002"),
        order_row("#5003", **{"Created at": "03/09/2024 09:59"}),
        order_row("#5004", Email="not an email"),
        order_row("#5005", Subtotal="12,50"),
        order_row("#5006"),
        line_row("#5001"),  # #5001 again, after other orders: not contiguous
        line_row("#5006", **{"Lineitem fulfillment status": "shipped"}),
        order_row("#5007"),
    ]
    path = export(tmp_path / "bad.csv", data)
    store = tmp_path / "cdp.duckdb"
    report = imported(store, path)
    names, data_rows, total = file_books(path)
    stored = rows(store, "SELECT count(*) AS n, coalesce(sum(total), 0)::DECIMAL(18, 2) AS total FROM orders")[0]
    rejected = rows(
        store,
        "SELECT DISTINCT raw->>'Name' AS name, (raw->>'Total') AS total, reasons FROM rejects "
        "WHERE raw->>'Financial Status' IS NOT NULL AND raw->>'Financial Status' <> ''",
    )  # the order rows among the rejects: their Total
    rejected_orders = rows(store, "SELECT count(DISTINCT raw->>'Name') AS n FROM rejects")[0]["n"]
    assert stored["n"] + rejected_orders == names  # orders stored + rejected = distinct Names
    assert report["valid"] + report["rejected"] == data_rows == report["items"]
    lines = rows(store, "SELECT count(*) AS n FROM line_items")[0]["n"]
    assert lines + report["rejected"] == data_rows
    rejected_total = sum((Decimal(r["total"]) for r in rejected), Decimal(0))
    assert stored["total"] + rejected_total == total  # to the cent
    reasons = {
        (r["column"], r["hint"]) for row in rows(store, "SELECT unnest(reasons) AS r FROM rejects") for r in [row["r"]]
    }
    assert ("Financial Status", "not a Shopify financial status (authorized, paid, partially_paid, pending, "
            "refunded, partially_refunded, voided)") in reasons  # fmt: skip
    assert (
        "Created at",
        "not a Shopify date and time (yyyy-MM-dd HH:mm:ss Z, e.g. 2025-05-11 09:55:16 -0400)",
    ) in reasons
    assert ("Email", "not a valid email") in reasons
    assert ("Name", "rows of this order are not contiguous: only its last contiguous run of rows is kept") in reasons
    assert ("Lineitem fulfillment status", "not a Shopify line item fulfillment status (pending, partial, restocked, "
            "fulfilled, unfulfilled, not_eligible)") in reasons  # fmt: skip
    assert ("Subtotal", "not a number (e.g. 102.50)") in reasons
    # #5001's first run is superseded by its later one, which lacks the order's fields: the order is rejected whole
    assert [r["order_id"] for r in rows(store, "SELECT order_id FROM orders ORDER BY 1")] == ["#5007"]


# --- the entity's behaviour: updates, the graph, dry run --------------------------------------------------------


def test_a_later_export_updates_changed_orders_with_order_update_events(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "v1.csv", sample_rows()))
    later = sample_rows()
    later[0] = order_row("#1001", **{"Financial Status": "refunded", "Refunded Amount": "24.50"})
    later[1] = line_row("#1001", **{"Lineitem fulfillment status": "restocked"})
    report = imported(store, export(tmp_path / "v2.csv", later))
    assert report["entities"]["orders"] == {"added": 0, "updated": 1, "unchanged": 1}
    assert report["events"] == {"orderPlace": 0, "orderUpdate": 1}
    assert [r["status"] for r in rows(store, "SELECT status FROM line_items WHERE order_id = '#1001' ORDER BY line_no")
            ] == ["refunded", "refunded"]  # fmt: skip
    assert rows(store, "SELECT refund FROM orders WHERE order_id = '#1001'") == [{"refund": 24.5}]


def test_a_shopify_buyer_and_a_kevel_user_with_the_same_email_are_one_customer(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(store, export(tmp_path / "orders.csv", [order_row("#1001", Email="Ann@Example.com")]))
    users = tmp_path / "users.csv"
    write_csv(users, [{"customerNumber": "c-1", "mail": "ann@example.com", "tier": "gold"}])
    run_import(
        validate_spec({"format": "kevel_users", "source": str(users),
                       "options": {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}},
                      "users"),
        store,
    )  # fmt: skip
    got = rows(
        store,
        "SELECT o.order_id, c.attributes->>'tier' AS tier FROM orders AS o JOIN customers AS c USING (customer_id)",
    )
    assert got == [{"order_id": "#1001", "tier": "gold"}]
    assert rows(store, "SELECT count(*) AS n FROM customers") == [{"n": 1}]


def test_a_dry_run_stores_nothing_and_reports_what_would_be(tmp_path):
    store = tmp_path / "cdp.duckdb"
    report = imported(store, REAL_EXPORT, dry_run=True)
    assert report["dry_run"] and report["entities"]["orders"]["added"] == 19
    assert rows(store, "SELECT count(*) AS n FROM orders") == [{"n": 0}]


def test_orders_without_a_buyer_are_in_no_customer_segment(tmp_path):
    from etl.segments import run as segment

    store = tmp_path / "cdp.duckdb"
    imported(store, REAL_EXPORT)
    facts = segment.run("purchase_facts", {"observation_end": "2030-01-01"}, store=store)
    assert facts.height == 9 and facts["customer_key"].null_count() == 0
    geo = segment.run("geo", {"observation_end": "2030-01-01"}, store=store)
    assert geo["customer_id"].null_count() == 0
    assert set(geo["city"].drop_nulls()) == {"Ottawa", "Toronto"}
