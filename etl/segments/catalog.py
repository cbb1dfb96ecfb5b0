"""The segments' SQL files: their headers parsed into a catalogue, parameters bound, and the segments
installed as DuckDB table macros (etl.store.connection does that when a writable connection finds the store's
schema stamp out of date). Running a segment against a store is etl.segments.run's; this module knows no store, so
that the store can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from etl.errors import EtlError
from etl.names import nearest

SEGMENTS_DIR = Path(__file__).parent / "sql"
TYPES = ("DATE", "INTEGER", "VARCHAR", "VARCHAR[]", "DOUBLE")


class SegmentError(EtlError):
    """A segment or its parameters are wrong."""


@dataclass(frozen=True)
class StoreDefault:
    """A default that the store decides: the header gives the parameter NULL and its help says `phrase`; the
    segment's SQL coalesces the parameter to the same value (tests compare the two)."""

    phrase: str  # as the parameter's help in the header says it
    label: str  # short, for `etl segment list`
    sql: str  # the value: an SQL expression over the segment's other parameters ($statuses, $days)


# "The store's last purchase day": the last day of purchase_facts, the macro last_purchase_day(statuses)
LAST_PURCHASE_DAY = StoreDefault(
    "default: the store's last purchase day (UTC)",
    "the store's last purchase day",
    "last_purchase_day($statuses::VARCHAR[])",
)
WINDOW_TO_LAST_PURCHASE_DAY = StoreDefault(
    "default: the window ending on the store's last purchase day (UTC)",
    "the `days` days up to the store's last purchase day",
    "last_purchase_day($statuses::VARCHAR[]) - $days::INTEGER + 1",
)
STORE_DEFAULTS = (LAST_PURCHASE_DAY, WINDOW_TO_LAST_PURCHASE_DAY)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    default: Any
    help: str
    store_default: StoreDefault | None = None  # its default NULL stands for a value the store decides


HEADER_LABELS = ("Grain:", "Parameters:", "Columns:", "Example:", "One of:", "Scores:")


@dataclass(frozen=True)
class Segment:
    name: str
    path: Path
    header: str  # the comment block, without the leading "-- "
    grain: str
    parameters: tuple[Parameter, ...]
    one_of: tuple[str, ...]  # parameters of which exactly one must be given (-- One of: a, b)
    body: str  # the SQL after the header

    @property
    def summary(self) -> str:
        """What the segment is: the header's text after its name, up to the first labelled part."""
        lines = []
        for line in self.header.splitlines()[1:]:
            if line.startswith(HEADER_LABELS):
                break
            lines.append(line.strip())
        return " ".join(lines)


_PARAMETER = re.compile(r"^\s{2,}(\w+)\s+(DATE|INTEGER|VARCHAR\[\]|VARCHAR|DOUBLE)\s+(required|\S.*?)\s{2,}(.+)$")


def _literal(text: str, type_: str, origin: str) -> Any:
    """A default as the header writes it: NULL, 7, 'x', ['a', 'b']."""
    text = text.strip()
    if text == "NULL":
        return None
    if type_ == "VARCHAR[]":
        inner = text.removeprefix("[").removesuffix("]")
        return [item.strip().strip("'") for item in inner.split(",") if item.strip()]
    try:
        return parse_value(Parameter("default", type_, False, None, ""), text.strip("'"))
    except SegmentError as exc:
        raise SegmentError(f"{origin}: the default {text!r}: {exc}") from None


def _store_default(help_text: str, default: Any, origin: str) -> StoreDefault | None:
    """The StoreDefault whose phrase the help says; a help that speaks of the store's last purchase day in other
    words is an error (its NULL would be reported as no value)."""
    for store_default in STORE_DEFAULTS:
        if store_default.phrase in help_text:
            if default is not None:
                raise SegmentError(f"{origin}: {store_default.phrase!r} needs the default NULL, not {default!r}")
            return store_default
    if "last purchase day" in help_text:
        phrases = " or ".join(repr(s.phrase) for s in STORE_DEFAULTS)
        raise SegmentError(f"{origin}: a default of the store's last purchase day is written {phrases}")
    return None


def _parse(path: Path) -> Segment:
    lines = path.read_text(encoding="utf-8").splitlines()
    header_lines = []
    for line in lines:
        if not line.startswith("--"):
            break
        header_lines.append(line[3:] if line.startswith("-- ") else line[2:])
    body = "\n".join(lines[len(header_lines) :]).strip()
    name = header_lines[0].removeprefix("Segment:").strip() if header_lines else ""
    if name != path.stem:
        raise SegmentError(f"{path}: the header must start with '-- Segment: {path.stem}'")
    grain = next((h.removeprefix("Grain:").strip() for h in header_lines if h.startswith("Grain:")), "")
    one_of = next((h.removeprefix("One of:").strip() for h in header_lines if h.startswith("One of:")), "")
    parameters = []
    in_parameters = False
    for h in header_lines:
        if h.startswith("Parameters:"):
            in_parameters = True
            continue
        if in_parameters:
            match = _PARAMETER.match(h)
            if not match:
                if not h.startswith(" "):
                    in_parameters = False
                continue
            pname, ptype, default, help_text = match.groups()
            required = default == "required"
            value = None if required else _literal(default, ptype, str(path))
            store_default = _store_default(help_text, value, str(path))
            parameters.append(Parameter(pname, ptype, required, value, help_text.strip(), store_default))
    used = set(re.findall(r"\$(\w+)", body))
    declared = {p.name for p in parameters}
    if used != declared:
        raise SegmentError(f"{path}: parameters used {sorted(used)} but declared {sorted(declared)}")
    return Segment(
        name=name,
        path=path,
        header="\n".join(header_lines),
        grain=grain,
        parameters=tuple(parameters),
        one_of=tuple(p.strip() for p in one_of.split(",") if p.strip()),
        body=body,
    )


@cache
def catalog() -> dict[str, Segment]:
    """Every segment, by name."""
    return {path.stem: _parse(path) for path in sorted(SEGMENTS_DIR.glob("*.sql"))}


def get(name: str) -> Segment:
    segments = catalog()
    if name not in segments:
        near = nearest(name, list(segments))
        hint = f" (did you mean {near!r}?)" if near else ""
        raise SegmentError(f"no segment named {name!r}{hint}; `etl segment list` shows them")
    return segments[name]


def parse_value(parameter: Parameter, text: str) -> Any:
    """A value given as text (the command line's --param k=v) in the parameter's type."""
    try:
        if parameter.type == "DATE":
            return date.fromisoformat(text)
        if parameter.type == "INTEGER":
            return int(text)
        if parameter.type == "DOUBLE":
            return float(text)
    except ValueError:
        example = {"DATE": "2024-12-31", "INTEGER": "7", "DOUBLE": "9.5"}[parameter.type]
        raise SegmentError(
            f"parameter {parameter.name}: expected a {parameter.type} (e.g. {example}), got {text!r}"
        ) from None
    if parameter.type == "VARCHAR[]":
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def bind(segment: Segment, given: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's value: given (text is parsed), else its default. Unknown or missing
    parameters are errors naming what the segment takes."""
    known = {p.name: p for p in segment.parameters}
    takes = ", ".join(f"{p.name} ({p.type}{', required' if p.required else ''})" for p in segment.parameters)
    for key in given:
        if key not in known:
            near = nearest(key, list(known))
            hint = f" (did you mean {near!r}?)" if near else ""
            raise SegmentError(f"segment {segment.name} has no parameter {key!r}{hint}; it takes: {takes}")
    values = {}
    for p in segment.parameters:
        if p.name in given:
            value = given[p.name]
            values[p.name] = parse_value(p, value) if isinstance(value, str) and p.type != "VARCHAR" else value
        elif p.required:
            raise SegmentError(f"segment {segment.name} needs the parameter {p.name} ({p.type}): {p.help}")
        else:
            values[p.name] = p.default
    if segment.one_of and sum(values.get(n) is not None for n in segment.one_of) != 1:
        raise SegmentError(f"segment {segment.name} needs exactly one of: {', '.join(segment.one_of)}")
    return values


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "[" + ", ".join(_sql_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def macro_sql(segment: Segment, temporary: bool = False) -> str:
    """CREATE MACRO for ad-hoc SQL: required parameters by position, the others by name with
    their defaults (constants from the segment's own header, not user input)."""
    args = [p.name for p in segment.parameters if p.required]
    args += [f"{p.name} := {_sql_literal(p.default)}" for p in segment.parameters if not p.required]
    body = re.sub(r"\$(\w+)", r"\1", segment.body)
    kind = "TEMP MACRO" if temporary else "MACRO"
    return f"CREATE OR REPLACE {kind} {segment.name}({', '.join(args)}) AS TABLE\n{body}"


def _dependency_order() -> list[Segment]:
    """Segments that call another's macro (average_order_value_by_segment calls rfm) after it:
    DuckDB binds a macro's body when it is created. A segment calling last_purchase_day() comes after
    purchase_facts, which that macro reads (macro_statements puts it right after purchase_facts)."""
    segments = catalog()
    ordered: list[Segment] = []

    def visit(segment: Segment, path: tuple[str, ...]) -> None:
        if segment in ordered:
            return
        if segment.name in path:
            raise SegmentError(f"{segment.path}: segments call each other in a circle: {' -> '.join(path)}")
        if "last_purchase_day" in segment.body and re.search(r"\blast_purchase_day\s*\(", segment.body):
            visit(segments[LAST_PURCHASE_DAY_FROM], (*path, segment.name))
        for other in segments.values():
            # the substring test first: the regex alone, 210 times, took 8 ms of every write connection's stamp
            if (
                other.name != segment.name
                and other.name in segment.body
                and re.search(rf"\b{other.name}\s*\(", segment.body)
            ):
                visit(other, (*path, segment.name))
        ordered.append(segment)

    for segment in segments.values():
        visit(segment, ())
    return ordered


# The UTC calendar day of a TIMESTAMPTZ. timezone('UTC', ts)::DATE says the same, but goes
# through ICU for every row: over 10 million orders it cost 2 of rfm's 7.5 seconds.
UTC_DAY = "DATE '1970-01-01' + floor(epoch_us(ts) / 86400000000.0)::INTEGER"


# What order_facts were computed from: the row counts of orders and line_items, recorded in
# store_meta by entities/orders/facts.sql. Imports keep it current; rows inserted or deleted by
# hand change it, and the segments then refuse to read out-of-date facts (counts are free in
# DuckDB; an UPDATE by hand that keeps them is not seen: `etl refresh` after one).
ORDER_FACTS_OF = "(SELECT count(*) FROM main.orders) || ':' || (SELECT count(*) FROM main.line_items)"
ORDER_FACTS_CURRENT = (
    "(SELECT value FROM main.store_meta WHERE key = 'order_facts_of') IS NOT DISTINCT FROM order_facts_of()"
)


# The store's last purchase day, the default of the segments' observation_end: the last day of purchase_facts with
# no observation_end (every purchase), for the given statuses (default: purchase_facts' own). NULL when the store
# has no purchase. Like purchase_facts, an error when order_facts is out of date or a status is unknown.
LAST_PURCHASE_DAY_FROM = "purchase_facts"


def purchase_statuses() -> list[str]:
    """The statuses of a purchase when a segment names none: purchase_facts' default."""
    (statuses,) = [p.default for p in get(LAST_PURCHASE_DAY_FROM).parameters if p.name == "statuses"]
    return statuses


def last_purchase_day_sql(temporary: bool = False) -> str:
    kind = "TEMP MACRO" if temporary else "MACRO"
    statuses = purchase_statuses()
    body = f"(SELECT max(day) FROM {LAST_PURCHASE_DAY_FROM}(NULL, statuses := statuses))"  # noqa: S608 (constants)
    return f"CREATE OR REPLACE {kind} last_purchase_day(statuses := {_sql_literal(statuses)}) AS {body}"


def macro_statements(temporary: bool = False) -> list[str]:
    """The CREATE MACRO statements of install_macros, in order: etl.store.connection's schema stamp hashes their
    text."""
    kind = "TEMP MACRO" if temporary else "MACRO"
    segments = []
    for segment in _dependency_order():
        segments.append(macro_sql(segment, temporary))
        if segment.name == LAST_PURCHASE_DAY_FROM:
            segments.append(last_purchase_day_sql(temporary))
    return [
        f"CREATE OR REPLACE {kind} utc_day(ts) AS {UTC_DAY}",
        f"CREATE OR REPLACE {kind} order_facts_of() AS {ORDER_FACTS_OF}",
        f"CREATE OR REPLACE {kind} order_facts_current() AS {ORDER_FACTS_CURRENT}",
        *segments,
    ]


def install_macros(con: duckdb.DuckDBPyConnection, temporary: bool = False) -> None:
    for statement in macro_statements(temporary):
        con.execute(statement)
