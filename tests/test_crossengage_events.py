"""CrossEngage's event feed into the events entity (issue 18): events and their items, people through the
identity graph whatever the import order, re-imports that add nothing, and bad input with clear messages."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.errors import EtlError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conformance.test_spec000_crossengage import EXAMPLE

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SPEC_EXAMPLE = EXAMPLE  # 000's "Event Feed Example" as printed (tests/conformance/test_spec000_crossengage.py)


@pytest.fixture(params=[True, False], ids=["skip_known", "parse_all"])
def skip_known(request):
    """run_import's use_known: records stored before staged as their hash alone, or every record parsed."""
    return request.param


def feed(path: Path, events: list[dict | str], *, pretty: bool = False) -> Path:
    """A JSON array of the events (a str is written as it is)."""
    texts = [
        e if isinstance(e, str) else json.dumps(e, ensure_ascii=False, indent=2 if pretty else None) for e in events
    ]
    path.write_text("[\n" + ",\n".join(texts) + "\n]\n", encoding="utf-8")
    return path


def import_feed(store: Path, source: Path, fmt: str = "crossengage_events", *, use_known: bool = True, **keys) -> dict:
    return run_import(validate_spec({"format": fmt, "source": str(source), **keys}, "spec"), store, use_known=use_known)


def stored(store: Path, sql: str, params: list | None = None) -> list[dict]:
    with duckdb.connect(str(store), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def events_of(store: Path) -> list[dict]:
    rows = stored(
        store,
        "SELECT event_type, occurred_at::VARCHAR AS occurred_at, customer_id, business_unit, user_id_type, user_id, "
        "properties FROM events WHERE order_id IS NULL ORDER BY event_id",
    )
    return [{**r, "properties": json.loads(r["properties"])} for r in rows]


def rejects(store: Path, import_id: int) -> list[tuple[int, list[tuple[str, str]]]]:
    rows = stored(store, "SELECT line, reasons FROM rejects WHERE import_id = ? ORDER BY line", [import_id])
    return [(r["line"], [(x["column"], x["hint"]) for x in r["reasons"]]) for r in rows]


def test_the_specs_own_example_fails_naming_the_missing_comma(tmp_path, store):
    source = tmp_path / "event_history_20191118170500.json"
    source.write_text(SPEC_EXAMPLE)
    with pytest.raises(
        EtlError, match=r"event_history_20191118170500\.json: line 16, column 5: Expecting ',' delimiter"
    ):
        import_feed(store, source)
    assert stored(store, "SELECT status FROM imports") == [{"status": "failed"}]
    assert stored(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_the_example_with_its_comma_has_a_key_given_twice_and_is_rejected_for_it(tmp_path, store):
    source = tmp_path / "event_history_20191118170500.json"
    source.write_text(SPEC_EXAMPLE.replace('"businessUnit":"crossengage"\n', '"businessUnit":"crossengage",\n'))
    result = import_feed(store, source)
    assert (result["items"], result["valid"], result["rejected"]) == (1, 0, 1)
    assert rejects(store, 1) == [(2, [("(line)", 'a key is given twice in one object: "businessUnit" (which value '
                                                  "was meant is ambiguous)")])]  # fmt: skip


def test_events_their_items_and_people(tmp_path, store, skip_known):
    source = feed(tmp_path / "event_history_20191118170500.json", [
        json.loads(SPEC_EXAMPLE.replace('"businessUnit":"crossengage"\n', '"note": [1, {"x": null}],\n'))[0],
        {"event": "Subscribed Newsletter", "email": " Lead@Example.COM ", "businessUnit": "DE",
         "timestamp": "2018-05-23T10:00:00+02:00", "consent": True, "score": 1.5},
        {"event": "productViewed", "id": "U-7", "timestamp": "2018-05-24T08:00:00",
         "product": {"productId": "P1", "price": "12.5", "name": "Mug"}},
    ], pretty=True)  # fmt: skip
    result = import_feed(store, source, use_known=skip_known)
    assert result["entities"]["events"] == {"added": 3, "unchanged": 0}
    assert result["entities"]["event_items"] == {"added": 2}
    assert result["leads_added"] == 1
    assert [{k: e[k] for k in ("event_type", "occurred_at", "business_unit", "user_id_type", "user_id")}
            for e in events_of(store)] == [
        {"event_type": "Changed Order Status", "occurred_at": "2018-05-22 22:00:00+00", "business_unit": "DE",
         "user_id_type": "external_id", "user_id": "e6bce5b3816eedd2cdd397256d6cee29d5b142ae821470c3b6883ee4b15f9499"},
        {"event_type": "Subscribed Newsletter", "occurred_at": "2018-05-23 08:00:00+00", "business_unit": "DE",
         "user_id_type": "email", "user_id": "lead@example.com"},
        {"event_type": "productViewed", "occurred_at": "2018-05-24 08:00:00+00", "business_unit": None,
         "user_id_type": "external_id", "user_id": "U-7"},  # an id keeps its case (001)
    ]  # fmt: skip
    properties = [e["properties"] for e in events_of(store)]
    assert properties[0]["note"] == [1, {"x": None}] and properties[0]["cart"]["total"] == 7.98
    assert properties[1] == {"event": "Subscribed Newsletter", "email": " Lead@Example.COM ", "businessUnit": "DE",
                             "timestamp": "2018-05-23T10:00:00+02:00", "consent": True, "score": 1.5}  # fmt: skip
    items = stored(store, "SELECT position, product_id, sku, name, category, quantity, price, currency, attributes "
                          "FROM event_items ORDER BY event_id, position")  # fmt: skip
    assert [{k: v for k, v in i.items() if k != "attributes"} for i in items] == [
        {"position": 1, "product_id": "AMA0159270DE", "sku": "AMA0159270DE", "name": "Ribbon Lace, B:2,5cm x L:3m, "
         "white", "category": "Decorative Bands", "quantity": 2.0, "price": 3.99, "currency": "EUR"},
        {"position": 1, "product_id": "P1", "sku": None, "name": "Mug", "category": None, "quantity": None,
         "price": 12.5, "currency": None},
    ]  # fmt: skip
    assert json.loads(items[1]["attributes"]) == {"productId": "P1", "price": "12.5", "name": "Mug"}
    people = stored(store, "SELECT customer_id, list(id_type || ':' || id_value ORDER BY id_type) AS ids "
                           "FROM identities WHERE id_type <> 'email_sha256' "  # the emails' hashes, the graph's own
                           "GROUP BY customer_id ORDER BY customer_id")  # fmt: skip
    assert [p["ids"] for p in people] == [
        ["email:example@example.com", "external_id:e6bce5b3816eedd2cdd397256d6cee29d5b142ae821470c3b6883ee4b15f9499"],
        ["email:lead@example.com"],
        ["external_id:U-7"],
    ]
    assert [e["customer_id"] for e in events_of(store)] == [p["customer_id"] for p in people]


def test_a_reimport_or_the_same_events_written_otherwise_adds_nothing(tmp_path, store, skip_known):
    events = [{"event": "cartUpdated", "id": f"u{i}", "timestamp": "2024-01-02T03:04:05Z",
               "cart": {"products": [{"id": "P1", "quantity": i}]}} for i in range(5)]  # fmt: skip
    first = import_feed(store, feed(tmp_path / "a.json", events), use_known=skip_known)
    again = import_feed(store, feed(tmp_path / "a.json", events), use_known=skip_known)
    pretty = import_feed(store, feed(tmp_path / "b.json", events[::-1], pretty=True), use_known=skip_known)
    assert first["entities"]["events"] == {"added": 5, "unchanged": 0}
    assert again["entities"]["events"] == pretty["entities"]["events"] == {"added": 0, "unchanged": 5}
    assert again.get("known_events", 0) == (5 if skip_known else 0)
    assert stored(store, "SELECT count(*) AS n FROM event_items") == [{"n": 5}]
    twice = import_feed(
        store, feed(tmp_path / "c.json", [events[0], {**events[0], "id": "new"}, events[0]]), use_known=skip_known
    )
    # the first stored before; the third repeats it (or, skipping known records, is known too)
    assert twice["entities"]["events"] == {"added": 1, "unchanged": 2 if skip_known else 1}
    assert twice["repeated_events"] == (0 if skip_known else 1)


def test_leads_join_their_user_whatever_was_imported_first(tmp_path, store):
    """A lead known by email gets its external id from a users import, before or after its events: the same
    person either way, and its events follow it (the spec's warning that the user feed must run first)."""
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps({"customerNumber": "C-1", "mail": "ann@example.com"}) + "\n")
    options = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}
    users_spec = validate_spec({"format": "kevel_users", "source": str(users), "options": options}, "spec")
    events = feed(tmp_path / "e.json", [
        {"event": "Subscribed Newsletter", "email": "ann@example.com", "businessUnit": "DE",
         "timestamp": "2024-01-01T00:00:00Z"},
        {"event": "productViewed", "id": "C-1", "timestamp": "2024-01-02T00:00:00Z"},
    ])  # fmt: skip
    outcomes = []
    for order in ("events first", "users first"):
        here = tmp_path / order.replace(" ", "_") / "cdp.duckdb"
        if order == "events first":
            import_feed(here, events)
        run_import(users_spec, here)
        if order == "users first":
            import_feed(here, events)
        outcomes.append(stored(here, "SELECT count(DISTINCT customer_id) AS people, count(*) AS events, "
                                     "bool_and(customer_id = (SELECT customer_id FROM identities WHERE id_type = "
                                     "'external_id')) AS theirs FROM events"))  # fmt: skip
    assert outcomes == [[{"people": 1, "events": 2, "theirs": True}]] * 2


@pytest.mark.parametrize(
    ("entry", "reasons"),
    [
        ({"id": "u1", "timestamp": "2024-01-01T00:00:00Z"}, [("event", "required value is missing")]),
        (
            {"event": "x", "timestamp": "2024-01-01T00:00:00Z"},
            [("(identity)", "no identity: expected id (the externalId), or email and businessUnit")],
        ),
        (
            {"event": "x", "email": "a@b.co"},
            [
                (
                    "businessUnit",
                    "an email without businessUnit and without id: "
                    "CrossEngage knows a lead by email and businessUnit together",
                )
            ],
        ),
        ({"event": "x", "id": "u1", "email": "not-an-email"}, [("email", "not a valid email")]),
        (
            {"event": "x", "id": "u1", "timestamp": "22.05.2018 10:00"},
            [("timestamp", "not an ISO 8601 time or date (e.g. 2018-05-22T22:00:00Z)")],
        ),
        (
            {"event": "x", "id": "u1", "timestamp": "2024-02-30"},  # a date, but not a day of the calendar
            [("timestamp", "not an ISO 8601 time or date (e.g. 2018-05-22T22:00:00Z)")],
        ),
        ({"event": {"name": "x"}, "id": "u1"}, [("(record)", "a list or an object, expected a text: event")]),
        ([1, 2], [("(line)", "not an object (an array)")]),
    ],
)
def test_bad_entries_are_rejected_with_their_reasons_and_counted(tmp_path, store, entry, reasons):
    good = {"event": "ok", "id": "u0", "timestamp": "2024-01-01T00:00:00Z"}
    result = import_feed(store, feed(tmp_path / "e.json", [good, entry]))
    assert (result["items"], result["valid"], result["rejected"]) == (2, 1, 1)
    assert rejects(store, 1) == [(3, reasons)]


def test_an_iso_date_alone_is_that_days_midnight_utc(tmp_path, store):
    entries = [
        {"event": "x", "id": "u1", "timestamp": "2024-01-01"},
        {"event": "y", "id": "u1", "timestamp": " 2024-12-31 "},
    ]
    result = import_feed(store, feed(tmp_path / "e.json", entries))
    assert (result["valid"], result["rejected"], result["events_without_time"]) == (2, 0, 0)
    assert stored(store, "SELECT event_type, occurred_at::VARCHAR AS t FROM events ORDER BY 1") == [
        {"event_type": "x", "t": "2024-01-01 00:00:00+00"},
        {"event_type": "y", "t": "2024-12-31 00:00:00+00"},
    ]


def test_an_entry_without_time_takes_the_imports_and_is_counted(tmp_path, store):
    result = import_feed(store, feed(tmp_path / "e.json", [{"event": "x", "id": "u1"}]))
    assert result["events_without_time"] == 1
    (started,) = stored(store, "SELECT started_at FROM imports")
    assert stored(store, "SELECT occurred_at FROM events") == [{"occurred_at": started["started_at"]}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[{"event": "a", "id": "u1"},\n {"event": "b", "id": "u\n2"}]',
            "line 2, column 25: a line break inside a string",
        ),
        ('[{"event": "a", "id": "u1"},\n {"event": "b", "id": "u2"}', "line 2, column 28: the file ends inside"),
        ('[{"event": "a", "id": "u1", "n": NaN}]', "line 1, column 34: NaN is not a JSON number"),
        ("[NaN]", "line 1, column 2: NaN is not a JSON number"),  # was an internal error (exit 70)
        ('[{"event": "a", "id": "u1"},\n -Infinity]', "line 2, column 2: -Infinity is not a JSON number"),
        ("[" + '{"a":' * 10_000 + "1" + "}" * 10_000 + "]", "line 1, column 2: nested too deeply"),
    ],
)
def test_malformed_feeds_fail_naming_line_and_column_and_store_nothing(tmp_path, store, text, message):
    source = tmp_path / "e.json"
    source.write_text(text)
    with pytest.raises(EtlError) as caught:
        import_feed(store, source)
    assert message in str(caught.value) and "e.json" in str(caught.value)
    assert stored(store, "SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_a_feed_on_one_long_line(tmp_path, store):
    events = [
        {"event": "pageViewed", "id": f"u{i % 100}", "timestamp": "2024-01-01T00:00:00Z", "n": i} for i in range(20_000)
    ]
    source = tmp_path / "e.json"
    source.write_text(json.dumps(events))  # one line
    assert import_feed(store, source)["entities"]["events"] == {"added": 20_000, "unchanged": 0}


def test_blns_strings_as_property_values_byte_for_byte_through_parquet(tmp_path, store, etl):
    strings = json.loads((SHARED / "blns" / "blns.json").read_text(encoding="utf-8"))
    events = [{"event": "x", "id": "u1", "timestamp": "2024-01-01T00:00:00Z", "n": i, "value": s}
              for i, s in enumerate(strings)]  # fmt: skip
    result = import_feed(store, feed(tmp_path / "e.json", events))
    assert result["rejected"] == 0 and result["entities"]["events"]["added"] == len(strings)
    exported = etl("export", "parquet", str(tmp_path / "out"))
    assert exported.code == 0, exported.stderr
    back = [json.loads(p) for p in pl.read_parquet(tmp_path / "out" / "events.parquet")["properties"].to_list()]
    assert sorted((b["n"], b["value"]) for b in back) == list(enumerate(strings))


def test_the_inbox_takes_an_event_history_zip(tmp_path, etl, query):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    inner = feed(tmp_path / "event_history_20191118170500.json", [{"event": "x", "id": "u1"}])
    with zipfile.ZipFile(inbox / "event_history_20191118170500.json.zip", "w") as archive:
        archive.write(inner, inner.name)
    spec = tmp_path / "spec.yaml"
    spec.write_text("format: crossengage_events\ninbox: {naming: event_history}\n")
    run = etl("inbox", str(inbox), "--spec", str(spec), "--json")
    assert run.code == 0, run.stderr
    assert query("SELECT event_type, user_id FROM events") == [{"event_type": "x", "user_id": "u1"}]
    assert (inbox / "processed" / "event_history_20191118170500.json.zip").exists()
