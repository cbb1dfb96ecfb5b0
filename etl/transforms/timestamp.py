"""Custom DateTime patterns (Java DateTimeFormatter letters) turned into Polars expressions.

Kevel Audience's docs: "Given the pattern yyyy/MM/dd hh:mm, the value 2021/01/21 14:25 will be
converted to the ISO 8601 format 2021-01-21T14:25:00Z". `TimestampPattern.compile(pattern)` checks
the pattern once; `to_iso(value)` gives two expressions over a whole String column (one anchored
regex pass, integer casts and arithmetic; no Python runs per row).

Letters:
    y     yyyy: 4 digits; yy: 2 digits meaning 2000-2099; y or yyy: 1 to 4 digits, the year as written.
          The year must be at least 1.
    M     M: 1-2 digits; MM: 2 digits; MMM: Jan..Dec; MMMM: January..December (names case-insensitive).
    d     d: 1-2 digits; dd: 2 digits; checked against the month's length (leap years included).
    H     hour 0-23; H: 1-2 digits, HH: 2 digits.
    h     as H, but 1-12 when the pattern has an `a`; without `a` it reads 0-23 like H (the docs'
          own example writes hh for 14:25).
    m, s  minutes and seconds 0-59 (no leap seconds); 1 letter: 1-2 digits, 2 letters: 2 digits.
    S     a run of n letters (1-9) is exactly n fraction digits; kept to microseconds, truncated.
    a     AM/PM, case-insensitive; 12 AM is 00, 12 PM is 12. Requires h.
    Z, X  1 to 3 letters; the value may be `Z`, `+01`, `+0100` or `+01:00` (or `-`), hours 0-23,
          minutes 0-59; the instant is converted to UTC. Without Z/X the time is taken as UTC.
Text: 'T' is a literal T; '' is a single quote (also inside quotes: 'o''clock'). Any character that
is not an ASCII letter is a literal that must appear as is. Any other letter, an unclosed quote, a
letter run that is too long, a missing y, M or d, two fields of one kind, `a` without h, or a field
below a missing one (m without H/h, s without m, S without s) raises PatternError.

Parsing is exact: the whole value must match, surrounding whitespace aside; out-of-range parts and
impossible dates (Feb 30, Feb 29 of a non-leap year) fail. Output: 'YYYY-MM-DDTHH:MM:SSZ', with
'.ffffff' before the Z when the pattern has S letters. An instant that falls after year 9999 once
converted to UTC fails too (it cannot be written as YYYY).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

__all__ = ["PatternError", "TimestampPattern"]


class PatternError(ValueError):
    """A pattern the parser cannot use; the message says what is wrong and how to fix it."""


SUPPORTED = "supported: y M d H h m s S a Z X, and text in single quotes such as 'T'"

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Month number by the first three letters of its English name (also the MMM form).
MONTH_BY_ABBREVIATION = {name[:3]: number for number, name in enumerate(MONTHS, start=1)}

# What each letter means: (field kind, name for messages, allowed run lengths, how to write it).
LETTERS: dict[str, tuple[str, str, range, str]] = {
    "y": ("year", "year", range(1, 5), "yyyy (4 digits), yy (2 digits, 2000-2099) or y (1 to 4 digits)"),
    "M": ("month", "month", range(1, 5), "M or MM (digits), MMM (Jan) or MMMM (January)"),
    "d": ("day", "day", range(1, 3), "d (1-2 digits) or dd (2 digits)"),
    "H": ("hour", "hour", range(1, 3), "H (1-2 digits) or HH (2 digits)"),
    "h": ("hour", "hour", range(1, 3), "h (1-2 digits) or hh (2 digits)"),
    "m": ("minute", "minutes", range(1, 3), "m (1-2 digits) or mm (2 digits)"),
    "s": ("second", "seconds", range(1, 3), "s (1-2 digits) or ss (2 digits)"),
    "S": ("fraction", "fraction of a second", range(1, 10), "S to SSSSSSSSS (1 to 9 digits)"),
    "a": ("ampm", "AM/PM marker", range(1, 2), "a (one letter)"),
    "Z": ("offset", "offset", range(1, 4), "Z, ZZ or ZZZ (the value may be Z, +01, +0100 or +01:00)"),
    "X": ("offset", "offset", range(1, 4), "X, XX or XXX (the value may be Z, +01, +0100 or +01:00)"),
}

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
US_YEAR_10000 = 253_402_300_800 * US_PER_SECOND  # 10000-01-01T00:00:00Z after the epoch
DAYS_0000_03_01_TO_EPOCH = 719_468


def _error(problem: str, pattern: str, hint: str) -> PatternError:
    return PatternError(f'{problem} in timestamp pattern "{pattern}"; {hint}')


def _tokens(pattern: str) -> list[tuple[str, str]]:
    """('literal', text) and ('field', letter run) tokens; quoting resolved."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "'":
            if pattern.startswith("''", i):  # '' outside quotes: one single quote
                tokens.append(("literal", "'"))
                i += 2
                continue
            text, j = [], i + 1
            while True:
                if j >= n:
                    raise _error(
                        f"unclosed quote at position {i + 1}",
                        pattern,
                        "close the text with ' (write '' for a single quote)",
                    )
                if pattern[j] == "'":
                    if pattern.startswith("''", j):
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            tokens.append(("literal", "".join(text)))
            i = j + 1
        elif char.isascii() and char.isalpha():
            j = i
            while j < n and pattern[j] == char:
                j += 1
            tokens.append(("field", pattern[i:j]))
            i = j
        else:
            tokens.append(("literal", char))
            i += 1
    return tokens


def _field_regex(run: str) -> str:
    letter, width = run[0], len(run)
    if letter == "y":
        return {4: r"(?<year>[0-9]{4})", 2: r"(?<year>[0-9]{2})"}.get(width, r"(?<year>[0-9]{1,4})")
    if letter == "M":
        if width >= 3:
            names = MONTHS if width == 4 else tuple(MONTH_BY_ABBREVIATION)
            return f"(?<month_name>(?i:{'|'.join(names)}))"
        return r"(?<month>[0-9]{1,2})" if width == 1 else r"(?<month>[0-9]{2})"
    if letter == "S":
        return f"(?<fraction>[0-9]{{{width}}})"
    if letter == "a":
        return r"(?<ampm>(?i:am|pm))"
    if letter in "ZX":
        return r"(?:(?<offset_z>Z)|(?<offset_sign>[+-])(?<offset_hour>[0-9]{2})(?::?(?<offset_minute>[0-9]{2}))?)"
    group = {"d": "day", "H": "hour", "h": "hour", "m": "minute", "s": "second"}[letter]
    return f"(?<{group}>[0-9]{{1,2}})" if width == 1 else f"(?<{group}>[0-9]{{2}})"


@dataclass(frozen=True)
class TimestampPattern:
    """A checked pattern; `to_iso` turns a String column into ISO-8601 UTC text."""

    pattern: str
    regex: str  # anchored, named groups; surrounding whitespace allowed
    kinds: frozenset[str]  # field kinds present: year, month, day, hour, minute, second, fraction, ampm, offset
    two_digit_year: bool  # yy: 2000 + value
    month_names: bool  # MMM / MMMM
    twelve_hour: bool  # h with a: hours 1-12

    @classmethod
    def compile(cls, pattern: str) -> TimestampPattern:
        """Check `pattern` and build its regex; raises PatternError for a pattern it cannot use."""
        parts: list[str] = []
        seen: dict[str, str] = {}  # field kind -> the letter run that gave it
        for kind, text in _tokens(pattern):
            if kind == "literal":
                parts.append(re.escape(text))
                continue
            letter = text[0]
            if letter == "T":
                raise _error(
                    "unquoted letter 'T'", pattern, "write a literal T in single quotes, as in yyyy-MM-dd'T'HH:mm:ss"
                )
            if letter not in LETTERS:
                raise _error(f"unsupported letter '{letter}'", pattern, SUPPORTED)
            field_kind, label, widths, forms = LETTERS[letter]
            if len(text) not in widths:
                raise _error(f"too many letters '{text}'", pattern, f"the {label} is written {forms}")
            if field_kind in seen:
                hint = "keep only one of them" + (" (M is the month, m the minutes)" if letter == "M" else "")
                raise _error(f"two {label} fields ('{seen[field_kind]}' and '{text}')", pattern, hint)
            seen[field_kind] = text
            parts.append(_field_regex(text))

        for field_kind, letter, label in (("year", "y", "year"), ("month", "M", "month"), ("day", "d", "day")):
            if field_kind not in seen:
                hint = "a pattern needs y, M and d, as in yyyy-MM-dd" + (
                    " (M is the month, m the minutes)" if letter == "M" else ""
                )
                raise _error(f"no {label} ({letter})", pattern, hint)
        hour = seen.get("hour", "")
        if "ampm" in seen and not hour.startswith("h"):
            raise _error(
                "AM/PM marker 'a' without a 12-hour hour (h or hh)",
                pattern,
                "use h or hh with a (as in hh:mm a), or HH without a for the 24-hour clock",
            )
        for below, above, problem in (
            ("minute", "hour", "minutes (m) without an hour (H or h)"),
            ("second", "minute", "seconds (s) without minutes (m)"),
            ("fraction", "second", "fraction of a second (S) without seconds (s)"),
        ):
            if below in seen and above not in seen:
                raise _error(problem, pattern, "write every larger unit, as in yyyy-MM-dd HH:mm:ss.SSS")

        return cls(
            pattern=pattern,
            regex=r"^\s*" + "".join(parts) + r"\s*$",
            kinds=frozenset(seen),
            two_digit_year=seen["year"] == "yy",
            month_names=len(seen["month"]) >= 3,
            twelve_hour="ampm" in seen,
        )

    def to_iso(self, value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(iso, failed) for a String expression `value`:
        iso: the instant as ISO-8601 UTC text, 'YYYY-MM-DDTHH:MM:SSZ', with '.ffffff' (6 digits) before the Z only
             when the pattern has S letters (e.g. '2021-01-21T14:25:00Z', '2021-01-21T14:25:00.120000Z');
             null where value is null or failed.
        failed: Boolean, True exactly where value is not null and does not parse (never null).

        iso keeps the output name of `value`; failed is named '<name>_failed'. Each of the two parses the value
        (Polars does not merge the struct-based parse across expressions): the import materialises `instant`
        once and derives both from that column (etl.transforms.compile).
        """
        instant = self.instant(value)
        iso = self.iso_text(instant).name.keep()
        failed = (value.is_not_null() & instant.is_null()).name.suffix("_failed")
        return iso, failed

    def instant(self, value: pl.Expr) -> pl.Expr:
        """Microseconds since 1970-01-01T00:00:00Z (Int64) where `value` parses, else null: one regex pass.

        The import materialises this as a column and derives the text and the failure flag from it
        (`iso_text`), so each value is parsed once.
        """
        ok_instant = pl.when(pl.field("_ok")).then(pl.field("_instant")).alias("_parsed")
        return self._checked(value).struct.with_fields(ok_instant).struct.field("_parsed")

    def iso_text(self, instant: pl.Expr) -> pl.Expr:
        """ISO-8601 UTC text of `instant` (from `instant`): the same text as to_iso's."""
        fmt = "%Y-%m-%dT%H:%M:%S%.6fZ" if "fraction" in self.kinds else "%Y-%m-%dT%H:%M:%SZ"
        return instant.cast(pl.Datetime("us")).dt.to_string(fmt)

    def _checked(self, value: pl.Expr) -> pl.Expr:
        """A struct whose field _ok is True (never null) where `value` parses; _instant: its microseconds since
        1970-01-01T00:00:00Z. One regex pass; the parts are read inside the struct, so each is read once."""
        kinds = self.kinds

        def digits(group: str) -> pl.Expr:  # the regex allows only [0-9] there: the cast cannot fail
            return pl.field(group).cast(pl.Int64, strict=False)

        def zero() -> pl.Expr:
            return pl.lit(0, dtype=pl.Int64)

        # The captured parts as integers.
        if self.month_names:
            month = (
                pl.field("month_name")
                .str.slice(0, 3)
                .str.to_lowercase()
                .replace_strict(MONTH_BY_ABBREVIATION, default=None, return_dtype=pl.Int64)
            )
        else:
            month = digits("month")
        hour = digits("hour") if "hour" in kinds else zero()
        if self.twelve_hour:  # 12 AM -> 0, 12 PM -> 12, 1 PM -> 13
            is_pm = pl.field("ampm").str.slice(0, 1).str.to_lowercase() == "p"
            hour_ok = hour.is_between(1, 12)
            hour = hour % 12 + pl.when(is_pm).then(12).otherwise(0)
        else:
            hour_ok = hour.is_between(0, 23)
        if "fraction" in kinds:  # truncated to microseconds
            micro = pl.field("fraction").str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64, strict=False)
        else:
            micro = zero()
        if "offset" in kinds:
            offset_hour = digits("offset_hour").fill_null(0)  # null for Z
            offset_minute = digits("offset_minute").fill_null(0)
            sign = pl.when(pl.field("offset_sign") == "-").then(-1).otherwise(1)
            offset = sign * (offset_hour * 3600 + offset_minute * 60)  # seconds east of UTC
            offset_ok = offset_hour.is_between(0, 23) & offset_minute.is_between(0, 59)
        else:
            offset, offset_ok = zero(), pl.lit(True)
        parts = [
            (digits("year") + 2000 if self.two_digit_year else digits("year")).alias("_y"),
            month.alias("_mo"),
            digits("day").alias("_d"),
            hour.alias("_h"),
            (hour_ok & offset_ok).alias("_time_ok"),
            (digits("minute") if "minute" in kinds else zero()).alias("_mi"),
            (digits("second") if "second" in kinds else zero()).alias("_s"),
            micro.alias("_us"),
            offset.alias("_off"),
        ]

        # Range checks; no date is built from the parts, so Polars never raises on Feb 30 or hour 24.
        y, mo, d = pl.field("_y"), pl.field("_mo"), pl.field("_d")
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        month_length = (
            pl.when(mo == 2)
            .then(pl.when(leap).then(29).otherwise(28))
            .when(mo.is_in([4, 6, 9, 11]))
            .then(30)
            .otherwise(31)
        )
        ok = (
            (y >= 1)  # also false where the regex did not match: y is always captured
            & mo.is_between(1, 12)
            & d.is_between(1, month_length)
            & pl.field("_time_ok")
            & pl.field("_mi").is_between(0, 59)
            & pl.field("_s").is_between(0, 59)
        )
        # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); years start
        # in March, so Feb 29 is the last day of a year.
        y_march = pl.field("_y_march")
        era = y_march // 400
        year_of_era = y_march - era * 400
        day_of_year = (153 * ((mo + 9) % 12) + 2) // 5 + d - 1
        day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
        days = era * 146_097 + day_of_era - DAYS_0000_03_01_TO_EPOCH
        seconds = pl.field("_h") * 3600 + pl.field("_mi") * 60 + pl.field("_s") - pl.field("_off")
        instant = days * US_PER_DAY + seconds * US_PER_SECOND + pl.field("_us")
        return (
            value.str.extract_groups(self.regex)
            .struct.with_fields(parts)
            .struct.with_fields(ok.alias("_ok"), (y - (mo <= 2).cast(pl.Int64)).alias("_y_march"))
            .struct.with_fields(instant.alias("_instant"))
            .struct.with_fields(  # after year 9999 in UTC (a negative offset on 9999-12-31): not YYYY
                (pl.field("_ok") & (pl.field("_instant") < US_YEAR_10000)).fill_null(False).alias("_ok")
            )
        )
