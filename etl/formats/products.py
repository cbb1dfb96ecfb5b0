"""What every product format produces: one typed row per product record, in the canonical product columns.

Both product formats (kevel_products, google_merchant) name their fields as Google Merchant Center does
(`GOOGLE_FIELDS`); the rules are Google's:

- `id` is required (trimmed); every other field is optional. An empty value is no value.
- `price` and `sale_price` are written as Google writes them, an amount and an ISO 4217 code, `15.00 USD`
  (`USD 15.00` and a JSON number are read too). A price without a currency takes options.currency, and is
  rejected without it: an amount in an unknown currency cannot be compared with an order line's. A sale price
  in another currency than the price is rejected. A comma in the amount is rejected, with a hint.
- `availability`: in_stock, out_of_stock, preorder or backorder; Google's older spelling with a space
  (`in stock`) is read as the same. `condition`: new, refurbished or used. Any case.
- `product_type` is the category as one text, `Home > Kitchen > Knives`; `categories` is that path split on
  `>`, most general first (what line items' categories are). A field given several values (a JSON array, a
  repeated XML element) takes its first.
- Every other field is an attribute (`attributes`, a JSON object; an attribute without a value is left out).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from etl.formats.columns import PRODUCT_STAGED
from etl.formats.hashing import salt
from etl.formats.plan import Plan, ProductsFacts
from etl.formats.rows import COMMA_HINT, Check, split_list

# Google Merchant's attribute -> the canonical product column it fills
GOOGLE_FIELDS: dict[str, str] = {
    "id": "product_id", "item_group_id": "item_group_id", "title": "name", "description": "description",
    "brand": "brand", "product_type": "category", "google_product_category": "google_product_category",
    "price": "price", "sale_price": "sale_price", "availability": "availability", "condition": "condition",
    "link": "link", "image_link": "image_link", "gtin": "gtin", "mpn": "mpn", "color": "color", "size": "size",
}  # fmt: skip
# what the products entity stages, and stores, of each record
REJECT_KEYS = ("product_id",)
AVAILABILITY = ["in_stock", "out_of_stock", "preorder", "backorder"]
CONDITIONS = ["new", "refurbished", "used"]
HASH_VERSION = "products-1"  # of the record hash: changed when what a format makes of the same record changes
# an amount, with its currency code before or after it
_PRICE = r"^\s*(?:([A-Za-z]{3})\s*)?([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\s*([A-Za-z]{3}))?\s*$"


class ProductOptions(BaseModel):
    """Options of every product format."""

    model_config = ConfigDict(extra="forbid")

    missing: Literal["keep", "unavailable"] = Field(
        "keep",
        description="A product the store holds that this import's files do not list: keep it as it is (a partial "
        "feed), or mark it unavailable (a full feed: availability out_of_stock, missing_since set). Never deleted.",
    )
    currency: str | None = Field(
        None, description="The ISO 4217 code of prices written without one (else such a price is rejected)."
    )

    @field_validator("currency")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 3 and value.isalpha()):
            raise ValueError(f"currency {value!r}: expected a three-letter ISO 4217 code, e.g. EUR")
        return value.upper() if value else value


def _given(text: pl.Expr) -> pl.Expr:
    """The text, null when it is empty or blank."""
    return pl.when(text.str.strip_chars().str.len_bytes() > 0).then(text)


def _price(field: str, default_currency: str | None) -> tuple[dict[str, pl.Expr], list[Check]]:
    """The columns _<field>_amount and _<field>_currency of a price written as text (column _g:<field>, made
    by `typed`, and _<field>_parts), and its checks."""
    text = pl.col(GIVEN + field)
    parts = pl.col(f"_{field}_parts")
    amount = parts.struct[1].cast(pl.Float64, strict=False)
    code = pl.coalesce(parts.struct[2], parts.struct[0]).str.to_uppercase()
    currency = pl.when(text.is_not_null()).then(pl.coalesce(code, pl.lit(default_currency, pl.String)))
    amount_col, currency_col = pl.col(f"_{field}_amount"), pl.col(f"_{field}_currency")
    unreadable = text.is_not_null() & (amount_col.is_null() | ~amount_col.is_finite())
    readable = text.is_not_null() & ~unreadable
    hint = (
        pl.when(text.str.contains(",", literal=True))
        .then(pl.lit(COMMA_HINT))
        .otherwise(pl.lit("not a price (an amount and its currency, e.g. 15.00 USD)"))
    )
    checks = [
        Check(field, hint, unreadable, text),
        Check(field, "a negative price", readable & (amount_col < 0), text),
        Check(
            field,
            "a price without a currency: write it as 15.00 USD, or set options.currency",
            readable & currency_col.is_null(),
            text,
        ),
    ]
    return {f"_{field}_amount": amount, f"_{field}_currency": currency}, checks


GIVEN = "_g:"  # the Google fields' texts, once each (Polars does not share a costly expression between columns)


def typed(lf: pl.LazyFrame, texts: dict[str, pl.Expr], attributes: pl.Expr, not_attributes: str,
          options: ProductOptions) -> tuple[pl.LazyFrame, list[Check]]:  # fmt: skip
    """`lf` with the canonical product columns made from the Google fields' texts (`texts`: field -> String
    expression over lf, null when absent), and the checks. `attributes`: the record's other fields as a JSON
    object (text); `not_attributes`: a JSON object of nulls naming keys of `attributes` the store leaves out
    (the canonical fields, when `attributes` is the whole record). In steps, each value made once."""
    lf = lf.with_columns(**{GIVEN + field: _given(texts[field]) for field in GOOGLE_FIELDS})
    given = {field: pl.col(GIVEN + field) for field in GOOGLE_FIELDS}
    lf = lf.with_columns(**{f"_{f}_parts": given[f].str.extract_groups(_PRICE) for f in ("price", "sale_price")})
    price_columns, price_checks = _price("price", options.currency)
    sale_columns, sale_checks = _price("sale_price", options.currency)
    lf = lf.with_columns(**price_columns, **sale_columns)
    price, price_currency = pl.col("_price_amount"), pl.col("_price_currency")
    sale, sale_currency = pl.col("_sale_price_amount"), pl.col("_sale_price_currency")
    checks: list[Check] = [Check("id", "required value is missing", given["id"].is_null(), texts["id"])]
    checks += price_checks + sale_checks
    checks.append(
        Check(
            "sale_price",
            pl.lit("in another currency than price (") + sale_currency + " and " + price_currency + ")",
            sale_currency.is_not_null() & price_currency.is_not_null() & (sale_currency != price_currency),
            given["sale_price"],
        )
    )
    availability = given["availability"].str.strip_chars().str.to_lowercase().str.replace_all(r"[\s-]+", "_")
    condition = given["condition"].str.strip_chars().str.to_lowercase()
    checks.append(
        Check("availability", f"not an availability ({', '.join(AVAILABILITY)})",
              pl.col("availability").is_not_null() & ~pl.col("availability").is_in(AVAILABILITY),
              given["availability"])
    )  # fmt: skip
    checks.append(
        Check("condition", f"not a condition ({', '.join(CONDITIONS)})",
              pl.col("condition").is_not_null() & ~pl.col("condition").is_in(CONDITIONS), given["condition"])
    )  # fmt: skip
    category = given["product_type"]
    columns = {
        "product_id": given["id"].str.strip_chars(),
        "item_group_id": given["item_group_id"],
        "name": given["title"],
        "description": given["description"],
        "brand": given["brand"],
        "category": category,
        "categories": split_list(category, ">"),
        "google_product_category": given["google_product_category"],
        "price": price,
        "sale_price": sale,
        "currency": pl.coalesce(pl.when(price.is_not_null()).then(price_currency), sale_currency),
        "availability": availability,
        "condition": condition,
        "link": given["link"],
        "image_link": given["image_link"],
        "gtin": given["gtin"],
        "mpn": given["mpn"],
        "color": given["color"],
        "size": given["size"],
        "attributes": attributes,
        "not_attributes": pl.lit(not_attributes),
    }
    return lf.with_columns(**columns), checks


def json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


NOT_ATTRIBUTES = "{" + ",".join(f"{json_string(f)}:null" for f in GOOGLE_FIELDS) + "}"
# a Google field given as a list or an object: such records read their fields one by one (json_path_match)
_NESTED = r'"(?:' + "|".join(GOOGLE_FIELDS) + r')":[\[{]'
_DECODED = pl.Struct({field: pl.String for field in GOOGLE_FIELDS})


def json_texts(lf: pl.LazyFrame) -> tuple[pl.LazyFrame, dict[str, pl.Expr]]:
    """The Google fields' texts of JSON objects (column `value`, minified, as the JSON lines reader gives them):
    numbers and booleans as their JSON text, a list as its first item. One decoding of the object for all of
    them (a column of its own), but for the rare object where one of them is a list or an object (decoding
    those as text fails), whose fields are read one by one."""
    value = pl.col("value")
    lf = lf.with_columns(_nested=value.str.contains(_NESTED))
    lf = lf.with_columns(_decoded=pl.when(~pl.col("_nested")).then(value).str.json_decode(_DECODED))
    one_by_one = pl.when(pl.col("_nested")).then(value)
    texts = {}
    for field in GOOGLE_FIELDS:
        key = json_string(field)
        first = one_by_one.str.json_path_match(f"$[{key}]")
        item = one_by_one.str.json_path_match(f"$[{key}][0]")
        texts[field] = pl.coalesce(
            pl.col("_decoded").struct.field(field), pl.when(first.str.starts_with("[")).then(item).otherwise(first)
        )
    return lf, texts


def json_checks(value: pl.Expr) -> list[Check]:
    """A Google field given as an object (not a text, a number or a list) is not read. Looked for only in the
    records json_texts found a list or an object in (`_nested`)."""
    fields = "|".join(GOOGLE_FIELDS)
    found = pl.when(pl.col("_nested")).then(value).str.extract(r'"(' + fields + r')":\{', 1)
    return [Check("(record)", pl.lit("a field is an object, expected a text or a number: ") + found,
                  found.is_not_null(), found)]  # fmt: skip


def plan_of(format_name: str, options: ProductOptions, reader: str, transform, header: list[str], **fields) -> Plan:
    """A product format's plan: the record as read, its fields and the options decide what it stores (the salt)."""
    return Plan(transform=transform, facts=ProductsFacts(), header=header, reader=reader, kept_columns=PRODUCT_STAGED,
                reject_keys=REJECT_KEYS, hash_salt=salt(HASH_VERSION, format_name, options, reader=reader,
                                                        header=header), row_wise=True, **fields)  # fmt: skip


def json_plan(format_name: str, options: ProductOptions, reader: str) -> Plan:
    """The plan for JSON objects (a `value` column, minified): JSON lines, or an XML feed read into them."""

    def transform(lf: pl.LazyFrame):
        lf, texts = json_texts(lf)
        lf, checks = typed(lf, texts, pl.col("value"), NOT_ATTRIBUTES, options)
        return lf, json_checks(pl.col("value")) + checks

    return plan_of(format_name, options, reader, transform, [], missing=[], ignored=[])
