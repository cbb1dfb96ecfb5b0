"""What every order format produces: typed "order rows", one per input row.

A format module describes its columns (source name, canonical name, kind, required,
order- or line-level) and returns a LazyFrame holding the canonical columns next to the
raw text, plus a list of checks: (column, hint, failed) where `failed` is a boolean
Polars expression. The engine rejects each row where any check failed, with every
failed check's column and hint as the reasons.

The kinds and their rules (documented in docs/formats/kevel_orders.md):
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
import polars_hash  # noqa: F401  (registers .nchash: xxh3-128 without per-row Python)


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
    """The raw text of the input column `name` (a field a `cast` transform typed, as its canonical text:
    these formats have a schema that types the value again; a cast to String of text is a no-op)."""
    return pl.col(RAW + name).cast(pl.String)


STATUSES = ["placed", "paid", "fulfilled", "refunded", "cancelled"]
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$"
ISO_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"


def with_runs(lf: pl.LazyFrame, order_id: pl.Expr) -> pl.LazyFrame:
    """Number the runs of consecutive rows with one order id, and the rows within a run.

    _first: the row starts a run (its order id differs from the row above; a row without
    an id starts one of its own); _run: the run's number, from 1; _line_no: the row's
    position in its run, from 1, counted in records (a blank line inside a run, skipped,
    leaves a gap). Sequential scans that Polars streams; kept to the cheapest ones
    (a second row index would cost a tenth of the import). Numbered once: rows the engine
    numbered already (Plan.run_key, on a re-import) are left as they are.
    """
    if "_run" in lf.collect_schema().names():
        return lf
    first = order_id.ne_missing(order_id.shift(1)).fill_null(True) | order_id.is_null()
    lf = lf.with_columns(_first=first)
    run_start = pl.when(pl.col("_first")).then(pl.col("_row")).forward_fill()
    return lf.with_columns(
        _run=pl.col("_first").cast(pl.UInt32).cum_sum(),
        _line_no=(pl.col("_row") - run_start + 1).cast(pl.Int32),
    )


@dataclass(frozen=True)
class Check:
    column: str
    # The reason given. An expression when it depends on the value: it is evaluated for the
    # rejected rows only, so it costs nothing on the rows that pass.
    hint: str | pl.Expr
    failed: pl.Expr
    value: pl.Expr | None = None  # the value shown in the reject; None: the column's raw text


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
        """The typed value, and the checks; checks read the typed column, computed once."""
        text = raw(self.source)
        value, invalid = _PARSERS[self.kind](text)
        checks = []
        if self.required:
            checks.append(Check(self.source, "required value is missing", text.is_null()))
        if invalid is not None:
            hint: str | pl.Expr = _HINTS[self.kind]
            if self.kind is Kind.DOUBLE:  # Excel in many locales writes 12,5: say so, by name
                hint = pl.when(text.str.contains(",", literal=True)).then(pl.lit(COMMA_HINT)).otherwise(pl.lit(hint))
            checks.append(Check(self.source, hint, text.is_not_null() & invalid(pl.col(self.target))))
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
    value = (
        pl.when(raw.is_null())
        .then(False)
        .otherwise(pl.when(lowered == "true").then(True).when(lowered == "false").then(False))
    )
    return value, lambda v: v.is_null()


def _datetime(raw: pl.Expr):
    # One space may stand for the T; %#z reads Z, +01:00 and +0100. Values without an
    # offset are read as UTC. The regex keeps chrono from accepting near-misses. Each value
    # goes to the one parser that fits it: a parse that fails costs as much as one that works.
    text = pl.when(raw.str.contains(ISO_DATETIME)).then(raw.str.replace(" ", "T", literal=True, n=1))
    has_offset = raw.str.contains(ISO_OFFSET)
    with_offset = pl.when(has_offset).then(text)
    with_offset = with_offset.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False)
    naive = pl.when(~has_offset).then(text).str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    return pl.coalesce(with_offset, naive.dt.replace_time_zone("UTC")), lambda v: v.is_null()


def split_list(text: pl.Expr, separator: str = ";") -> pl.Expr:
    """A list written as text: split on `separator`, items trimmed, empty items dropped."""
    return text.str.split(separator).list.eval(pl.element().str.strip_chars().filter(pl.element().str.len_bytes() > 0))


def _list(raw: pl.Expr):
    return split_list(raw), None


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
COMMA_HINT = "a comma in a number (a decimal comma, 12,5, or a thousands separator, 1,234.5): write 12.5 or 1234.5"
_HINTS = {
    Kind.DOUBLE: "not a number (Double, e.g. 102.5)",
    Kind.LONG: "not a whole number (Long, e.g. 15552000000)",
    Kind.BOOLEAN: "not a boolean (true or false)",
    Kind.DATETIME: "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)",
    Kind.CURRENCY: "not a three-letter currency code (e.g. EUR)",
    Kind.STATUS: "not a line item status (placed, paid, fulfilled, refunded, cancelled)",
}


ORDER_REJECT_KEYS = ("order_id",)  # the canonical columns an order format's reject keeps (the merge needs them)
# of the order rows' hash (run_hashes): changed when what a format makes of the same rows changes
ORDER_ROWS_HASH_VERSION = "order-rows-1"


def order_kept_columns(order_columns: list[str], line_columns: list[str]) -> tuple[str, ...]:
    """The canonical columns an order format stages for each kept row: the run's, the order's and the line's,
    and the row's hash."""
    lines = (c for c in line_columns if c not in order_columns)
    return ("_first", "_line_no", *order_columns, *lines, "hash_hi", "hash_lo")


HASH_SEPARATOR = "\x1e"  # between the parts of a record hash: a control character no field holds unescaped


def record_hash(parts: list[pl.Expr], salt: str) -> dict[str, pl.Expr]:
    """A 128-bit hash of a record's parts (texts; a null is not an empty text), as `hash_hi` and `hash_lo` (two
    UInt64, which Parquet and DuckDB take as they are): what lets an entity tell a record it applied before
    without looking it up. `salt`: what else decides the record's effect (options, the hash's version).
    xxh3-128, so that a collision is not a concern at any number of records."""
    text = pl.concat_str(
        [*(p.cast(pl.String).fill_null("\x00") for p in parts), pl.lit(salt)], separator=HASH_SEPARATOR
    )
    digest = text.nchash.xxh3_128()
    return {"hash_hi": (digest // (1 << 64)).cast(pl.UInt64), "hash_lo": (digest % (1 << 64)).cast(pl.UInt64)}


def row_hashes(parts: list[pl.Expr], salt: str) -> dict[str, pl.Expr]:
    """Two 64-bit hashes of a row as read (`_row_h1`, `_row_h2`; see run_hashes). Element-wise: made before the
    runs are numbered, as after that sequential step the hashing ran half as fast."""
    row = pl.struct([*(p.alias(f"_{i}") for i, p in enumerate(parts)), pl.lit(salt).alias("_salt")])
    return {"_row_h1": row.hash(1), "_row_h2": row.hash(2)}


def run_hashes(lf: pl.LazyFrame) -> pl.LazyFrame:
    """A 128-bit hash of each row of numbered runs (with_runs) whose rows were hashed (row_hashes), as `hash_hi`
    and `hash_lo`: of the row as read, its position in the run and the run's first row as read. So a row's hash
    is known only while the row, its place and its record's first row (where an order's fields are) are what
    was applied, and a run whose first row changed has no known row. Polars' own row hash, seeded (a quarter of
    the cost of xxh3 over the joined texts): it may change between Polars versions, which the salt names, and
    then no row is known, once; a null is not an empty text."""
    of_run = [pl.when(pl.col("_first")).then(pl.col(half)).forward_fill() for half in ("_row_h1", "_row_h2")]
    whole = pl.struct(*(e.alias(f"_{i}") for i, e in
                        enumerate([pl.col("_row_h1"), pl.col("_row_h2"), *of_run, pl.col("_line_no")])))  # fmt: skip
    return lf.with_columns(hash_hi=whole.hash(3), hash_lo=whole.hash(4)).drop("_row_h1", "_row_h2")
