"""What every event format produces: one row per event, in the canonical event columns
(etl.formats.columns.EVENT_STAGED).

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

import polars as pl

from etl.formats.columns import EVENT_ORDER_STAGED
from etl.formats.rows import record_hash

HASH_VERSION = "events-1"  # of the record hash: changed when what a format makes of the same record changes
KEY_VERSION = "event-key-1"  # of the event's identity: changing it makes every stored event new again
REJECT_KEYS = ("event_type",)  # what an event format's reject keeps


def no_orders() -> dict[str, pl.Expr]:
    """The order_* columns of a format whose events make no orders."""
    types = {"order_total": pl.Float64, "order_created_at": pl.Datetime("us", "UTC")}
    return {name: pl.lit(None, types.get(name, pl.String)) for name in EVENT_ORDER_STAGED}


def event_key(content: pl.Expr, format_name: str) -> dict[str, pl.Expr]:
    """key_hi and key_lo: a 128-bit hash of the event's content (its JSON, minified) and its format."""
    hashed = record_hash([content], f"{KEY_VERSION}|{format_name}")
    return {"key_hi": hashed["hash_hi"], "key_lo": hashed["hash_lo"]}


def json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
