"""The "cast" value transformation: the spec's table, the decided cases, and property tests against a plain-Python
reference (int(), float(), Fraction, Decimal) that shares no code with the Polars implementation."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.transforms.cast import CAST_DTYPES, cast_value

TARGETS = ("string", "integer", "float", "bool")
ERROR = object()  # expected: failed True, value null
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def run(values: list, dtype: pl.DataType, target: str) -> list[tuple[object, bool]]:
    """cast_value over one column; [(cast, failed), ...] per row, checking dtypes and that failed is never null."""
    df = pl.DataFrame({"v": values}, schema={"v": dtype})
    cast, failed = cast_value(pl.col("v"), dtype, target)
    out = df.select(cast.alias("cast"), failed.alias("failed"))
    assert out.schema == pl.Schema({"cast": CAST_DTYPES[target], "failed": pl.Boolean()})
    assert out["failed"].null_count() == 0
    return list(zip(out["cast"].to_list(), out["failed"].to_list(), strict=True))


def run_all(values: list, dtype: pl.DataType) -> dict[str, list[tuple[object, bool]]]:
    """All four targets in one select, so a hypothesis example costs one DataFrame."""
    df = pl.DataFrame({"v": values}, schema={"v": dtype})
    exprs = []
    for target in TARGETS:
        cast, failed = cast_value(pl.col("v"), dtype, target)
        exprs += [cast.alias(target), failed.alias(f"{target}_failed")]
    out = df.select(exprs)
    for target in TARGETS:
        assert out.schema[target] == CAST_DTYPES[target]
        assert out[f"{target}_failed"].null_count() == 0
    return {t: list(zip(out[t].to_list(), out[f"{t}_failed"].to_list(), strict=True)) for t in TARGETS}


def same(actual: tuple[object, bool], expected: object) -> bool:
    value, failed = actual
    if expected is ERROR:
        return failed is True and value is None
    if failed is not False or type(value) is not type(expected):
        return False
    if isinstance(expected, float):  # exact, and -0.0 is not 0.0; outputs are never NaN
        return repr(value) == repr(expected)
    return value == expected


def check(actual: dict[str, list[tuple[object, bool]]], values: list, reference) -> None:
    for target in TARGETS:
        for value, got in zip(values, actual[target], strict=True):
            if value is None:
                assert got == (None, False), (target, value, got)
            else:
                want = reference[target](value)
                assert same(got, want), (target, value, got, want)


# --- the spec's table -------------------------------------------------------------------------------------------

SPEC_TABLE = [
    # original value, string, integer, float, bool
    ("2.4", "2.4", 2, 2.4, True),
    ("0", "0", 0, 0.0, False),
    ("car", "car", ERROR, ERROR, ERROR),
    ("false", "false", ERROR, ERROR, False),
    (3.8, "3.8", 3, 3.8, True),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("row", SPEC_TABLE, ids=[repr(r[0]) for r in SPEC_TABLE])
def test_spec_table(row: tuple, target: str) -> None:
    original, *expected = row
    dtype = pl.String() if isinstance(original, str) else pl.Float64()
    [got] = run([original], dtype, target)
    assert same(got, expected[TARGETS.index(target)]), (original, target, got)


# --- the decided cases --------------------------------------------------------------------------------------------

DECIDED_TEXT = [
    # text, string, integer, float, bool
    (" 7 ", " 7 ", 7, 7.0, True),
    ("\t-7\n", "\t-7\n", -7, -7.0, True),
    ("-2.7", "-2.7", -2, -2.7, True),
    ("-0.9", "-0.9", 0, -0.9, True),
    ("1e3", "1e3", 1000, 1000.0, True),
    ("1e-3", "1e-3", 0, 0.001, True),
    ("2.5E-2", "2.5E-2", 0, 0.025, True),
    ("1.5e1", "1.5e1", 15, 15.0, True),
    (".5", ".5", 0, 0.5, True),
    ("5.", "5.", 5, 5.0, True),
    ("+5", "+5", 5, 5.0, True),
    ("007", "007", 7, 7.0, True),
    ("1e0000000000000000000003", "1e0000000000000000000003", 1000, 1000.0, True),
    ("9223372036854775807", "9223372036854775807", 9223372036854775807, 9.223372036854776e18, True),
    ("-9223372036854775808", "-9223372036854775808", -9223372036854775808, -9.223372036854776e18, True),
    ("9223372036854775808", "9223372036854775808", ERROR, 9.223372036854776e18, True),
    ("-9223372036854775809", "-9223372036854775809", ERROR, -9.223372036854776e18, True),
    ("922337203685477580.7e1", "922337203685477580.7e1", 9223372036854775807, 9.223372036854776e18, True),
    ("1e19", "1e19", ERROR, 1e19, True),
    ("9007199254740993", "9007199254740993", 9007199254740993, 9007199254740992.0, True),
    ("1e400", "1e400", ERROR, ERROR, True),
    ("1e-400", "1e-400", 0, 0.0, True),
    ("1e99999999999999999999", "1e99999999999999999999", ERROR, ERROR, True),
    ("0e99999999999999999999", "0e99999999999999999999", 0, 0.0, False),
    ("-0", "-0", 0, -0.0, False),
    ("0.0", "0.0", 0, 0.0, False),
    ("0e5", "0e5", 0, 0.0, False),
    ("TRUE", "TRUE", ERROR, ERROR, True),
    ("False", "False", ERROR, ERROR, False),
    (" true ", " true ", ERROR, ERROR, True),
    ("yes", "yes", ERROR, ERROR, ERROR),
    ("t", "t", ERROR, ERROR, ERROR),
    ("NaN", "NaN", ERROR, ERROR, ERROR),
    ("nan", "nan", ERROR, ERROR, ERROR),
    ("inf", "inf", ERROR, ERROR, ERROR),
    ("-Infinity", "-Infinity", ERROR, ERROR, ERROR),
    ("0x10", "0x10", ERROR, ERROR, ERROR),
    ("1_000", "1_000", ERROR, ERROR, ERROR),
    ("1,5", "1,5", ERROR, ERROR, ERROR),
    ("1 000", "1 000", ERROR, ERROR, ERROR),
    ("١٢", "١٢", ERROR, ERROR, ERROR),  # non-ASCII digits
    ("", "", ERROR, ERROR, ERROR),
    (" ", " ", ERROR, ERROR, ERROR),
    ("+", "+", ERROR, ERROR, ERROR),
    (".", ".", ERROR, ERROR, ERROR),
    ("e5", "e5", ERROR, ERROR, ERROR),
    ("1e", "1e", ERROR, ERROR, ERROR),
    ("1e+", "1e+", ERROR, ERROR, ERROR),
    ("--1", "--1", ERROR, ERROR, ERROR),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("row", DECIDED_TEXT, ids=[repr(r[0]) for r in DECIDED_TEXT])
def test_decided_text(row: tuple, target: str) -> None:
    text, *expected = row
    [got] = run([text], pl.String(), target)
    assert same(got, expected[TARGETS.index(target)]), (text, target, got)


DECIDED_NUMBERS = [
    # value, dtype, string, integer, float, bool
    (3.8, pl.Float64(), "3.8", 3, 3.8, True),
    (-3.8, pl.Float64(), "-3.8", -3, -3.8, True),
    (2.0, pl.Float64(), "2.0", 2, 2.0, True),
    (1e15, pl.Float64(), "1000000000000000.0", 1000000000000000, 1e15, True),
    (1e16, pl.Float64(), "1e+16", 10000000000000000, 1e16, True),
    (1e20, pl.Float64(), "1e+20", ERROR, 1e20, True),
    (1e-5, pl.Float64(), "0.00001", 0, 1e-5, True),
    (1e-7, pl.Float64(), "1e-7", 0, 1e-7, True),
    (-0.0, pl.Float64(), "-0.0", 0, -0.0, False),
    (math.nan, pl.Float64(), "NaN", ERROR, ERROR, ERROR),
    (math.inf, pl.Float64(), "inf", ERROR, ERROR, True),
    (-math.inf, pl.Float64(), "-inf", ERROR, ERROR, True),
    (2.0**63, pl.Float64(), "9.223372036854776e+18", ERROR, 2.0**63, True),
    (-(2.0**63), pl.Float64(), "-9.223372036854776e+18", INT64_MIN, -(2.0**63), True),
    (0.1, pl.Float32(), "0.1", 0, float(pl.Series([0.1], dtype=pl.Float32)[0]), True),
    (-12, pl.Int64(), "-12", -12, -12.0, True),
    (0, pl.Int8(), "0", 0, 0.0, False),
    (2**53 + 1, pl.Int64(), "9007199254740993", 2**53 + 1, 2.0**53, True),
    (INT64_MIN, pl.Int64(), str(INT64_MIN), INT64_MIN, float(INT64_MIN), True),
    (2**64 - 1, pl.UInt64(), "18446744073709551615", ERROR, 2.0**64, True),
    (True, pl.Boolean(), "true", 1, 1.0, True),
    (False, pl.Boolean(), "false", 0, 0.0, False),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("row", DECIDED_NUMBERS, ids=[f"{r[0]!r}-{r[1]}" for r in DECIDED_NUMBERS])
def test_decided_numbers(row: tuple, target: str) -> None:
    value, dtype, *expected = row
    [got] = run([value], dtype, target)
    assert same(got, expected[TARGETS.index(target)]), (value, dtype, target, got)


@pytest.mark.parametrize("dtype", [pl.String(), pl.Int64(), pl.UInt8(), pl.Float64(), pl.Float32(), pl.Boolean()])
@pytest.mark.parametrize("target", TARGETS)
def test_null_in_null_out(dtype: pl.DataType, target: str) -> None:
    assert run([None, None], dtype, target) == [(None, False), (None, False)]


def test_dtype_classes_and_names() -> None:
    """`source` may be a dtype class or instance; both outputs carry the input expression's output name."""
    df = pl.DataFrame({"a": ["1", "x"]})
    cast, failed = cast_value(pl.col("a").alias("b"), pl.String, "integer")
    assert df.select(cast).to_dict(as_series=False) == {"b": [1, None]}
    assert df.select(failed).to_dict(as_series=False) == {"b": [False, True]}
    assert "python" not in f"{cast} {failed}".lower()  # no Python function per row
    lazy = df.lazy().with_columns(cast.alias("i"), failed.alias("i_failed")).collect()
    assert lazy.columns == ["a", "i", "i_failed"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown cast target"):
        cast_value(pl.col("a"), pl.String, "date")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cast_value(pl.col("a"), pl.Date, "string")


# --- a plain-Python reference -------------------------------------------------------------------------------------

# Unicode White_Space, spelled out (Python's str.strip() would also strip U+001C..U+001F, which are not White_Space).
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
ASCII_DIGITS = frozenset("0123456789")


def parse_number(text: str) -> tuple[Decimal, int] | None:
    """A decimal literal as (mantissa, exponent) with value mantissa * 10**exponent, else None. No regex here."""
    t = text.strip(WHITESPACE)
    mantissa, e, exponent = t.replace("E", "e").partition("e")
    if e:
        digits = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not digits or not set(digits) <= ASCII_DIGITS:
            return None
    body = mantissa[1:] if mantissa[:1] in ("+", "-") else mantissa
    whole, _, fraction = body.partition(".")
    if not (whole or fraction) or not set(whole + fraction) <= ASCII_DIGITS:
        return None
    return Decimal(mantissa), int(exponent) if e else 0


def ref_text_integer(text: str) -> object:
    number = parse_number(text)
    if number is None:
        return ERROR
    mantissa, exponent = number
    if mantissa == 0:
        return 0
    magnitude = mantissa.adjusted() + exponent  # |value| is in [10**magnitude, 10**(magnitude + 1))
    if magnitude < 0:
        return 0
    if magnitude > 18:
        return ERROR
    value = int(Fraction(mantissa) * Fraction(10) ** exponent)  # int() truncates toward zero
    return value if INT64_MIN <= value <= INT64_MAX else ERROR


def ref_text_float(text: str) -> object:
    if parse_number(text) is None:
        return ERROR
    value = float(text.strip(WHITESPACE))  # CPython's correctly rounded conversion
    return ERROR if math.isinf(value) else value


def ref_text_bool(text: str) -> object:
    t = text.strip(WHITESPACE)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    number = parse_number(text)
    return ERROR if number is None else number[0] != 0


TEXT_REFERENCE = {
    "string": lambda text: text,
    "integer": ref_text_integer,
    "float": ref_text_float,
    "bool": ref_text_bool,
}


def ref_float_string(x: float) -> str:
    """Polars' Float64 -> String as documented in etl.transforms.cast: shortest round-trip digits (Python's repr);
    plain notation for decimal exponents -5..15, else scientific with an unpadded exponent."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    shortest = repr(x)
    if x == 0 or -5 <= Decimal(shortest).adjusted() <= 15:
        plain = format(Decimal(shortest), "f")
        return plain if "." in plain else plain + ".0"
    mantissa, exponent = shortest.split("e")
    return f"{mantissa}e{'-' if exponent.startswith('-') else '+'}{exponent.lstrip('+-').lstrip('0')}"


def ref_float_integer(x: float) -> object:
    if not math.isfinite(x):
        return ERROR
    value = int(x)
    return value if INT64_MIN <= value <= INT64_MAX else ERROR


FLOAT_REFERENCE = {
    "string": ref_float_string,
    "integer": ref_float_integer,
    "float": lambda x: x if math.isfinite(x) else ERROR,
    "bool": lambda x: ERROR if math.isnan(x) else x != 0,
}

INT_REFERENCE = {
    "string": str,
    "integer": lambda n: n,
    "float": float,
    "bool": lambda n: n != 0,
}


# --- property tests -----------------------------------------------------------------------------------------------

PROPERTY = settings(max_examples=250, deadline=None)
ALPHABET = "0123456789+-.eE tTrRuUfFaAlLsSnNiI x_,"


def batches(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.one_of(st.none(), values), min_size=1, max_size=40)


# mostly well-formed literals (with Unicode whitespace around), where the truncation and range logic lives
LITERALS = st.from_regex(r"\A\s?[+-]?[0-9]{0,22}\.?[0-9]{0,22}(?:[eE][+-]?(?:0{14,20})?[0-9]{1,3})?\s?\Z")
ZEROS = st.from_regex(r"\A[+-]?0{0,3}\.?0{0,3}(?:[eE][+-]?[0-9]{1,3})?\Z")  # zero mantissas; "" / "e5" are not numbers
INT64_EDGES = st.sampled_from([INT64_MIN, INT64_MAX, 2**53, 10**18, 10**19, 0]).flatmap(
    lambda n: st.integers(min_value=n - 3, max_value=n + 3)
)


@PROPERTY
@given(batches(st.text(alphabet=ALPHABET, max_size=14) | st.text(max_size=14) | LITERALS | ZEROS))
def test_random_text(values: list[str | None]) -> None:
    check(run_all(values, pl.String()), values, TEXT_REFERENCE)


@PROPERTY
@given(batches(st.integers(min_value=-(2**70), max_value=2**70) | INT64_EDGES), st.sampled_from(["", " ", ".0", "e0"]))
def test_integers_as_text(numbers: list[int | None], suffix: str) -> None:
    values = [None if n is None else f"{n}{suffix}" for n in numbers]
    check(run_all(values, pl.String()), values, TEXT_REFERENCE)


FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 5e-324, 1.7976931348623157e308, 2.0**63, -(2.0**63), 2.0**63 - 1024, 1e15, 1e16, 1e-5, 1e-4, 0.1]
)


@PROPERTY
@given(batches(FLOATS))
def test_floats(numbers: list[float | None]) -> None:
    check(run_all(numbers, pl.Float64()), numbers, FLOAT_REFERENCE)
    for x, (text, _) in zip(numbers, run(numbers, pl.Float64(), "string"), strict=True):
        if x is not None and not math.isnan(x):  # the text reads back as the same float
            assert repr(float(text)) == repr(x)
    texts = [None if x is None else repr(x) for x in numbers]
    check(run_all(texts, pl.String()), texts, TEXT_REFERENCE)


@PROPERTY
@given(
    batches(st.integers(min_value=INT64_MIN, max_value=INT64_MAX) | INT64_EDGES.filter(lambda n: -(2**63) <= n < 2**63))
)
def test_int64_input(numbers: list[int | None]) -> None:
    check(run_all(numbers, pl.Int64()), numbers, INT_REFERENCE)
