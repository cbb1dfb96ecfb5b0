"""What every event format produces: one row per event, in the canonical event columns (STAGED).

- event_type: the event's name as given; occurred_at: when (UTC), null when the record gives no time (the
  entity then takes the import's start);
- ids: the person's ids, one value (or null) for each of the plan's id_types, normalised as every import
  normalises them (etl.formats.ids);
- business_unit: the business unit the event names, or null;
- properties: the event as a JSON object (text), every field with its JSON type;

and the plan says where in properties an event's items are (`item_paths`: JSON paths, the first found wins; an
array of objects, or one object: a cart's products, a viewed product) and their currency when an item names
none (`currency_paths`). The entity reads these keys of each item, the first found: product_id (product_id,
productId, externalItemId, id), sku, name, category, quantity, price (price, cost), currency; an item keeps the
whole object too. (DuckDB reads them, in parallel: in Polars, a path read parses each record once more.)
- order_id: the order the event is about, or null;
- the order an event makes or changes (a format with `feeds_orders`; null for the others): order_action (upsert:
  the order's fields given here replace those stored, the others are kept; status: only its status changes, and
  an order the store does not hold is not made), order_status (a line item status), order_total, order_currency,
  order_created_at and order_lines (a JSON array of {product_id, name, category, quantity, price (of one unit),
  url, image_url, description}; null when not given): see etl/entities/events/orders.sql;
- key_hi, key_lo: the event's identity (`event_key`): a hash of its whole content, so that the same event read
  again, from this file or another, is not stored twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from pydantic import BaseModel

from etl.formats.rows import Check, record_hash

ORDER_STAGED = ("order_action", "order_status", "order_total", "order_currency", "order_created_at", "order_lines")
STAGED = ("event_type", "occurred_at", "ids", "business_unit", "properties", "order_id", *ORDER_STAGED, "key_hi",
          "key_lo", "hash_hi", "hash_lo")  # fmt: skip
HASH_VERSION = "events-1"  # of the record hash: changed when what a format makes of the same record changes
KEY_VERSION = "event-key-1"  # of the event's identity: changing it makes every stored event new again


@dataclass(frozen=True)
class EventsPlan:
    """What an event format makes of a file (the engine's FormatPlan for events)."""

    transform: Callable[[pl.LazyFrame], tuple[pl.LazyFrame, list[Check]]]
    reader: str = "json"
    id_types: tuple[str, ...] = ()  # the type of each value of `ids`
    item_paths: tuple[str, ...] = ()  # where in properties the items are (see the module's docstring)
    currency_paths: tuple[str, ...] = ()  # where the items' currency is, when an item names none
    hash_salt: str | None = None
    header: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    reject_keys: tuple[str, ...] = ("event_type",)
    kept_columns: tuple[str, ...] = STAGED
    run_key: None = None  # an event is one record
    row_wise: bool = True  # each record on its own: read in batches (memory flat)
    # what reads a file's records into events, when a record is not one event (eSputnik's past-events bodies):
    # etl.pipeline.prepared stages them with it (the rows keep `_record`, their record's number)
    prepare: Any = None
    known_people_only: bool = False  # an event whose person the store does not know is rejected
    feeds_orders: bool = False  # its order_* columns change the orders entity
    default_currency: str | None = None  # of an order whose events name none (etl/entities/events/orders.sql)


def no_orders() -> dict[str, pl.Expr]:
    """The order_* columns of a format whose events make no orders."""
    types = {"order_total": pl.Float64, "order_created_at": pl.Datetime("us", "UTC")}
    return {name: pl.lit(None, types.get(name, pl.String)) for name in ORDER_STAGED}


def salt(format_name: str, options: BaseModel, reader: str) -> str:
    return "|".join([HASH_VERSION, f"polars {pl.__version__}", format_name, options.model_dump_json(), reader])


def event_key(content: pl.Expr, format_name: str) -> dict[str, pl.Expr]:
    """key_hi and key_lo: a 128-bit hash of the event's content (its JSON, minified) and its format."""
    hashed = record_hash([content], f"{KEY_VERSION}|{format_name}")
    return {"key_hi": hashed["hash_hi"], "key_lo": hashed["hash_lo"]}


def json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
