"""Great Expectations' result shapes, built from the counts the gate computed.

These follow GE 1.24's own code (expectation.py: ColumnMapExpectation._validate,
_format_map_output with the SUMMARY result format that a validation definition uses by
default, _mostly_success, _validate_metric_value_between), so that a result is what GE
would have returned for the same counts, and GE renders it (Data Docs) as its own.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import uuid
from collections import Counter
from typing import Any

PARTIAL_UNEXPECTED_COUNT = 20  # GE's SUMMARY and BASIC formats keep this many unexpected values


def json_value(value: Any) -> Any:
    """A value as GE's convert_to_json_serializable writes it (NaN becomes null, dates ISO text)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_value(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | bytes):
        return str(value)
    return str(value)


def mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    """GE's _mostly_success: the share of expected rows is at least `mostly` (as floats)."""
    return (float(considered) - float(unexpected)) / float(considered) >= mostly


def map_result(
    *,
    element_count: int,
    nonnull_count: int | None,
    unexpected_count: int | None,
    unexpected_values: list[Any],
    mostly: float,
) -> tuple[bool, dict[str, Any]]:
    """(success, result) of a map expectation. nonnull_count None: the expectation counts
    nulls as its unexpected values (not_be_null), so no missing_* keys."""
    if nonnull_count is None:  # ExpectColumnValuesToNotBeNull._validate
        success = True if not element_count else (element_count - unexpected_count) / element_count >= mostly
    elif unexpected_count is None or element_count == 0 or nonnull_count == 0:
        success = True  # vacuously
    else:
        success = mostly_success(nonnull_count, unexpected_count, mostly)
    return success, _format_map_output(element_count, nonnull_count, unexpected_count, unexpected_values)


def _format_map_output(
    element_count: int, nonnull_count: int | None, unexpected_count: int | None, unexpected_list: list[Any]
) -> dict[str, Any]:
    skip_missing = nonnull_count is None
    missing_count = None if skip_missing else element_count - nonnull_count  # type: ignore[operator]
    missing_percent = unexpected_percent_total = unexpected_percent_nonmissing = None
    if unexpected_count is not None and element_count > 0:
        unexpected_percent_total = unexpected_count / element_count * 100
        if not skip_missing:
            missing_percent = missing_count / element_count * 100  # type: ignore[operator]
            if nonnull_count:
                unexpected_percent_nonmissing = unexpected_count / nonnull_count * 100
        else:
            unexpected_percent_nonmissing = unexpected_percent_total
    result: dict[str, Any] = {
        "element_count": element_count,
        "unexpected_count": unexpected_count,
        "unexpected_percent": unexpected_percent_nonmissing,
        "partial_unexpected_list": unexpected_list[:PARTIAL_UNEXPECTED_COUNT],
    }
    if not skip_missing:
        result["missing_count"] = missing_count
        result["missing_percent"] = missing_percent
        result["unexpected_percent_total"] = unexpected_percent_total
        result["unexpected_percent_nonmissing"] = unexpected_percent_nonmissing
    hashable = [tuple(v.values()) if isinstance(v, dict) else v for v in unexpected_list]
    try:
        result["partial_unexpected_counts"] = [
            {"value": key, "count": count}
            for key, count in sorted(
                Counter(hashable).most_common(PARTIAL_UNEXPECTED_COUNT), key=lambda x: (-x[1], x[0])
            )
        ]
    except TypeError:  # GE leaves the key out when the values cannot be sorted (None beside text)
        pass
    return result


def between_success(
    value: Any, min_value: Any, max_value: Any, strict_min: bool, strict_max: bool
) -> tuple[bool, dict[str, Any]]:
    """GE's _validate_metric_value_between for a number (a row count)."""
    if value is None:
        return False, {"observed_value": None}
    above = True if min_value is None else (value > min_value if strict_min else value >= min_value)
    below = True if max_value is None else (value < max_value if strict_max else value <= max_value)
    return above and below, {"observed_value": value}


def expectation_result(config: dict[str, Any], success: bool, result: dict[str, Any]) -> dict[str, Any]:
    """One ExpectationValidationResult as GE's to_json_dict() writes it."""
    return {
        "success": success,
        "expectation_config": config,
        "result": json_value(result),
        "meta": {},
        "exception_info": {"raised_exception": False, "exception_traceback": None, "exception_message": None},
    }


def suite_result(
    suite_name: str, results: list[dict[str, Any]], *, run_name: str, run_time: str, engine: str
) -> dict[str, Any]:
    """One ExpectationSuiteValidationResult as GE's to_json_dict() writes it."""
    passed = sum(1 for r in results if r["success"])
    return {
        "success": passed == len(results),
        "results": results,
        "suite_name": suite_name,
        "suite_parameters": {},
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": passed / len(results) * 100 if results else None,
        },
        "meta": {
            "great_expectations_version": _ge_version(),
            "engine": engine,
            "active_batch_definition": {
                "datasource_name": "store",
                "data_connector_name": "fluent",
                "data_asset_name": suite_name,
                "batch_identifiers": {},
            },
            "run_id": {"run_name": run_name, "run_time": run_time},
            "validation_time": run_time,
        },
        "id": None,
    }


@functools.cache
def _ge_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version  # no GE import: its metadata only

    try:
        return version("great-expectations")
    except PackageNotFoundError:
        return None


def describe(r: dict[str, Any]) -> str:
    """One expectation's result in a line: where, and what was unexpected or observed."""
    where = f"{r['suite']}: {r['expectation']}"
    if r.get("column"):
        where += f" on {r['column']}"
    if r.get("error"):
        return f"{where} could not run: {r['error']}"
    if r.get("unexpected_count") is not None:
        examples = ", ".join(repr(v) for v in r.get("examples") or [])
        return f"{where}: {r['unexpected_count']:,} unexpected ({r.get('unexpected_percent') or 0:.2f}%)" + (
            f", e.g. {examples}" if examples else ""
        )
    return f"{where}: observed {r.get('observed_value')!r}"
