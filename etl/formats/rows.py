"""What every order format produces: typed "order rows", one per input row.

A format module describes its columns (source name, canonical name, kind, required,
order- or line-level) and returns a LazyFrame holding the canonical columns next to the
raw text, plus a list of checks: (column, hint, failed) where `failed` is a boolean
Polars expression. The engine rejects each row where any check failed, with every
failed check's column and hint as the reasons.

The kinds and their rules (documented in the README, "Value rules"):
- STRING: kept exactly as given (no trimming: names may start with spaces on purpose).
- DOUBLE: surrounding spaces ignored; a finite decimal number ("1e3" allowed, "1,5",
  "NaN" and "inf" rejected).
- LONG: surrounding spaces ignored; a whole number that fits in 64 bits.
- BOOLEAN: true or false in any case; empty means false (the spec's default).
- DATETIME: ISO-8601 date and time, "T" or a space between them, optional fraction,
  offset as Z, +01:00 or +0100; without an offset the time is taken as UTC. Stored as
  a UTC timestamp.
- LIST: split on ";", items trimmed, empty items dropped.
- CURRENCY: three letters (ISO 4217 style), stored upper-case.
- STATUS: one of the line-item statuses, in any case, stored lower-case.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl


class Kind(enum.Enum):
    STRING = "String"
    DOUBLE = "Double"
    LONG = "Long"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    LIST = "List of Strings"
    CURRENCY = "String (currency code)"
    STATUS = "String (status)"


DTYPES: dict[Kind, pl.DataType] = {
    Kind.STRING: pl.String(),
    Kind.DOUBLE: pl.Float64(),
    Kind.LONG: pl.Int64(),
    Kind.BOOLEAN: pl.Boolean(),
    Kind.DATETIME: pl.Datetime("us", "UTC"),
    Kind.LIST: pl.List(pl.String()),
    Kind.CURRENCY: pl.String(),
    Kind.STATUS: pl.String(),
}

RAW = "raw:"  # raw text columns are named raw:<header name>, beside the canonical ones


def raw(name: str) -> pl.Expr:
    """The raw text of the input column `name`."""
    return pl.col(RAW + name)


STATUSES = ["placed", "paid", "fulfilled", "refunded", "cancelled"]
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$"


@dataclass(frozen=True)
class Check:
    column: str
    hint: str
    failed: pl.Expr


@dataclass(frozen=True)
class Column:
    source: str
    target: str
    kind: Kind
    required: bool
    level: str

    @property
    def dtype(self) -> pl.DataType:
        return DTYPES[self.kind]

    def parse(self) -> tuple[pl.Expr, list[Check]]:
        """The typed value, and the checks on the raw text."""
        raw = pl.col(RAW + self.source)
        value, invalid = _PARSERS[self.kind](raw)
        checks = []
        if self.required:
            checks.append(Check(self.source, "required value is missing", raw.is_null()))
        if invalid is not None:
            checks.append(Check(self.source, _HINTS[self.kind], raw.is_not_null() & invalid(value)))
        return value, checks


def _string(raw: pl.Expr):
    return raw, None


def _double(raw: pl.Expr):
    value = raw.str.strip_chars().cast(pl.Float64, strict=False)
    return value, lambda v: v.is_null() | ~v.is_finite()


def _long(raw: pl.Expr):
    return raw.str.strip_chars().cast(pl.Int64, strict=False), lambda v: v.is_null()


def _boolean(raw: pl.Expr):
    lowered = raw.str.strip_chars().str.to_lowercase()
    value = pl.when(raw.is_null()).then(False).otherwise(
        pl.when(lowered == "true").then(True).when(lowered == "false").then(False)
    )
    return value, lambda v: v.is_null()


def _datetime(raw: pl.Expr):
    text = raw.str.strip_chars()
    normal = (
        text.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"([+-]\d{2})(\d{2})$", "${1}:${2}")
    )
    has_offset = normal.str.contains(r"[+-]\d{2}:\d{2}$")
    normal = pl.when(has_offset).then(normal).otherwise(normal + "+00:00")
    value = pl.when(text.str.contains(ISO_DATETIME)).then(
        normal.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False)
    )
    return value, lambda v: v.is_null()


def _list(raw: pl.Expr):
    items = raw.str.split(";").list.eval(pl.element().str.strip_chars()).list.eval(
        pl.element().filter(pl.element() != "")
    )
    return items, None


def _currency(raw: pl.Expr):
    code = raw.str.strip_chars().str.to_uppercase()
    return code, lambda v: ~v.str.contains(r"^[A-Z]{3}$")


def _status(raw: pl.Expr):
    status = raw.str.strip_chars().str.to_lowercase()
    return status, lambda v: ~v.is_in(STATUSES)


_PARSERS: dict[Kind, Callable] = {
    Kind.STRING: _string,
    Kind.DOUBLE: _double,
    Kind.LONG: _long,
    Kind.BOOLEAN: _boolean,
    Kind.DATETIME: _datetime,
    Kind.LIST: _list,
    Kind.CURRENCY: _currency,
    Kind.STATUS: _status,
}
_HINTS = {
    Kind.DOUBLE: "not a number (Double, e.g. 102.5)",
    Kind.LONG: "not a whole number (Long, e.g. 15552000000)",
    Kind.BOOLEAN: "not a boolean (true or false)",
    Kind.DATETIME: "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)",
    Kind.CURRENCY: "not a three-letter currency code (e.g. EUR)",
    Kind.STATUS: "not a line item status (placed, paid, fulfilled, refunded, cancelled)",
}


@dataclass
class FormatPlan:
    """What a format makes of a file with a given header."""

    missing: list[str]
    ignored: list[str]
    transform: Callable[[pl.LazyFrame], tuple[pl.LazyFrame, list[Check]]]
