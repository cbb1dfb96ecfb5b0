"""The steps of a spec as one pure function: LazyFrame of text records -> LazyFrame.

Each record field is a String column named <prefix><field> (the engine passes the prefix
its formats read). Every step is a handful of Polars expressions over whole columns; no
Python runs per row. A value that fails a step (a timestamp that does not match, a cast
that cannot be made) becomes null and the step reports it as a Failure: a boolean column
and the value as read, which the engine turns into a reject with its reason.

Value transformations, in the order they apply within one rename or copy:
- trim: surrounding whitespace removed; lowercase: lower-cased (Unicode rules);
- map: each from -> to; a value matching no from is kept. Records are text, so from keys
  are text (the spec check refuses numbers); "" (or null) matches an empty field, which a
  CSV cannot tell from a missing one. A to of null empties the field; numbers and booleans
  are written as text (1 -> "1", true -> "true");
- timestamp: the pattern's date and time as ISO-8601 UTC text (etl.transforms.timestamp);
- cast: the value as the JSON type the cast names (etl.transforms.cast): an Int64, Float64 or Boolean column
  (integer "2.4" -> 2, float "1e3" -> 1000.0, bool "0" -> false), so that a users import stores a number or a
  bool (002's castTo exists for numeric segments); formats with a schema read it as its canonical text
  (etl.formats.rows.raw: "2", "1000.0", "false"). A later step that changes values reads that text;
- sha256: the hex sha256 of the trimmed, lower-cased value (as Kevel hashes ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import polars_hash  # noqa: F401  (registers .chash: sha256 without per-row Python)

from etl.transforms.cast import cast_value
from etl.transforms.steps import FieldMove, StepView, scalar_text, views
from etl.transforms.timestamp import TimestampPattern


@dataclass(frozen=True)
class Failure:
    """Rows where a step could not transform the value it read."""

    column: str  # the field the step read
    target: str  # the field it writes
    hint: str
    failed: pl.Expr  # Boolean, never null
    value: pl.Expr  # the value as read, where it failed


def apply(lf: pl.LazyFrame, steps: list[Any], prefix: str) -> tuple[pl.LazyFrame, list[Failure]]:
    """The records after every step, and the failures to reject rows for."""
    failures: list[Failure] = []
    for view in views(steps):
        if view.kind in ("rename", "copy"):
            assert view.move is not None
            lf, failure = _move(lf, view, view.move, prefix)
            if failure is not None:
                failures.append(failure)
        elif view.kind == "new":
            lf = lf.with_columns(pl.lit(scalar_text(view.value), pl.String).alias(prefix + str(view.writes)))
        else:
            lf = lf.drop(prefix + str(view.removes))
    return lf, failures


def _move(lf: pl.LazyFrame, view: StepView, move: FieldMove, prefix: str) -> tuple[pl.LazyFrame, Failure | None]:
    source = pl.col(prefix + move.source)
    changes_values = move.trim or move.lowercase or move.map or move.timestamp is not None or move.sha256
    # an earlier cast made the field typed: the value transformations read its canonical text (a no-op on text)
    value = source.cast(pl.String) if changes_values or move.cast is not None else source
    if move.trim:
        value = value.str.strip_chars()
    if move.lowercase:
        value = value.str.to_lowercase()
    if move.map:
        value = _mapped(value, move.map)
    # A timestamp or a cast is parsed once into a column of its own; the text, the failure
    # flag and the value shown in rejects are read from that column (Polars would otherwise
    # parse again for each of them).
    parsed_name, flag, shown = (f"_transform_{what}{view.index}" for what in ("parsed", "failed", "value"))
    parsed = pl.col(parsed_name)
    text: pl.Expr
    if move.timestamp is not None:
        pattern = TimestampPattern.compile(move.timestamp)
        lf = lf.with_columns(pattern.instant(value).alias(parsed_name))
        text, problem = pattern.iso_text(parsed), f'does not match the timestamp pattern "{move.timestamp}"'
    elif move.cast is not None and move.cast != "string":
        cast, _ = cast_value(value, pl.String(), move.cast)
        lf = lf.with_columns(cast.alias(parsed_name))
        text, problem = parsed, f"cannot be cast to {move.cast}"  # typed: Int64, Float64 or Boolean
    else:
        text, problem = value, ""
    if move.sha256:
        text = text.str.strip_chars().str.to_lowercase().chash.sha2_256()
    failure = None
    if problem:
        lf = lf.with_columns((value.is_not_null() & parsed.is_null()).alias(flag))
        lf = lf.with_columns(pl.when(pl.col(flag)).then(source).alias(shown))
        failure = Failure(move.source, move.to, f"{view.label}: {problem}", pl.col(flag), pl.col(shown))
    lf = lf.with_columns(text.alias(prefix + move.to))
    if view.kind == "rename" and move.source != move.to:  # in place (a cast of the field itself): nothing to drop
        lf = lf.drop(prefix + move.source)
    return lf, failure


def _mapped(value: pl.Expr, pairs: list[tuple[Any, Any]]) -> pl.Expr:
    """Replace each from by its to; "" or null as a from stands for the empty field.

    A chain of when/then rather than Expr.replace: in Polars 2.1 replace is not streamed,
    and one map on a 2.5-million-row file took the import from 0.8 to 1.9 GB.
    """
    mapped: Any = pl
    for key, target in pairs:
        matches = (value.is_null() | (value == "")) if key is None or key == "" else (value == key)
        mapped = mapped.when(matches).then(pl.lit(scalar_text(target), pl.String))
    return mapped.otherwise(value)
