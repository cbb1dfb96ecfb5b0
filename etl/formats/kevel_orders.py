"""Kevel Audience order CSV: one row per line item, order fields on each order's first row.

Turns the raw text columns into the canonical "order rows" (see etl.formats.rows):
typed order fields, typed line-item fields, and one check per rule of the spec's
column table. Every check is a Polars expression over whole columns.
"""

from __future__ import annotations

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace: sha256 without per-row Python)
from pydantic import BaseModel, ConfigDict, Field

from etl.formats.columns import LINE_COLUMNS, ORDER_COLUMNS
from etl.formats.hashing import salt
from etl.formats.ids import EMAIL, PHONE, SHA256_HEX, fold_id_case_option, normalised
from etl.formats.plan import OrdersFacts, Plan
from etl.formats.rows import (
    ORDER_REJECT_KEYS,
    ORDER_ROWS_HASH_VERSION,
    Check,
    Column,
    Kind,
    order_kept_columns,
    raw,
    with_runs,
)
from etl.transforms.steps import FormatFields

NAME = "kevel_orders"
ENTITY = "orders"
READERS = ("csv",)
SUMMARY = "Kevel Audience's offline order import: a CSV with one row per line item"
API = None  # read from files


class Options(BaseModel):
    """Options of the `kevel_orders` format."""

    model_config = ConfigDict(extra="forbid", title="KevelOrdersOptions")

    hash_emails: bool = Field(
        False,
        description="Hash plaintext email user ids (userIdType=email) to email_sha256, "
        "after lowercasing and trimming them.",
    )
    fold_id_case: bool = fold_id_case_option()


ORDER = "order"
LINE = "line"

# The spec's table, in its order: (column, canonical name, kind, required, level).
COLUMNS: list[Column] = [
    Column("orderId", "order_id", Kind.STRING, True, ORDER),
    Column("userIdType", "user_id_type", Kind.STRING, True, ORDER),
    Column("userId", "user_id", Kind.STRING, True, ORDER),
    Column("currency", "currency", Kind.CURRENCY, True, ORDER),
    Column("total", "total", Kind.DOUBLE, True, ORDER),
    Column("subtotal", "subtotal", Kind.DOUBLE, True, ORDER),
    Column("tax", "tax", Kind.DOUBLE, True, ORDER),
    Column("shipping", "shipping", Kind.DOUBLE, True, ORDER),
    Column("discount", "discount", Kind.DOUBLE, True, ORDER),
    Column("refund", "refund", Kind.DOUBLE, True, ORDER),
    Column("paymentMethod", "payment_method", Kind.STRING, False, ORDER),
    Column("shippingMethod", "shipping_method", Kind.STRING, False, ORDER),
    Column("shippingCountry", "shipping_country", Kind.STRING, False, ORDER),
    Column("source", "source", Kind.STRING, False, ORDER),
    Column("promotions", "promotions", Kind.LIST, False, ORDER),
    Column("createdAt", "created_at", Kind.DATETIME, True, ORDER),
    Column("lastUpdated", "last_updated", Kind.DATETIME, False, ORDER),
    Column("lineItem_id", "line_item_id", Kind.STRING, False, LINE),
    Column("lineItem_productId", "product_id", Kind.STRING, True, LINE),
    Column("lineItem_itemGroupId", "item_group_id", Kind.STRING, False, LINE),
    Column("lineItem_name", "name", Kind.STRING, False, LINE),
    Column("lineItem_sku", "sku", Kind.STRING, True, LINE),
    Column("lineItem_brand", "brand", Kind.STRING, False, LINE),
    Column("lineItem_category", "category", Kind.STRING, False, LINE),
    Column("lineItem_categories", "categories", Kind.LIST, False, LINE),
    Column("lineItem_currency", "line_currency", Kind.CURRENCY, True, LINE),
    Column("lineItem_total", "line_total", Kind.DOUBLE, True, LINE),
    Column("lineItem_subtotal", "line_subtotal", Kind.DOUBLE, True, LINE),
    Column("lineItem_tax", "line_tax", Kind.DOUBLE, True, LINE),
    Column("lineItem_shipping", "line_shipping", Kind.DOUBLE, True, LINE),
    Column("lineItem_discount", "line_discount", Kind.DOUBLE, True, LINE),
    Column("lineItem_refund", "line_refund", Kind.DOUBLE, True, LINE),
    Column("lineItem_quantity", "quantity", Kind.DOUBLE, True, LINE),
    Column("lineItem_promotions", "line_promotions", Kind.LIST, False, LINE),
    Column("lineItem_adult", "adult", Kind.BOOLEAN, False, LINE),
    Column("lineItem_subscriptionDuration", "subscription_duration_ms", Kind.LONG, False, LINE),
    Column("lineItem_size", "size", Kind.STRING, False, LINE),
    Column("lineItem_sizeSystem", "size_system", Kind.STRING, False, LINE),
    Column("lineItem_status", "status", Kind.STATUS, True, LINE),
]
BY_NAME = {c.source: c for c in COLUMNS}
CUSTOM_PREFIX = "custom_"

# What transformation steps may write: the table's columns and custom_<name> fields.
FIELDS = FormatFields(
    name="kevel_orders",
    knows=lambda field: field in BY_NAME or (field.startswith(CUSTOM_PREFIX) and len(field) > len(CUSTOM_PREFIX)),
    required=[c.source for c in COLUMNS if c.required],
    known=list(BY_NAME),
    text_input=True,
)


def plan(header: list[str], options: Options, reader: str = "csv") -> Plan:
    """The parse plan for a file with this header: what is missing, ignored, and how to type it."""
    missing = [c.source for c in COLUMNS if c.required and c.source not in header]
    custom = [h for h in header if h.startswith(CUSTOM_PREFIX) and len(h) > len(CUSTOM_PREFIX)]
    ignored = [h for h in header if h not in BY_NAME and h not in custom]
    present = [c for c in COLUMNS if c.source in header]
    return Plan(
        header=header,
        missing=missing,
        ignored=ignored,
        transform=lambda lf: _typed(lf, present, custom, options),
        # the table's order columns and custom_fields; its line columns and line_custom_fields (none in the spec)
        facts=OrdersFacts(order_columns=ORDER_COLUMNS, line_columns=LINE_COLUMNS),
        kept_columns=order_kept_columns(ORDER_COLUMNS, LINE_COLUMNS),
        reject_keys=ORDER_REJECT_KEYS,
        hash_salt=salt(ORDER_ROWS_HASH_VERSION, NAME, options, header=header),
        run_key="orderId",
    )


def _typed(lf: pl.LazyFrame, present: list[Column], custom: list[str], options: Options):
    """Typed columns and checks, then the runs of each order's rows (unless the engine numbered them first).

    Each check is materialised as a column, and the order-level ones are then limited to the first row of
    each run (the other rows' order fields are ignored).
    """
    values: list[pl.Expr] = []
    checks: list[tuple[Check, bool]] = []  # (check, order level?)
    for column in COLUMNS:
        if column in present:
            value, column_checks = column.parse()
        else:
            value, column_checks = pl.lit(None, column.dtype), []
            if column.kind is Kind.BOOLEAN:
                value = pl.lit(False)
        values.append(value.alias(column.target))
        checks += [(check, column.level == ORDER) for check in column_checks]
    values.append(_custom_fields(custom).alias("custom_fields"))
    values.append(pl.lit(None, pl.String).alias("line_custom_fields"))  # the spec has no custom line columns
    lf = lf.with_columns(values)  # checks read these columns: each value is parsed once

    # userId by userIdType: the ids' rule (etl.formats.ids: trimmed, emails lowercased), then validate.
    id_type = pl.col("user_id_type")
    user_id = pl.col("user_id")
    lf = lf.with_columns(user_id=normalised(user_id, id_type, fold_case=options.fold_id_case))
    present_id = user_id.is_not_null()
    checks += [
        (Check("userId", "not a valid email (userIdType=email)",
               present_id & (id_type == "email") & ~user_id.str.contains(EMAIL)), True),
        (Check("userId", "not a sha256 hex digest (userIdType=email_sha256)",
               present_id & (id_type == "email_sha256") & ~user_id.str.contains(SHA256_HEX)), True),
        (Check("userId", "not a phone number (userIdType=phone)",
               present_id & (id_type == "phone") & ~user_id.str.contains(PHONE)), True),
    ]  # fmt: skip
    lf = lf.with_columns(check.failed.fill_null(False).alias(f"_failed{i}") for i, (check, _) in enumerate(checks))
    if options.hash_emails:  # after the checks: an invalid email is rejected, not hashed
        is_email = pl.col("user_id_type") == "email"
        lf = lf.with_columns(
            user_id=pl.when(is_email).then(pl.col("user_id").chash.sha2_256()).otherwise(pl.col("user_id")),
            user_id_type=pl.when(is_email).then(pl.lit("email_sha256")).otherwise(pl.col("user_id_type")),
        )
    lf = with_runs(lf, raw("orderId"))  # last: after it, the element-wise work ran slower (numbered once)
    gated = [
        Check(
            check.column, check.hint, pl.col(f"_failed{i}") & pl.col("_first") if order_level else pl.col(f"_failed{i}")
        )
        for i, (check, order_level) in enumerate(checks)
    ]
    return lf, gated


def _custom_fields(custom: list[str]) -> pl.Expr:
    """custom_<name> columns as one JSON object {"name": value}, or null when there are none."""
    if not custom:
        return pl.lit(None, pl.String)
    return pl.struct([raw(c).alias(c[len(CUSTOM_PREFIX) :]) for c in custom]).struct.json_encode()
