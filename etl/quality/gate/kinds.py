"""The expectation types the gate evaluates itself, in DuckDB: their kwargs and their SQL.

Each type's SQL is Great Expectations' own, as its SQLAlchemy metrics build it (GE 1.24):
the same condition, the same treatment of nulls, the same domain (row_condition and
ignore_row_if), so that DuckDB computes the same counts GE does. tests/test_gate_differential.py
runs both on the same tables and requires the same results.

A kind is one of:
- "map": a condition each non-null value must meet (between, in set, regex ...);
- "not_null": the rows whose value is null are the unexpected ones;
- "unique" / "compound_unique": values (tuples) that occur more than once;
- "pair": a condition on two columns of a row (a > b);
- "row_count": the number of rows is in a range;
- "unexpected_rows": an SQL query of the suite's returns no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator, model_validator

Number = int | float


class _Kwargs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    row_condition: dict[str, Any] | None = None
    # the gate writes GE's default, SUMMARY; another format is GE's to write
    result_format: Literal["SUMMARY"] | None = None
    catch_exceptions: bool | None = None


class _Mostly(_Kwargs):
    mostly: float = Field(1.0, ge=0.0, le=1.0)


class _Column(_Mostly):
    column: StrictStr


class NotNull(_Column):
    pass


class Unique(_Column):
    pass


def _bound(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a bound is a number or a date/time text, not true/false")
    return value


class Between(_Column):
    min_value: Number | StrictStr | None = None
    max_value: Number | StrictStr | None = None
    strict_min: StrictBool = False
    strict_max: StrictBool = False

    _check_bounds = field_validator("min_value", "max_value")(_bound)

    @model_validator(mode="after")
    def _one_bound(self) -> Between:
        if self.min_value is None and self.max_value is None:
            raise ValueError("min_value and max_value cannot both be missing")
        if (
            self.min_value is not None
            and self.max_value is not None
            and type(self.min_value) is type(self.max_value)
            and self.min_value > self.max_value  # type: ignore[operator]
        ):
            raise ValueError("min_value cannot be greater than max_value")
        return self


class InSet(_Column):
    value_set: list[StrictStr | Number]


class Regex(_Column):
    regex: StrictStr


class CompoundUnique(_Mostly):
    column_list: list[StrictStr] = Field(min_length=1)
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "all_values_are_missing"


class PairGreater(_Mostly):
    column_A: StrictStr  # noqa: N815 (GE's name)
    column_B: StrictStr  # noqa: N815
    or_equal: StrictBool | None = None
    ignore_row_if: Literal["both_values_are_missing", "either_value_is_missing", "neither"] = "both_values_are_missing"


class RowCount(_Kwargs):
    min_value: int | None = None
    max_value: int | None = None
    strict_min: StrictBool = False
    strict_max: StrictBool = False


class UnexpectedRows(_Kwargs):
    unexpected_rows_query: StrictStr


@dataclass(frozen=True)
class Kind:
    family: Literal["map", "not_null", "unique", "compound_unique", "pair", "row_count", "unexpected_rows"]
    kwargs: type[_Kwargs]
    condition: str | None = None  # for "map": which condition (see plan._map_condition)
    text_only: bool = False  # the column must be text (regexes)
    ordered: bool = False  # the column must be a number or a date/time (between)


KINDS: dict[str, Kind] = {
    "expect_column_values_to_not_be_null": Kind("not_null", NotNull),
    "expect_column_values_to_be_between": Kind("map", Between, "between", ordered=True),
    "expect_column_values_to_be_in_set": Kind("map", InSet, "in_set"),
    "expect_column_values_to_not_be_in_set": Kind("map", InSet, "not_in_set"),
    "expect_column_values_to_match_regex": Kind("map", Regex, "regex", text_only=True),
    "expect_column_values_to_not_match_regex": Kind("map", Regex, "not_regex", text_only=True),
    "expect_column_values_to_be_unique": Kind("unique", Unique),
    "expect_compound_columns_to_be_unique": Kind("compound_unique", CompoundUnique),
    "expect_column_pair_values_a_to_be_greater_than_b": Kind("pair", PairGreater),
    "expect_table_row_count_to_be_between": Kind("row_count", RowCount),
    "unexpected_rows_expectation": Kind("unexpected_rows", UnexpectedRows),
}
