"""Shopify's "Export orders" CSV: one row per line item, grouped by Name; the order's fields on its first row.

Turns the raw text columns into the canonical order rows (see etl.formats.rows), as kevel_orders does. Columns
are found by name, whatever the layout (73, 75, 78 or 79 columns, in any order). The mapping, and what each
choice is, is in docs/formats/shopify_orders.md; in short:

- the order's id is Name (or Id, option `order_id`); rows are grouped by Name either way;
- the buyer is the Email (validated, lowercased; sha256 with `hash_emails`), else the Phone when it is a phone
  number, else none: a point-of-sale or draft order without an email is stored without a buyer;
- money is Shopify's, in the store's one meaning (specification 002: total = subtotal + tax + shipping, the
  subtotal after discounts): total = Total, tax = Taxes, shipping = Shipping, discount = Discount Amount
  (informational), refund = Refunded Amount, and subtotal = Total - Taxes - Shipping (after discounts, without
  tax and shipping, whether the shop's prices include tax or not: Shopify's own Subtotal includes the tax then);
- a line's subtotal and total are price x quantity minus Lineitem discount (its tax and shipping are per order);
  its status comes from the order's Financial Status and Cancelled at and the line's fulfillment status;
- every other column is kept: the order's in custom_fields (snake_case names), the line's in the line's
  custom_fields.
"""

from __future__ import annotations

import re
from typing import Literal

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace: sha256 without per-row Python)
from pydantic import BaseModel, ConfigDict, Field

from etl.formats.columns import CUSTOM_FIELD, LINE_COLUMNS, ORDER_COLUMNS
from etl.formats.hashing import salt
from etl.formats.ids import EMAIL, PHONE, normalised
from etl.formats.plan import OrdersFacts, Plan
from etl.formats.rows import (
    ORDER_REJECT_KEYS,
    ORDER_ROWS_HASH_VERSION,
    Check,
    order_kept_columns,
    raw,
    split_list,
    with_runs,
)
from etl.transforms.steps import FormatFields

NAME = "shopify_orders"
ENTITY = "orders"
READERS = ("csv",)
SUMMARY = "Shopify's Export orders CSV: one row per line item, grouped by Name"
API = None  # read from files


class Options(BaseModel):
    """Options of the `shopify_orders` format."""

    model_config = ConfigDict(extra="forbid", title="ShopifyOrdersOptions")

    order_id: Literal["name", "id"] = Field(
        "name",
        description="Which column is the order identifier: Name (#1001) or Id. Rows are grouped by Name either way; "
        "Id comes from the order's first row.",
    )
    hash_emails: bool = Field(
        False, description="Hash the buyers' emails to email_sha256, after lowercasing and trimming them."
    )


# The spec's table: the columns an export must have (their values may still be empty where the docs say).
REQUIRED = [
    "Name", "Email", "Id", "Currency", "Total", "Subtotal", "Taxes", "Financial Status", "Refunded Amount",
    "Discount Amount", "Shipping", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
    "Lineitem discount", "Lineitem fulfillment status", "Lineitem sku",
]  # fmt: skip
FINANCIAL_STATUSES = ["authorized", "paid", "partially_paid", "pending", "refunded", "partially_refunded", "voided"]
# A line's fulfillment status (any case). 002 lists pending, partial, restocked, fulfilled; Shopify's line item
# fulfillment_status also takes not_eligible (nothing to fulfil: a gift card, a tip, a digital product) and
# unfulfilled (its GraphQL form of "none yet"), and exports leave it empty for a line with nothing fulfilled. Only
# restocked (-> refunded) and fulfilled (-> fulfilled) decide the line's status (_line_values); the others leave
# it to the order's Financial Status. Any other value rejects the order, naming these.
FULFILLMENT_STATUSES = ["pending", "partial", "restocked", "fulfilled", "unfulfilled", "not_eligible"]
# the columns of a line, not of its order: kept on the line (the Vendor is the line's brand)
LINE_EXTRAS = {
    "Lineitem price": "price",
    "Lineitem compare at price": "compare_at_price",
    "Lineitem requires shipping": "requires_shipping",
    "Lineitem taxable": "taxable",
    "Lineitem fulfillment status": "fulfillment_status",
}
LINE_LEVEL = {"Lineitem quantity", "Lineitem name", "Lineitem discount", "Lineitem sku", "Vendor", *LINE_EXTRAS}
# order columns mapped to canonical columns (the others go to custom_fields, some of these too)
CANONICAL = {
    "Name", "Email", "Currency", "Total", "Taxes", "Shipping", "Discount Amount", "Refunded Amount",
    "Payment Method", "Shipping Method", "Shipping Country", "Source", "Discount Code", "Created at",
}  # fmt: skip
DATETIMES = {"Paid at", "Fulfilled at", "Cancelled at", "Next Payment Due At"}  # kept as ISO-8601 UTC
ZIPS = {"Billing Zip", "Shipping Zip"}  # written '4001 by exports opened in a spreadsheet: the apostrophe goes
BOOLEANS = {"Accepts Marketing": ("yes", "no")}  # and the lines' true/false columns below
NUMBERS = {"Outstanding Balance", "Duties"}
# Tax 1 Value ... Tax 5 Value: numbers, beside their names (tax_1_name ...); a list of {name, value} built per
# row cost more than the rest of the reading
TAX_VALUE = re.compile(r"^Tax \d+ Value$")

FIELDS = FormatFields(
    name=NAME,
    knows=lambda field: True,  # every column of an export is kept somewhere: a transform may write any
    required=REQUIRED,
    known=REQUIRED,
    text_input=True,
)

SHOPIFY_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:?\d{2}$"
DATETIME_HINT = "not a Shopify date and time (yyyy-MM-dd HH:mm:ss Z, e.g. 2025-05-11 09:55:16 -0400)"
NUMBER_HINT = "not a number (e.g. 102.50)"


def snake(name: str) -> str:
    """A column's name in custom_fields: `Billing Province Name` -> billing_province_name."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_") or "column"


def plan(header: list[str], options: Options, reader: str = "csv") -> Plan:
    """The parse plan for an export with this header."""
    missing = [name for name in REQUIRED if name not in header]
    problems = []
    seen: dict[str, str] = {}
    for name in header:  # two columns would write one custom field
        key = snake(name)
        if key in seen and seen[key] != name:
            problems.append(f"columns {seen[key]!r} and {name!r} both make the custom field {key!r}")
        seen[key] = name
    order_columns = [
        *ORDER_COLUMNS,
        *(CUSTOM_FIELD + key for key in _order_custom_fields(header, _texts(header), options)),
    ]
    return Plan(
        header=header,
        missing=missing,
        ignored=[],
        transform=lambda lf: _typed(lf, header, options),
        facts=OrdersFacts(order_columns=order_columns, line_columns=LINE_COLUMNS, key_field="Name"),
        kept_columns=order_kept_columns(order_columns, LINE_COLUMNS),
        reject_keys=ORDER_REJECT_KEYS,
        problems=tuple(problems),
        hash_salt=salt(ORDER_ROWS_HASH_VERSION, NAME, options, header=header),
        run_key="Name",
    )


def _text(header: list[str], name: str) -> pl.Expr:
    """A column's raw text, trimmed, null when empty or absent (older layouts lack some columns)."""
    if name not in header:
        return pl.lit(None, pl.String)
    value = raw(name).str.strip_chars()
    return pl.when(value.str.len_bytes() > 0).then(value)


def _number(text: pl.Expr) -> pl.Expr:
    return text.cast(pl.Float64, strict=False)


def _datetime(text: pl.Expr) -> pl.Expr:
    fits = text.str.contains(SHOPIFY_DATETIME)
    return (
        pl.when(fits).then(text).str.to_datetime("%Y-%m-%d %H:%M:%S %#z", time_unit="us", time_zone="UTC", strict=False)
    )


def _bad_number(name: str, text: pl.Expr, *, first: bool) -> Check:
    value = _number(text)
    failed = text.is_not_null() & (value.is_null() | ~value.is_finite())
    return Check(name, NUMBER_HINT, failed & pl.col("_first") if first else failed, text)


def _texts(header: list[str]):
    """name -> the column's text (see _text); a column the layout lacks is null."""
    t = {name: _text(header, name) for name in header}
    return lambda name: t.get(name, pl.lit(None, pl.String))


def _typed(lf: pl.LazyFrame, header: list[str], options: Options):
    """Typed columns and checks. Order-level values and checks are the first row's; the line's status and currency
    need the order's Financial Status, Cancelled at and Currency on every row of its run (carried down)."""
    text = _texts(header)
    lf = with_runs(lf, raw("Name"))  # first: the checks and the carrying down read them (numbered once)
    first = pl.col("_first")

    money = {
        "total": "Total", "tax": "Taxes", "shipping": "Shipping", "discount": "Discount Amount",
        "refund": "Refunded Amount",
    }  # fmt: skip
    # an empty amount is 0 (exports leave Taxes or Refunded Amount empty where there were none); Total is required
    values: dict[str, pl.Expr] = {
        target: _number(text(name)) if target == "total" else _number(text(name)).fill_null(0.0)
        for target, name in money.items()
    }
    values["_shopify_subtotal"] = _number(text("Subtotal"))
    values["_created"] = _datetime(text("Created at"))
    values |= {f"_time:{name}": _datetime(text(name)) for name in DATETIMES if name in header}
    values["quantity"] = _number(text("Lineitem quantity"))
    values["_price"] = _number(text("Lineitem price"))
    values["_line_discount"] = _number(text("Lineitem discount"))
    values["_financial"] = text("Financial Status").str.to_lowercase()
    values["_fulfillment"] = text("Lineitem fulfillment status").str.to_lowercase()
    values["currency"] = text("Currency").str.to_uppercase()
    email = normalised(text("Email"), "email")  # the ids' rule (etl.formats.ids)
    values["_email"] = email
    lf = lf.with_columns(**values)

    checks: list[Check] = [Check("Name", "required value is missing", raw("Name").is_null())]
    order_required = ["Currency", "Total", "Financial Status", "Created at"]
    if options.order_id == "id":
        order_required.append("Id")
    checks += [Check(name, "required value is missing", first & text(name).is_null()) for name in order_required]
    line_required = ["Lineitem quantity", "Lineitem name", "Lineitem price"]  # an empty fulfillment is "none yet"
    checks += [Check(name, "required value is missing", text(name).is_null()) for name in line_required]
    checks += [_bad_number(name, text(name), first=True) for name in money.values()]
    checks += [
        _bad_number("Subtotal", text("Subtotal"), first=True),
        _bad_number("Lineitem quantity", text("Lineitem quantity"), first=False),
        _bad_number("Lineitem price", text("Lineitem price"), first=False),
        _bad_number("Lineitem discount", text("Lineitem discount"), first=False),
        Check("Currency", "not a three-letter currency code (e.g. EUR)",
              first & pl.col("currency").is_not_null() & ~pl.col("currency").str.contains(r"^[A-Z]{3}$")),
        Check("Created at", DATETIME_HINT, first & text("Created at").is_not_null() & pl.col("_created").is_null()),
        Check("Email", "not a valid email", first & email.is_not_null() & ~email.str.contains(EMAIL)),
        Check("Financial Status", f"not a Shopify financial status ({', '.join(FINANCIAL_STATUSES)})",
              first & pl.col("_financial").is_not_null() & ~pl.col("_financial").is_in(FINANCIAL_STATUSES)),
        Check("Lineitem fulfillment status",
              f"not a Shopify line item fulfillment status ({', '.join(FULFILLMENT_STATUSES)})",
              pl.col("_fulfillment").is_not_null() & ~pl.col("_fulfillment").is_in(FULFILLMENT_STATUSES)),
    ]  # fmt: skip
    checks += [
        Check(name, DATETIME_HINT, first & text(name).is_not_null() & pl.col(f"_time:{name}").is_null())
        for name in DATETIMES
        if name in header
    ]
    # materialised before the carrying down: the checks read the row's own values
    lf = lf.with_columns(check.failed.fill_null(False).alias(f"_failed{i}") for i, check in enumerate(checks))
    checks = [Check(c.column, c.hint, pl.col(f"_failed{i}"), c.value) for i, c in enumerate(checks)]

    # the order's values on every row of its run: the first row's, carried down (an empty one as empty, not
    # as the previous order's)
    def carried(expr: pl.Expr) -> pl.Expr:
        down = pl.when(first).then(expr.fill_null("")).forward_fill()
        return pl.when(down != "").then(down)

    order_id = text("Name") if options.order_id == "name" else text("Id")
    lf = lf.with_columns(
        order_id=carried(order_id) if options.order_id == "id" else raw("Name"),
        _order_currency=carried(pl.col("currency")),
        _order_financial=carried(pl.col("_financial")),
        _order_cancelled=carried(text("Cancelled at")),
    )
    lf = lf.with_columns(**_order_values(header, text, options), **_line_values(header, text))
    return lf, checks


def _order_values(header: list[str], text, options: Options) -> dict[str, pl.Expr]:
    email = pl.col("_email")
    phone = text("Phone")
    has_email = email.is_not_null()
    has_phone = phone.is_not_null() & phone.str.contains(PHONE)
    user_id = pl.when(has_email).then(email).when(has_phone).then(phone)
    user_id_type = pl.when(has_email).then(pl.lit("email")).when(has_phone).then(pl.lit("phone"))
    if options.hash_emails:
        user_id = pl.when(has_email).then(email.chash.sha2_256()).otherwise(user_id)
        user_id_type = pl.when(has_email).then(pl.lit("email_sha256")).otherwise(user_id_type)
    times = [pl.col("_created")] + [pl.col(f"_time:{name}") for name in ("Paid at", "Fulfilled at", "Cancelled at")
                                    if name in header]  # fmt: skip
    return {
        "user_id_type": user_id_type,
        "user_id": user_id,
        "subtotal": (pl.col("total") - pl.col("tax") - pl.col("shipping")).round(2),  # 002: after discounts
        "payment_method": text("Payment Method"),
        "shipping_method": text("Shipping Method"),
        "shipping_country": text("Shipping Country"),
        "source": text("Source"),
        "promotions": split_list(text("Discount Code"), ","),  # Shopify separates codes with commas
        "created_at": pl.col("_created"),
        "last_updated": pl.max_horizontal(times),
        "custom_fields": pl.lit(None, pl.String),  # the store packs the custom:<key> columns (rows.CUSTOM_FIELD)
        **{CUSTOM_FIELD + key: value for key, value in _order_custom_fields(header, text, options).items()},
    }


def _order_custom_fields(header: list[str], text, options: Options) -> dict[str, pl.Expr]:
    """Every column not mapped to a canonical one (and a few that are, kept as Shopify wrote them), under its
    snake_case name: flat columns, which the store packs into a JSON object for the orders alone (building it
    here, for every row, took three times as long as the rest of the reading)."""
    fields: list[pl.Expr] = []
    if "city" not in {snake(name) for name in header}:  # what the geo segment reads
        fields.append(pl.coalesce(text("Shipping City"), text("Billing City")).alias("city"))
    for name in header:
        if name in LINE_LEVEL or name in CANONICAL:
            continue
        key = snake(name)
        if name in DATETIMES:
            value = pl.col(f"_time:{name}").dt.to_string("%Y-%m-%dT%H:%M:%SZ")
        elif name in ZIPS:
            value = text(name).str.strip_prefix("'")
        elif name == "Tags":
            value = split_list(text(name), ",")
        elif name in BOOLEANS:
            yes, no = BOOLEANS[name]
            value = (
                pl.when(text(name).str.to_lowercase() == yes)
                .then(True)
                .when(text(name).str.to_lowercase() == no)
                .then(False)
            )
        elif name == "Subtotal":
            value = pl.col("_shopify_subtotal")
        elif name in NUMBERS or TAX_VALUE.match(name):
            value = _number(text(name))
        elif name == "Id" and options.order_id == "id":
            continue  # it is the order_id
        else:
            value = text(name)
        fields.append(value.alias(key))
    if options.order_id == "id":
        fields.append(raw("Name").alias("name"))
    return {field.meta.output_name(): field for field in fields}


def _line_values(header: list[str], text) -> dict[str, pl.Expr]:
    financial = pl.col("_order_financial")
    fulfillment = pl.col("_fulfillment")
    status = (
        pl.when(pl.col("_order_cancelled").is_not_null() | (financial == "voided")).then(pl.lit("cancelled"))
        .when((financial == "refunded") | (fulfillment == "restocked")).then(pl.lit("refunded"))
        .when(fulfillment == "fulfilled").then(pl.lit("fulfilled"))
        .when(financial.is_in(["paid", "partially_paid", "partially_refunded"])).then(pl.lit("paid"))
        .otherwise(pl.lit("placed"))
    )  # fmt: skip
    # after the line's discount (002's meaning); the line's tax and shipping are the order's (null here)
    subtotal = (pl.col("_price") * pl.col("quantity") - pl.col("_line_discount").fill_null(0.0)).round(2)
    sku = text("Lineitem sku")

    def extra(name: str) -> pl.Expr:
        if name == "Lineitem price":
            return pl.col("_price")
        if name == "Lineitem compare at price":
            return _number(text(name))
        if name in ("Lineitem requires shipping", "Lineitem taxable"):
            lowered = text(name).str.to_lowercase()
            return pl.when(lowered == "true").then(True).when(lowered == "false").then(False)
        return text(name)

    extras = [extra(name).alias(key) for name, key in LINE_EXTRAS.items() if name in header]
    return {
        "line_item_id": pl.lit(None, pl.String),
        "product_id": pl.coalesce(sku, text("Lineitem name")),
        "item_group_id": pl.lit(None, pl.String),
        "name": text("Lineitem name"),
        "sku": sku,
        "brand": text("Vendor"),
        "category": pl.lit(None, pl.String),
        "categories": pl.lit(None, pl.List(pl.String)),
        "line_currency": pl.col("_order_currency"),
        "line_subtotal": subtotal,
        "line_discount": pl.col("_line_discount").fill_null(0.0),
        "line_total": subtotal,
        "line_tax": pl.lit(None, pl.Float64),
        "line_shipping": pl.lit(None, pl.Float64),
        "line_refund": pl.lit(None, pl.Float64),
        "line_promotions": pl.lit(None, pl.List(pl.String)),
        "adult": pl.lit(False),
        "subscription_duration_ms": pl.lit(None, pl.Int64),
        "size": pl.lit(None, pl.String),
        "size_system": pl.lit(None, pl.String),
        "status": status,
        "line_custom_fields": pl.struct(extras) if extras else pl.lit(None, pl.String),
    }
