"""Valid = stored, for every format (issue 33, deliverable 5): a file mixing valid records, invalid ones, a record
given twice and records that merge into stored ones is read whole (items = valid + rejected); every valid record is
in the store, or merged into a stored one and counted so (repeated_*, unchanged); every rejected one is in
`rejects` at its line with its reasons; the report's added / updated / unchanged are what the store shows; and the
store's invariants hold after every import (formats.imported)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance import formats
from tests.conformance.formats import crossengage_event, esputnik_event, shopify_row
from tests.conftest import kevel_row, rows_of, write_csv
from tests.egoi_server import contact


def rejected_lines(store: Path, report: dict) -> list[int]:
    """The import's rejects, by line; each must say why."""
    rows = rows_of(store, "SELECT line, reasons FROM rejects WHERE import_id = $id ORDER BY line",
                   {"id": report["import_id"]})  # fmt: skip
    assert all(r["reasons"] and all(x["hint"] for x in r["reasons"]) for r in rows), rows
    return [r["line"] for r in rows]


def store_counts(store: Path, table: str, report: dict, keys: list[str], key: str) -> dict[str, int]:
    """What the store shows of the import, for the rows of `keys`: added (first stored by it), updated (stored
    before, changed by it), unchanged (stored before, left as they were); and how many of `keys` are missing."""
    sql = "SELECT {0} AS k, first_import_id AS f, last_import_id AS l FROM {1} WHERE list_contains($keys, {0})"
    rows = rows_of(store, sql.format(key, table), {"keys": keys})  # names of this module's tables and columns
    run = report["import_id"]
    return {
        "added": sum(r["f"] == run for r in rows),
        "updated": sum(r["f"] < run and r["l"] == run for r in rows),
        "unchanged": sum(r["l"] < run for r in rows),
        "missing": len(set(keys) - {r["k"] for r in rows}),
    }


def checked(store: Path, first: dict, second: dict) -> dict:
    """Import the stored records, then the mixed file: its report, after the checks every format shares."""
    formats.imported(store, first)
    report = formats.imported(store, second)
    assert report["status"] == "completed"
    assert report["items"] == report["valid"] + report["rejected"]
    assert len(rejected_lines(store, report)) == report["rejected"]
    return report


# --- orders: one row per line; an order's rows given apart keep their last run --------------------------------


def kevel_orders_files(folder: Path) -> tuple[dict, dict]:
    first = formats.kevel_orders(folder, "first", [("o1", "email", "a@example.com"), ("o9", "email", "z@example.com")])
    rows = [
        kevel_row("o1", userId="A@example.com ", total="11", lineItem_total="11", subtotal="9", lineItem_subtotal="9"),
        kevel_row("o9", userId="z@example.com"),  # unchanged
        kevel_row("o2"),  # line 4: its order given again below: this run is rejected, the later one kept
        kevel_row("o3", currency="XXXX"),  # line 5: invalid
        kevel_row("o2", userId="o2@example.com"),
    ]
    return first, {"format": "kevel_orders", "source": str(write_csv(folder / "second.csv", rows))}


def shopify_orders_files(folder: Path) -> tuple[dict, dict]:
    first = formats.shopify_orders(folder, "first", [shopify_row("#1", "a@example.com"), shopify_row("#9", "z@ex.com")])
    second = formats.shopify_orders(folder, "second", [
        shopify_row("#1", " A@example.com", **{"Financial Status": "refunded"}), shopify_row("#9", "z@ex.com"),
        shopify_row("#2", "b@example.com"), shopify_row("#3", "c@example.com", Currency="EURO"),
        shopify_row("#2", "b@example.com"),
    ])  # fmt: skip
    return first, second


@pytest.mark.parametrize(
    ("files", "keys"),
    [(kevel_orders_files, ["o1", "o9", "o2"]), (shopify_orders_files, ["#1", "#9", "#2"])],
    ids=["kevel_orders", "shopify_orders"],
)
def test_every_valid_order_row_is_a_stored_line_and_the_report_counts_what_the_store_shows(tmp_path, store, files,
                                                                                           keys):  # fmt: skip
    report = checked(store, *files(tmp_path))

    assert rejected_lines(store, report) == [4, 5]  # the order's earlier run, the invalid one
    assert store_counts(store, "orders", report, keys, "order_id") == {"added": 1, "updated": 1, "unchanged": 1,
                                                                       "missing": 0}  # fmt: skip
    assert report["entities"]["orders"] == {"added": 1, "updated": 1, "unchanged": 1}
    lines = rows_of(store, "SELECT count(*) AS n FROM line_items WHERE list_contains($keys, order_id)", {"keys": keys})
    assert lines == [{"n": report["valid"]}]  # every valid row is a stored line
    buyers = rows_of(store, "SELECT order_id, user_id FROM orders WHERE order_id = $o", {"o": keys[0]})
    assert buyers == [{"order_id": keys[0], "user_id": "a@example.com"}]  # the same buyer, as given in another case


# --- people: a record given twice, and one merged into a stored person by its email ---------------------------


@pytest.mark.parametrize("jsonl", [False, True], ids=["csv", "jsonl"])
def test_every_valid_users_record_is_a_stored_person_or_counted_where_it_went(tmp_path, store, jsonl):
    first = formats.kevel_users(tmp_path, "first", [{"customerNumber": "C1", "mail": "a@example.com", "tier": "gold"},
                                                    {"customerNumber": "C9", "tier": "x"}], jsonl=jsonl)  # fmt: skip
    second = formats.kevel_users(tmp_path, "second", [
        {"customerNumber": "C1", "tier": "silver"}, {"customerNumber": "C9", "tier": "x"},
        {"customerNumber": "C2", "tier": "new"}, {"mail": "not-an-email", "tier": "bad"},
        {"customerNumber": "C2", "tier": "newer"},  # given twice: the later wins
        {"mail": " A@Example.com", "city": "Kyiv"},  # C1's email: merged into C1
    ], jsonl=jsonl)  # fmt: skip

    report = checked(store, first, second)

    assert rejected_lines(store, report) == ([4] if jsonl else [5])  # JSON lines have no header line
    assert report["entities"]["customers"] == {"added": 1, "updated": 1, "unchanged": 1}
    assert report["valid"] == 3 + report["repeated_records"]  # C2's second record and the one merged into C1
    people = rows_of(store, "SELECT i.id_value AS id, c.attributes, c.first_import_id AS f, c.last_import_id AS l "
                            "FROM identities AS i JOIN customers AS c USING (customer_id) "
                            "WHERE i.id_type = 'external_id' ORDER BY 1")  # fmt: skip
    assert [(p["id"], json.loads(p["attributes"]), p["f"], p["l"]) for p in people] == [
        ("C1", {"tier": "silver", "city": "Kyiv"}, 1, 2),
        ("C2", {"tier": "newer"}, 2, 2),
        ("C9", {"tier": "x"}, 1, 1),
    ]


# --- products: one per id, the later record of a product given twice -------------------------------------------


def product(pid: str, **fields: str) -> dict[str, str]:
    return {"id": pid, "title": f"Product {pid}", "price": "10 EUR", **fields}


PRODUCTS_FIRST = [product("p1"), product("p9")]
PRODUCTS_SECOND = [product("p1", price="12 EUR"), product("p9"), product("p2"), {"id": "", "title": "no id"},
                   product("p2", title="again")]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "bad_line"),
    [(formats.kevel_products, 4), (formats.google_merchant_tsv, 5), (formats.google_merchant_xml, 6)],
    ids=["kevel_products", "google_merchant_tsv", "google_merchant_xml"],
)
def test_every_valid_product_record_is_stored_or_counted_as_repeated(tmp_path, store, build, bad_line):
    report = checked(store, build(tmp_path, "first", PRODUCTS_FIRST), build(tmp_path, "second", PRODUCTS_SECOND))

    assert rejected_lines(store, report) == [bad_line]  # line 2 on for TSV, 3 on for the feed's items
    counts = store_counts(store, "products", report, ["p1", "p9", "p2"], "product_id")
    assert counts == {"added": 1, "updated": 1, "unchanged": 1, "missing": 0}
    assert report["entities"]["products"] == {k: v for k, v in counts.items() if k != "missing"}
    assert report["valid"] == 3 + report["repeated_products"]
    stored = rows_of(store, "SELECT product_id, name, price FROM products ORDER BY 1")
    assert stored == [{"product_id": "p1", "name": "Product p1", "price": 12.0},
                      {"product_id": "p2", "name": "again", "price": 10.0},
                      {"product_id": "p9", "name": "Product p9", "price": 10.0}]  # fmt: skip


# --- events ---------------------------------------------------------------------------------------------------


def events_by_n(store: Path, fmt: str) -> dict[str, int]:
    """How many imported events of the format (not the order events they made) carry each marker `n`."""
    sql = ("SELECT coalesce(properties->>'$.n', properties->>'$.params.n') AS n, count(*) AS c FROM events "
           "WHERE format = $f AND properties IS NOT NULL GROUP BY 1 ORDER BY 1")  # fmt: skip
    rows = rows_of(store, sql, {"f": fmt})
    return {r["n"]: r["c"] for r in rows}


def test_every_valid_crossengage_event_is_stored_once(tmp_path, store):
    first = formats.crossengage_events(tmp_path, "1", [crossengage_event(id="C1", email="a@example.com", n="1")])
    second = formats.crossengage_events(tmp_path, "2", [
        crossengage_event(id="C1", email="a@example.com", n="1"),  # stored already
        crossengage_event(id="C2", n="2"), crossengage_event(n="3"),  # line 4: no identity
        crossengage_event(email=" A@example.com", n="4"),  # C1's person, by its email
        crossengage_event(id="C2", n="2"),  # given twice
    ])  # fmt: skip

    report = checked(store, first, second)

    assert rejected_lines(store, report) == [4]
    assert report["entities"]["events"] == {"added": 2, "unchanged": 1}
    assert report["valid"] == 2 + 1 + report["repeated_events"]
    assert events_by_n(store, "crossengage_events") == {"1": 1, "2": 1, "4": 1}
    people = rows_of(store, "SELECT properties->>'$.n' AS n, customer_id = (SELECT customer_id FROM identities "
                            "WHERE id_value = 'C1') AS on_c1 FROM events ORDER BY 1")  # fmt: skip
    assert people == [{"n": "1", "on_c1": True}, {"n": "2", "on_c1": False}, {"n": "4", "on_c1": True}]


ITEMS = json.dumps([{"externalItemId": "i1", "name": "Thing", "quantity": 1, "cost": 5}])


def order_created(order_id: str, *more: tuple[str, str], email: str = "a@example.com") -> dict:
    given = [("totalCost", "5"), ("status", "INITIALIZED"), ("date", "2024-05-14T10:11:00"), ("currency", "UAH")]
    return esputnik_event("orderCreated", ("email", email), ("externalOrderId", order_id), *given, *more)


def test_every_valid_esputnik_event_is_stored_and_an_order_without_items_too(tmp_path, store):
    viewed = esputnik_event("pageViewed", ("email", "a@example.com"), ("n", "1"))
    first = formats.esputnik_events(tmp_path, "1", [viewed, order_created("E1", ("items", ITEMS))])
    second = formats.esputnik_events(tmp_path, "2", [
        esputnik_event("pageViewed", ("email", "a@example.com"), ("n", "1")),  # stored already
        order_created("E1", ("items", ITEMS)),  # stored already
        order_created("E2"),  # without items (001 makes them optional): stored without lines
        esputnik_event("pageViewed", ("n", "2")),  # line 5: no contact
        order_created("E3", ("items", ITEMS), email="b@example.com"),
        esputnik_event("pageViewed", ("email", " B@example.com"), ("n", "3")),
        esputnik_event("pageViewed", ("email", " B@example.com"), ("n", "3")),  # the same event again
    ])  # fmt: skip

    report = checked(store, first, second)

    assert rejected_lines(store, report) == [5]
    assert report["entities"]["events"] == {"added": 3, "unchanged": 2}
    assert report["valid"] == 3 + 2 + report["repeated_events"]
    assert events_by_n(store, "esputnik_events") == {None: 3, "1": 1, "3": 1}  # the three orderCreated: no n
    counts = store_counts(store, "orders", report, ["E1", "E2", "E3"], "order_id")
    assert counts == {"added": 2, "updated": 0, "unchanged": 1, "missing": 0}
    # E1's event is known (counted unchanged among the events), so its order is not read again: not counted
    assert report["entities"]["orders"] == {"added": 2, "updated": 0, "unchanged": 0}
    lines = rows_of(store, "SELECT order_id, count(*) AS n FROM line_items GROUP BY 1 ORDER BY 1")
    assert lines == [{"order_id": "E1", "n": 1}, {"order_id": "E3", "n": 1}]


# --- E-goi: contacts from its API --------------------------------------------------------------------------------


def test_every_valid_egoi_contact_is_a_stored_person(egoi_api, store, monkeypatch):
    monkeypatch.setenv("EGOI_API_KEY", egoi_api.key())
    spec = formats.egoi_contacts(egoi_api, retry_backoff_s=0)
    egoi_api.lists[321] = [contact("c1", "a@example.com"), contact("c9", "z@example.com")]
    formats.imported(store, spec)
    egoi_api.lists[321] = [
        contact("c1", "a@example.com", cellphone="351-911111111", cellphone_status="active"),  # changed
        contact("c9", "z@example.com"),  # unchanged
        contact("c2", "b@example.com"),
        contact("c4", "not-an-email"),  # record 4: rejected
        contact("c2", "b@example.com", status="unsubscribed"),  # given twice: the later wins
    ]

    report = formats.imported(store, spec)

    assert report["items"] == report["valid"] + report["rejected"] == 5
    assert [r["record"] for r in rows_of(store, "SELECT record FROM rejects WHERE import_id = 2")] == [4]
    people = rows_of(store, "SELECT i.id_value AS id, c.first_import_id AS f, c.last_import_id AS l "
                            "FROM identities AS i JOIN customers AS c USING (customer_id) "
                            "WHERE i.id_type = 'egoi_contact_id' ORDER BY 1")  # fmt: skip
    assert [(p["id"], p["f"], p["l"]) for p in people] == [("c1", 1, 2), ("c2", 2, 2), ("c9", 1, 1)]
    assert report["entities"]["customers"] == {"added": 1, "updated": 1, "unchanged": 1}
    assert report["valid"] == 3 + report.get("repeated_records", 0)
