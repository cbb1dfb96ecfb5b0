"""Conformance to specification 001 (eSputnik, "How to Send Orders via the API Resource v1/event", and the events
for the recommendation system): every example imported verbatim (the productViewed one, broken in the document,
also repaired), each table row and rule with what the store holds afterwards, and the payloads of eSputnik's
documentation (../shared/data/esputnik-doc-examples). The table: docs/conformance/001.md."""

# ruff: noqa: E501  (the examples are printed with lines longer than ours: kept verbatim)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_DATA, rows_of

from etl.errors import EtlError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec

DOC_EXAMPLES = SHARED_DATA / "esputnik-doc-examples"

# The document's examples, as printed (their `\/` escapes included)
ORDER_CREATED = r"""{
"eventTypeKey": "orderCreated",
"keyValue": "380501234567",
"params": [{
"name": "phone",
"value": "380501234567"
}, {
"name": "externalOrderId",
"value": "12345679"
}, {
"name": "externalCustomerId",
"value": "AV13760"
}, {
"name": "totalCost",
"value": "258.0"
}, {
"name": "status",
"value": "INITIALIZED"
}, {
"name": "date",
"value": "2020-05-14T10:11:00"
}, {
"name": "items",
"value": "[{\"externalItemId\":\"200600\",\"name\":\"Super Device\",\"category\":\"devices\",\"quantity\":1,\"cost\":990,\"url\":\"http:\/\/example.com\/item\/200600\",\"imageUrl\":\"http:\/\/example.com\/item\/200600\/image.png\",\"description\":\"High quality\"}]"
}]
}"""
ORDER_CREATED_WITH_PRODUCTS = r"""{
"eventTypeKey": "orderCreated",
"keyValue": "380501234567",
"params": [{
"name": "phone",
"value": "380501234567"
}, {
"name": "externalOrderId",
"value": "12345679"
}, {
"name": "externalCustomerId",
"value": "AV13760"
}, {
"name": "totalCost",
"value": "258.0"
}, {
"name": "status",
"value": "INITIALIZED"
}, {
"name": "date",
"value": "2020-05-14T10:11:00"
}, {
"name": "items",
"value": "[{\"externalItemId\":\"200600\",\"name\":\"Super Device\",\"category\":\"devices\",\"quantity\":1,\"cost\":990,\"url\":\"http:\/\/example.com\/item\/200600\",\"imageUrl\":\"http:\/\/example.com\/item\/200600\/image.png\",\"description\":\"High quality\"}]"
},
{
"name": "products",
"value": "{\"array\":[{\"externalItemId\":\"200600\",\"name\":\"Super Device\",\"category\":\"devices\",\"quantity\":1,\"cost\":990,\"url\":\"http:\/\/example.com\/item\/200600\",\"imageUrl\":\"http:\/\/example.com\/item\/200600\/image.png\",\"description\":\"High quality\"}]}"
}]
}"""
PAGE_VIEWED = r"""{
"eventTypeKey": "pageViewed",
"keyValue": "example@email.com",
"params": [
{
"name": "phone",
"value": "380501234567"
},
{
"name": "email",
"value": "example@email.com"
},
{
"name": "page",
"value": "{\"location\":\"https://example.com\"}"
}
]
}"""
PRODUCT_VIEWED = r"""{
"eventTypeKey": "productViewed",
"keyValue": "example@email.com",
"params": [
{
"name": "phone",
"value": "411786452"
},
{
"name": "email",
"value": "example@email.com"
},
{
"name": "product",
"value": "{\"productId\":\"WS01-L-Green\",\"price\":45.5,\"isInStock\":1,\"someProductProperty\":[\"green\"]}]}"
},
{
"name": "currencyCode",
"value": "USD"
}
]
}"""
PRODUCT_CATEGORY_VIEWED = r"""{
"eventTypeKey": "productCategoryViewed",
"keyValue": "example@email.com",
"params": [
{
"name": "phone",
"value": "7411324763"
},
{
"name": "email",
"value": "example@email.com"
},
{
"name": "category",
"value": "{\"productCategoryId\":\"Mugs\"}"
}
]
}"""
CART_UPDATED = r"""{
"eventTypeKey": "cartUpdated",
"keyValue": "example@email.com",
"params": [
{
"name": "phone",
"value": "73456712"
},
{
"name": "email",
"value": "example@email.com"
},
{
"name": "products",
"value": "[{\"productId\":\"WS01-L-Green\",\"quantity\":1,\"price\":45.5}]"
},
{
"name": "currencyCode",
"value": "USD"
},
{
"name": "recycleStateId",
"value": "d59c6e6d-4123-4b0e-8c32-15f0656a8c60"
}
]
}"""
# The document's productViewed example breaks its own JSON text: `...["green"]}]}`. Repaired: the stray `]}` cut.
PRODUCT_VIEWED_REPAIRED = PRODUCT_VIEWED.replace(r'[\"green\"]}]}"', r'[\"green\"]}"')


def imported(store: Path, folder: Path, *events: str, name: str = "events.json", **options) -> dict:
    """The events, as printed, in a JSON array (one a line block); the import's report."""
    path = folder / name
    path.write_text("[\n" + ",\n".join(events) + "\n]\n", encoding="utf-8")
    spec = {"format": "esputnik_events", "source": str(path),
            "options": {"unknown_contacts": "create", "default_currency": "UAH", **options}}  # fmt: skip
    return run_import(validate_spec(spec, "spec"), store)


def event(kind: str, *params: tuple[str, object], key: str = "ann@example.com", occurred: str | None = None) -> str:
    value = {"eventTypeKey": kind, "keyValue": key, "params": [{"name": n, "value": v} for n, v in params]}
    return json.dumps(value | ({"occurred": occurred} if occurred else {}))


def rejects(store: Path) -> list[tuple[int, int, str]]:
    """The last import's rejects: (record, line, 'column: hint; ...')."""
    rows = rows_of(store, "SELECT record, line, reasons FROM rejects WHERE import_id = (SELECT max(import_id) "
                          "FROM imports) ORDER BY record")  # fmt: skip
    return [(r["record"], r["line"], "; ".join(f"{x['column']}: {x['hint']}" for x in r["reasons"])) for r in rows]


def ids(store: Path) -> list[tuple[str, str]]:
    query = "SELECT id_type, id_value FROM identities WHERE id_type <> 'email_sha256' ORDER BY 1, 2"
    return [(r["id_type"], r["id_value"]) for r in rows_of(store, query)]


ORDER = {"params": [("email", "ann@example.com"), ("externalOrderId", "o1"), ("totalCost", "10"),
                    ("status", "INITIALIZED"), ("date", "2024-05-14T10:11")]}  # fmt: skip


def order(kind: str, order_id: str = "o1", *more: tuple[str, object], drop: str = "", occurred: str = "2024-05-14"):
    given = [(n, v) for n, v in ORDER["params"] if n != drop]
    given = [(n, order_id if n == "externalOrderId" else v) for n, v in given]
    return event(kind, *given, *more, occurred=occurred)


# --- the examples --------------------------------------------------------------------------------------------


def test_example_order_created(store, tmp_path):
    """orderCreated, verbatim: the order, its line (cost x quantity), its buyer (its phone, the first identifier
    parameter given), its customer id kept in its case; no currency given: the spec's default_currency."""
    report = imported(store, tmp_path, ORDER_CREATED)
    assert (report["items"], report["valid"], report["rejected"]) == (1, 1, 0)
    assert rows_of(store, "SELECT order_id, user_id_type, user_id, currency, total, created_at::VARCHAR AS created "
                          "FROM orders") == [  # fmt: skip
        {"order_id": "12345679", "user_id_type": "phone", "user_id": "380501234567", "currency": "UAH",
         "total": 258.0, "created": "2020-05-14 10:11:00+00"}]  # fmt: skip
    assert rows_of(store, "SELECT line_no, product_id, name, category, quantity, total, status, "
                          "custom_fields->>'$.url' AS url FROM line_items") == [  # fmt: skip
        {"line_no": 1, "product_id": "200600", "name": "Super Device", "category": "devices", "quantity": 1.0,
         "total": 990.0, "status": "placed", "url": "http://example.com/item/200600"}]  # fmt: skip
    assert ids(store) == [("external_id", "AV13760"), ("phone", "380501234567")]
    assert rows_of(store, "SELECT count(DISTINCT customer_id) AS n FROM identities") == [{"n": 1}]
    assert rows_of(store, "SELECT event_type, order_id FROM events ORDER BY event_id") == [
        {"event_type": "orderCreated", "order_id": "12345679"},
        {"event_type": "orderPlace", "order_id": "12345679"},
    ]


def test_example_order_created_with_products_as_an_array_object(store, tmp_path):
    """The second orderCreated: its products {"array": [...]} are the event's items; its items the order's line."""
    assert imported(store, tmp_path, ORDER_CREATED_WITH_PRODUCTS)["rejected"] == 0
    assert rows_of(store, "SELECT product_id, name, quantity, price FROM event_items") == [
        {"product_id": "200600", "name": "Super Device", "quantity": 1.0, "price": 990.0}]  # fmt: skip
    assert rows_of(store, "SELECT order_id, product_id, total FROM line_items") == [
        {"order_id": "12345679", "product_id": "200600", "total": 990.0}]  # fmt: skip


def test_example_recommendation_events(store, tmp_path):
    """pageViewed, productCategoryViewed, cartUpdated verbatim: the events, their items, their people."""
    report = imported(store, tmp_path, PAGE_VIEWED, PRODUCT_CATEGORY_VIEWED, CART_UPDATED)
    assert (report["valid"], report["rejected"]) == (3, 0)
    events = rows_of(store, "SELECT event_type, user_id_type, user_id, properties->'$.params.page' AS page, "
                            "properties->>'$.params.recycleStateId' AS cart FROM events ORDER BY event_id")  # fmt: skip
    assert [(e["event_type"], e["user_id_type"], e["user_id"]) for e in events] == [
        ("pageViewed", "email", "example@email.com"), ("productCategoryViewed", "email", "example@email.com"),
        ("cartUpdated", "email", "example@email.com")]  # fmt: skip
    assert json.loads(events[0]["page"]) == {"location": "https://example.com"}  # its JSON text, parsed
    assert events[2]["cart"] == "d59c6e6d-4123-4b0e-8c32-15f0656a8c60"
    items = rows_of(store, "SELECT e.event_type, i.product_id, i.category, i.quantity, i.price, i.currency "
                           "FROM event_items AS i JOIN events AS e USING (event_id) ORDER BY e.event_id")  # fmt: skip
    assert items == [
        {"event_type": "productCategoryViewed", "product_id": None, "category": "Mugs", "quantity": None,
         "price": None, "currency": None},
        {"event_type": "cartUpdated", "product_id": "WS01-L-Green", "category": None, "quantity": 1.0,
         "price": 45.5, "currency": "USD"},
    ]  # fmt: skip
    # one contact: its email, and the three phones the examples give it
    assert rows_of(store, "SELECT count(DISTINCT customer_id) AS n FROM identities") == [{"n": 1}]
    assert sorted(v for t, v in ids(store) if t == "phone") == ["380501234567", "73456712", "7411324763"]


def test_example_product_viewed_as_printed_is_rejected_naming_the_parameter_and_column(store, tmp_path):
    """The document's productViewed breaks its JSON text (`}]}` after the object): rejected, naming the
    parameter, the event's line and the column of the text where it breaks; repaired, it imports."""
    report = imported(store, tmp_path, PAGE_VIEWED, PRODUCT_VIEWED)
    assert (report["valid"], report["rejected"]) == (1, 1)
    assert rejects(store) == [(2, 20, "params: the value of product is a JSON text that is not valid JSON: "
                                      "Extra data at column 88")]  # fmt: skip
    assert imported(store, tmp_path, PRODUCT_VIEWED_REPAIRED)["rejected"] == 0
    (item,) = rows_of(store, "SELECT product_id, price, currency, attributes FROM event_items")
    assert (item["product_id"], item["price"], item["currency"]) == ("WS01-L-Green", 45.5, "USD")
    assert json.loads(item["attributes"])["someProductProperty"] == ["green"]
    (stored,) = rows_of(store, "SELECT properties->>'$.params.product.isInStock' AS stock FROM events "
                               "WHERE event_type = 'productViewed'")  # fmt: skip
    assert stored == {"stock": "1"}


@pytest.mark.parametrize("name", sorted(p.name for p in DOC_EXAMPLES.glob("*.json")))
def test_documentation_payloads(name, store):
    """eSputnik's documentation's payloads: the valid ones import, every event read stored or rejected, each one
    stored in events (by its type, its time and its contact); the others fail naming the line and column."""
    path = DOC_EXAMPLES / name
    spec = {"format": "esputnik_events", "source": str(path), "options": {"unknown_contacts": "create"}}
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        with pytest.raises(EtlError, match=rf"{name}: line \d+, column \d+: "):
            run_import(validate_spec(spec, "spec"), store)
        return
    report = run_import(validate_spec(spec, "spec"), store)
    assert report["items"] == report["valid"] + report["rejected"] >= 1
    assert report["rejected"] == 0, report["issues"]
    given = json.loads(path.read_text(encoding="utf-8"))
    given = given["events"] if isinstance(given, dict) and "events" in given else given
    given = given if isinstance(given, list) else [given]
    stored = rows_of(store, "SELECT event_type, properties->>'$.keyValue' AS key FROM events "
                            "WHERE properties IS NOT NULL ORDER BY event_id")  # fmt: skip
    assert stored == [{"event_type": e["eventTypeKey"], "key": e.get("keyValue")} for e in given]


# --- the rules -----------------------------------------------------------------------------------------------


def test_events_are_taken_for_existing_contacts_only(store, tmp_path):
    """ "You can send v1/event only for the existing contact": by default an event of a contact the store does not
    know is rejected (unknown_contacts: reject), counted; after the contact's import, it is stored."""
    report = imported(store, tmp_path, PAGE_VIEWED, unknown_contacts="reject")
    assert (report["rejected"], report["unknown_contacts"]) == (1, 1)
    assert rejects(store)[0][2].startswith("(contact): the store knows no contact by these ids")
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps({"mail": "example@email.com"}) + "\n", encoding="utf-8")
    spec = {"format": "kevel_users", "source": str(users), "options": {"ids": {"email": "mail"}}}
    run_import(validate_spec(spec, "users"), store)
    assert imported(store, tmp_path, PAGE_VIEWED, unknown_contacts="reject")["rejected"] == 0
    assert rows_of(
        store,
        "SELECT e.event_type FROM events AS e JOIN identities AS i USING (customer_id) "
        "WHERE i.id_value = 'example@email.com' AND i.id_type = 'email'",
    ) == [  # fmt: skip
        {"event_type": "pageViewed"}
    ]


def test_the_event_types_of_orders_and_their_statuses(store, tmp_path):
    """The table: orderCreated "creates the order with the status indicated", orderUpdated "updates the order",
    orderDelivered "changes the order status to DELIVERED", orderCancelled "... to CANCELLED" (line statuses:
    docs/formats/esputnik_events.md's table); ABANDONED_SHOPPING_CART makes no order."""
    statuses = ["INITIALIZED", "IN_PROGRESS", "DELIVERED", "CANCELLED", "ABANDONED_SHOPPING_CART"]
    made = [order("orderCreated", f"s{n}", ("items", '[{"externalItemId":"p1","cost":2,"quantity":3}]'),
                  drop="status") for n in range(len(statuses))]  # fmt: skip
    made = [text.replace('"params": [', f'"params": [{{"name": "status", "value": "{status}"}}, ')
            for text, status in zip(made, statuses, strict=True)]  # fmt: skip
    changed = [order("orderUpdated", "s0", ("totalCost", "7"), drop="totalCost", occurred="2024-05-15"),
               order("orderDelivered", "s1", occurred="2024-05-15"),
               order("orderCancelled", "s2", occurred="2024-05-15")]  # fmt: skip
    report = imported(store, tmp_path, *made, *changed)
    assert (report["valid"], report["rejected"], report["entities"]["orders"]["added"]) == (8, 0, 4)
    assert rows_of(store, "SELECT o.order_id, o.total, l.status, l.total AS line FROM orders AS o "
                          "JOIN line_items AS l USING (order_id) ORDER BY 1") == [  # fmt: skip
        {"order_id": "s0", "total": 7.0, "status": "placed", "line": 6.0},
        {"order_id": "s1", "total": 10.0, "status": "fulfilled", "line": 6.0},
        {"order_id": "s2", "total": 10.0, "status": "cancelled", "line": 6.0},
        {"order_id": "s3", "total": 10.0, "status": "cancelled", "line": 6.0},
    ]  # fmt: skip
    assert rows_of(store, "SELECT count(*) AS n FROM events WHERE order_id = 's4'") == [{"n": 1}]  # the event only


@pytest.mark.parametrize("kind", ["orderCreated", "orderUpdated"])
def test_an_order_without_a_required_parameter_is_ignored(kind, store, tmp_path):
    """orderCreated: "If any of the required parameters isn't filled, the event is ignored and the order will not
    be sent"; orderUpdated of an order the store does not hold: "the orderCreated requirements apply". Required
    (the document names none): externalOrderId, totalCost, status, date. Rejected, naming the parameter."""
    required = ["externalOrderId", "totalCost", "status", "date"]
    report = imported(store, tmp_path, *(order(kind, f"r{n}", drop=name) for n, name in enumerate(required)))
    assert (report["valid"], report["rejected"]) == (0, 4)
    columns = [text.split(":")[0] for _, _, text in rejects(store)]
    assert columns == (required if kind == "orderCreated" else ["externalOrderId"] * 4)
    assert rows_of(store, "SELECT count(*) AS n FROM orders") == [{"n": 0}]
    made = imported(store, tmp_path, order(kind, "r9"))  # with all four: made, whichever the type
    assert (made["rejected"], made["entities"]["orders"]["added"]) == (0, 1)


def test_items_are_optional_and_a_nested_array_stays_serialized(store, tmp_path):
    """ "You can optionally add the field items"; "if you transmit one more array or object in the items array,
    it will remain serialized": a JSON text inside an item stays a text (docs/formats/esputnik_events.md: an order without items is
    stored without lines)."""
    nested = json.dumps([{"externalItemId": "p1", "cost": 1, "quantity": 1, "tags": json.dumps(["a", "b"])}])
    report = imported(store, tmp_path, order("orderCreated", "i1"), order("orderCreated", "i2", ("items", nested)))
    assert (report["rejected"], report["entities"]["orders"]["added"]) == (0, 2)
    assert rows_of(
        store,
        "SELECT order_id, count(l.line_no) AS lines FROM orders LEFT JOIN line_items AS l "
        "USING (order_id) GROUP BY 1 ORDER BY 1",
    ) == [  # fmt: skip
        {"order_id": "i1", "lines": 0},
        {"order_id": "i2", "lines": 1},
    ]
    (row,) = rows_of(store, "SELECT properties->'$.params.items' AS items FROM events WHERE order_id = 'i2' "
                            "AND properties IS NOT NULL")  # fmt: skip
    assert json.loads(row["items"])[0]["tags"] == '["a", "b"]'


def test_an_order_updated_that_does_not_exist_is_created_and_a_delivered_one_ignored(store, tmp_path):
    """orderUpdated: "If the transmitted order doesn't exist in the system, it's created anyway"; orderDelivered:
    "If the order does not exist, it is ignored" (rejected with the reason, counted); orderCancelled the same
    (the document is silent: as orderDelivered)."""
    events = [order("orderUpdated", "u1"), order("orderDelivered", "none"), order("orderCancelled", "none2")]
    report = imported(store, tmp_path, *events)
    assert (report["valid"], report["rejected"], report["unknown_order_events"]) == (1, 2, 2)
    assert [text for _, _, text in rejects(store)] == [
        "externalOrderId: the store holds no order none and the import makes none: the event is ignored",
        "externalOrderId: the store holds no order none2 and the import makes none: the event is ignored",
    ]
    assert rows_of(store, "SELECT order_id, custom_fields->>'$.order_status' AS status FROM orders") == [
        {"order_id": "u1", "status": "placed"}]  # fmt: skip


def test_the_default_identifier_parameters_are_named_in_any_case(store, tmp_path):
    """ "the system searches for the following parameters excluding the register: ContactId, Contact_id, Email,
    EmailAddress, UserEmail, ContactEmail, Phone, SMS, PhoneNumber, PushToken, ContactKey, Contact_key"."""
    names = {"CONTACTID": ("esputnik_contact_id", "C1"), "contact_ID": ("esputnik_contact_id", "C2"),
             "eMail": ("email", "a1@example.com"), "EMAILADDRESS": ("email", "a2@example.com"),
             "useremail": ("email", "a3@example.com"), "ContactEMAIL": ("email", "a4@example.com"),
             "PHONE": ("phone", "380500000001"), "sms": ("phone", "380500000002"),
             "phoneNumber": ("phone", "380500000003"), "PUSHTOKEN": ("push_token", "T1"),
             "contactkey": ("contact_key", "K1"), "CONTACT_KEY": ("contact_key", "K2")}  # fmt: skip
    events = [event("pageViewed", (name, value), key="") for name, (_, value) in names.items()]
    report = imported(store, tmp_path, *events)
    assert (report["valid"], report["entities"]["customers"]["added"]) == (12, 12)
    assert ids(store) == sorted(names.values())
    assert rows_of(store, "SELECT user_id_type, user_id FROM events ORDER BY event_id") == [
        {"user_id_type": t, "user_id": v} for t, v in names.values()]  # fmt: skip


def test_values_are_mapped_including_the_register_except_the_email(store, tmp_path):
    """ "All values, except for the email address, are mapped including the register": Key-A and key-a, AV13760
    and av13760 are two contacts each; Ann@Example.com and ann@example.com one."""
    given = [("ContactKey", "Key-A"), ("ContactKey", "key-a"), ("externalCustomerId", "AV13760"),
             ("externalCustomerId", "av13760"), ("Email", "Ann@Example.com"), ("email", "ann@example.com")]  # fmt: skip
    events = [event("x", param, key="") for param in given]
    assert imported(store, tmp_path, *events)["rejected"] == 0
    assert ids(store) == [("contact_key", "Key-A"), ("contact_key", "key-a"), ("email", "ann@example.com"),
                          ("external_id", "AV13760"), ("external_id", "av13760")]  # fmt: skip
    assert rows_of(store, "SELECT count(DISTINCT customer_id) AS n FROM events") == [{"n": 5}]


def test_the_recommendation_parameters(store, tmp_path):
    """The tables of productViewed (productId, quantity, price, isInStock, someProductProperty, currencyCode) and
    cartUpdated (products: productId, quantity, price, name, category, discount; recycleStateId, currencyCode)."""
    product = '{"productId":"P-1","quantity":2,"price":4.5,"isInStock":0,"someProductProperty":["red","big"]}'
    products = '[{"productId":"P-2","quantity":1.5,"price":3,"name":"Mug","category":"Mugs","discount":"0.5"}]'
    events = [
        event("productViewed", ("email", "ann@example.com"), ("product", product), ("currencyCode", "EUR")),
        event("cartUpdated", ("email", "ann@example.com"), ("products", products), ("recycleStateId", "r-9")),
        event("cartUpdated", ("email", "ann@example.com"), ("recycleStateId", "r-10")),
    ]  # an empty cart
    assert imported(store, tmp_path, *events)["rejected"] == 0
    items = rows_of(store, "SELECT product_id, name, category, quantity, price, currency, attributes "
                           "FROM event_items ORDER BY event_id")  # fmt: skip
    assert [{k: v for k, v in i.items() if k != "attributes"} for i in items] == [
        {"product_id": "P-1", "name": None, "category": None, "quantity": 2.0, "price": 4.5, "currency": "EUR"},
        {"product_id": "P-2", "name": "Mug", "category": "Mugs", "quantity": 1.5, "price": 3.0, "currency": None},
    ]  # fmt: skip
    assert json.loads(items[0]["attributes"])["someProductProperty"] == ["red", "big"]
    assert json.loads(items[1]["attributes"])["discount"] == "0.5"
    assert rows_of(store, "SELECT properties->>'$.params.recycleStateId' AS cart FROM events ORDER BY event_id") == [
        {"cart": None}, {"cart": "r-9"}, {"cart": "r-10"}]  # fmt: skip
