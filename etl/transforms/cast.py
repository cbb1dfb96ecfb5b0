"""The "cast" value transformation of Kevel Audience's import transformations, as Polars expressions.

Every conversion is a Polars expression over the whole column: no Python code runs per value.
`cast_value(value, source, target)` returns `(cast, failed)`: `cast` has the target's dtype and is null where the
input is null or cannot be cast; `failed` is True exactly where the input is not null and cannot be cast.

The spec's table (Error = failed):

=========  =======  =======  =====  =====
input      string   integer  float  bool
=========  =======  =======  =====  =====
"2.4"      "2.4"    2        2.4    true
"0"        "0"      0        0.0    false
"car"      "car"    Error    Error  Error
"false"    "false"  Error    Error  false
3.8        "3.8"    3        3.8    true
=========  =======  =======  =====  =====

Decided semantics for what the spec leaves open:

=====================  ===============================================================================================
case                   result
=====================  ===============================================================================================
null                   null, never failed (on CSV an empty field already arrives as null)
whitespace             text is trimmed (Unicode White_Space, as `str.strip_chars()`) for integer/float/bool:
                       " 7 " -> 7, 7.0, true; to string the text is unchanged: " 7 " -> " 7 "
number in text         ASCII decimal literal: `[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?`
                       ("5.", ".5", "1e3", "2.5E-2"). Not numbers: "NaN", "inf", "Infinity", "0x10", "1_000",
                       "1,5", "1 000", "", " ", "+", ".", "e5", non-ASCII digits
text -> integer        number truncated toward zero, read exactly (never through a float): "2.4" -> 2, "-2.7" -> -2,
                       "1e3" -> 1000, "1e-3" -> 0, "9007199254740993" -> 9007199254740993; outside the signed
                       64-bit range fails ("9223372036854775808", "1e19")
text -> float          the number as the nearest Float64; overflow to infinity fails ("1e400"); "-0" -> -0.0;
                       underflow is fine ("1e-400" -> 0.0)
text -> bool           "true"/"false" in any ASCII case after trimming; else a number: zero (0, 0.0, -0, 0e5) ->
                       false, other numbers -> true (also "1e400", "1e-400"); else fails ("yes", "NaN", "", "t")
text -> string         unchanged ("" stays "")
integer -> string      decimal digits ("-12")
float -> string        Polars' own cast to String: shortest round-trip digits; plain notation when the decimal
                       exponent is in [-5, 15] with ".0" for whole numbers (3.8 -> "3.8", 2.0 -> "2.0",
                       1e15 -> "1000000000000000.0", 1e-5 -> "0.00001"), else scientific with an unpadded
                       exponent (1e16 -> "1e+16", 1e20 -> "1e+20", 1e-7 -> "1e-7", 1.5e-300 -> "1.5e-300");
                       -0.0 -> "-0.0", NaN -> "NaN", inf -> "inf", -inf -> "-inf". Float32/Float16 columns are
                       written by Polars' cast from their own dtype (Float32 0.1 -> "0.1")
bool -> string         "true" / "false"
float -> integer       truncated toward zero (3.8 -> 3, -3.8 -> -3); NaN, +-inf and values outside int64 fail
float -> float         the value; NaN and +-inf fail (so a float result is never NaN or infinite)
float -> bool          value != 0 (inf -> true, -0.0 -> false); NaN fails
integer -> integer     the value; unsigned/128-bit values outside int64 fail
integer -> float       the nearest Float64 (2**53 + 1 -> 2**53)
integer -> bool        value != 0
bool -> integer/float  true -> 1 / 1.0, false -> 0 / 0.0
=====================  ===============================================================================================

Both returned expressions carry the input expression's output name; alias them before selecting both.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

__all__ = ["CAST_DTYPES", "CastType", "cast_value"]

CastType = Literal["string", "integer", "float", "bool"]

CAST_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
}

_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_PLAIN_DECIMAL = r"^[+-]?[0-9]+\.[0-9]*$"
_NONZERO_MANTISSA = r"^[^eE]*[1-9]"  # for a number: a digit 1-9 before any exponent
# sign, integer digits, fraction digits, exponent: a decimal literal has at least one digit in integer or fraction.
_NUMBER_PARTS = r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$"
_INT64_DIGITS = 19  # len(str(2**63 - 1))
_EXP_CLAMP = 10**15  # exponents beyond this behave like infinity for any string that fits in memory
_INT64_LIMIT = 2.0**63


def _is_type(source: pl.DataType, check: str) -> bool:
    return bool(getattr(source, check)())


def _field_len(name: str) -> pl.Expr:
    return pl.field(name).str.len_bytes().cast(pl.Int64)


def _from_text(value: pl.Expr, target: CastType) -> pl.Expr:
    if target == "string":
        return value
    # Most values are plain literals that Polars' own parsers read exactly as the rules say
    # (to_integer: sign and ASCII digits; the float parser: decimal literals, where its other
    # results, NaN and inf, are not finite). Only the rest takes the full path below.
    fast = _plain_literal(value, target)
    return pl.coalesce(fast, _full_path(pl.when(fast.is_null()).then(value), target))


def _plain_literal(value: pl.Expr, target: CastType) -> pl.Expr:
    whole = value.str.to_integer(strict=False)
    if target == "integer":  # 12 or 12.50 (truncated: the digits before the point)
        before_point = value.str.split_exact(".", 1).struct.field("field_0").str.to_integer(strict=False)
        return pl.coalesce(whole, pl.when(value.str.contains(_PLAIN_DECIMAL)).then(before_point))
    number = value.cast(pl.Float64, strict=False)
    if target == "float":
        return pl.when(number.is_finite()).then(number)
    # bool: "1e-400" reads as 0.0 but is not zero, so only a whole zero is taken as false here
    return (
        pl.when(value == "true")
        .then(True)
        .when(value == "false")
        .then(False)
        .when(number.is_finite() & (number != 0))
        .then(True)
        .when(whole == 0)
        .then(False)
    )


def _full_path(value: pl.Expr, target: CastType) -> pl.Expr:
    # A struct whose fields are computed stage by stage, so that the input, the regexes and every intermediate
    # run once per row (an expression referenced twice is evaluated twice).
    stages = pl.struct(value.str.strip_chars().alias("text"))
    if target == "float":
        stages = stages.struct.with_fields(
            is_number=pl.field("text").str.contains(_NUMBER),
            number=pl.field("text").cast(pl.Float64, strict=False),  # also reads "NaN", "inf": gated by is_number
        )
        stages = stages.struct.with_fields(
            result=pl.when(pl.field("is_number") & pl.field("number").is_finite()).then(pl.field("number"))
        )
        return stages.struct.field("result")
    if target == "bool":
        stages = stages.struct.with_fields(
            lower=pl.field("text").str.to_lowercase(),
            is_number=pl.field("text").str.contains(_NUMBER),
            nonzero=pl.field("text").str.contains(_NONZERO_MANTISSA),
        )
        stages = stages.struct.with_fields(
            result=pl.when(pl.field("lower") == "true")
            .then(True)
            .when(pl.field("lower") == "false")
            .then(False)
            .when(pl.field("is_number"))
            .then(pl.field("nonzero"))
            .otherwise(pl.lit(None, dtype=pl.Boolean))
        )
        return stages.struct.field("result")

    # integer: split the literal into its parts, then build the digits of the truncated |value| as text and parse
    # them exactly (an overflow is null)
    stages = stages.struct.with_fields(parts=pl.field("text").str.extract_groups(_NUMBER_PARTS))
    stages = stages.struct.with_fields(
        sign=pl.field("parts").struct.field("1"),
        int_part=pl.field("parts").struct.field("2"),
        frac_part=pl.field("parts").struct.field("3").fill_null(""),
        exp_negative=pl.field("parts").struct.field("4").str.starts_with("-").fill_null(False),
        exp_digits=pl.field("parts").struct.field("4").str.strip_chars_start("+-0").fill_null(""),
    )
    exp_abs = (
        pl.when(_field_len("exp_digits") > 15)  # a huge exponent only matters by its sign
        .then(_EXP_CLAMP)
        .otherwise(pl.field("exp_digits").str.to_integer(strict=False).fill_null(0))  # "" (all zeros) -> 0
    )
    stages = stages.struct.with_fields(
        is_number=pl.field("int_part").is_not_null() & ((_field_len("int_part") + _field_len("frac_part")) > 0),
        # significant digits without leading zeros: |value| = int(digits) * 10**shift
        digits=pl.concat_str(pl.field("int_part"), pl.field("frac_part")).str.strip_chars_start("0"),
        shift=pl.when(pl.field("exp_negative")).then(-exp_abs).otherwise(exp_abs) - _field_len("frac_part"),
    )
    stages = stages.struct.with_fields(n_int=_field_len("digits") + pl.field("shift"))
    width = pl.field("n_int").clip(0, _INT64_DIGITS)
    stages = stages.struct.with_fields(
        int_digits=pl.when((_field_len("digits") == 0) | (pl.field("n_int") <= 0))
        .then(pl.lit("0"))
        .when(pl.field("n_int") > _INT64_DIGITS)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.field("shift") >= 0)
        .then(pl.field("digits").str.pad_end(width, "0"))
        .otherwise(pl.field("digits").str.head(width))
    )
    stages = stages.struct.with_fields(
        result=pl.when(pl.field("is_number")).then(
            pl.concat_str(pl.field("sign"), pl.field("int_digits")).str.to_integer(strict=False)
        )
    )
    return stages.struct.field("result")


def _from_float(value: pl.Expr, target: CastType) -> pl.Expr:
    if target == "string":
        return value.cast(pl.String)
    number = value.cast(pl.Float64)
    if target == "integer":
        in_range = number.is_finite() & (number >= -_INT64_LIMIT) & (number < _INT64_LIMIT)
        return pl.when(in_range).then(number.cast(pl.Int64, strict=False))
    if target == "float":
        return pl.when(number.is_finite()).then(number)
    return pl.when(number.is_not_nan()).then(number != 0)


def _from_integer(value: pl.Expr, target: CastType) -> pl.Expr:
    if target == "string":
        return value.cast(pl.String)
    if target == "integer":
        return value.cast(pl.Int64, strict=False)
    if target == "float":
        return value.cast(pl.Float64)
    return value != 0


def _from_bool(value: pl.Expr, target: CastType) -> pl.Expr:
    if target == "string":
        return pl.when(value).then(pl.lit("true")).when(~value).then(pl.lit("false"))
    return value.cast(CAST_DTYPES[target])


def cast_value(value: pl.Expr, source: pl.DataType, target: CastType) -> tuple[pl.Expr, pl.Expr]:
    """(cast, failed): `cast` has dtype CAST_DTYPES[target], null where the input is null or failed;
    `failed` is Boolean, True exactly where the input is not null and cannot be cast (never null).
    `source` is the input expression's dtype: pl.String, an integer dtype, a float dtype, or pl.Boolean."""
    if target not in CAST_DTYPES:
        raise ValueError(f"unknown cast target {target!r}; expected one of {', '.join(CAST_DTYPES)}")
    if source == pl.String:
        result = _from_text(value, target)
    elif source == pl.Boolean:
        result = _from_bool(value, target)
    elif _is_type(source, "is_float"):
        result = _from_float(value, target)
    elif _is_type(source, "is_integer"):
        result = _from_integer(value, target)
    else:
        raise TypeError(f"cannot cast a {source} column; expected String, an integer, a float or Boolean")
    cast = result.cast(CAST_DTYPES[target])
    failed = value.is_not_null() & cast.is_null()
    name = value.meta.output_name(raise_if_undetermined=False)
    if name is not None:
        cast, failed = cast.alias(name), failed.alias(name)
    return cast, failed
