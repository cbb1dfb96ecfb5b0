"""Google Merchant Center product feeds: the tab-separated text feed, and the XML feed (RSS 2.0 or Atom 1.0
with Google's `g:` namespace, http://base.google.com/ns/1.0).

Google's attributes fill the catalogue's columns by Google's rules (etl.formats.products); every other field
is an attribute, as text.

- Text feed: the first line names the attributes. A name is read in any case, with or without `g:`, and with
  spaces for underscores (`Image Link` is image_link), as Google reads them. A file is read as a text feed
  unless its name ends in .xml, .rss or .atom (compressed or not).
- XML feed: each <item> (RSS) or <entry> (Atom) is one product, read streaming by etl.readers.xml: its
  elements in Google's namespace, and RSS's and Atom's own title, link (Atom: its href) and description
  (Atom: summary, else content), become fields (Atom's entry <id> is the attribute atom:id, not the product's
  id); an element in any other namespace is an attribute under its prefix (`c:stock`). A repeated element
  is a list (its first value fills a column); a nested one (g:shipping) an object.
"""

from __future__ import annotations

import polars as pl
from pydantic import ConfigDict

from etl.formats.plan import Plan
from etl.formats.products import (
    GOOGLE_FIELDS,
    ProductOptions,
    json_plan,
    plan_of,
    typed,
)
from etl.formats.rows import RAW
from etl.transforms.steps import FormatFields

NAME = "google_merchant"
ENTITY = "products"
READERS = ("csv", "xml")  # by the file's name: .xml, .rss, .atom (and .gz of them) are XML
SUMMARY = "Google Merchant Center product feeds: the tab-separated text feed, or RSS/Atom XML with g: fields"
API = None  # read from files


class Options(ProductOptions):
    """Options of the `google_merchant` format."""

    model_config = ConfigDict(extra="forbid", title="GoogleMerchantOptions")


FIELDS = FormatFields(name=NAME, knows=lambda field: bool(field), required=["id"], known=list(GOOGLE_FIELDS),
                      text_input=True)  # fmt: skip


def google_name(field: str) -> str:
    """The attribute a text feed's column names: any case, with or without g:, spaces for underscores."""
    name = field.strip().lower().removeprefix("g:")
    return "_".join(name.split())


def plan(header: list[str], options: Options, reader: str = "csv") -> Plan:
    """The plan for a text feed with this header (columns raw:<field>), or for XML items read into JSON
    objects (a `value` column)."""
    if reader == "xml":
        return json_plan(NAME, options, "xml")
    by_name: dict[str, str] = {}
    for field in header:
        if google_name(field) in GOOGLE_FIELDS:
            by_name.setdefault(google_name(field), field)  # a repeated attribute: its first column fills it
    others = [field for field in header if by_name.get(google_name(field)) != field]
    missing = [] if "id" in by_name else ["id"]
    problems = tuple(
        f"column {n} has no name, and every field becomes an attribute, which needs one"
        for n, field in enumerate(header, 1)
        if not field.strip()
    )

    def transform(lf: pl.LazyFrame):
        # a field a `cast` transform typed is read as its canonical text
        texts = {
            f: pl.col(RAW + by_name[f]).cast(pl.String) if f in by_name else pl.lit(None, pl.String)
            for f in GOOGLE_FIELDS
        }
        cells = [pl.col(RAW + field).cast(pl.String).alias(field) for field in others]
        attributes = pl.struct(cells).struct.json_encode() if cells else pl.lit("{}")
        return typed(lf, texts, attributes, "{}", options)

    return plan_of(NAME, options, "csv", transform, header, missing=missing, ignored=[], problems=problems)
