"""Custom DateTime patterns (Java letters) parsed by Polars expressions into ISO-8601 UTC text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import string

import polars as pl
import pytest

from etl.transforms.timestamp import PatternError, TimestampPattern


def parse(pattern: str, values: list[str | None]) -> dict[str, list]:
    """{'iso': [...], 'failed': [...]} for `values` read with `pattern` (eager select)."""
    df = pl.DataFrame({"v": values}, schema={"v": pl.String})
    iso, failed = TimestampPattern.compile(pattern).to_iso(pl.col("v"))
    return df.select(iso.alias("iso"), failed.alias("failed")).to_dict(as_series=False)


def test_the_spec_example():
    assert parse("yyyy/MM/dd hh:mm", ["2021/01/21 14:25"]) == {"iso": ["2021-01-21T14:25:00Z"], "failed": [False]}


PARSED = [
    # year: yyyy 4 digits, yy 2000-2099, y / yyy 1 to 4 digits as written
    ("yyyy-MM-dd", "2021-01-21", "2021-01-21T00:00:00Z"),
    ("yy-MM-dd", "99-12-31", "2099-12-31T00:00:00Z"),
    ("yy-MM-dd", "00-01-01", "2000-01-01T00:00:00Z"),
    ("y-MM-dd", "21-01-21", "0021-01-21T00:00:00Z"),
    ("y/M/d", "5/1/2", "0005-01-02T00:00:00Z"),
    ("y/M/d", "2021/1/2", "2021-01-02T00:00:00Z"),
    ("yyy-MM-dd", "987-06-05", "0987-06-05T00:00:00Z"),
    # month: M 1-2 digits, MM 2 digits, MMM short name, MMMM full name (any case)
    ("yyyy-M-dd", "2021-1-21", "2021-01-21T00:00:00Z"),
    ("yyyy-M-dd", "2021-12-21", "2021-12-21T00:00:00Z"),
    ("yyyy-M-dd", "2021-01-21", "2021-01-21T00:00:00Z"),
    ("dd MMM yyyy", "05 Sep 2021", "2021-09-05T00:00:00Z"),
    ("dd MMM yyyy", "05 sep 2021", "2021-09-05T00:00:00Z"),
    ("dd MMM yyyy", "05 DEC 2021", "2021-12-05T00:00:00Z"),
    ("dd MMM yyyy", "05 May 2021", "2021-05-05T00:00:00Z"),
    ("d MMMM yyyy", "5 September 2021", "2021-09-05T00:00:00Z"),
    ("d MMMM yyyy", "5 jANUARY 2021", "2021-01-05T00:00:00Z"),
    ("MMMM d, yyyy", "February 29, 2024", "2024-02-29T00:00:00Z"),
    ("MMMM d, yyyy", "May 1, 2024", "2024-05-01T00:00:00Z"),
    # day: d 1-2 digits, dd 2 digits
    ("yyyy-MM-d", "2021-01-5", "2021-01-05T00:00:00Z"),
    ("yyyy-MM-d", "2021-01-31", "2021-01-31T00:00:00Z"),
    # H 0-23; h without a reads 0-23 too
    ("yyyy-MM-dd H:mm", "2021-01-21 7:05", "2021-01-21T07:05:00Z"),
    ("yyyy-MM-dd H:mm", "2021-01-21 23:59", "2021-01-21T23:59:00Z"),
    ("yyyy-MM-dd HH:mm", "2021-01-21 00:00", "2021-01-21T00:00:00Z"),
    ("yyyy/MM/dd hh:mm", "2021/01/21 00:05", "2021-01-21T00:05:00Z"),
    ("yyyy/MM/dd h:mm", "2021/01/21 9:05", "2021-01-21T09:05:00Z"),
    # m and s: 1 letter 1-2 digits, 2 letters 2 digits
    ("yyyy-MM-dd H:m:s", "2021-01-21 7:5:9", "2021-01-21T07:05:09Z"),
    ("yyyy-MM-dd H:m:s", "2021-01-21 17:45:59", "2021-01-21T17:45:59Z"),
    ("yyyy-MM-dd HH:mm:ss", "2021-01-21 14:25:07", "2021-01-21T14:25:07Z"),
    ("yyyyMMddHHmmss", "20210121142507", "2021-01-21T14:25:07Z"),
    # 12-hour clock: 12 AM is 00, 12 PM is 12; the marker in any case
    ("yyyy-MM-dd hh:mm a", "2021-01-21 12:00 AM", "2021-01-21T00:00:00Z"),
    ("yyyy-MM-dd hh:mm a", "2021-01-21 12:01 am", "2021-01-21T00:01:00Z"),
    ("yyyy-MM-dd hh:mm a", "2021-01-21 01:00 AM", "2021-01-21T01:00:00Z"),
    ("yyyy-MM-dd hh:mm a", "2021-01-21 11:59 Am", "2021-01-21T11:59:00Z"),
    ("yyyy-MM-dd hh:mm a", "2021-01-21 12:00 PM", "2021-01-21T12:00:00Z"),
    ("yyyy-MM-dd hh:mm a", "2021-01-21 12:30 pm", "2021-01-21T12:30:00Z"),
    ("yyyy-MM-dd h:mm a", "2021-01-21 1:05 pM", "2021-01-21T13:05:00Z"),
    ("yyyy-MM-dd h:mm:ssa", "2021-01-21 11:59:59PM", "2021-01-21T23:59:59Z"),
    # fractions: n S letters = exactly n digits, kept to microseconds (truncated, never rounded)
    ("yyyy-MM-dd HH:mm:ss.S", "2021-01-21 14:25:00.1", "2021-01-21T14:25:00.100000Z"),
    ("yyyy-MM-dd HH:mm:ss.SSS", "2021-01-21 14:25:00.120", "2021-01-21T14:25:00.120000Z"),
    ("yyyy-MM-dd HH:mm:ss.SSS", "2021-01-21 14:25:00.000", "2021-01-21T14:25:00.000000Z"),
    ("yyyy-MM-dd HH:mm:ss.SSSSSS", "2021-01-21 14:25:00.123456", "2021-01-21T14:25:00.123456Z"),
    ("yyyy-MM-dd HH:mm:ss.SSSSSSSSS", "2021-01-21 14:25:00.123456789", "2021-01-21T14:25:00.123456Z"),
    ("yyyy-MM-dd HH:mm:ss.SSSSSSSSS", "2021-01-21 23:59:59.999999999", "2021-01-21T23:59:59.999999Z"),
    ("yyyy-MM-dd HH:mm:ss,SS", "2021-01-21 14:25:00,05", "2021-01-21T14:25:00.050000Z"),
    # offsets, every form, for X and Z; converted to UTC
    ("yyyy-MM-dd'T'HH:mm:ssX", "2021-01-21T14:25:00Z", "2021-01-21T14:25:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssX", "2021-01-21T14:25:00+01", "2021-01-21T13:25:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssX", "2021-01-21T14:25:00-01", "2021-01-21T15:25:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXX", "2021-01-21T14:25:00+0100", "2021-01-21T13:25:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-01-21T14:25:00+01:00", "2021-01-21T13:25:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-01-21T14:25:00-05:30", "2021-01-21T19:55:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-01-21T14:25:00+00:00", "2021-01-21T14:25:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-01-21T14:25:00-00", "2021-01-21T14:25:00Z"),
    ("yyyy-MM-dd HH:mm:ss Z", "2021-01-21 14:25:00 Z", "2021-01-21T14:25:00Z"),
    ("yyyy-MM-dd HH:mm:ss Z", "2021-01-21 14:25:00 +02", "2021-01-21T12:25:00Z"),
    ("yyyy-MM-dd HH:mm:ss ZZ", "2021-01-21 14:25:00 +0200", "2021-01-21T12:25:00Z"),
    ("yyyy-MM-dd HH:mm:ss ZZZ", "2021-01-21 14:25:00 -02:45", "2021-01-21T17:10:00Z"),
    ("yyyy-MM-dd HH:mm:ss ZZZ", "2021-01-21 12:00:00 +23:59", "2021-01-20T12:01:00Z"),
    ("yyyy-MM-dd HH:mm:ss ZZZ", "2021-01-21 12:00:00 -23:59", "2021-01-22T11:59:00Z"),
    # ... crossing midnight, a month end, a leap day and a year boundary
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-01-21T00:30:00+01:00", "2021-01-20T23:30:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-01-21T23:30:00-01:00", "2021-01-22T00:30:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2021-05-01T01:00:00+02:00", "2021-04-30T23:00:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-02-28T23:00:00-02:00", "2024-02-29T01:00:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2023-02-28T23:00:00-02:00", "2023-03-01T01:00:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-03-01T00:00:00+00:01", "2024-02-29T23:59:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXX", "2021-01-01T00:30:00+0100", "2020-12-31T23:30:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssX", "2021-12-31T23:30:00-01", "2022-01-01T00:30:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2021-01-01T00:00:00.250+01:00", "2020-12-31T23:00:00.250000Z"),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2021-01-21T14:25:00.120Z", "2021-01-21T14:25:00.120000Z"),
    ("d MMM yyyy h:mm a X", "1 Jan 2021 12:15 AM +01", "2020-12-31T23:15:00Z"),
    ("yyyy-MM-dd'T'HH:mm:ssXXX", "0001-01-01T00:30:00+01:00", "0000-12-31T23:30:00Z"),
    # quoted literals, '' and other literal characters (regex metacharacters included)
    ("yyyy-MM-dd'T'HH:mm:ss'Z'", "2021-01-21T14:25:00Z", "2021-01-21T14:25:00Z"),
    ("'on' dd/MM/yyyy 'at' HH:mm", "on 21/01/2021 at 14:25", "2021-01-21T14:25:00Z"),
    ("h 'o''clock' a, d.M.yyyy", "3 o'clock PM, 21.1.2021", "2021-01-21T15:00:00Z"),
    ("yyyy''MM''dd", "2021'01'21", "2021-01-21T00:00:00Z"),
    ("''yyyy-MM-dd''", "'2021-01-21'", "2021-01-21T00:00:00Z"),
    ("'['yyyy-MM-dd']' (HH)", "[2021-01-21] (14)", "2021-01-21T14:00:00Z"),
    ("[yyyy.MM.dd]*+?|^$\\", "[2021.01.21]*+?|^$\\", "2021-01-21T00:00:00Z"),
    ("yyyy年MM月dd日", "2021年01月21日", "2021-01-21T00:00:00Z"),
    # leap days
    ("yyyy-MM-dd", "2024-02-29", "2024-02-29T00:00:00Z"),
    ("yyyy-MM-dd", "2000-02-29", "2000-02-29T00:00:00Z"),
    ("yyyy-MM-dd", "2023-02-28", "2023-02-28T00:00:00Z"),
    # whitespace around the value is ignored
    ("yyyy/MM/dd hh:mm", "  2021/01/21 14:25  ", "2021-01-21T14:25:00Z"),
    ("yyyy-MM-dd", "\t2021-01-21\r\n", "2021-01-21T00:00:00Z"),
]


@pytest.mark.parametrize(("pattern", "value", "iso"), PARSED)
def test_parses(pattern, value, iso):
    assert parse(pattern, [value]) == {"iso": [iso], "failed": [False]}


@pytest.mark.parametrize("char", [c for c in string.punctuation if c != "'"] + [" ", "\t", "é", "\u00a0"])
def test_every_non_letter_is_a_literal(char):
    pattern = f"yyyy{char}MM{char}dd"
    assert parse(pattern, [f"2021{char}01{char}21", "2021x01x21", "20210121"]) == {
        "iso": ["2021-01-21T00:00:00Z", None, None],
        "failed": [False, True, True],
    }


def test_a_column_of_mixed_values_in_one_pass():
    values = [
        "2021/01/21 14:25",
        None,
        "2023/02/29 10:00",
        "2024/02/29 10:00",
        " ",
        "2021/01/21 24:00",
        "2021/1/21 9:05",
    ]
    assert parse("yyyy/MM/dd hh:mm", values) == {
        "iso": ["2021-01-21T14:25:00Z", None, None, "2024-02-29T10:00:00Z", None, None, None],
        "failed": [False, False, True, False, True, True, True],
    }


FAILING = [
    # wrong separators, missing or extra text, wrong widths
    ("yyyy-MM-dd", ["2021/01/21", "2021-01-21x", "x2021-01-21", "2021-01-21 00:00", "2021-01", "2021--01-21"]),
    ("yyyy-MM-dd", ["2021-1-21", "2021-01-5", "21-01-21", "02021-01-21", "2021-001-21"]),
    ("yyyy-MM-dd", ["", " ", "\t", "-", "null", "２０２１-01-21", "2021 - 01 - 21"]),
    ("yyyy.MM.dd", ["2021x01x21", "2021-01-21"]),
    ("yyyy-MM-dd'T'HH:mm:ss", ["2021-01-21t14:25:00", "2021-01-21 14:25:00", "2021-01-21T14:25"]),
    ("yy-MM-dd", ["2021-01-21", "1-01-21"]),
    ("y-MM-dd", ["20210-01-21", "-01-21"]),
    # out-of-range dates, non-leap Feb 29, year 0
    ("yyyy-MM-dd", ["2021-13-01", "2021-00-10", "2021-01-00", "2021-01-32", "2021-04-31", "2021-06-31", "2021-09-31"]),
    ("yyyy-MM-dd", ["2021-11-31", "2021-12-32", "2021-03-32", "2021-08-32"]),
    ("yyyy-MM-dd", ["2023-02-29", "1900-02-29", "2024-02-30", "2021-02-31", "0000-01-01"]),
    ("y-M-d", ["0-1-1", "2021-99-1", "2021-1-99"]),
    # out-of-range times
    (
        "yyyy-MM-dd HH:mm:ss",
        ["2021-01-21 24:00:00", "2021-01-21 23:60:00", "2021-01-21 23:59:60", "2021-01-21 99:99:99"],
    ),
    ("yyyy/MM/dd hh:mm", ["2021/01/21 24:00", "2021/01/21 14:25 PM"]),
    ("yyyy-MM-dd H:m:s", ["2021-01-21 123:5:9", "2021-01-21 1:5:", "2021-01-21 1:5:60"]),
    # 12-hour clock: hours 1-12, marker required and exact
    ("yyyy-MM-dd hh:mm a", ["2021-01-21 00:15 AM", "2021-01-21 13:00 PM", "2021-01-21 12:00", "2021-01-21 12:00 XM"]),
    ("yyyy-MM-dd hh:mm a", ["2021-01-21 12:00 A.M.", "2021-01-21 12:00 AMX", "2021-01-21 12:00 P"]),
    # month names
    ("dd MMM yyyy", ["05 Sept 2021", "05 09 2021", "05 September 2021", "05 Foo 2021", "05 Sep. 2021"]),
    ("d MMMM yyyy", ["5 Sep 2021", "5 Septembre 2021", "5 9 2021"]),
    # offsets
    (
        "yyyy-MM-dd'T'HH:mm:ssXXX",
        [
            "2021-01-21T14:25:00+24:00",
            "2021-01-21T14:25:00+01:60",
            "2021-01-21T14:25:00+1",
            "2021-01-21T14:25:00+01:0",
            "2021-01-21T14:25:00+010",
            "2021-01-21T14:25:00+01:",
            "2021-01-21T14:25:00 +01:00",
            "2021-01-21T14:25:00z",
            "2021-01-21T14:25:00",
            "2021-01-21T14:25:00UTC",
            "2021-01-21T14:25:00+01:00:00",
        ],
    ),
    ("yyyy-MM-dd HH:mm Z", ["2021-01-21 14:25 01:00", "2021-01-21 14:25 GMT+01:00"]),
    # after year 9999 once converted to UTC: cannot be written as YYYY
    ("yyyy-MM-dd'T'HH:mmX", ["9999-12-31T23:30-01"]),
    # fractions: exactly n digits
    ("yyyy-MM-dd HH:mm:ss.SSS", ["2021-01-21 14:25:00.12", "2021-01-21 14:25:00.1234", "2021-01-21 14:25:00"]),
    ("yyyy-MM-dd HH:mm:ss.SSS", ["2021-01-21 14:25:00.", "2021-01-21 14:25:00,120"]),
    # quoted literals must appear as written (case-sensitive)
    ("'on' dd/MM/yyyy", ["ON 21/01/2021", "21/01/2021", "on  21/01/2021"]),
    ("h 'o''clock' a, d.M.yyyy", ["3 oclock PM, 21.1.2021", "3 o''clock PM, 21.1.2021"]),
]


@pytest.mark.parametrize(("pattern", "values"), FAILING)
def test_fails(pattern, values):
    assert parse(pattern, values) == {"iso": [None] * len(values), "failed": [True] * len(values)}


def test_the_same_pattern_still_parses_a_good_value_beside_the_failures():
    # Guards the FAILING table: each of its patterns accepts a well-formed value.
    good = {
        "yyyy-MM-dd": "2021-01-21",
        "yyyy.MM.dd": "2021.01.21",
        "yyyy-MM-dd'T'HH:mm:ss": "2021-01-21T14:25:00",
        "yy-MM-dd": "21-01-21",
        "y-MM-dd": "2021-01-21",
        "y-M-d": "2021-1-21",
        "yyyy-MM-dd HH:mm:ss": "2021-01-21 14:25:00",
        "yyyy/MM/dd hh:mm": "2021/01/21 14:25",
        "yyyy-MM-dd H:m:s": "2021-01-21 14:25:00",
        "yyyy-MM-dd hh:mm a": "2021-01-21 02:25 PM",
        "dd MMM yyyy": "21 Jan 2021",
        "d MMMM yyyy": "21 January 2021",
        "yyyy-MM-dd'T'HH:mm:ssXXX": "2021-01-21T14:25:00+00:00",
        "yyyy-MM-dd HH:mm Z": "2021-01-21 14:25 +00:00",
        "yyyy-MM-dd'T'HH:mmX": "9999-12-31T23:30+01",
        "yyyy-MM-dd HH:mm:ss.SSS": "2021-01-21 14:25:00.000",
        "'on' dd/MM/yyyy": "on 21/01/2021",
        "h 'o''clock' a, d.M.yyyy": "2 o'clock PM, 21.1.2021",
    }
    assert {pattern for pattern, _ in FAILING} == set(good)
    for pattern, value in good.items():
        result = parse(pattern, [value])
        assert result["failed"] == [False], (pattern, value)
        assert result["iso"][0].startswith(("2021-01-21T", "9999-12-31T22:30")), (pattern, result)


def test_agrees_with_python_datetime_on_many_instants():
    # Every day of 1899-1901, 1999-2001, 2023-2025 and 2099-2101 (leap years and centuries), and random instants
    # in years 1-9999, each with a random offset, against the stdlib.
    rng = random.Random(20210121)
    days = [dt.datetime(y, 1, 1) + dt.timedelta(days=n) for y in (1899, 1999, 2023, 2099) for n in range(1096)]
    randoms = [dt.datetime(1, 1, 2) + dt.timedelta(seconds=rng.randrange(315_400_000_000)) for _ in range(10_000)]
    local = [t.replace(microsecond=rng.randrange(1_000_000)) for t in days + randoms]
    offsets = [dt.timedelta(minutes=rng.randrange(-23 * 60 - 59, 23 * 60 + 60)) for _ in local]
    values = [f"{t:%d.%m.}{t.year:04d} {t:%H:%M:%S.%f}{_offset_text(o)}" for t, o in zip(local, offsets, strict=True)]
    expected = [f"{(t - o).year:04d}{t - o:-%m-%dT%H:%M:%S.%f}Z" for t, o in zip(local, offsets, strict=True)]
    result = parse("dd.MM.yyyy HH:mm:ss.SSSSSSXXX", values)
    assert result["failed"] == [False] * len(values)
    assert result["iso"] == expected


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_null_stays_null_and_is_not_a_failure():
    assert parse("yyyy-MM-dd", [None, None]) == {"iso": [None, None], "failed": [False, False]}
    assert parse("yyyy-MM-dd", [None, "2021-01-21", "bad"]) == {
        "iso": [None, "2021-01-21T00:00:00Z", None],
        "failed": [False, False, True],
    }


def test_types_names_and_failed_never_null():
    df = pl.DataFrame({"ts": ["2021-01-21 14:25", None, "nope"]})
    iso, failed = TimestampPattern.compile("yyyy-MM-dd HH:mm").to_iso(pl.col("ts"))
    out = df.select(iso, failed)
    assert out.schema == pl.Schema({"ts": pl.String, "ts_failed": pl.Boolean})
    assert out["ts_failed"].null_count() == 0
    assert out.to_dict(as_series=False) == {
        "ts": ["2021-01-21T14:25:00Z", None, None],
        "ts_failed": [False, False, True],
    }


def test_lazy_streaming_and_eager_agree():
    values = ["2021-01-21T14:25:00.5+01:00", "2021-02-29T00:00:00.0Z", None, "2021-12-31T23:59:59.9-00:01", "x"] * 1000
    df = pl.DataFrame({"v": values})
    iso, failed = TimestampPattern.compile("yyyy-MM-dd'T'HH:mm:ss.SX").to_iso(pl.col("v"))
    eager = df.select(iso, failed)
    assert eager.head(5).to_dict(as_series=False) == {
        "v": ["2021-01-21T13:25:00.500000Z", None, None, "2022-01-01T00:00:59.900000Z", None],
        "v_failed": [False, True, False, False, True],
    }
    assert df.lazy().select(iso, failed).collect().equals(eager)
    assert df.lazy().select(iso, failed).collect(engine="streaming").equals(eager)


def test_works_on_any_string_expression():
    df = pl.DataFrame({"a": ["2021", "2024"], "b": ["01-21", "02-29"]})
    iso, failed = TimestampPattern.compile("yyyy-MM-dd").to_iso(pl.concat_str("a", "b", separator="-"))
    assert df.select(iso.alias("iso"), failed.alias("failed")).to_dict(as_series=False) == {
        "iso": ["2021-01-21T00:00:00Z", "2024-02-29T00:00:00Z"],
        "failed": [False, False],
    }


def test_compile_gives_a_frozen_value():
    compiled = TimestampPattern.compile("yyyy-MM-dd")
    assert compiled.pattern == "yyyy-MM-dd"
    assert compiled == TimestampPattern.compile("yyyy-MM-dd")
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.pattern = "yy"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("EEE yyyy-MM-dd", "unsupported letter 'E'"),
        ("yyyy-MM-dd HH:mm z", "unsupported letter 'z'"),
        ("D yyyy-MM-dd", "unsupported letter 'D'"),
        ("G yyyy-MM-dd", "unsupported letter 'G'"),
        ("uuuu-MM-dd", "unsupported letter 'u'"),
        ("yyyy-MM-dd kk:mm", "unsupported letter 'k'"),
        ("yyyy-MM-dd KK:mm", "unsupported letter 'K'"),
        ("yyyy-MM-dd HH:mm:ss.nnn", "unsupported letter 'n'"),
        ("yyyy-MM-dd HH:mm VV", "unsupported letter 'V'"),
        ("yyyy-MM-dd HH:mm O", "unsupported letter 'O'"),
        ("yyyy-MM-dd w W Q", "unsupported letter 'w'"),
        ("yyyy-MM-dd'T'HH:mm x", "unsupported letter 'x'"),
        ("yyyy-MM-ddTHH:mm", "unquoted letter 'T'"),
        ("yyyy-MM-dd 'T", "unclosed quote"),
        ("yyyy-MM-dd'T'HH:mm 'o''clock", "unclosed quote"),
        ("MMMMM yyyy dd", "too many letters 'MMMMM'"),
        ("yyyyy-MM-dd", "too many letters 'yyyyy'"),
        ("yyyy-MM-ddd", "too many letters 'ddd'"),
        ("yyyy-MM-dd HHH", "too many letters 'HHH'"),
        ("yyyy-MM-dd hhh a", "too many letters 'hhh'"),
        ("yyyy-MM-dd HH:mmm", "too many letters 'mmm'"),
        ("yyyy-MM-dd HH:mm:sss", "too many letters 'sss'"),
        ("yyyy-MM-dd HH:mm:ss.SSSSSSSSSS", "too many letters 'SSSSSSSSSS'"),
        ("yyyy-MM-dd h:mm aa", "too many letters 'aa'"),
        ("yyyy-MM-dd HH:mm ZZZZ", "too many letters 'ZZZZ'"),
        ("yyyy-MM-dd HH:mm XXXXX", "too many letters 'XXXXX'"),
        ("yyyy-MM-dd yy", "two year fields ('yyyy' and 'yy')"),
        ("yyyy-MM-dd HH:MM", "two month fields ('MM' and 'MM')"),
        ("d MMM yyyy (dd)", "two day fields ('d' and 'dd')"),
        ("yyyy-MM-dd H:mm h", "two hour fields ('H' and 'h')"),
        ("yyyy-MM-dd HH:mm:ss mm", "two minutes fields ('mm' and 'mm')"),
        ("yyyy-MM-dd HH:mm:ss.SSS SSS", "two fraction of a second fields ('SSS' and 'SSS')"),
        ("yyyy-MM-dd h:mm a a", "two AM/PM marker fields ('a' and 'a')"),
        ("yyyy-MM-dd HH:mm X Z", "two offset fields ('X' and 'Z')"),
        ("yyyy-MM-dd HH:mm a", "AM/PM marker 'a' without a 12-hour hour (h or hh)"),
        ("yyyy-MM-dd a", "AM/PM marker 'a' without a 12-hour hour (h or hh)"),
        ("MM-dd", "no year (y)"),
        ("yyyy-dd", "no month (M)"),
        ("yyyy-mm-dd", "no month (M)"),
        ("yyyy-MM", "no day (d)"),
        ("", "no year (y)"),
        ("'yyyy-MM-dd'", "no year (y)"),
        ("yyyy-MM-dd mm", "minutes (m) without an hour (H or h)"),
        ("yyyy-MM-dd HH ss", "seconds (s) without minutes (m)"),
        ("yyyy-MM-dd HH:mm.SSS", "fraction of a second (S) without seconds (s)"),
    ],
)
def test_pattern_errors_name_the_problem_and_the_pattern(pattern, expected):
    with pytest.raises(PatternError) as caught:
        TimestampPattern.compile(pattern)
    message = str(caught.value)
    assert expected in message
    assert f'in timestamp pattern "{pattern}"' in message
    assert isinstance(caught.value, ValueError)


def test_pattern_error_messages_say_how_to_fix_it():
    def message(pattern: str) -> str:
        with pytest.raises(PatternError) as caught:
            TimestampPattern.compile(pattern)
        return str(caught.value)

    assert message("EEE yyyy-MM-dd") == (
        "unsupported letter 'E' in timestamp pattern \"EEE yyyy-MM-dd\"; "
        "supported: y M d H h m s S a Z X, and text in single quotes such as 'T'"
    )
    assert "in single quotes" in message("yyyy-MM-ddTHH:mm") and "'T'" in message("yyyy-MM-ddTHH:mm")
    assert "M or MM (digits), MMM (Jan) or MMMM (January)" in message("MMMMM yyyy dd")
    assert "m the minutes" in message("yyyy-mm-dd")
    assert "m the minutes" in message("yyyy-MM-dd HH:MM")
    assert "use h or hh with a" in message("yyyy-MM-dd HH:mm a")
    assert "write '' for a single quote" in message("yyyy-MM-dd 'T")
