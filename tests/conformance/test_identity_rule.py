"""One rule for the ids of every format (issue 33, deliverable 2; etl/formats/ids.py): emails trimmed and
lowercased; every other id trimmed and kept in its case, as eSputnik's 001 states ("All values, except for the
email address, are mapped including the register"); `fold_id_case: true` lowercases them all.

The same id given identically through every format is one person, ids differing in case are two, and an email in
any case (and with spaces) is one: asserted on what the store holds (identities, customers, orders, events)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import NOT_AN_EMAILS_HASH, kevel_row, rows_of, write_csv
from tests.egoi_server import contact

SALESFORCE_A, SALESFORCE_B = "001A000001abcDE", "001A000001ABCde"  # two people: ids differ in case only
USERS_IDS = {"external_id": "customerNumber", "email": "mail"}


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def imported(store: Path, spec: dict) -> dict:
    report = run_import(validate_spec(spec, "spec"), store)
    assert (report["status"], report["rejected"]) == ("completed", 0), report["issues"]
    return report


def kevel_orders(folder: Path, name: str, rows: list[dict]) -> dict:
    return {"format": "kevel_orders", "source": str(write_csv(folder / f"{name}.csv", rows))}


def users_jsonl(folder: Path, name: str, rows: list[dict], **options) -> dict:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return {"format": "kevel_users", "source": str(path), "options": {"ids": USERS_IDS, **options}}


def users_csv(folder: Path, name: str, rows: list[dict], **options) -> dict:
    return {"format": "kevel_users", "source": str(write_csv(folder / f"{name}.csv", rows)),
            "options": {"ids": USERS_IDS, **options}}  # fmt: skip


def crossengage(folder: Path, name: str, entries: list[dict], **options) -> dict:
    path = folder / f"event_history_{name}.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return {"format": "crossengage_events", "source": str(path), **({"options": options} if options else {})}


def esputnik(folder: Path, name: str, events: list[dict], **options) -> dict:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    return {"format": "esputnik_events", "source": str(path), "options": {"unknown_contacts": "create", **options}}


def es_event(kind: str, **params: str) -> dict:
    return {"eventTypeKey": kind, "params": [{"name": name, "value": value} for name, value in params.items()]}


def shopify(folder: Path, name: str, email: str) -> dict:
    header = [
        "Name",
        "Email",
        "Financial Status",
        "Currency",
        "Subtotal",
        "Shipping",
        "Taxes",
        "Total",
        "Created at",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem fulfillment status",
        "Id",
        "Refunded Amount",
        "Discount Amount",
        "Lineitem discount",
        "Lineitem sku",
    ]
    row = {"Name": "#1001", "Email": email, "Financial Status": "paid", "Currency": "USD", "Subtotal": "10.00",
           "Shipping": "0.00", "Taxes": "0.00", "Total": "10.00", "Created at": "2024-03-09 09:59:00 -0800",
           "Lineitem quantity": "1", "Lineitem name": "Wax", "Lineitem price": "10.00",
           "Lineitem fulfillment status": "fulfilled", "Id": "91001", "Refunded Amount": "0.00",
           "Discount Amount": "0.00", "Lineitem discount": "0.00", "Lineitem sku": "WAX-1"}  # fmt: skip
    return {"format": "shopify_orders", "source": str(write_csv(folder / f"{name}.csv", [row], header))}


def people(store: Path) -> list[dict]:
    """Each customer: its ids (type:value, sorted; an email's own hash left out), its orders and its events
    (type, and the id it names), its attributes."""
    found = rows_of(
        store,
        f"""
        SELECT list_sort(list(i.id_type || ':' || i.id_value)) AS ids,
               (SELECT list_sort(list(o.order_id)) FROM orders AS o WHERE o.customer_id = c.customer_id) AS orders,
               (SELECT list_sort(list(e.event_type || ' ' || e.user_id_type || ':' || e.user_id)) FROM events AS e
                WHERE e.customer_id = c.customer_id AND e.order_id IS NULL) AS events,
               any_value(c.attributes) AS attributes
        FROM customers AS c JOIN identities AS i USING (customer_id)
        WHERE {NOT_AN_EMAILS_HASH}
        GROUP BY c.customer_id ORDER BY ids
        """,  # noqa: S608 (NOT_AN_EMAILS_HASH: a constant)
    )
    return [{**r, "attributes": json.loads(r["attributes"]), "orders": r["orders"] or [], "events": r["events"] or []}
            for r in found]  # fmt: skip


def test_the_same_ids_given_identically_and_an_email_in_any_case_are_one_person_in_every_format(
    store, tmp_path, egoi_api, monkeypatch
):
    digest = sha("ann@example.com")
    imported(store, kevel_orders(tmp_path, "orders", [
        kevel_row("k1", userIdType="external_id", userId="Cust-42"), kevel_row("k2", userId=" ANN@Example.com "),
        kevel_row("k3", userIdType="email_sha256", userId=digest.upper()),  # hex: its case means nothing
    ]))  # fmt: skip
    imported(
        store, users_jsonl(tmp_path, "users", [{"customerNumber": "Cust-42", "mail": "Ann@EXAMPLE.com\t", "a": 1}])
    )
    imported(
        store, users_csv(tmp_path, "users", [{"customerNumber": " Cust-42", "mail": "  ann@example.COM", "b": "2"}])
    )
    imported(store, shopify(tmp_path, "shopify", " Ann@Example.Com"))
    imported(
        store,
        crossengage(
            tmp_path,
            "1",
            [
                {"event": "viewed", "id": "Cust-42"},
                {"event": "liked", "email": "ANN@example.com ", "businessUnit": "s"},
            ],
        ),
    )
    imported(store, esputnik(tmp_path, "es", [es_event("paid", externalCustomerId="Cust-42"),
                                              {"eventTypeKey": "seen", "keyValue": " Ann@Example.com"},
                                              es_event("saved", Email="ann@EXAMPLE.com ")]))  # fmt: skip
    egoi_api.lists[321] = [contact("c1", " ANN@example.com")]
    monkeypatch.setenv("EGOI_API_KEY", egoi_api.key())
    imported(store, {"format": "egoi_contacts", "source": egoi_api.base_url, "options": {"list_id": 321},
                     "connection": {"api_key": "${EGOI_API_KEY}"}})  # fmt: skip

    [person] = people(store)
    assert person["ids"] == ["egoi_contact_id:c1", "email:ann@example.com", "external_id:Cust-42"]
    assert person["orders"] == ["#1001", "k1", "k2", "k3"]
    assert person["events"] == [
        "liked email:ann@example.com", "paid external_id:Cust-42", "saved email:ann@example.com",
        "seen email:ann@example.com", "viewed external_id:Cust-42",
    ]  # fmt: skip
    assert person["attributes"]["a"] == 1 and person["attributes"]["b"] == "2"
    hashes = rows_of(store, "SELECT id_value FROM identities WHERE id_type = 'email_sha256'")
    assert hashes == [{"id_value": digest}]


def test_ids_differing_in_case_are_two_people_in_every_format(store, tmp_path):
    imported(store, users_jsonl(tmp_path, "users", [{"customerNumber": SALESFORCE_A, "name": "Ann"},
                                                    {"customerNumber": SALESFORCE_B, "name": "Bob"}]))  # fmt: skip
    imported(store, users_csv(tmp_path, "users", [{"customerNumber": SALESFORCE_A, "mail": "", "city": "Kyiv"}]))
    imported(
        store,
        kevel_orders(
            tmp_path,
            "orders",
            [
                kevel_row("o-a", userIdType="external_id", userId=SALESFORCE_A),
                kevel_row("o-b", userIdType="external_id", userId=SALESFORCE_B),
            ],
        ),
    )
    imported(store, crossengage(tmp_path, "1", [{"event": "viewed", "id": SALESFORCE_B}]))
    imported(store, esputnik(tmp_path, "es", [es_event("paid", externalCustomerId=f" {SALESFORCE_A} ")]))

    assert people(store) == [
        {"ids": [f"external_id:{SALESFORCE_B}"], "orders": ["o-b"], "events": [f"viewed external_id:{SALESFORCE_B}"],
         "attributes": {"name": "Bob"}},
        {"ids": [f"external_id:{SALESFORCE_A}"], "orders": ["o-a"], "events": [f"paid external_id:{SALESFORCE_A}"],
         "attributes": {"name": "Ann", "city": "Kyiv"}},
    ]  # fmt: skip


def test_other_id_types_keep_their_case_and_are_trimmed(store, tmp_path):
    spec = users_csv(tmp_path, "users", [{"card": " L-9 ", "tel": " +380 44 000 0000 "}, {"card": "l-9", "tel": ""}])
    spec["options"] = {"ids": {"loyalty_card": "card", "phone": "tel"}}
    imported(store, spec)
    assert people(store) == [
        {"ids": ["loyalty_card:L-9", "phone:+380 44 000 0000"], "orders": [], "events": [], "attributes": {}},
        {"ids": ["loyalty_card:l-9"], "orders": [], "events": [], "attributes": {}},
    ]


def test_fold_id_case_lowercases_every_id_of_a_source_that_folds_case(store, tmp_path):
    imported(store, users_jsonl(tmp_path, "users", [{"customerNumber": "Cust-42", "a": 1}], fold_id_case=True))
    orders = kevel_orders(tmp_path, "orders", [kevel_row("k1", userIdType="external_id", userId=" CUST-42")])
    imported(store, {**orders, "options": {"fold_id_case": True}})
    imported(store, crossengage(tmp_path, "1", [{"event": "viewed", "id": "CUST-42"}], fold_id_case=True))
    imported(store, esputnik(tmp_path, "es", [es_event("paid", externalCustomerId="CuSt-42")], fold_id_case=True))
    [person] = people(store)
    assert person["ids"] == ["external_id:cust-42"]
    assert person["orders"] == ["k1"]
    assert person["events"] == ["paid external_id:cust-42", "viewed external_id:cust-42"]
