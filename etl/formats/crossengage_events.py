"""CrossEngage's event feed (event_history_YYYYMMDDHHMMSS.json): a JSON array of events, one object each.

Each entry names its event (`event`, required) and its person: `id` (the externalId), or `email` with
`businessUnit`, or both. The rest are the event's properties, nested objects kept. Our choices where the
specification is silent (docs/formats/crossengage_events.md):

- `timestamp` is when it happened: ISO 8601, with an offset or `Z` (without one, UTC), or an ISO 8601 date
  alone (2024-01-01: midnight UTC); another form is rejected. An entry without one is stored with the
  import's start as its time (the spec requires only `event` and the id) and counted in the report
  (events_without_time).
- `id` and `email` are ids of the identity graph (external_id, email; trimmed, the email lowercased, the id
  kept in its case, as every import's: etl.formats.ids), so an event joins the person whatever was imported
  first; `businessUnit` is kept on the event.
  An email is one person across business units (CrossEngage keeps a lead per business unit): a store's
  segments filter by events.business_unit where units matter.
- The items of an event are its cart's products (`cart.products`), else `products`, else the one `product`;
  the cart's currency is an item's when it names none.
- properties: the whole entry, as given (its JSON types kept).
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict

from etl.formats.columns import EVENT_STAGED
from etl.formats.events import HASH_VERSION, REJECT_KEYS, event_key, json_string, no_orders
from etl.formats.hashing import salt
from etl.formats.ids import EMAIL, fold_id_case_option, normalised
from etl.formats.plan import EventsFacts, Plan
from etl.formats.rows import Check
from etl.formats.rows import _datetime as iso_datetime
from etl.transforms.steps import FormatFields

NAME = "crossengage_events"
ENTITY = "events"
READERS = ("json", "jsonl")
SUMMARY = "CrossEngage's event feed: a JSON array of events (event, id or email + businessUnit, timestamp)"
API = None  # read from files
FIELDS_READ = ("event", "timestamp", "id", "email", "businessUnit")


class Options(BaseModel):
    """Options of the `crossengage_events` format."""

    model_config = ConfigDict(extra="forbid", title="CrossEngageEventsOptions")
    fold_id_case: bool = fold_id_case_option()


FIELDS = FormatFields(name=NAME, knows=lambda field: bool(field), required=["event"], known=list(FIELDS_READ),
                      text_input=False)  # fmt: skip
ITEM_PATHS = ("$.cart.products", "$.products", "$.product")  # the first given: a list of items, or one
_NESTED = r'"(?:' + "|".join(FIELDS_READ) + r')":[\[{]'  # one of them given as a list or an object
_DECODED = pl.Struct({field: pl.String for field in FIELDS_READ})


def _texts(lf: pl.LazyFrame) -> tuple[pl.LazyFrame, dict[str, pl.Expr]]:
    """The fields read, as text (numbers as their JSON text): one decoding of the object, but where one of them
    is a list or an object (that decoding would fail), read one by one and then rejected."""
    value = pl.col("value")
    lf = lf.with_columns(_nested=value.str.contains(_NESTED))
    lf = lf.with_columns(_decoded=pl.when(~pl.col("_nested")).then(value).str.json_decode(_DECODED))
    one_by_one = pl.when(pl.col("_nested")).then(value)
    return lf, {
        field: pl.coalesce(
            pl.col("_decoded").struct.field(field), one_by_one.str.json_path_match(f"$[{json_string(field)}]")
        )
        for field in FIELDS_READ
    }


def plan(header: list[str], options: Options, reader: str = "json") -> Plan:
    """The plan for JSON objects (a `value` column, minified; `header` is unused)."""

    def transform(lf: pl.LazyFrame):
        lf, texts = _texts(lf)
        time_text = texts["timestamp"].str.strip_chars()
        # an ISO 8601 date alone (2024-01-01) is that day's midnight UTC, as a date-time without an offset is UTC
        time_text = pl.when(time_text.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(time_text + "T00:00:00Z")
        occurred_at, _ = iso_datetime(time_text.otherwise(texts["timestamp"].str.strip_chars()))
        lf = lf.with_columns(
            _event=texts["event"].str.strip_chars(),
            _id=normalised(texts["id"], "external_id", fold_case=options.fold_id_case),  # etl.formats.ids
            _email=normalised(texts["email"], "email"),
            _unit=texts["businessUnit"].str.strip_chars(),
            _time=texts["timestamp"],
            occurred_at=occurred_at,
        )
        given = {
            name: pl.when(pl.col(name).str.len_bytes() > 0).then(pl.col(name)) for name in ("_id", "_email", "_unit")
        }
        nested = pl.col("value").str.extract(r'"(' + "|".join(FIELDS_READ) + r')":[\[{]', 1)
        checks = [
            Check("(record)", pl.lit("a list or an object, expected a text: ") + nested, pl.col("_nested"), nested),
            Check("event", "required value is missing", pl.col("_event").is_null() | (pl.col("_event") == ""),
                  texts["event"]),
            Check("(identity)", "no identity: expected id (the externalId), or email and businessUnit",
                  given["_id"].is_null() & given["_email"].is_null()),
            Check("businessUnit", "an email without businessUnit and without id: CrossEngage knows a lead by email "
                  "and businessUnit together", given["_id"].is_null() & given["_email"].is_not_null()
                  & given["_unit"].is_null(), texts["email"]),
            Check("email", "not a valid email", given["_email"].is_not_null() & ~given["_email"].str.contains(EMAIL),
                  texts["email"]),
            Check("timestamp", "not an ISO 8601 time or date (e.g. 2018-05-22T22:00:00Z)",
                  pl.col("_time").is_not_null() & pl.col("occurred_at").is_null(), texts["timestamp"]),
        ]  # fmt: skip
        lf = lf.with_columns(
            event_type=pl.col("_event"),
            ids=pl.concat_list(given["_id"], given["_email"]),
            business_unit=given["_unit"],
            properties=pl.col("value"),
            order_id=pl.lit(None, pl.String),
            **no_orders(),
            **event_key(pl.col("value"), NAME),
        )
        return lf, checks

    facts = EventsFacts(id_types=("external_id", "email"), item_paths=ITEM_PATHS, currency_paths=("$.cart.currency",))
    return Plan(transform=transform, facts=facts, reader=reader, kept_columns=EVENT_STAGED, reject_keys=REJECT_KEYS,
                hash_salt=salt(HASH_VERSION, NAME, options, reader=reader), row_wise=True)  # fmt: skip
