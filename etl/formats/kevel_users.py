"""Kevel Audience's user import: every field becomes a user attribute, except the id fields.

A CSV (every value text, unless a `cast` transform types it: a JSON number or bool) or JSON lines (values keep
their JSON types).
The plan gives each record its ids and a JSON merge patch of its attributes, which the customers entity
applies to the person's attributes (RFC 7386: a null removes an attribute):

- `ids`: the values of the id fields, one per `id_types` entry of the plan (null when empty): the `id`
  field (Kevel's form: one id field and its type) and the `ids` fields of our form. (A list of text: a
  list of structs costs Polars ten times as much.) Every id is trimmed, emails (and email_sha256) lowercased,
  the others kept in their case (etl.formats.ids; `fold_id_case` lowercases them all); the default id types
  (email, email_sha256, phone, external_id) are checked: an invalid id rejects the record, and so does a
  record without any id. With `hash_emails`, emails become email_sha256 after that.
- `patch`: the other fields as a JSON object (for JSON lines the whole object, and `not_attributes` names the
  id fields the merge takes out of it, as a merge patch of nulls). A CSV cell that is empty is left out (`empty_values:
  ignore`) or removes the attribute (`unset`); a JSON null removes it (`nulls: unset`) or is left out
  (`ignore`).
- `updated_at`: with `updated_at_field`, its ISO-8601 timestamp (a value older than the stored one never
  overwrites it); an invalid one rejects the record.
- `hash_hi`, `hash_lo` (made by the engine with the plan's `hash_salt`): a 128-bit hash of the record as read,
  its field names and the options, which decide all of the above: by it the customers entity knows a record
  it applied before without reading it again.

Two records for one person in one file: the later one wins, attribute by attribute.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)
from pydantic import BaseModel, ConfigDict, Field, model_validator

from etl.formats.columns import CUSTOMER_STAGED
from etl.formats.hashing import salt
from etl.formats.ids import EMAIL, PHONE, SHA256_HEX, fold_id_case_option, normalised
from etl.formats.plan import CustomersFacts, Plan
from etl.formats.rows import RAW, Check, _datetime
from etl.names import nearest
from etl.transforms.steps import FormatFields

NAME = "kevel_users"
ENTITY = "customers"
READERS = ("csv", "jsonl")  # by the file's name: .jsonl, .ndjson (and .gz of them) are JSON lines
SUMMARY = "Kevel Audience's user import (CSV or JSON lines): ids and attributes of people"
API = None  # read from files

DEFAULT_TYPES = ("email", "email_sha256", "phone", "external_id")
HASH_VERSION = "users-3"  # of the record hash (hash_hi, hash_lo): changed when what it covers changes
VALID = {"email": EMAIL, "email_sha256": SHA256_HEX, "phone": PHONE}


class IdField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The field holding the user id.")
    type: str = Field(description="Its id type: email, email_sha256, phone, external_id, or another name.")


class Options(BaseModel):
    """Options of the `kevel_users` format."""

    model_config = ConfigDict(extra="forbid", title="KevelUsersOptions")

    id: IdField | None = Field(None, description="Kevel's form: the one field that identifies the user, and its type.")
    ids: dict[str, str] = Field(
        default_factory=dict, description="More id fields, as {id type: field}, linked to the same person."
    )
    strategy: Literal["merge", "replace"] = Field(
        "merge", description="merge: attributes not in the file stay; replace: the file's are the user's whole set."
    )
    empty_values: Literal["ignore", "unset"] = Field(
        "ignore", description="A CSV empty cell: ignore (the attribute is untouched) or unset (it is removed)."
    )
    nulls: Literal["unset", "ignore"] = Field(
        "unset", description="A JSON null: unset (the attribute is removed) or ignore (untouched)."
    )
    updated_at_field: str | None = Field(
        None, description="A timestamp field: a value older than the stored one never overwrites it."
    )
    hash_emails: bool = Field(False, description="Email ids lowercased, trimmed, then sha256 -> email_sha256.")
    fold_id_case: bool = fold_id_case_option()

    @model_validator(mode="after")
    def _some_id(self) -> Options:
        if self.id is None and not self.ids:
            raise ValueError("an id is required: id {field, type} (Kevel's form), or ids {type: field}")
        if self.updated_at_field and self.updated_at_field in self.id_fields():
            raise ValueError(f"updated_at_field {self.updated_at_field!r} is an id field")
        for id_type in self.id_fields().values():
            near = nearest(id_type, list(DEFAULT_TYPES))
            if id_type not in DEFAULT_TYPES and near and near.lower() != id_type.lower():  # a misspelt one
                raise ValueError(
                    f"unknown id type {id_type!r} (did you mean {near}?); the default types are "
                    f"{', '.join(DEFAULT_TYPES)}, and a name not this close to one is kept as given"
                )
        return self

    def id_fields(self) -> dict[str, str]:
        """{field: id type} of every id field."""
        fields = {field: id_type for id_type, field in self.ids.items()}
        if self.id is not None:
            fields[self.id.field] = self.id.type
        return fields


FIELDS = FormatFields(
    name=NAME, knows=lambda field: bool(field), required=[], known=[], text_input=True
)  # every field is an attribute


# what a users format stages of each record (the customers entity reads them)


def plan(header: list[str], options: Options, reader: str = "csv") -> Plan:
    """The plan for a CSV with this header (columns raw:<field>), or for JSON lines (one `value` column, the
    object's JSON text; `header` is then the id fields the plan needs, which the reader cannot check)."""
    id_fields = options.id_fields()
    if not id_fields:
        raise ValueError("kevel_users needs an id: options.id {field, type}, or options.ids {type: field}")
    missing = [f for f in id_fields if f not in header] if reader == "csv" else []
    attributes = [h for h in header if h not in id_fields] if reader == "csv" else []
    problems = tuple(
        f"column {n} has no name, and every field becomes an attribute, which needs one"
        for n, name in enumerate(header, 1)
        if not name.strip()
    )
    transform = lambda lf: _typed(lf, reader, id_fields, attributes, options)  # noqa: E731
    return Plan(
        transform=transform, facts=CustomersFacts(id_types=_id_types(id_fields, options)), header=header,
        missing=missing, ignored=[], problems=problems, reader=reader, kept_columns=CUSTOMER_STAGED, row_wise=True,
        # the record as read, its field names and the options decide all the plan makes of it (no Polars hash)
        hash_salt=salt(HASH_VERSION, NAME, options, reader=reader, header=header, polars=False),
    )  # fmt: skip


def _id_types(id_fields: dict[str, str], options: Options) -> tuple[str, ...]:
    """The type of each id value, in the order of id_fields."""
    return tuple("email_sha256" if _hashed(id_type, options) else id_type for id_type in id_fields.values())


def _hashed(id_type: str, options: Options) -> bool:
    """An email id stored as its sha256 (hash_emails), under the type email_sha256."""
    return options.hash_emails and id_type == "email"


def _value(field: str, reader: str) -> pl.Expr:
    """The field's text: a CSV cell, or a JSON value (strings without quotes)."""
    if reader == "csv":
        return pl.col(RAW + field)
    return pl.col("value").str.json_path_match(f"$[{_json_string(field)}]")


def _json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _typed(lf: pl.LazyFrame, reader: str, id_fields: dict[str, str], attributes: list[str], options: Options):
    checks: list[Check] = []
    ids: list[pl.Expr] = []
    for field, id_type in id_fields.items():
        raw = _value(field, reader)
        value = normalised(raw, id_type, fold_case=options.fold_id_case)  # the ids' rule: etl.formats.ids
        value = pl.when(value.str.len_bytes() > 0).then(value)
        if id_type in VALID:
            checks.append(
                Check(field, f"not a valid {id_type} id", value.is_not_null() & ~value.str.contains(VALID[id_type]))
            )
        if _hashed(id_type, options):
            value = value.chash.sha2_256()
        ids.append(value)
    checks.append(
        Check("(ids)", "no id: every id field is empty or missing", pl.all_horizontal(v.is_null() for v in ids))
    )

    updated_at = pl.lit(None, pl.Datetime("us", "UTC"))
    if options.updated_at_field:
        text = _value(options.updated_at_field, reader)
        updated_at, invalid = _datetime(text)
        checks.append(
            Check(options.updated_at_field, "not an ISO-8601 date and time", text.is_not_null() & invalid(updated_at))
        )
    if reader == "csv":
        typed = lf.collect_schema()  # a field a `cast` transform typed keeps its type: a JSON number or bool
        cells = [
            pl.col(RAW + name).alias(name)
            if typed.get(RAW + name, pl.String) != pl.String
            else pl.when(pl.col(RAW + name).str.len_bytes() > 0).then(pl.col(RAW + name)).alias(name)
            for name in attributes
        ]
        patch = pl.struct(cells).struct.json_encode() if cells else pl.lit("{}")
        drop_nulls = options.empty_values == "ignore"
        not_attributes = "{}"
    else:
        patch = pl.col("value")
        drop_nulls = options.nulls == "ignore"
        not_attributes = "{" + ",".join(f"{_json_string(f)}:null" for f in id_fields) + "}"
    lf = lf.with_columns(
        ids=pl.concat_list(ids),
        patch=patch,
        not_attributes=pl.lit(not_attributes),  # keys the merge takes out of the patch: the id fields
        drop_nulls=pl.lit(drop_nulls),
        updated_at=updated_at,
    )
    return lf, checks
