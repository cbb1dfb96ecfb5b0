"""Deleting events by time range and restoring them (issue 19, item 2), and the export as eSputnik's past
events that imports back into the same events (item 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from etl.entities.events import deletes as event_deletes
from etl.errors import EtlError
from etl.ops import export_esputnik
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from etl.store.connection import connect
from tests.conftest import rows_of

ALL_EVENTS = ("SELECT event_id, event_type, order_id, customer_id, occurred_at, format, user_id_type, user_id, "
              "properties FROM events ORDER BY event_id")  # fmt: skip
SAME_EVENTS = "SELECT event_type, occurred_at, user_id_type, user_id, properties, event_key FROM events ORDER BY 1, 2"
SAME_LINES = "SELECT order_id, line_no, product_id, quantity, total, status FROM line_items ORDER BY 1, 2"


def event(kind: str, email: str, occurred: str, *params: tuple[str, object]) -> dict:
    return {"eventTypeKey": kind, "keyValue": email, "occurred": occurred,
            "params": [{"name": "email", "value": email}] + [{"name": n, "value": v} for n, v in params]}  # fmt: skip


HISTORY = [
    event("pageViewed", "ann@example.com", "2019-06-03T23:59", ("page", '{"location":"https://a"}')),
    event("pageViewed", "ann@example.com", "2019-06-04"),
    event("cartUpdated", "bob@example.com", "2019-12-31T10:00", ("products", '[{"productId":"p1","price":3}]')),
    event("productViewed", "ann@example.com", "2020-01-04T23:59:59.999999", ("product", '{"productId":"p2"}')),
    event("pageViewed", "bob@example.com", "2020-01-05T00:00"),
    event("orderCreated", "ann@example.com", "2019-07-01T12:00", ("externalOrderId", "o1"), ("totalCost", "5"),
          ("status", "INITIALIZED"), ("date", "2019-07-01T12:00:00"), ("currency", "EUR"),
          ("items", [{"externalItemId": "p1", "quantity": 1, "cost": 5}])),
]  # fmt: skip


def imported(store: Path, folder: Path, events: list[dict]) -> dict:
    path = folder / "past.json"
    path.write_text(json.dumps({"events": events}), encoding="utf-8")
    spec = {"format": "esputnik_events", "source": str(path), "options": {"unknown_contacts": "create"}}
    return run_import(validate_spec(spec, "spec"), store)


def test_a_delete_takes_whole_utc_days_at_both_ends_and_a_restore_puts_them_back_exactly(store, tmp_path, query):
    imported(store, tmp_path, HISTORY)
    before = query(ALL_EVENTS)
    items = query("SELECT * FROM event_items ORDER BY event_id, position")
    report = event_deletes.delete(store, "2019-06-04", "2020-01-04")
    # the order's own orderPlace (at the order's date) is an event of the range too
    assert report["deleted"] == {"cartUpdated": 1, "orderCreated": 1, "orderPlace": 1, "pageViewed": 1,
                                 "productViewed": 1}  # fmt: skip
    assert (report["events"], report["event_items"]) == (5, 3)
    left = query("SELECT occurred_at::VARCHAR AS at, event_type FROM events ORDER BY event_id")
    assert left == [{"at": "2019-06-03 23:59:00+00", "event_type": "pageViewed"},
                    {"at": "2020-01-05 00:00:00+00", "event_type": "pageViewed"}]  # fmt: skip
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 1}]  # orders are not events: untouched
    run = query("SELECT format, status, items, report->>'$.deleted.pageViewed' AS views FROM imports "
                "WHERE import_id = $id", {"id": report["import_id"]})  # fmt: skip
    assert run == [{"format": "events delete", "status": "completed", "items": 5, "views": "1"}]
    restored = event_deletes.restore(store, report["import_id"])
    assert (restored["events"], restored["event_items"], restored["already_stored"]) == (5, 3, 0)
    assert query(ALL_EVENTS) == before
    assert query("SELECT * FROM event_items ORDER BY event_id, position") == items
    assert query("SELECT count(*) AS n FROM deleted_events") == [{"n": 0}]
    with pytest.raises(EtlError, match="back already .run 3 restored them"):
        event_deletes.restore(store, report["import_id"])


def test_types_times_and_dry_runs(store, tmp_path, query):
    imported(store, tmp_path, HISTORY)
    dry = event_deletes.delete(store, "2019-01-01", "2020-12-31", ["pageViewed"], dry_run=True)
    assert dry["deleted"] == {"pageViewed": 3} and dry["dry_run"]
    assert query("SELECT count(*) AS n FROM events WHERE event_type = 'pageViewed'") == [{"n": 3}]
    timed = event_deletes.delete(store, "2019-06-03T23:59", "2020-01-04T23:59:59.999999", ["pageViewed", "x"])
    assert timed["deleted"] == {"pageViewed": 2}  # the instants given are included
    with pytest.raises(EtlError, match="--to 2019-01-01 is before --from 2020-01-01"):
        event_deletes.delete(store, "2020-01-01", "2019-01-01")
    with pytest.raises(EtlError, match="--from '04.06.2019': expected a date"):
        event_deletes.delete(store, "04.06.2019", "2020-01-01")
    with pytest.raises(EtlError, match="run 1 is not a completed `etl events delete`"):
        event_deletes.restore(store, 1)


def test_a_restore_follows_people_merged_since_and_skips_events_imported_again(store, tmp_path, query):
    imported(store, tmp_path, HISTORY[:2])
    deleted = event_deletes.delete(store, "2019-06-03", "2019-06-04")
    # the same event imported again, and ann's email joined to another person's external id by a users import
    imported(store, tmp_path, HISTORY[1:2])
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps({"id": "C-1", "mail": "ann@example.com"}) + "\n", encoding="utf-8")
    spec = {"format": "kevel_users", "source": str(users),
            "options": {"ids": {"external_id": "id", "email": "mail"}}}  # fmt: skip
    run_import(validate_spec(spec, "users"), store)
    restored = event_deletes.restore(store, deleted["import_id"])
    assert (restored["events"], restored["already_stored"]) == (1, 1)
    assert query("SELECT count(*) AS events, count(DISTINCT customer_id) AS people FROM events") == [
        {"events": 2, "people": 1}
    ]
    (person,) = query("SELECT customer_id FROM identities WHERE id_value = 'ann@example.com'")
    assert query("SELECT DISTINCT customer_id FROM events") == [person]


def test_new_events_after_a_delete_do_not_take_the_ids_of_deleted_ones(store, tmp_path, query):
    imported(store, tmp_path, HISTORY[:5])
    deleted = event_deletes.delete(store, "2020-01-05", "2020-01-05")  # the event with the highest id
    imported(store, tmp_path, [event("pageViewed", "cy@example.com", "2021-01-01")])
    event_deletes.restore(store, deleted["import_id"])
    assert query("SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events") == [{"n": 6, "ids": 6}]


def test_the_command_prints_the_run_and_its_json(etl, store, tmp_path):
    imported(store, tmp_path, HISTORY)
    shown = etl("events", "delete", "--from", "2019-06-04", "--to", "2020-01-04", "--type", "pageViewed")
    assert shown.code == 0, shown.stderr
    assert "1 events deleted" in shown.stdout and "etl events restore 2" in shown.stdout
    restored = etl("events", "restore", "2", "--json")
    assert json.loads(restored.stdout)["restored"] == {"pageViewed": 1}
    again = etl("events", "restore", "2")
    assert again.code == 1 and "back already" in again.stderr
    assert "Traceback" not in again.stderr


def test_the_export_imports_back_into_the_same_events(store, tmp_path, query):
    history = HISTORY + [event("orderDelivered", "ann@example.com", "2019-07-03T08:00", ("externalOrderId", "o1"))]
    imported(store, tmp_path, history * 3)  # 21 records, 7 events: bodies of 2 in files of 2 bodies
    with connect(store, read_only=True) as con:
        written = export_esputnik.export(con, tmp_path / "out", per_body=2, bodies_per_file=2)
    assert (len(written["files"]), written["bodies"], written["events"]) == (2, 4, 7)
    bodies = [json.loads(line) for f in written["files"] for line in Path(f).read_text().splitlines()]
    assert [len(b["events"]) for b in bodies] == [2, 2, 2, 1]
    again = tmp_path / "again.duckdb"
    for path in written["files"]:
        spec = {"format": "esputnik_events", "source": path, "options": {"unknown_contacts": "create"}}
        assert run_import(validate_spec(spec, "spec"), again)["rejected"] == 0
    # occurred in 003's forms only: as given when it is one, else to the minute (the productViewed's seconds)
    assert written["seconds_dropped"] == 1
    given = [e["occurred"] for b in bodies for e in b["events"]]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?", text) for text in given), given
    assert "2020-01-04T23:59" in given and "2019-06-04" in given
    kept = SAME_EVENTS.replace("ORDER BY", "WHERE event_type <> 'productViewed' ORDER BY")  # no seconds
    assert rows_of(again, kept) == query(kept)
    moved = "SELECT occurred_at::VARCHAR AS at, properties->>'$.occurred' AS given FROM events WHERE event_type = $t"
    assert rows_of(again, moved, {"t": "productViewed"}) == [
        {"at": "2020-01-04 23:59:00+00", "given": "2020-01-04T23:59"}
    ]
    assert query(moved, {"t": "productViewed"}) == [
        {"at": "2020-01-04 23:59:59.999999+00", "given": "2020-01-04T23:59:59.999999"}
    ]
    assert rows_of(again, SAME_LINES) == query(SAME_LINES)
    with connect(store, read_only=True) as con, pytest.raises(EtlError, match="holds an earlier export"):
        export_esputnik.export(con, tmp_path / "out")
