"""Conformance to specification 000 (CrossEngage, "Import Events"): its example imported verbatim, and each rule
with what the store holds afterwards. The table: docs/conformance/000.md."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from conftest import rows_of

from etl.errors import EtlError
from etl.ops.inbox import run_inbox
from etl.pipeline.importer import run_import
from etl.spec import validate_spec

# "Event Feed Example", as printed (its missing comma and its businessUnit given twice included)
EXAMPLE = """[
  {
    "event": "Changed Order Status",
    "orderId": "0006000384",
    "timestamp": "2018-05-22T22:00:00Z",
    "businessUnit": "DE",
    "orderType": "Click & Reserve Order",
    "numberOfUniqueItems": 1,
    "numberOfItems": 2,
    "total": 7.98,
    "discount": 0,
    "shipping": 0,
    "id": "e6bce5b3816eedd2cdd397256d6cee29d5b142ae821470c3b6883ee4b15f9499",
    "email":"example@example.com",
    "businessUnit":"crossengage"
    "cart": {
      "currency": "EUR",
      "total": 7.98,
      "products": [
        {
          "sku": "AMA0159270DE",
          "currency": "EUR",
          "quantity": 2,
          "price": 3.99,
          "name": "Ribbon Lace, B:2,5cm x L:3m, white",
          "category": "Decorative Bands",
          "id": "AMA0159270DE"
        }
      ]
    }
  }
]
"""
WITH_COMMA = EXAMPLE.replace('"businessUnit":"crossengage"\n', '"businessUnit":"crossengage",\n')
# the key given twice resolved as the example pairs it: email with businessUnit "crossengage" (also what a
# last-wins parser, JavaScript's JSON.parse, would take); "DE" dropped
REPAIRED = WITH_COMMA.replace('    "businessUnit": "DE",\n', "")
CRM_ID = "e6bce5b3816eedd2cdd397256d6cee29d5b142ae821470c3b6883ee4b15f9499"
NAME = "event_history_20191118170500.json"  # the spec's own example name


def spec(source: Path | str, **keys) -> object:
    return validate_spec({"format": "crossengage_events", "source": str(source), **keys}, "spec")


def feed(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return path


def people(store: Path) -> list[list[str]]:
    """Each customer's ids (not the email's sha256 the graph keeps beside each email: tests/test_identity.py)."""
    rows = rows_of(store, "SELECT list(id_type || ':' || id_value ORDER BY id_type) AS ids FROM identities "
                          "WHERE id_type <> 'email_sha256' GROUP BY customer_id ORDER BY customer_id")  # fmt: skip
    return [r["ids"] for r in rows]


def reasons(store: Path) -> list[tuple[int, list[tuple[str, str]]]]:
    rows = rows_of(store, "SELECT line, reasons FROM rejects ORDER BY import_id, line")
    return [(r["line"], [(x["column"], x["hint"]) for x in r["reasons"]]) for r in rows]


# --- Event Feed Example ------------------------------------------------------------------------------------------


def test_the_example_verbatim_fails_at_its_missing_comma(tmp_path, store):
    source = tmp_path / NAME
    source.write_text(EXAMPLE, encoding="utf-8")
    with pytest.raises(EtlError, match=rf"{NAME}: line 16, column 5: Expecting ',' delimiter"):
        run_import(spec(source), store)
    assert rows_of(store, "SELECT status FROM imports") == [{"status": "failed"}]
    assert rows_of(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_the_example_with_its_comma_is_rejected_for_the_key_given_twice_naming_it(tmp_path, store):
    source = tmp_path / NAME
    source.write_text(WITH_COMMA, encoding="utf-8")
    result = run_import(spec(source), store)
    assert (result["items"], result["valid"], result["rejected"]) == (1, 0, 1)
    assert reasons(store) == [(2, [("(line)", 'a key is given twice in one object: "businessUnit" (which value was '
                                              "meant is ambiguous)")])]  # fmt: skip
    assert rows_of(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]
    assert rows_of(store, "SELECT count(*) AS n FROM customers") == [{"n": 0}]


def test_the_repaired_example_stores_exactly_the_event_its_items_and_its_person(tmp_path, store):
    source = tmp_path / NAME
    source.write_text(REPAIRED, encoding="utf-8")
    result = run_import(spec(source), store)

    assert (result["items"], result["valid"], result["rejected"]) == (1, 1, 0)
    (event,) = rows_of(store, "SELECT event_id, event_type, occurred_at::VARCHAR AS at, business_unit, user_id_type, "
                              "user_id, order_id, format, properties, customer_id FROM events")  # fmt: skip
    assert {k: v for k, v in event.items() if k not in ("properties", "event_id", "customer_id")} == {
        "event_type": "Changed Order Status", "at": "2018-05-22 22:00:00+00", "business_unit": "crossengage",
        "user_id_type": "external_id", "user_id": CRM_ID, "order_id": None, "format": "crossengage_events",
    }  # fmt: skip
    assert json.loads(event["properties"]) == json.loads(REPAIRED)[0]  # orderId, orderType, totals, as given
    assert json.loads(event["properties"])["orderId"] == "0006000384"  # the leading zeros of a text kept
    items = rows_of(store, "SELECT event_id, position, product_id, sku, name, category, quantity, price, currency, "
                           "attributes FROM event_items")  # fmt: skip
    assert [{k: v for k, v in i.items() if k != "attributes"} for i in items] == [
        {"event_id": event["event_id"], "position": 1, "product_id": "AMA0159270DE", "sku": "AMA0159270DE",
         "name": "Ribbon Lace, B:2,5cm x L:3m, white", "category": "Decorative Bands", "quantity": 2.0,
         "price": 3.99, "currency": "EUR"},
    ]  # fmt: skip
    assert json.loads(items[0]["attributes"]) == json.loads(REPAIRED)[0]["cart"]["products"][0]
    assert people(store) == [["email:example@example.com", f"external_id:{CRM_ID}"]]
    assert rows_of(store, "SELECT DISTINCT customer_id FROM identities") == [{"customer_id": event["customer_id"]}]
    assert rows_of(store, "SELECT count(*) AS n FROM orders") == [{"n": 0}]  # an event about an order, not one


# --- Data File: "The only technical mandatory fields are the event and the id" ----------------------------------


def test_event_and_id_alone_are_an_event_and_a_record_missing_either_is_rejected(tmp_path, store):
    result = run_import(spec(feed(tmp_path / NAME, [
        {"event": "Subscribed Newsletter", "id": "crm-1"},
        {"id": "crm-2", "timestamp": "2024-01-01T00:00:00Z"},
        {"event": "Subscribed Newsletter", "timestamp": "2024-01-01T00:00:00Z"},
        {"event": "", "id": "crm-3"},
    ])), store)  # fmt: skip

    assert (result["valid"], result["rejected"], result["events_without_time"]) == (1, 3, 1)
    (started,) = rows_of(store, "SELECT started_at FROM imports")
    assert rows_of(store, "SELECT event_type, user_id, occurred_at FROM events") == [
        {"event_type": "Subscribed Newsletter", "user_id": "crm-1", "occurred_at": started["started_at"]}
    ]  # no timestamp: the import's start
    assert [(line, [column for column, _ in why]) for line, why in reasons(store)] == [
        (6, ["event"]), (10, ["(identity)"]), (14, ["event"]),
    ]  # fmt: skip
    assert people(store) == [["external_id:crm-1"]]


# --- "The combination of email and businessUnit ... can be used instead or additionally to the external Id" -----


def test_email_and_business_unit_instead_of_the_id_is_a_lead_and_with_it_one_person(tmp_path, store):
    result = run_import(spec(feed(tmp_path / NAME, [
        {"event": "Subscribed Newsletter", "email": " Lead@Example.com ", "businessUnit": "DE",
         "timestamp": "2024-01-01T00:00:00Z"},
        {"event": "productViewed", "id": "crm-9", "email": "both@example.com", "businessUnit": "AT",
         "timestamp": "2024-01-02"},
        {"event": "productViewed", "email": "nounit@example.com", "timestamp": "2024-01-03T00:00:00Z"},
    ])), store)  # fmt: skip

    assert (result["valid"], result["rejected"], result["leads_added"]) == (2, 1, 1)
    assert rows_of(store, "SELECT event_type, business_unit, user_id_type, user_id, occurred_at::VARCHAR AS at "
                          "FROM events ORDER BY event_id") == [  # fmt: skip
        {"event_type": "Subscribed Newsletter", "business_unit": "DE", "user_id_type": "email",
         "user_id": "lead@example.com", "at": "2024-01-01 00:00:00+00"},
        {"event_type": "productViewed", "business_unit": "AT", "user_id_type": "external_id", "user_id": "crm-9",
         "at": "2024-01-02 00:00:00+00"},
    ]  # fmt: skip
    assert people(store) == [["email:lead@example.com"], ["email:both@example.com", "external_id:crm-9"]]
    assert reasons(store)[0][1][0][0] == "businessUnit"  # an email alone is not CrossEngage's identifier


def test_an_email_is_one_person_across_business_units(tmp_path, store):
    """A deliberate deviation: CrossEngage keeps a lead per email and businessUnit; the store keeps one person per
    email (every other format knows an email alone) and each event's unit, for segments that need it."""
    run_import(spec(feed(tmp_path / NAME, [
        {"event": "a", "email": "ann@example.com", "businessUnit": "DE", "timestamp": "2024-01-01T00:00:00Z"},
        {"event": "b", "email": "ann@example.com", "businessUnit": "AT", "timestamp": "2024-01-01T00:00:00Z"},
    ])), store)  # fmt: skip
    assert people(store) == [["email:ann@example.com"]]
    assert rows_of(store, "SELECT business_unit, customer_id FROM events ORDER BY 1") == [
        {"business_unit": "AT", "customer_id": 1}, {"business_unit": "DE", "customer_id": 1},
    ]  # fmt: skip


# --- "the user feed import needs to run first before any event- or orderfeed" ------------------------------------


@pytest.mark.parametrize("first", ["events", "users"])
def test_the_user_feed_may_come_before_or_after_the_events(tmp_path, store, first):
    """Our choice: the identity graph joins a lead to its user whatever came first (no new user is made)."""
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps({"customerNumber": "CRM-1", "mail": "ann@example.com"}) + "\n")
    users_spec = validate_spec({"format": "kevel_users", "source": str(users), "options": {
        "id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}}, "spec")  # fmt: skip
    events = spec(feed(tmp_path / NAME, [
        {"event": "Subscribed Newsletter", "email": "ann@example.com", "businessUnit": "DE",
         "timestamp": "2024-01-01T00:00:00Z"},
        {"event": "productViewed", "id": "CRM-1", "timestamp": "2024-01-02T00:00:00Z"},
    ]))  # fmt: skip
    for one in (events, users_spec) if first == "events" else (users_spec, events):
        run_import(one, store)

    assert people(store) == [["email:ann@example.com", "external_id:CRM-1"]]
    assert rows_of(store, "SELECT count(*) AS events, count(DISTINCT customer_id) AS people, "
                          "bool_and(customer_id = (SELECT customer_id FROM identities WHERE id_type = 'external_id'))"
                          " AS theirs FROM events") == [{"events": 2, "people": 1, "theirs": True}]  # fmt: skip


# --- "Please ensure that the data ... is consistent with the data you are sending with the Web Tracking" --------


def test_data_types_numbers_as_ids_are_their_text_and_properties_keep_their_types(tmp_path, store):
    result = run_import(spec(feed(tmp_path / NAME, [
        {"event": "a", "id": 42, "timestamp": "2024-01-01T00:00:00Z", "total": 7.98, "flag": True, "n": None},
        {"event": "b", "id": "42", "timestamp": "2024-01-01T00:00:00+02:00", "total": "7.98"},
        {"event": "c", "id": "42", "timestamp": 1704067200},
        {"event": ["x"], "id": "42"},
    ])), store)  # fmt: skip

    assert (result["valid"], result["rejected"]) == (2, 2)
    assert people(store) == [["external_id:42"]]  # 42 and "42": one person
    rows = rows_of(store, "SELECT event_type, occurred_at::VARCHAR AS at, properties FROM events ORDER BY 1")
    assert [(r["event_type"], r["at"], json.loads(r["properties"])["total"]) for r in rows] == [
        ("a", "2024-01-01 00:00:00+00", 7.98), ("b", "2023-12-31 22:00:00+00", "7.98"),
    ]  # fmt: skip
    assert json.loads(rows[0]["properties"])["flag"] is True
    assert reasons(store) == [
        (16, [("timestamp", "not an ISO 8601 time or date (e.g. 2018-05-22T22:00:00Z)")]),
        (21, [("(record)", "a list or an object, expected a text: event")]),
    ]


# --- Naming Convention and the zip rules (the inbox) -------------------------------------------------------------


def inbox_spec(folder: Path) -> object:
    return spec(folder, inbox={"naming": "event_history"})


def zipped(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def outcomes(found) -> list[tuple[str, str, bool]]:
    return [(Path(o.uri).name, o.status, o.moved_to is not None) for o in found]


def test_the_naming_convention_gives_the_files_time_and_another_name_is_left_unread(tmp_path, store):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    feed(inbox / "event_history_20191118170500.json", [{"event": "a", "id": "crm-1"}])
    feed(inbox / "events.json", [{"event": "b", "id": "crm-2"}])  # not the convention
    feed(inbox / "event_history_20191318170500.json", [{"event": "c", "id": "crm-3"}])  # month 13

    found = run_inbox(str(inbox), inbox_spec(inbox), store)

    assert outcomes(found) == [
        ("event_history_20191118170500.json", "imported", True),
        ("event_history_20191318170500.json", "failed", False),
        ("events.json", "failed", False),
    ]
    assert "not named event_history_YYYYMMDDHHMMSS.json (UTC)" in found[2].detail
    assert rows_of(store, "SELECT event_type FROM events") == [{"event_type": "a"}]
    assert rows_of(store, "SELECT report->>'$.file_timestamp' AS t FROM imports") == [{"t": "2019-11-18T17:05:00Z"}]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [
        "event_history_20191318170500.json", "events.json"]  # fmt: skip


def test_a_zip_named_as_its_one_file_is_imported_and_moved(tmp_path, store):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    zipped(inbox / f"{NAME}.zip", {NAME: json.dumps([{"event": "a", "id": "crm-1"}])})

    assert outcomes(run_inbox(str(inbox), inbox_spec(inbox), store)) == [(f"{NAME}.zip", "imported", True)]
    assert (inbox / "processed" / f"{NAME}.zip").exists()
    assert rows_of(store, "SELECT status FROM imports") == [{"status": "completed"}]
    assert rows_of(store, "SELECT event_type, user_id FROM events") == [{"event_type": "a", "user_id": "crm-1"}]


def test_a_zip_whose_file_is_named_otherwise_is_imported_marked_failed_and_never_moved(tmp_path, store):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    zipped(inbox / f"{NAME}.zip", {"events.json": json.dumps([{"event": "a", "id": "crm-1"}])})

    first = run_inbox(str(inbox), inbox_spec(inbox), store)
    again = run_inbox(str(inbox), inbox_spec(inbox), store)

    assert outcomes(first) == outcomes(again) == [(f"{NAME}.zip", "failed", False)]
    assert (first[0].import_id, again[0].import_id) == (1, 1)
    assert rows_of(store, "SELECT import_id, status FROM imports") == [{"import_id": 1, "status": "marked_failed"}]
    assert rows_of(store, "SELECT event_type, user_id FROM events") == [{"event_type": "a", "user_id": "crm-1"}]
    assert [p.name for p in inbox.iterdir()] == [f"{NAME}.zip"]


def test_a_zip_holding_two_files_fails_unstored_and_stays(tmp_path, store):
    """A deliberate deviation: CrossEngage imports it and marks it failed; which of two files is the feed cannot
    be told, so the file is refused (nothing stored), reported failed and not moved, as CrossEngage leaves it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    text = json.dumps([{"event": "a", "id": "crm-1"}])
    zipped(inbox / f"{NAME}.zip", {NAME: text, "event_history_20191118170501.json": text})

    (found,) = run_inbox(str(inbox), inbox_spec(inbox), store)

    assert (found.status, found.moved_to) == ("failed", None)
    assert "a zip archive must hold exactly one file; it holds 2" in found.detail
    assert rows_of(store, "SELECT status FROM imports") == [{"status": "failed"}]
    assert rows_of(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]
    assert [p.name for p in inbox.iterdir()] == [f"{NAME}.zip"]
