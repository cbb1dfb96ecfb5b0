"""An expectation suite compiled to DuckDB SQL: aggregates for one scan of the table, and
what to make of their values.

Every expectation the gate knows adds a few aggregates to one SELECT over the rows checked
(FILTER clauses carry each one's row_condition and ignore_row_if), so a table is read once
whatever the number of expectations. Values are bound as $parameters, never pasted. Two
things need a query of their own, and only then: the duplicated values of a failed
uniqueness expectation (the scan only counts distinct values), and an unexpected_rows
query, which is the suite's own SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from etl.quality.gate import results
from etl.quality.gate.kinds import KINDS, Between, CompoundUnique, InSet, Kind, PairGreater, Regex, RowCount

ROWID = "_etl_rowid"  # the scan's row number: examples in table order, as GE's LIMIT returns them


class Unsupported(Exception):
    """The gate cannot evaluate this expectation as written: Great Expectations will."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Params:
    """Values bound to the scan's $parameters."""

    values: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return "$" + name


@dataclass
class Planned:
    """One expectation of a suite, as the gate evaluates it."""

    position: int  # in the suite file
    type: str
    kind: Kind
    kwargs: BaseModel
    config: dict[str, Any]  # GE's expectation_config of the result
    aggregates: list[str]  # SQL expressions of the scan, in this order
    domain: str = "true"  # the rows it considers (row_condition, ignore_row_if)
    unexpected: str = "false"  # of those, the unexpected ones (uniqueness: refined by a query)


@dataclass
class SuitePlan:
    """A suite split into what the gate evaluates and what it leaves to Great Expectations."""

    entity: str
    planned: list[Planned]
    params: Params
    for_ge: list[tuple[int, str]]  # (position, why the gate does not evaluate it)


def plan_suite(entity: str, entries: list[Any], parameters: dict[str, Any], column_types: dict[str, str]) -> SuitePlan:
    params = Params()
    planned, for_ge = [], []
    for position, entry in enumerate(entries):
        try:
            planned.append(plan_expectation(position, entry, parameters, params, column_types))
        except Unsupported as exc:
            for_ge.append((position, str(exc)))
    return SuitePlan(entity, planned, params, for_ge)


def resolve_parameters(value: Any, parameters: dict[str, Any]) -> Any:
    """{"$PARAMETER": name} replaced by the run's value (GE's suite parameters)."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            name = value["$PARAMETER"]
            if name not in parameters:
                raise Unsupported(f"unknown $PARAMETER {name!r}")
            return parameters[name]
        return {k: resolve_parameters(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_parameters(v, parameters) for v in value]
    return value


def plan_expectation(
    position: int,
    entry: Any,  # etl.quality.suites.ExpectationEntry
    parameters: dict[str, Any],
    params: Params,
    column_types: dict[str, str],
) -> Planned:
    """Compile one expectation, or raise Unsupported (a type or kwarg the gate does not know)."""
    kind = KINDS.get(entry.type)
    if kind is None:
        raise Unsupported(f"the gate does not evaluate {entry.type}")
    try:
        kwargs = kind.kwargs.model_validate(resolve_parameters(entry.kwargs, parameters))
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Unsupported(f"kwargs.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}") from None
    config = {"type": entry.type, "kwargs": dict(entry.kwargs), "meta": dict(entry.meta), "severity": entry.severity}
    if entry.description:
        config["description"] = entry.description
    if entry.notes:
        config["notes"] = entry.notes
    if entry.id:
        config["id"] = entry.id
    planned = Planned(position, entry.type, kind, kwargs, config, [])
    condition = row_condition_sql(kwargs.row_condition, params) if kwargs.row_condition else "true"
    _COMPILERS[kind.family](planned, condition, params, column_types)
    return planned


def row_condition_sql(condition: dict[str, Any], params: Params) -> str:
    """GE 1.x condition objects as SQLAlchemy renders them (sqlalchemy_execution_engine.py)."""
    kind = condition.get("type")
    if kind in ("and", "or"):
        parts = condition.get("conditions")
        if not isinstance(parts, list) or not parts:
            raise Unsupported("an and/or row_condition needs a list of conditions")
        return "(" + f" {kind.upper()} ".join(row_condition_sql(p, params) for p in parts) + ")"
    column = condition.get("column")
    if not isinstance(column, dict) or not isinstance(column.get("name"), str):
        raise Unsupported("a row_condition names its column as {name: ...}")
    name = quote(column["name"])
    if kind == "nullity":
        return f"({name} IS NULL)" if condition.get("is_null") else f"({name} IS NOT NULL)"
    if kind != "comparison":
        raise Unsupported(f"row_condition of type {kind!r}")
    operator, value = condition.get("operator"), condition.get("parameter")
    if operator in ("IN", "NOT_IN"):
        if not isinstance(value, list) or not value:
            raise Unsupported("IN takes a non-empty list")
        listed = f"{name} IN ({', '.join(params.bind(v) for v in value)})"
        return f"({listed})" if operator == "IN" else f"(NOT {listed})"
    sql_operator = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}.get(operator)
    if sql_operator is None or value is None or isinstance(value, dict | list):
        raise Unsupported(f"row_condition operator {operator!r} with {value!r}")
    return f"({name} {sql_operator} {params.bind(value)})"


def _map_condition(planned: Planned, params: Params) -> str:
    """The expected condition of a map expectation, as GE's SQLAlchemy metric writes it."""
    kwargs = planned.kwargs
    column = quote(kwargs.column)  # type: ignore[attr-defined]
    which = planned.kind.condition
    if which == "between":
        assert isinstance(kwargs, Between)
        low = (
            None
            if kwargs.min_value is None
            else f"{column} {'>' if kwargs.strict_min else '>='} {params.bind(kwargs.min_value)}"
        )
        high = (
            None
            if kwargs.max_value is None
            else f"{column} {'<' if kwargs.strict_max else '<='} {params.bind(kwargs.max_value)}"
        )
        return " AND ".join(p for p in (low, high) if p)
    if which in ("in_set", "not_in_set"):
        assert isinstance(kwargs, InSet)
        if not kwargs.value_set:  # SQLAlchemy's empty IN is false
            return "false" if which == "in_set" else "true"
        listed = f"{column} IN ({_set_sql(kwargs.value_set, params)})"
        return listed if which == "in_set" else f"NOT ({listed})"
    assert isinstance(kwargs, Regex)
    matches = f"regexp_matches({column}, {params.bind(kwargs.regex)})"  # a search, as etl.quality.gx_duckdb teaches GE
    return matches if which == "regex" else f"NOT {matches}"


def _set_sql(values: list[Any], params: Params) -> str:
    """A value set as one bound list, looked up through a hash join (a list of 200 parameters
    is compared one by one: 0.66 s against 0.02 s over 2.5 M rows); a set mixing text and
    numbers as one parameter each, which DuckDB casts one by one as GE's IN list does."""
    if all(isinstance(v, str) for v in values):
        return f"SELECT unnest({params.bind(values)}::VARCHAR[])"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        kind = "BIGINT" if all(isinstance(v, int) for v in values) else "DOUBLE"
        return f"SELECT unnest({params.bind(values)}::{kind}[])"
    return ", ".join(params.bind(v) for v in values)


def _column_type_check(planned: Planned, column_types: dict[str, str]) -> None:
    column = getattr(planned.kwargs, "column", None)
    if column is None:
        return
    sql_type = column_types.get(column, "")
    if planned.kind.text_only and sql_type != "VARCHAR":
        raise Unsupported(f"{column} is {sql_type}, not text")
    if planned.kind.ordered and (sql_type in ("VARCHAR", "BOOLEAN") or not sql_type):
        raise Unsupported(f"{column} is {sql_type}: GE compares only numbers and dates")


def _unexpected_sum(planned: Planned) -> str:
    """GE counts unexpected rows as a SUM of CASE over the domain: null when the domain is empty."""
    return f"sum(CASE WHEN {planned.unexpected} THEN 1 ELSE 0 END) FILTER (WHERE {planned.domain})"


def _compile_map(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    _column_type_check(planned, column_types)
    column = quote(planned.kwargs.column)  # type: ignore[attr-defined]
    planned.domain = condition
    planned.unexpected = f"{column} IS NOT NULL AND NOT ({_map_condition(planned, params)})"
    planned.aggregates = [
        f"count(*) FILTER (WHERE {condition})",
        f"count({column}) FILTER (WHERE {condition})",
        _unexpected_sum(planned),
        f"min_by({column}, {ROWID}, {results.PARTIAL_UNEXPECTED_COUNT}) "
        f"FILTER (WHERE {condition} AND {planned.unexpected})",
    ]


def _compile_not_null(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    column = quote(planned.kwargs.column)  # type: ignore[attr-defined]
    planned.domain = condition
    planned.unexpected = f"{column} IS NULL"
    planned.aggregates = [f"count(*) FILTER (WHERE {condition})", _unexpected_sum(planned)]


def _compile_unique(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    column = quote(planned.kwargs.column)  # type: ignore[attr-defined]
    planned.domain = condition
    planned.unexpected = f"{column} IS NOT NULL"  # and duplicated: found by a query when the counts differ
    planned.aggregates = [
        f"count(*) FILTER (WHERE {condition})",
        f"count({column}) FILTER (WHERE {condition})",
        # distinct hashes: equal values hash alike, so as many hashes as values means no duplicate;
        # fewer (a duplicate, or a collision) sends the expectation to the exact query
        f"count(DISTINCT hash({column})) FILTER (WHERE {condition} AND {column} IS NOT NULL)",
    ]


def _kept_rows(ignore_row_if: str, columns: list[str]) -> str:
    """The rows GE keeps under ignore_row_if (its names for two columns, and for a list)."""
    if ignore_row_if in ("all_values_are_missing", "both_values_are_missing"):
        return "NOT (" + " AND ".join(f"{c} IS NULL" for c in columns) + ")"
    if ignore_row_if in ("any_value_is_missing", "either_value_is_missing"):
        return "NOT (" + " OR ".join(f"{c} IS NULL" for c in columns) + ")"
    return "true"  # never, neither


def _compile_compound(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    kwargs = planned.kwargs
    assert isinstance(kwargs, CompoundUnique)
    columns = [quote(c) for c in kwargs.column_list]
    ignore = _kept_rows(kwargs.ignore_row_if, columns)
    planned.domain = f"{condition} AND {ignore}"
    # GE joins the group counts back on `=`, so a row with any null value is never unexpected
    planned.unexpected = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    planned.aggregates = [
        f"count(*) FILTER (WHERE {condition})",
        f"count(*) FILTER (WHERE {planned.domain})",
        f"count(*) FILTER (WHERE {planned.domain} AND {planned.unexpected})",
        f"count(DISTINCT hash({', '.join(columns)})) FILTER (WHERE {planned.domain} AND {planned.unexpected})",
    ]


def _compile_pair(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    kwargs = planned.kwargs
    assert isinstance(kwargs, PairGreater)
    a, b = quote(kwargs.column_A), quote(kwargs.column_B)
    ignore = _kept_rows(kwargs.ignore_row_if, [a, b])
    expected = f"({a} >= {b} OR ({a} IS NULL AND {b} IS NULL))" if kwargs.or_equal else f"{a} > {b}"
    planned.domain = f"{condition} AND {ignore}"
    planned.unexpected = f"NOT ({expected})"
    planned.aggregates = [
        f"count(*) FILTER (WHERE {condition})",
        f"count(*) FILTER (WHERE {planned.domain})",
        f"count(*) FILTER (WHERE {planned.domain} AND {planned.unexpected})",  # GE counts pairs: 0, not null
        f"min_by({{'a': {a}, 'b': {b}}}, {ROWID}, {results.PARTIAL_UNEXPECTED_COUNT}) "
        f"FILTER (WHERE {planned.domain} AND {planned.unexpected})",
    ]


def _compile_row_count(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    assert isinstance(planned.kwargs, RowCount)
    planned.domain = condition
    planned.aggregates = [f"count(*) FILTER (WHERE {condition})"]


def _compile_unexpected_rows(planned: Planned, condition: str, params: Params, column_types: dict[str, str]) -> None:
    if planned.kwargs.row_condition:
        raise Unsupported("unexpected_rows_expectation with a row_condition")
    unexpected_rows_sql("batch", planned.kwargs.unexpected_rows_query)  # GE's formatting must work


def unexpected_rows_sql(entity: str, query: str) -> str:
    """The suite's query with {batch} as GE's query asset gives it (str.format, so {{ }} escape braces)."""
    try:
        return query.rstrip("; \t\r\n\v\f").format(batch=f"(SELECT * FROM {quote(entity)})")  # noqa: S608
    except (KeyError, IndexError, ValueError) as exc:
        raise Unsupported(f"unexpected_rows_query: {exc}") from None


_COMPILERS = {
    "map": _compile_map,
    "not_null": _compile_not_null,
    "unique": _compile_unique,
    "compound_unique": _compile_compound,
    "pair": _compile_pair,
    "row_count": _compile_row_count,
    "unexpected_rows": _compile_unexpected_rows,
}
