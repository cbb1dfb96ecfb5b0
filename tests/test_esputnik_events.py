"""eSputnik's events (issue 19): one event, an array or past-events bodies; contacts found by their identifier
parameters and known before (or created); order events changing the orders entity as an order import would;
bad input rejected with its reason, nothing lost."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from etl.errors import EtlError
from etl.formats.esputnik_events import DATE_HINT, OCCURRED_HINT
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conformance import formats
from tests.conftest import EXPECTATIONS, kevel_row, rows_of, write_csv

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "esputnik-doc-examples"
USERS_OPTIONS = {"ids": {"external_id": "customerNumber", "email": "mail", "phone": "mobile"}}


def event(kind: str, *params: tuple[str, object], key: str | None = "ann@example.com", occurred: str | None = None):
    """One eSputnik event (tests/conformance/formats.py's), Ann's by default, with no time of its own."""
    return formats.esputnik_event(kind, *params, key=key, occurred=occurred)


def order(kind: str, order_id: str | None, *more: tuple[str, object], email="ann@example.com", occurred=None):
    params = [("email", email)] + ([("externalOrderId", order_id)] if order_id is not None else []) + list(more)
    return event(kind, *params, key=email, occurred=occurred)


CREATED = [("totalCost", "258.0"), ("status", "INITIALIZED"), ("date", "2024-05-14T10:11:00"), ("currency", "uah"),
           ("items", json.dumps([{"externalItemId": "200600", "name": "Super Device", "category": "devices",
                                  "quantity": 2, "cost": 129, "url": "http://example.com/item/200600"}]))]  # fmt: skip


def write(path: Path, value) -> Path:
    """An array's elements one a line (line 2 on), or a value on one line."""
    if isinstance(value, list):
        text = "[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in value) + "\n]\n"
    else:
        text = json.dumps(value, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def import_events(store: Path, source: Path, *, use_known: bool = True, **options) -> dict:
    spec = {"format": "esputnik_events", "source": str(source), "options": options}
    return run_import(validate_spec(spec, "spec"), store, use_known=use_known)


def known_contacts(store: Path, folder: Path, *people: dict, expectations: Path | None = None) -> None:
    path = folder / "users.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in people), encoding="utf-8")
    spec = {"format": "kevel_users", "source": str(path), "options": USERS_OPTIONS}
    assert run_import(validate_spec(spec, "users"), store, expectations=expectations)["rejected"] == 0


def reasons(query) -> list[tuple[int, int, str]]:
    """The last import's rejects: (record, line, reasons)."""
    rows = query("SELECT record, line, reasons FROM rejects WHERE import_id = (SELECT max(import_id) FROM imports) "
                 "ORDER BY record")  # fmt: skip
    return [(r["record"], r["line"], "; ".join(f"{x['column']}: {x['hint']}" for x in r["reasons"])) for r in rows]


@pytest.fixture(scope="module")
def ann_and_bob(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store that knows Ann (by email) and Bob (by phone and customer number), imported once: each test gets a
    copy (the ann fixture). Module-scoped: the project's suites named here, not through the autouse fixture."""
    folder = tmp_path_factory.mktemp("ann")
    bob = {"mobile": "380501234567", "customerNumber": "AV13760"}
    known_contacts(folder / "cdp.duckdb", folder, {"mail": "Ann@Example.com"}, bob, expectations=EXPECTATIONS)
    return folder / "cdp.duckdb"


@pytest.fixture
def ann(ann_and_bob: Path, store: Path) -> Path:
    """The test's store: a copy of the store that knows Ann and Bob."""
    store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ann_and_bob, store)
    return store


def test_the_past_events_example_is_two_orders_with_their_items(store, tmp_path, query):
    report = import_events(store, SHARED / "20_how_send_past_events_b0.json", unknown_contacts="create")
    assert (report["items"], report["rejected"]) == (2, 0)
    assert report["entities"]["orders"] == {"added": 2, "updated": 0, "unchanged": 0}
    assert report["events"] == {"orderPlace": 2, "orderUpdate": 0}
    orders = query("SELECT order_id, user_id, currency, total, created_at::VARCHAR AS created FROM orders ORDER BY 1")
    assert orders == [
        {"order_id": "9239234234234", "user_id": "john@yourcompany.com", "currency": "UAH", "total": 258.0,
         "created": "2020-05-14 10:11:00+00"},
        {"order_id": "9239234235555", "user_id": "hanna@yourcompany.com", "currency": "UAH", "total": 546.0,
         "created": "2020-05-14 11:11:00+00"},
    ]  # fmt: skip
    assert query("SELECT order_id, product_id, quantity, total, status FROM line_items ORDER BY 1") == [
        {"order_id": "9239234234234", "product_id": "200600", "quantity": 1.0, "total": 990.0, "status": "placed"},
        {"order_id": "9239234235555", "product_id": "200601", "quantity": 1.0, "total": 990.0, "status": "placed"},
    ]
    events = query("SELECT event_type, occurred_at::VARCHAR AS at, properties->>'$.params.externalOrderId' AS id "
                   "FROM events WHERE properties IS NOT NULL ORDER BY event_id")  # fmt: skip
    assert events == [
        {"event_type": "orderCreated", "at": "2023-03-22 14:30:00+00", "id": "9239234234234"},
        {"event_type": "orderCreated", "at": "2023-03-22 15:30:00+00", "id": "9239234235555"},
    ]
    # the people: one per contact, with its email and the shop's customer id (externalCustomerId)
    assert query("SELECT count(DISTINCT customer_id) AS n FROM identities") == [{"n": 2}]
    again = import_events(store, SHARED / "20_how_send_past_events_b0.json", unknown_contacts="create")
    assert again["entities"]["events"]["added"] == 0 and "orders" not in again["entities"]


def test_events_of_unknown_contacts_are_rejected_and_counted(ann, tmp_path, query):
    source = write(tmp_path / "e.json", [
        event("pageViewed", ("email", "ANN@example.com"), ("page", '{"location":"https://shop.example/a"}')),
        event("pageViewed", ("email", "zoe@example.com"), ("page", '{"location":"https://shop.example/b"}'),
              key="zoe@example.com"),
        event("pageViewed", ("Phone", "380501234567"), key="380501234567"),
        event("pageViewed", key="380501234567"),  # keyValue, a phone: Bob
        event("pageViewed", ("ContactKey", "k-1"), key="k-1"),
    ])  # fmt: skip
    report = import_events(ann, source)
    assert (report["items"], report["valid"], report["rejected"], report["unknown_contacts"]) == (5, 3, 2, 2)
    rejected = reasons(query)
    assert [(row, line) for row, line, _ in rejected] == [(2, 3), (5, 6)]
    assert "the store knows no contact by these ids" in rejected[0][2]
    assert query("SELECT reasons[1].value AS ids FROM rejects ORDER BY record") == [
        {"ids": "email zoe@example.com"},
        {"ids": "contact_key k-1"},
    ]
    people = query("SELECT e.user_id_type, e.user_id, count(DISTINCT e.customer_id) AS people FROM events AS e "
                   "GROUP BY ALL ORDER BY 1")  # fmt: skip
    assert people == [{"user_id_type": "email", "user_id": "ann@example.com", "people": 1},
                      {"user_id_type": "phone", "user_id": "380501234567", "people": 1}]  # fmt: skip
    created = import_events(ann, source, unknown_contacts="create")
    assert (created["rejected"], created["entities"]["events"]["added"], created["entities"]["customers"]) == (
        0, 2, {"added": 2})  # fmt: skip


def test_identifier_parameters_are_matched_by_name_in_any_case_and_keep_their_values_case(store, tmp_path, query):
    source = write(tmp_path / "e.json", [
        event("x", ("USEREMAIL", " Ann@Example.COM "), key=None),
        event("x", ("contact_KEY", "Key-A"), key=None),
        event("x", ("ContactKey", "key-a"), key=None),
        event("x", ("PushToken", "TokA"), ("ContactId", "77"), key=None),
        event("x", ("loyaltyCard", "L-9"), key=None),
    ])  # fmt: skip
    report = import_events(store, source, unknown_contacts="create", identifiers={"LoyaltyCard": "loyalty_card"})
    assert report["rejected"] == 0
    assert query("SELECT id_type, id_value FROM identities WHERE id_type <> 'email_sha256' ORDER BY 1, 2") == [
        {"id_type": "contact_key", "id_value": "Key-A"}, {"id_type": "contact_key", "id_value": "key-a"},
        {"id_type": "email", "id_value": "ann@example.com"}, {"id_type": "esputnik_contact_id", "id_value": "77"},
        {"id_type": "loyalty_card", "id_value": "L-9"}, {"id_type": "push_token", "id_value": "TokA"},
    ]  # fmt: skip
    assert query("SELECT count(DISTINCT customer_id) AS n FROM events") == [{"n": 5}]  # Key-A is not key-a


def test_recommendation_events_of_the_specification_and_their_items(ann, tmp_path, query):
    source = write(tmp_path / "e.json", [
        event("pageViewed", ("phone", "380501234567"), ("email", "ann@example.com"),
              ("page", '{"location":"https://example.com"}')),
        event("productViewed", ("email", "ann@example.com"),
              ("product", '{"productId":"WS01-L-Green","price":45.5,"isInStock":1,"someProductProperty":["green"]}'),
              ("currencyCode", "USD")),
        event("productCategoryViewed", ("email", "ann@example.com"), ("category", '{"productCategoryId":"Mugs"}')),
        event("cartUpdated", ("email", "ann@example.com"),
              ("products", '[{"productId":"WS01-L-Green","quantity":1,"price":45.5,"name":"Tee","category":"Tees",'
               '"discount":"5"}]'), ("currencyCode", "USD"), ("recycleStateId", "d59c6e6d")),
        event("searchRequest", ("email", "ann@example.com"), ("search", "mugs"), ("isFound", 1)),
    ])  # fmt: skip
    assert import_events(ann, source)["rejected"] == 0
    items = query("SELECT e.event_type, i.product_id, i.category, i.quantity, i.price, i.currency "
                  "FROM event_items AS i JOIN events AS e USING (event_id) ORDER BY e.event_id")  # fmt: skip
    assert items == [
        {"event_type": "productViewed", "product_id": "WS01-L-Green", "category": None, "quantity": None,
         "price": 45.5, "currency": "USD"},
        {"event_type": "productCategoryViewed", "product_id": None, "category": "Mugs", "quantity": None,
         "price": None, "currency": None},
        {"event_type": "cartUpdated", "product_id": "WS01-L-Green", "category": "Tees", "quantity": 1.0,
         "price": 45.5, "currency": "USD"},
    ]  # fmt: skip
    page = query("SELECT properties->'$.params.page' AS page, properties->'$.params.isFound' AS found FROM events "
                 "ORDER BY event_id")  # fmt: skip
    assert json.loads(page[0]["page"]) == {"location": "https://example.com"}  # parsed: an object, not a text
    assert page[4]["found"] == "1"  # a number stays a number


def test_a_json_text_is_parsed_one_level_only(ann, tmp_path, query):
    nested = json.dumps([{"productId": "p1", "tags": json.dumps(["a", "b"])}])  # a JSON text inside the list
    import_events(ann, write(tmp_path / "e.json", event("cartUpdated", ("email", "ann@example.com"),
                                                         ("products", nested))))  # fmt: skip
    (row,) = query("SELECT properties->'$.params.products' AS products FROM events")
    assert json.loads(row["products"]) == [{"productId": "p1", "tags": '["a", "b"]'}]


def test_a_single_event_an_array_a_body_and_json_lines_of_bodies(ann, tmp_path, query):
    one = event("pageViewed", ("email", "ann@example.com"), occurred="2024-01-02")
    two = event("pageViewed", ("email", "ann@example.com"), occurred="2024-01-03T04:05")
    three = event("pageViewed", ("email", "ann@example.com"), occurred="2024-01-04T04:05:06.5Z")
    assert import_events(ann, write(tmp_path / "one.json", one))["items"] == 1
    assert import_events(ann, write(tmp_path / "array.json", [one, two]))["entities"]["events"] == {
        "added": 1, "unchanged": 1}  # fmt: skip
    body = write(tmp_path / "body.json", {"events": [one, two, three]})
    assert import_events(ann, body)["entities"]["events"] == {"added": 1, "unchanged": 2}
    lines = tmp_path / "bodies.jsonl"
    lines.write_text(json.dumps({"events": [one]}) + "\n\n" + json.dumps({"events": [two, three]}) + "\n" + json.dumps(
        {"events": []}) + "\n", encoding="utf-8")  # fmt: skip
    report = import_events(ann, lines)
    assert (report["items"], report["entities"]["events"]) == (3, {"added": 0, "unchanged": 3})
    assert query("SELECT occurred_at::VARCHAR AS at FROM events ORDER BY 1") == [
        {"at": "2024-01-02 00:00:00+00"},
        {"at": "2024-01-03 04:05:00+00"},
        {"at": "2024-01-04 04:05:06.5+00"},
    ]


def test_bad_events_are_rejected_with_their_reason(ann, tmp_path, query):
    good = ("email", "ann@example.com")
    events = [
        {"keyValue": "ann@example.com", "params": [{"name": "email", "value": "ann@example.com"}]},
        {"eventTypeKey": "x", "keyValue": "ann@example.com", "params": [{"value": "ann@example.com"}]},
        event("x", good, occurred="22.03.2023"),
        event("x", good, occurred="2023-03-22 14:30"),
        event("x", good, ("page", '{"location":"https://a"}]}')),
        event("x", good, ("Email", "ann@example.com")),
        event("x", key="nobody"),
        {"eventTypeKey": "x", "keyValue": "ann@example.com", "params": {"email": "ann@example.com"}},
        event("x", ("email", "not an email")),
        event("x", good),
    ]
    report = import_events(ann, write(tmp_path / "bad.json", events))
    assert (report["items"], report["valid"], report["rejected"]) == (10, 1, 9)
    got = [(row, text) for row, _, text in reasons(query)]
    assert got == [
        (1, "eventTypeKey: required value is missing"),
        (2, 'params: entry 1 has no name (expected {"name": ..., "value": ...})'),
        (3, "occurred: " + "not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:mm, e.g. 2023-03-22T14:30)"),
        (4, "occurred: " + "not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:mm, e.g. 2023-03-22T14:30)"),
        (5, "params: the value of page is a JSON text that is not valid JSON: Extra data at column 25"),
        (6, "params: the name email is given twice: which value is meant is ambiguous"),
        (7, "(contact): no contact: expected an identifier parameter (ContactId, Email, Phone, PushToken, "
            "ContactKey ...) or a keyValue that is an email or a phone"),
        (8, 'params: not a list of {"name": ..., "value": ...}'),
        (9, "email: not a valid email"),
    ]  # fmt: skip
    assert query("SELECT line FROM rejects ORDER BY record")[0] == {"line": 2}  # the element's own


def test_a_past_event_needs_its_time(ann, tmp_path, query):
    body = {"events": [event("x", ("email", "ann@example.com")), event("x", ("email", "ann@example.com"),
                                                                         occurred="2024-01-01")]}  # fmt: skip
    report = import_events(ann, write(tmp_path / "body.json", body))
    assert (report["valid"], report["rejected"]) == (1, 1)
    assert reasons(query)[0][2].startswith("occurred: required for a past event")
    alone = import_events(ann, write(tmp_path / "alone.json", event("y", ("email", "ann@example.com"))))
    assert (alone["rejected"], alone["events_without_time"]) == (0, 1)  # v1/event: it happens when it is sent


@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.json")))
def test_every_documentation_example(name, store, tmp_path):
    """The valid examples import (their contacts created); the others fail naming the line and column."""
    path = SHARED / name
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        with pytest.raises(EtlError, match=rf"{name}: line \d+, column \d+: "):
            import_events(store, path, unknown_contacts="create")
        return
    report = import_events(store, path, unknown_contacts="create")
    assert report["items"] == report["valid"] + report["rejected"] >= 1
    assert report["rejected"] == 0, report["issues"]


def test_order_events_change_the_order_as_an_order_import_would(ann, tmp_path, query):
    created = import_events(ann, write(tmp_path / "1.json", order("orderCreated", "o1", *CREATED,
                                                                      occurred="2024-05-14T10:11")))  # fmt: skip
    assert created["events"] == {"orderPlace": 1, "orderUpdate": 0}
    assert query("SELECT line_no, product_id, quantity, total, currency, status FROM line_items") == [
        {"line_no": 1, "product_id": "200600", "quantity": 2.0, "total": 258.0, "currency": "UAH", "status": "placed"}
    ]
    later = [
        order("orderUpdated", "o1", ("totalCost", "300"), occurred="2024-05-15T09:00"),
        order("orderDelivered", "o1", occurred="2024-05-16T09:00"),
    ]
    report = import_events(ann, write(tmp_path / "2.json", later))
    assert report["entities"]["orders"] == {"added": 0, "updated": 1, "unchanged": 0}
    assert report["events"] == {"orderPlace": 0, "orderUpdate": 1}
    (stored,) = query("SELECT total, currency, created_at::VARCHAR AS created, last_updated::VARCHAR AS updated "
                      "FROM orders")  # fmt: skip
    assert stored == {"total": 300.0, "currency": "UAH", "created": "2024-05-14 10:11:00+00",
                      "updated": "2024-05-16 09:00:00+00"}  # fmt: skip
    assert query("SELECT product_id, status FROM line_items") == [{"product_id": "200600", "status": "fulfilled"}]
    import_events(ann, write(tmp_path / "3.json", order("orderCancelled", "o1", occurred="2024-05-17")))
    assert query("SELECT status FROM line_items") == [{"status": "cancelled"}]
    assert query("SELECT event_type FROM events WHERE order_id = 'o1' ORDER BY event_id") == [
        {"event_type": t} for t in ("orderCreated", "orderPlace", "orderUpdated", "orderDelivered", "orderUpdate",
                                    "orderCancelled", "orderUpdate")]  # fmt: skip


def test_order_events_in_one_file_fold_in_their_time_order(ann, tmp_path, query):
    events = [
        order("orderDelivered", "o2", occurred="2024-05-16T09:00"),
        order("orderCreated", "o2", *CREATED, occurred="2024-05-14T10:11"),
        order("orderUpdated", "o3", *CREATED, occurred="2024-05-14T10:11"),  # an update of no order makes it
    ]
    report = import_events(ann, write(tmp_path / "e.json", events))
    assert report["entities"]["orders"]["added"] == 2
    assert query("SELECT order_id, status FROM line_items ORDER BY 1") == [
        {"order_id": "o2", "status": "fulfilled"},
        {"order_id": "o3", "status": "placed"},
    ]


def test_order_events_that_cannot_change_an_order_are_rejected_naming_the_parameter(ann, tmp_path, query):
    events = [
        order("orderCreated", None, *CREATED),
        order("orderCreated", "o4", ("totalCost", "1"), ("date", "2024-01-01T00:00:00")),  # no status
        order("orderDelivered", "nowhere"),
        order("orderCancelled", "nowhere"),
        order("orderUpdated", "o5", ("totalCost", "12")),  # makes no order: no status, no date
        order("orderCreated", "o6", ("totalCost", "1,5"), ("status", "SHIPPED"), ("date", "yesterday"),
              ("currency", "euro")),
        order("orderCreated", "o7", ("totalCost", "1"), ("status", "ABANDONED_SHOPPING_CART"),
              ("date", "2024-01-01T00:00:00")),  # an abandoned cart: an event, no order
    ]  # fmt: skip
    report = import_events(ann, write(tmp_path / "e.json", events))
    assert (report["valid"], report["rejected"], report["unknown_order_events"]) == (1, 6, 3)
    got = [text for _, _, text in reasons(query)]
    assert got[0] == "externalOrderId: required for orderCreated: the event is ignored"
    assert got[1] == "status: required for orderCreated: the event is ignored"
    assert got[2].startswith("externalOrderId: the store holds no order nowhere and the import makes none")
    assert got[4].startswith("externalOrderId: the store holds no order o5: to make it, the event needs totalCost")
    assert got[5] == ("totalCost: not a number (e.g. 258.0); status: not an eSputnik order status (INITIALIZED, "
                      "IN_PROGRESS, DELIVERED, CANCELLED, ABANDONED_SHOPPING_CART); date: " + DATE_HINT
                      + "; currency: not a three-letter currency code (e.g. UAH)")  # fmt: skip
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]
    assert query("SELECT event_type FROM events") == [{"event_type": "orderCreated"}]


def test_a_status_event_keeps_what_a_kevel_import_stored(ann, tmp_path, query):
    rows = [kevel_row("k1", userIdType="email", userId="ann@example.com", subtotal="90", lineItem_status="paid")]
    spec = {"format": "kevel_orders", "source": str(write_csv(tmp_path / "orders.csv", rows))}
    run_import(validate_spec(spec, "orders"), ann)
    before = query("SELECT * EXCLUDE (last_import_id, last_updated) FROM orders")
    lines = query("SELECT * EXCLUDE (last_import_id, status) FROM line_items")
    import_events(ann, write(tmp_path / "e.json", order("orderDelivered", "k1", occurred="2025-01-01T08:00")))
    assert query("SELECT * EXCLUDE (last_import_id, last_updated) FROM orders") == before
    assert query("SELECT * EXCLUDE (last_import_id, status) FROM line_items") == lines
    assert {r["status"] for r in query("SELECT status FROM line_items")} == {"fulfilled"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("06_integration_with_api_b2.json", "line 2, column 1: .*a no-break space, U\\+00A0, is not JSON whitespace"),
        ("11_site_activity_tracking_using_generate_events_b0.json",
         "line 15, column 19: .*a JSON text inside a string must escape its quotes"),
        ("15_site_activity_tracking_using_generate_events_b4.json", "line 5, column 9: .*a comment: JSON has none"),
        ("02_how_use_v1event_api_resource_b0.json", "line 53, column 22: Expecting value"),
    ],
)  # fmt: skip
def test_what_users_paste_from_the_documentation_is_named(name, message, store):
    """The first error of the file, and the likely cause of the usual ones (the earliest, not the first the
    array's shape breaks at: a comment comes before the line break in a string of example 15)."""
    with pytest.raises(EtlError, match=message):
        import_events(store, SHARED / name, unknown_contacts="create")


@pytest.mark.parametrize("skip", [True, False], ids=["skip_known", "parse_all"])
def test_a_body_stored_whole_is_not_read_again(ann, tmp_path, skip):
    view = [event("pageViewed", ("email", "ann@example.com"), ("n", n), occurred="2024-01-01") for n in range(5)]
    bad = event("pageViewed", ("email", "ann@example.com"), occurred="yesterday")
    lines = tmp_path / "bodies.jsonl"
    lines.write_text(json.dumps({"events": view[:3]}) + "\n" + json.dumps({"events": [view[3], bad, view[4]]}) + "\n")
    first = import_events(ann, lines, use_known=skip)
    assert (first["items"], first["valid"], first["rejected"]) == (6, 5, 1)
    again = import_events(ann, lines, use_known=skip)
    assert (again["items"], again["valid"], again["rejected"]) == (6, 5, 1)
    assert again["entities"]["events"] == {"added": 0, "unchanged": 5}
    assert again["known_events"] == (3 if skip else 0)  # the first body; the second, with its reject, is read
    assert reasons(query=lambda sql: rows_of(ann, sql)) == [(5, 2, "occurred: " + OCCURRED_HINT)]


def test_the_segments_count_esputnik_orders_and_recommendation_events(ann, tmp_path):
    from etl.segments import run as segment

    events = [  # an orderCreated without currency (as the specification's example): the spec's default_currency
        order("orderCreated", "o9", ("totalCost", "129"), ("status", "IN_PROGRESS"), ("date", "2024-05-14T10:11:00"),
              ("items", [{"externalItemId": "200600", "category": "devices", "quantity": 1, "cost": 129}]),
              occurred="2024-05-14T10:11"),
        event("cartUpdated", ("email", "ann@example.com"),
              ("products", '[{"productId":"p7","quantity":2,"price":4.5}]'), occurred="2024-05-20T08:00"),
        *[event("productCategoryViewed", ("Phone", "380501234567"), ("category", '{"productCategoryId":"Mugs"}'),
                key="380501234567", occurred=f"2024-05-2{n}T08:00") for n in range(3)],
    ]  # fmt: skip
    without = import_events(ann, write(tmp_path / "e.json", events))
    assert (without["rejected"], reasons(lambda sql: rows_of(ann, sql))[0][2]) == (1, (
        "currency: the order o9 has no currency, and the spec no default_currency (options: {default_currency: UAH}): "
        "the event is ignored"))  # fmt: skip
    assert import_events(ann, write(tmp_path / "e.json", events), default_currency="eur")["rejected"] == 0
    assert rows_of(ann, "SELECT currency FROM orders") == [{"currency": "EUR"}]
    bought = segment.run("bought_product_within", {"start": "2024-05-14", "days": 1, "product": "200600"}, store=ann)
    assert bought.select("user_id", "orders", "value").to_dicts() == [
        {"user_id": "ann@example.com", "orders": 1, "value": 129.0}
    ]
    carts = segment.run("abandoned_cart", {"hours": 24}, store=ann)
    assert carts.select("user_id", "quantity", "value").to_dicts() == [
        {"user_id": "ann@example.com", "quantity": 2.0, "value": 9.0}
    ]
    views = segment.run("viewed_category", {"category_name": "Mugs", "min_views": 3,
                                            "view_event": "productCategoryViewed"}, store=ann)  # fmt: skip
    assert views.select("user_id", "views").to_dicts() == [{"user_id": "380501234567", "views": 3}]
    counted = segment.run("event_count", {"event_name": "cartUpdated", "min_events": 1}, store=ann)
    assert counted["user_id"].to_list() == ["ann@example.com"]


def test_an_order_without_items_is_stored_without_lines_and_keeps_its_status(ann, tmp_path, query):
    """001: items are optional. Before: counted valid, its event stored, the order never written."""
    no_items = [c for c in CREATED if c[0] != "items"]
    report = import_events(ann, write(tmp_path / "1.json", [
        order("orderCreated", "n1", *no_items, occurred="2024-05-14T10:11"),
        order("orderUpdated", "n2", *no_items, occurred="2024-05-14T10:12"),  # an update of no order makes it
    ]))  # fmt: skip
    assert (report["valid"], report["rejected"], report["entities"]["orders"]["added"]) == (2, 0, 2)
    assert query(
        "SELECT order_id, user_id, total, currency, custom_fields->>'$.order_status' AS status FROM orders ORDER BY 1"
    ) == [  # fmt: skip
        {"order_id": "n1", "user_id": "ann@example.com", "total": 258.0, "currency": "UAH", "status": "placed"},
        {"order_id": "n2", "user_id": "ann@example.com", "total": 258.0, "currency": "UAH", "status": "placed"},
    ]
    assert query("SELECT count(*) AS n FROM line_items") == [{"n": 0}]
    assert query("SELECT order_id, event_type FROM events WHERE event_type = 'orderPlace' ORDER BY 1") == [
        {"order_id": "n1", "event_type": "orderPlace"}, {"order_id": "n2", "event_type": "orderPlace"}]  # fmt: skip
    # a status event finds it (the line items hold statuses: an order without lines keeps it in custom_fields)
    later = import_events(
        ann,
        write(
            tmp_path / "2.json",
            [
                order("orderDelivered", "n1", occurred="2024-05-15"),
                order("orderCancelled", "n2", occurred="2024-05-15"),
            ],
        ),
    )
    assert (later["rejected"], later["entities"]["orders"]["updated"]) == (0, 2)
    assert query("SELECT custom_fields->>'$.order_status' AS s FROM orders ORDER BY order_id") == [
        {"s": "fulfilled"}, {"s": "cancelled"}]  # fmt: skip
    # items given later become its lines, in its status; the custom field goes
    items = [c for c in CREATED if c[0] == "items"]
    import_events(ann, write(tmp_path / "3.json", order("orderUpdated", "n1", *items, occurred="2024-05-16")))
    assert query("SELECT order_id, product_id, status FROM line_items") == [
        {"order_id": "n1", "product_id": "200600", "status": "fulfilled"}]  # fmt: skip
    assert query("SELECT custom_fields FROM orders WHERE order_id = 'n1'") == [{"custom_fields": None}]


def test_an_order_date_in_the_documented_forms(ann, tmp_path, query):
    """003: "YYYY-MM-DD" and "YYYY-MM-DDTHH:mm" (before: 2020-05-14T10:11 was "not an ISO date and time")."""
    other = [c for c in CREATED if c[0] != "date"]
    dates = {"d1": "2020-05-14T10:11", "d2": "2020-05-14", "d3": "2020-05-14T10:11:00", "d4": "2020-05-14T10:11+02:00",
             "d5": "14.05.2020"}  # fmt: skip
    report = import_events(
        ann,
        write(
            tmp_path / "e.json",
            [
                order("orderCreated", key, *other, ("date", value), occurred="2024-05-14")
                for key, value in dates.items()
            ],
        ),
    )
    assert (report["valid"], report["rejected"]) == (4, 1)
    assert reasons(query)[0][2] == "date: " + DATE_HINT
    assert query("SELECT order_id, created_at::VARCHAR AS at FROM orders ORDER BY 1") == [
        {"order_id": "d1", "at": "2020-05-14 10:11:00+00"}, {"order_id": "d2", "at": "2020-05-14 00:00:00+00"},
        {"order_id": "d3", "at": "2020-05-14 10:11:00+00"}, {"order_id": "d4", "at": "2020-05-14 08:11:00+00"},
    ]  # fmt: skip


def test_products_as_an_object_holding_an_array_are_its_items(ann, tmp_path, query):
    """001's second example: products {"array": [...]} (before: one item, its product, quantity and price null)."""
    wrapped = json.dumps({"array": [{"productId": "p1", "quantity": 2, "price": 4.5},
                                    {"externalItemId": "p2", "quantity": 1, "cost": 990}]})  # fmt: skip
    import_events(
        ann,
        write(
            tmp_path / "e.json",
            event("cartUpdated", ("email", "ann@example.com"), ("products", wrapped), ("currencyCode", "USD")),
        ),
    )
    assert query("SELECT product_id, quantity, price, currency FROM event_items ORDER BY position") == [
        {"product_id": "p1", "quantity": 2.0, "price": 4.5, "currency": "USD"},
        {"product_id": "p2", "quantity": 1.0, "price": 990.0, "currency": "USD"},
    ]
    (row,) = query("SELECT properties->'$.params.products' AS products FROM events")
    assert json.loads(row["products"]) == json.loads(wrapped)  # the event as given


def test_a_rejected_event_of_a_body_names_its_own_line(ann, tmp_path, query):
    """Before: every rejected event of a body said line 1. A body over many lines: the line its event starts on;
    JSON lines of bodies: the body's line, and the record is the event's number in the file."""
    good, bad = event("x", ("email", "ann@example.com"), occurred="2024-01-01"), event("x", occurred="later")
    text = '{"events": [\n' + json.dumps(good) + ",\n\n" + json.dumps(bad) + ", " + json.dumps(
        {**bad, "note": "a,] and [{ in a string"}) + "\n]}\n"  # fmt: skip
    (tmp_path / "body.json").write_text(text, encoding="utf-8")
    assert import_events(ann, tmp_path / "body.json")["rejected"] == 2
    assert [(record, line) for record, line, _ in reasons(query)] == [(2, 4), (3, 4)]
    lines = tmp_path / "bodies.jsonl"
    lines.write_text("".join(json.dumps({"events": body}) + "\n" for body in ([good], [good, bad])), encoding="utf-8")
    assert import_events(ann, lines)["rejected"] == 1
    assert [(record, line) for record, line, _ in reasons(query)] == [(3, 2)]


def test_the_sample_shows_rejected_records_as_rejected(ann, tmp_path):
    events = [event("x", ("email", "ann@example.com")), event("x", ("email", "zoe@example.com"), key=None),
              order("orderDelivered", "nowhere"), event("x", occurred="bad")]  # fmt: skip
    report = import_events(ann, write(tmp_path / "e.json", events))
    assert [(r["record"], r["event_type"], r["change"]) for r in report["sample"]["first"]] == [
        (1, "x", "added"), (2, "x", "rejected"), (3, "orderDelivered", "rejected")]  # fmt: skip


def test_an_order_event_naming_another_contact_keeps_the_buyer_and_says_so(ann, tmp_path, query):
    """Our choice (001 is silent): an order is one person's purchase; an orderUpdated or a status event naming
    another contact changes the order, not its buyer, and is stored on the contact it names; the report counts
    those orders, with examples. The same person named by another of their ids is no conflict."""
    bob = ("Phone", "380501234567")
    events = [
        order("orderCreated", "b1", *CREATED, occurred="2024-05-14T10:11"),
        event("orderUpdated", bob, ("externalOrderId", "b1"), ("totalCost", "300"), key=None, occurred="2024-05-15"),
        order("orderUpdated", "b1", ("totalCost", "301"), ("phone", "380999"), occurred="2024-05-16"),  # Ann too
    ]
    report = import_events(ann, write(tmp_path / "e.json", events))
    assert report["orders_buyer_kept"] == {"orders": 1, "examples": [
        {"order_id": "b1", "buyer": "email ann@example.com", "named": "phone 380501234567"}]}  # fmt: skip
    (ann_id,) = query("SELECT customer_id FROM identities WHERE id_value = 'ann@example.com'")
    assert query("SELECT customer_id, user_id, total FROM orders") == [{**ann_id, "user_id": "ann@example.com",
                                                                         "total": 301.0}]  # fmt: skip
    (bob_id,) = query("SELECT customer_id FROM identities WHERE id_value = '380501234567'")
    assert query("SELECT customer_id FROM events WHERE user_id = '380501234567'") == [bob_id]
    # later, in another import: the same
    again = import_events(ann, write(tmp_path / "2.json", event("orderCancelled", bob, ("externalOrderId", "b1"),
                                                                key=None, occurred="2024-05-17")))  # fmt: skip
    assert again["orders_buyer_kept"]["orders"] == 1
    assert query("SELECT user_id FROM orders") == [{"user_id": "ann@example.com"}]


JSON_SUITE = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsontestsuite" / "test_parsing"


def _strict_json(text: str) -> bool:
    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


def test_bodies_are_parsed_strictly_every_n_file_inside_one_is_refused_at_its_line(ann, tmp_path, query):
    """Deliverable 6: JSONTestSuite's n_ files, each inside a body (one a line), are rejected naming the line and
    the column (before: DuckDB's parser took a trailing comma, NaN and Infinity). Python's json says which bodies
    an n_ file leaves valid (an empty one: `{"events":[ ]}`)."""
    good = json.dumps(event("x", ("email", "ann@example.com"), occurred="2024-01-01"))
    inside = []
    for path in sorted(JSON_SUITE.glob("n_*.json")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # a file not UTF-8 fails whole: tests/test_jsonl_reader.py
        body = '{"events":[' + good + "," + text + "]}"
        if "\n" not in text and "\r" not in text and not _strict_json(body):
            inside.append((path.name, body))
    assert len(inside) > 150
    lines = tmp_path / "bodies.jsonl"
    lines.write_text('{"events":[' + good + "]}\n" + "".join(body + "\n" for _, body in inside), encoding="utf-8")
    report = import_events(ann, lines)
    assert (report["items"], report["valid"], report["rejected"]) == (1 + len(inside), 1, len(inside))
    rejected = reasons(query)
    assert [line for _, line, _ in rejected] == list(range(2, 2 + len(inside)))
    named = r"\(line\): not valid JSON(.* at column \d+|: nested too deeply)"  # the depth: at no column
    unnamed = [(name, text) for (name, _), (_, _, text) in zip(inside, rejected, strict=True)
               if not re.fullmatch(named, text)]  # fmt: skip
    assert unnamed == []
    assert query("SELECT count(*) AS n FROM events") == [{"n": 1}]


@pytest.mark.parametrize(
    ("element", "message"),
    [
        ('{"id":0,}', r"line 3, column 9: Expecting property name"),
        ("[1,]", r"line 3, column \d+: (Expecting value|Illegal trailing comma)"),
        ("[NaN]", r"line 3, column 2: NaN is not a JSON number"),
        ("[-Infinity]", r"line 3, column 2: -Infinity is not a JSON number"),
    ],
)
def test_a_body_file_that_is_not_strict_json_fails_at_its_line_and_column(element, message, store, tmp_path):
    good = json.dumps(event("x", ("email", "ann@example.com"), occurred="2024-01-01"))
    path = tmp_path / "body.json"
    path.write_text('{"events": [\n' + good + ",\n" + element + "\n]}\n", encoding="utf-8")
    with pytest.raises(EtlError, match=r"body\.json: " + message):
        import_events(store, path, unknown_contacts="create")


def test_a_json_text_in_a_parameter_is_parsed_strictly_naming_the_column(ann, tmp_path, query):
    """A JSON text that DuckDB's parser takes (a trailing comma, NaN) is not JSON: rejected as a malformed one,
    naming the parameter and the column in its text (before: stored as DuckDB read it)."""
    texts = [
        '[{"productId":"p1"},]',
        '[{"productId":"p1","price":NaN}]',
        '{"productId":"p1"}]}',
        '[{"productId":"p2"}]',
    ]
    events = [event("cartUpdated", ("email", "ann@example.com"), ("products", text)) for text in texts]
    report = import_events(ann, write(tmp_path / "e.json", events))
    assert (report["valid"], report["rejected"]) == (1, 3)
    hints = [text for _, _, text in reasons(query)]
    assert (
        hints[0] == "params: the value of products is a JSON text that is not valid JSON: Expecting value at column 21"
    )
    assert hints[1].startswith("params: the value of products is a JSON text that is not valid JSON: NaN is not")
    assert hints[1].endswith("at column 28")
    assert hints[2] == "params: the value of products is a JSON text that is not valid JSON: Extra data at column 19"
    assert query("SELECT product_id FROM event_items") == [{"product_id": "p2"}]
