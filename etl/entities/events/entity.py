"""The events entity: what people did (viewed a product, updated a cart, subscribed ...), one row per event,
with the items an event carries, its person resolved through the identity graph.

Its formats stage one row per event (etl.formats.columns.EVENT_STAGED). entities/events/stage.sql gives each record its
identity (event_key, a hash of its whole content) and tells the new ones from those the store holds or the
import repeats; etl.entities.identity.graph resolves the new ones' ids to people (an unknown person is created: a
lead when known only by email; a later users import or event that links the email to an external id joins them,
and the stored events follow: entities/identity/follow.sql); entities/events/apply.sql stores them and their
items. A record the store applied before (its hash is an event's record_hash) is staged as its hash alone, and
is not parsed again.
Order imports write events too (orderPlace, orderUpdate: etl.entities.orders.entity), into the same table.
"""

from __future__ import annotations

import duckdb

from etl.entities import Run, first_and_last, known_needed, nothing_lost
from etl.entities.events import event_orders
from etl.entities.identity import graph as identity
from etl.formats.columns import EVENT_STAGED
from etl.store.sqlfiles import run_sql

NAME = "events"
STAGING = EVENT_STAGED
STRATEGIES = {"append": ("entities/events/stage", "entities/events/apply")}  # an event is stored once, by its content
TABLES = ("events", "event_items", "customers", "identities", "identity_links", "customer_merges")
DERIVED = ()
# The high halves of the hashes of the records events were stored from: such records are not parsed again
# (etl.pipeline.known); with how many events each has: a record of many events (etl.pipeline.prepared) is known
# when all of them are stored.
KNOWN = """SELECT (record_hash >> 64)::UBIGINT AS hash_hi, count(*)::UBIGINT AS events FROM events
WHERE record_hash IS NOT NULL GROUP BY ALL"""


def store(con: duckdb.DuckDBPyConnection, run: Run) -> dict | None:
    """The staged events stored once each, their people resolved; stg_rejects from the rejected rows. None when
    records staged as known are needed whole (stg_known_needed: the engine stages and stores them again)."""
    id_types = list(run.plans[0].facts.id_types)  # one format, one plan's types for every file
    state = run.state
    with state.timed("stage_events"):
        offsets, total = [], 0
        for file in state.files:  # a file's records are numbered from 0 (_row): the files before it go first
            offsets.append(total)
            total += file.rows + file.blank_rows
        run_sql(con, "entities/events/stage", id_types=id_types, record_offsets=offsets)
        run_sql(con, "entities/events/known")
        if known_needed(con):  # a record that only shared its hash's high half with a stored one
            return None
        (known,) = con.execute("SELECT count(*) FROM stg_rows WHERE event_type IS NULL").fetchall()[0]
    facts = run.plans[0].facts  # one format: one plan's facts for every file
    late_rejects = []  # (SQL of _seq, column, hint, value) of the records rejected after staging
    if facts.known_people_only:
        run_sql(con, "entities/events/unknown_people", id_types=id_types)
        late_rejects.append("SELECT _seq, '(contact)' AS column, 'the store knows no contact by these ids: events are "
                            "taken for known contacts only (unknown_contacts: reject; create makes them)' AS hint, "
                            "given AS value FROM stg_unknown_people")  # fmt: skip
    orders_changed = 0
    if facts.feeds_orders:
        with state.timed("fold_orders"):
            orders_changed = event_orders.fold(con, run, id_types)
        late_rejects.append("SELECT _seq, \"column\", hint, order_id AS value "
                            "FROM stg_ignored_order_events")  # fmt: skip
        con.execute("DELETE FROM stg_event_records WHERE _seq IN (SELECT _seq FROM stg_ignored_order_events)")
        con.execute("DELETE FROM stg_identity_links WHERE record IN (SELECT _seq FROM stg_ignored_order_events)")
    with state.timed("resolve_people"):
        people = identity.resolve(con, run.import_id, named_by=id_types)  # an event sits on its user_id's customer
        identity.add_customers(con, run.import_id)
    with state.timed("apply"):
        paths = {"item_paths": list(facts.item_paths), "currency_paths": list(facts.currency_paths)}
        run_sql(con, "entities/events/apply", import_id=run.import_id, format=run.format, started_at=run.started_at,
                id_types=id_types, **paths)  # fmt: skip
    late = _late_rejects(con, state, late_rejects)
    changes = dict(con.execute("SELECT change, count(*) FROM stg_event_records GROUP BY change").fetchall())
    kept, records, stored, items, untimed, leads = con.execute(
        """
        SELECT
            (SELECT count(*) FROM stg_rows),
            (SELECT count(*) FROM stg_event_records),
            (SELECT count(*) FROM events WHERE import_id = $import_id AND format = $format),
            (SELECT count(*) FROM event_items WHERE import_id = $import_id),
            (SELECT count(*) FROM stg_event_records WHERE untimed AND change = 'added'),
            (SELECT count(*) FROM stg_new_customers AS c
             WHERE NOT EXISTS (SELECT 1 FROM identities AS i
                               WHERE i.customer_id = c.customer_id AND i.id_type = 'external_id'))
        """,
        {"import_id": run.import_id, "format": run.format},
    ).fetchall()[0]
    added = changes.get("added", 0)
    kept -= late  # rejected after staging
    nothing_lost(  # every record is an event, stored once
        ("records kept", kept, "staged or known from before", records + known),
        ("new events", added, "events stored", stored),
    )
    entities = {
        "events": {"added": added, "unchanged": changes.get("unchanged", 0) + known},
        "event_items": {"added": items},
        "customers": {"added": people["customers_added"]},
        "identities": {"added": people["identities_added"]},
    }
    the_sample = sample(con)  # before the orders' rows take stg_rows' name
    extra = {}
    if facts.feeds_orders:
        extra["unknown_order_events"] = con.execute("SELECT count(*) FROM stg_ignored_order_events").fetchall()[0][0]
    if facts.known_people_only:
        extra["unknown_contacts"] = con.execute("SELECT count(*) FROM stg_unknown_people").fetchall()[0][0]
    order_events, notes = {}, []
    if orders_changed:
        with state.timed("orders"):
            counts = event_orders.merge(con, run)
        for name in ("orders", "line_items"):
            entities[name] = counts["entities"][name]
        entities["customers"]["added"] += counts["entities"]["customers"]["added"]
        entities["identities"]["added"] += counts["entities"]["identities"]["added"]
        order_events = counts["events"]
        extra["orders_without_buyer"] = counts["extra"]["orders_without_buyer"]
        extra["orders_buyer_kept"] = counts["extra"]["orders_buyer_kept"]  # events naming another contact
        notes += counts["notes"]
    said = {"leads added (people known by email alone)": leads,
            "events given again in the import (stored once)": changes.get("repeated", 0),
            "events without a time (stored at the import's start)": untimed}  # fmt: skip
    if any(said.values()):
        notes.append(
            {"text": "; ".join(f"{count:,} {text}" for text, count in said.items() if count), "warning": False}
        )
    return {
        "notes": notes,
        "kept": kept,
        "entities": entities,
        "events": order_events,
        "sample": the_sample,
        **extra,
        "repeated_events": changes.get("repeated", 0),  # records of an event given earlier in the import
        "known_events": known,  # records stored before, as they were: not parsed again
        "events_without_time": untimed,  # stored with the import's start as their time
        "leads_added": leads,  # new people known by email alone (no external id yet)
        "merges": people["merges"],
    }


def report(con: duckdb.DuckDBPyConnection, run: Run, stored: dict) -> dict:
    counts = dict(stored)
    out = {"kept": counts.pop("kept"), "entities": counts.pop("entities"), "sample": counts.pop("sample"),
           "notes": counts.pop("notes")}  # fmt: skip
    events = counts.pop("events")
    if events:
        out["events"] = events
    return {**out, "extra": counts}


def _late_rejects(con: duckdb.DuckDBPyConnection, state, queries: list[str]) -> int:
    """The records rejected after staging (their _seq, column, hint and value: `queries`, SQL of this module)
    into stg_rejects, with their text from the prepared events of their file; how many."""
    if not queries:
        return 0
    con.execute("CREATE OR REPLACE TEMP TABLE stg_late_rejects AS " + " UNION ALL ".join(queries))
    for index, view in state.events_files.items():  # a view of the file's events, stg_events_<n>: a name, not data
        con.execute(
            f"""
            INSERT INTO stg_rejects
            SELECT $file, e._row, json_object('line', e.raw),
                   [{{'column': l.column, 'hint': l.hint, 'value': l.value}}], e._line::BIGINT
            FROM {view} AS e
            JOIN stg_late_rejects AS l ON l._seq = ($file::UBIGINT << 32) + e._row
            """,  # noqa: S608
            {"file": index},
        )
    (late,) = con.execute("SELECT count(*) FROM stg_late_rejects").fetchall()[0]
    return late


def sample(con: duckdb.DuckDBPyConnection, size: int = 5) -> dict[str, list[dict]]:
    """The first and last records of the import: record number, event type, time, person and its change."""
    query = """
        WITH picked AS (
            SELECT _file, _row, _seq FROM stg_rows ORDER BY _file {direction}, _row {direction} LIMIT $size
        )
        SELECT picked._row + 1 AS record,
               coalesce(by_key.event_type, by_hash.event_type, rows.event_type) AS event_type,
               coalesce(by_key.occurred_at, by_hash.occurred_at)::VARCHAR AS occurred_at,
               coalesce(by_key.customer_id, by_hash.customer_id) AS customer_id,
               CASE WHEN EXISTS (SELECT 1 FROM stg_rejects AS j WHERE j._file = picked._file AND j._row = picked._row)
                   THEN 'rejected' ELSE coalesce(r.change, 'unchanged') END AS change  -- a late reject is kept
        FROM picked
        JOIN stg_rows AS rows USING (_seq)
        LEFT JOIN stg_event_records AS r USING (_seq)
        -- the event stored, by this import or before; a known record's by its hash
        LEFT JOIN events AS by_key ON by_key.event_key = r.event_key
        LEFT JOIN events AS by_hash
            ON r._seq IS NULL AND by_hash.record_hash = (rows.hash_hi::UHUGEINT << 64) | rows.hash_lo::UHUGEINT
        ORDER BY picked._file {direction}, picked._row {direction}
    """
    return first_and_last(con, query, {"size": size})
