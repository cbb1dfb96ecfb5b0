"""Conformance to specification 003 (eSputnik, "Імпорт подій за минулими замовленнями": Generate past events and
Remove events): its past-events body imported verbatim, its city and country parameters, the forms of `occurred`,
and its DELETE range through `etl events delete`, each with what the store holds afterwards. The table:
docs/conformance/003.md."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import rows_of

from etl.formats.esputnik_events import OCCURRED_HINT
from etl.ops import export_esputnik
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from etl.store.connection import connect

# The document's examples, as printed (tabs included). Its DELETE body is indented with EM SPACE (U+2003), which
# JSON does not take as whitespace: it is not imported but given to `etl events delete` (see the test).
PAST_EVENTS = """{
	"events": [{
			"eventTypeKey": "orderCreated",
			"keyValue": "John@yourcompany.com",
			"params": [{
				"name": "email",
				"value": "John@yourcompany.com"
			}, {
				"name": "externalOrderId",
				"value": "9239234234234"
			}, {
				"name": "externalCustomerId",
				"value": "d8b6a037-4b6d-11eb-a2f0-0050569b2dc99902"
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
				"name": "currency",
				"value": "UAH"
			}, {
				"name": "items",
				"value": [{
					"externalItemId": "200600",
					"name": "Super Device",
					"category": "devices",
					"quantity": 1,
					"cost": 990,
					"url": "http://example.com/item/200600",
					"imageUrl": "http://example.com/item/200600/image.png",
					"description": "High quality"
				}]
			}],
			"occurred": "2023-03-22T14:30"
		},

		{
			"eventTypeKey": "orderCreated",
			"keyValue": "Hanna@yourcompany.com",
			"params": [{
				"name": "email",
				"value": "Hanna@yourcompany.com"
			}, {
				"name": "externalOrderId",
				"value": "9239234235555"
			}, {
				"name": "externalCustomerId",
				"value": "d8b6a578-4b6d-11eb-a2f0-0050569b2dc99902"
			}, {
				"name": "totalCost",
				"value": "546.0"
			}, {
				"name": "status",
				"value": "INITIALIZED"
			}, {
				"name": "date",
				"value": "2020-05-14T11:11:00"
			}, {
				"name": "currency",
				"value": "UAH"
			}, {
				"name": "items",
				"value": [{
					"externalItemId": "200601",
					"name": "New Device",
					"category": "devices",
					"quantity": 1,
					"cost": 990,
					"url": "http://example.com/item/200601",
					"imageUrl": "http://example.com/item/200601/image.png",
					"description": "High quality"
				}]
			}],
			"occurred": "2023-03-22T15:30"
		}
	]
}"""
GEO_PARAMS = """{
	"name": "city",
	"value": "Los Angeles"
}, {
	"name": "country",
	"value": "USA"
}"""
DELETE_RANGE = '{\n\u2003"from" : "2019-06-04",\n\u2003"to" : "2020-01-04"\n}'


def imported(store: Path, folder: Path, text: str, name: str = "past.json", **options) -> dict:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    spec = {"format": "esputnik_events", "source": str(path), "options": {"unknown_contacts": "create", **options}}
    return run_import(validate_spec(spec, "spec"), store)


def body(*events: dict) -> str:
    return json.dumps({"events": list(events)}, indent=1)


def event(kind: str = "pageViewed", occurred: str | None = "2023-03-22", **params: object) -> dict:
    given = {"email": "ann@example.com", **params}
    out = {"eventTypeKey": kind, "keyValue": "ann@example.com",
           "params": [{"name": k, "value": v} for k, v in given.items()]}  # fmt: skip
    return out | ({"occurred": occurred} if occurred is not None else {})


def rejects(store: Path) -> list[tuple[int, str]]:
    rows = rows_of(store, "SELECT record, reasons FROM rejects WHERE import_id = (SELECT max(import_id) FROM "
                          "imports) ORDER BY record")  # fmt: skip
    return [(r["record"], "; ".join(f"{x['column']}: {x['hint']}" for x in r["reasons"])) for r in rows]


def test_example_past_events_two_orders(store, tmp_path):
    """The body verbatim: "import the contacts first" (by default its unknown contacts are rejected); with them,
    two orders, their lines, their events at their `occurred`, and their people; the export gives the same body."""
    refused = imported(store, tmp_path, PAST_EVENTS, unknown_contacts="reject")
    assert (refused["items"], refused["rejected"], refused["unknown_contacts"]) == (2, 2, 2)
    assert rows_of(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]
    report = imported(store, tmp_path, PAST_EVENTS)
    assert (report["items"], report["valid"], report["rejected"]) == (2, 2, 0)
    assert rows_of(store, "SELECT order_id, user_id_type, user_id, currency, total, created_at::VARCHAR AS created "
                          "FROM orders ORDER BY 1") == [  # fmt: skip
        {"order_id": "9239234234234", "user_id_type": "email", "user_id": "john@yourcompany.com", "currency": "UAH",
         "total": 258.0, "created": "2020-05-14 10:11:00+00"},
        {"order_id": "9239234235555", "user_id_type": "email", "user_id": "hanna@yourcompany.com",
         "currency": "UAH", "total": 546.0, "created": "2020-05-14 11:11:00+00"},
    ]  # fmt: skip
    assert rows_of(store, "SELECT order_id, product_id, name, quantity, total, status, custom_fields->>'$.image_url' "
                          "AS image FROM line_items ORDER BY 1") == [  # fmt: skip
        {"order_id": "9239234234234", "product_id": "200600", "name": "Super Device", "quantity": 1.0,
         "total": 990.0, "status": "placed", "image": "http://example.com/item/200600/image.png"},
        {"order_id": "9239234235555", "product_id": "200601", "name": "New Device", "quantity": 1.0,
         "total": 990.0, "status": "placed", "image": "http://example.com/item/200601/image.png"},
    ]  # fmt: skip
    assert rows_of(store, "SELECT event_type, occurred_at::VARCHAR AS at, user_id FROM events WHERE properties IS "
                          "NOT NULL ORDER BY event_id") == [  # fmt: skip
        {"event_type": "orderCreated", "at": "2023-03-22 14:30:00+00", "user_id": "john@yourcompany.com"},
        {"event_type": "orderCreated", "at": "2023-03-22 15:30:00+00", "user_id": "hanna@yourcompany.com"},
    ]  # fmt: skip
    people = rows_of(store, "SELECT customer_id, list(id_type || ' ' || id_value ORDER BY id_type) AS ids FROM "
                            "identities WHERE id_type <> 'email_sha256' GROUP BY 1 ORDER BY 1")  # fmt: skip
    assert [p["ids"] for p in people] == [
        ["email john@yourcompany.com", "external_id d8b6a037-4b6d-11eb-a2f0-0050569b2dc99902"],
        ["email hanna@yourcompany.com", "external_id d8b6a578-4b6d-11eb-a2f0-0050569b2dc99902"],
    ]
    with connect(store, read_only=True) as con:
        written = export_esputnik.export(con, tmp_path / "out")
    (line,) = Path(written["files"][0]).read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == json.loads(PAST_EVENTS)  # as eSputnik would take it back


def test_city_and_country_are_parameters_to_segment_on(store, tmp_path):
    """ "to segment by geodata, pass the buyer's country and city": the document's two parameters, verbatim,
    among an event's parameters; stored in its properties."""
    text = PAST_EVENTS.replace(
        '"name": "currency",\n\t\t\t\t"value": "UAH"\n\t\t\t}, {',
        '"name": "currency",\n\t\t\t\t"value": "UAH"\n\t\t\t}, ' + GEO_PARAMS + ", {",
        1,
    )
    assert GEO_PARAMS in text
    assert imported(store, tmp_path, text)["rejected"] == 0
    assert rows_of(store, "SELECT properties->>'$.keyValue' AS who FROM events WHERE "
                          "properties->>'$.params.city' = 'Los Angeles' AND properties->>'$.params.country' = 'USA'"
                          ) == [{"who": "John@yourcompany.com"}]  # fmt: skip


def test_occurred_is_required_in_a_body_in_the_documented_forms(store, tmp_path):
    """ "For each element, a time stamp in the field occurred. The date: YYYY-MM-DD, with time: YYYY-MM-DDTHH:mm";
    what the export writes with seconds is read too; another form, or none, rejects the event."""
    given = ["2023-03-22", "2023-03-22T14:30", "2023-03-22T14:30:15", None, "22.03.2023", "2023-03-22 14:30"]
    report = imported(store, tmp_path, body(*(event(occurred=o, n=i) for i, o in enumerate(given))))
    assert (report["valid"], report["rejected"]) == (3, 3)
    assert rows_of(store, "SELECT occurred_at::VARCHAR AS at FROM events ORDER BY event_id") == [
        {"at": "2023-03-22 00:00:00+00"},
        {"at": "2023-03-22 14:30:00+00"},
        {"at": "2023-03-22 14:30:15+00"},
    ]
    assert rejects(store) == [
        (4, 'occurred: required for a past event (an event of an {"events": [...]} body)'),
        (5, "occurred: " + OCCURRED_HINT), (6, "occurred: " + OCCURRED_HINT)]  # fmt: skip


def test_a_body_may_hold_more_than_a_request_does(store, tmp_path):
    """ "Within one request, an array of up to 500 events": a request's limit; a file is not a request, and a
    body of 501 events is read whole (the export writes bodies of 500)."""
    report = imported(store, tmp_path, body(*(event(n=i) for i in range(501))))
    assert (report["valid"], report["rejected"]) == (501, 0)
    assert rows_of(store, "SELECT count(*) AS n, count(DISTINCT properties->>'$.params.n') AS distinct_n FROM "
                          "events") == [{"n": 501, "distinct_n": 501}]  # fmt: skip


def test_the_delete_range_through_etl_events_delete(etl, store, tmp_path):
    """Remove events {"from": "2019-06-04", "to": "2020-01-04"}: `etl events delete --from --to` with the
    document's dates; both days included whole (docs: the range as a user reads it). The store's orders stay."""
    assert "\u2003" in DELETE_RANGE  # as printed: not JSON; its values read with the em spaces made spaces
    window = json.loads(DELETE_RANGE.replace("\u2003", " "))
    times = ["2019-06-03T23:59", "2019-06-04", "2019-12-31T10:00", "2020-01-04T23:59", "2020-01-05"]
    events = [event(occurred=t, n=i) for i, t in enumerate(times)]
    events.append(event("orderCreated", occurred="2019-07-01T12:00", externalOrderId="o1", totalCost="5",
                        status="INITIALIZED", date="2019-07-01T12:00", currency="EUR"))  # fmt: skip
    assert imported(store, tmp_path, body(*events))["rejected"] == 0
    ran = etl("events", "delete", "--from", window["from"], "--to", window["to"], "--json")
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["deleted"] == {"orderCreated": 1, "orderPlace": 1, "pageViewed": 3}
    assert rows_of(store, "SELECT occurred_at::VARCHAR AS at FROM events ORDER BY 1") == [
        {"at": "2019-06-03 23:59:00+00"},
        {"at": "2020-01-05 00:00:00+00"},
    ]
    assert rows_of(store, "SELECT order_id FROM orders") == [{"order_id": "o1"}]
