"""Kevel Audience's product import: JSON lines, one product per line, with Google Merchant's field names.

Only `id` is required. The Google fields (etl.formats.products.GOOGLE_FIELDS: id, title, description, link,
image_link, price, sale_price, availability, brand, product_type, google_product_category, item_group_id, gtin,
mpn, condition, color, size) fill the catalogue's columns by Google's rules (see etl.formats.products); every
other field is kept as an attribute with its JSON type (a number stays a number). A price may be a JSON number
when options.currency names its currency.
"""

from __future__ import annotations

from pydantic import ConfigDict

from etl.formats.plan import Plan
from etl.formats.products import GOOGLE_FIELDS, ProductOptions, json_plan
from etl.transforms.steps import FormatFields

NAME = "kevel_products"
ENTITY = "products"
READERS = ("jsonl",)
SUMMARY = "Kevel Audience's product import: JSON lines with Google Merchant's field names"
API = None  # read from files


class Options(ProductOptions):
    """Options of the `kevel_products` format."""

    model_config = ConfigDict(extra="forbid", title="KevelProductsOptions")


FIELDS = FormatFields(name=NAME, knows=lambda field: bool(field), required=["id"], known=list(GOOGLE_FIELDS),
                      text_input=True)  # fmt: skip


def plan(header: list[str], options: Options, reader: str = "jsonl") -> Plan:
    """The plan for JSON lines (a `value` column, the object's JSON text; `header` is unused)."""
    return json_plan(NAME, options, "jsonl")
