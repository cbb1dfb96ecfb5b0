"""The JSON array reader (issue 18): one array of objects (or one object) split into records, streaming, strict;
malformed JSON fails the file naming its line and column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from etl.errors import InputError
from etl.readers import json_array, jsonl
from etl.sources import files as sources

SUITE = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsontestsuite" / "test_parsing"


def source_of(path: Path) -> sources.SourceFile:
    return sources.SourceFile(uri=path.name, path=path, size=path.stat().st_size)


def elements(tmp_path: Path, data: bytes, *, scan: bool = False) -> list[dict]:
    """The file's records, each {line, raw} (line: known on the scanning path alone), or the error's text."""
    path = tmp_path / "in.json"
    path.write_bytes(data)
    read = json_array.scan if scan else json_array.to_records
    out = pl.read_parquet(read(source_of(path), tmp_path / "out.parquet"))
    return [{"line": r["_line"], "raw": r["raw"]} if scan else r["raw"] for r in out.to_dicts()]


def refused(tmp_path: Path, data: bytes) -> str:
    with pytest.raises(InputError) as caught:
        elements(tmp_path, data)
    return str(caught.value)


def test_an_array_of_objects_pretty_or_on_one_line_gives_each_element_as_written(tmp_path):
    pretty = b'\xef\xbb\xbf\n[\n  {"a": 1,\n   "b": "x\\"y,]}"},\n  {"c": [1, {"d": null}]}\n]\n'
    assert elements(tmp_path, pretty) == ['{"a": 1,\n   "b": "x\\"y,]}"}', '{"c": [1, {"d": null}]}']
    assert elements(tmp_path, pretty, scan=True) == [
        {"line": 3, "raw": '{"a": 1,    "b": "x\\"y,]}"}'},  # line breaks as spaces, on that path
        {"line": 5, "raw": '{"c": [1, {"d": null}]}'},
    ]
    assert elements(tmp_path, b'[{"a":"\\\\"},{"b":"\\\\\\""}]') == ['{"a":"\\\\"}', '{"b":"\\\\\\""}']
    assert elements(tmp_path, b"[]") == elements(tmp_path, b" [ \n ] ") == []
    assert elements(tmp_path, b'{"one": "object"}') == ['{"one": "object"}']


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \n", "the file is empty"),
        (b'"text"', "line 1, column 1: expected a JSON array of objects, or one object"),
        (b'[{"a":1},]', "line 1, column 10: an empty element"),
        (b'[,{"a":1}]', "line 1, column 2: an empty element"),
        (b'[{"a":1}}', "line 1, column 9: expected ], found }"),
        (b'[{"a":1}] x', "line 1, column 11: more after the end of the JSON value"),
        (b'[{"a":1}]\n[{"b":2}]', "line 2, column 1: more after the end of the JSON value"),
        (b'[{"a":1},\n {"b":2}', "line 2, column 9: the file ends inside the JSON value (is it truncated?)"),
        (b'[{"a":1},\n {"b":', "line 2, column 7: the file ends inside the JSON value"),
        (b'[{"a":"x\ny"}]', "line 1, column 9: a line break inside a string"),
        (b'[{"a": NaN}]', "line 1, column 8: NaN is not a JSON number"),
        (b'[\n  {"a": 1}\n  {"b": 2}\n]', "line 3, column 3"),  # the missing comma
    ],
)
def test_malformed_json_fails_the_file_naming_line_and_column(tmp_path, data, message):
    """Refused by the reader or, for what DuckDB lets through (NaN), by the import's strict parse (the staging
    step, test_crossengage_events); here the reader alone: NaN passes it, and the scan locates it."""
    if b"NaN" in data or b'{"b": 2}' in data and b"\n  {" in data:
        path = tmp_path / "in.json"
        path.write_bytes(data)
        if b"NaN" in data:
            assert elements(tmp_path, data) == ['{"a": NaN}']  # the parse refuses it (see the import's test)
            offset = pl.read_parquet(json_array.scan(source_of(path), tmp_path / "s.parquet"))["_offset"][0]
            assert message in json_array.locate(source_of(path), offset)
            return
    assert message in refused(tmp_path, data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[NaN]", "line 1, column 2: NaN is not a JSON number"),
        (b"[Infinity]", "line 1, column 2: Infinity is not a JSON number"),
        (b"[-Infinity]", "line 1, column 2: -Infinity is not a JSON number"),
        (b'[{"a": 1},\n  -Infinity]', "line 2, column 3: -Infinity is not a JSON number"),
        (b'[{"s": "NaN, Infinity", "n": [1,Infinity]}]', "line 1, column 33: Infinity is not a JSON number"),
    ],
)
def test_nan_or_infinity_as_an_element_is_located(tmp_path, data, message):
    path = tmp_path / "in.json"
    path.write_bytes(data)
    scanned = pl.read_parquet(json_array.scan(source_of(path), tmp_path / "s.parquet"))
    offset = scanned["_offset"][len(scanned) - 1]
    assert json_array.locate(source_of(path), offset) == f"{message} (JSON has no NaN nor Infinity: expected a " \
                                                         "number, or null)"  # fmt: skip


def test_chunk_boundaries_anywhere_change_nothing(tmp_path, monkeypatch):
    """Elements, strings, escapes and line breaks cut by every chunk size from 1 byte up: the same records."""
    records = [{"a": 'x\\"y', "n": i, "s": "ünï,]}[{" * (i % 3)} for i in range(12)]
    data = ("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]").encode()
    whole = elements(tmp_path, data, scan=True)
    assert [json.loads(w["raw"]) for w in whole] == records
    for size in (1, 2, 3, 7, 16, 61):
        monkeypatch.setattr(json_array, "CHUNK", size)
        assert elements(tmp_path, data, scan=True) == whole, size


def test_an_element_longer_than_the_limit_fails_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(json_array, "MAX_RECORD_BYTES", 100)
    monkeypatch.setattr(json_array, "CHUNK", 64)
    data = b'[{"a": 1},\n{"long": "' + b"x" * 300 + b'"}]'
    with pytest.raises(InputError, match=r"line 2, column 1: an element longer than 0 MB"):
        elements(tmp_path, data, scan=True)


def suite_files() -> list[Path]:
    return sorted(SUITE.glob("*.json"))


@pytest.mark.parametrize("case", suite_files(), ids=lambda p: p.name)
def test_jsontestsuite_as_whole_files(tmp_path, case):
    """Every n_ file refused with a message naming where (never a crash); every y_ file read: an array's
    elements, one object, or refused as not an array of objects (a lone scalar). The elements then go through
    the JSON lines parse (strict), as an import does: what it refuses fails an import (test_crossengage_events)."""
    data = case.read_bytes()
    path = tmp_path / "in.json"
    path.write_bytes(data)
    try:
        raws = pl.read_parquet(json_array.to_records(source_of(path), tmp_path / "out.parquet"))["raw"].to_list()
    except InputError as exc:
        assert str(exc).startswith("in.json: ")
        assert not case.name.startswith("y_") or not data.lstrip(b" \t\r\n").startswith((b"[", b"{")), exc
        return
    parsed = jsonl.parse(pl.LazyFrame({"raw": raws}, schema={"raw": pl.String})).collect()
    unparsed = parsed.filter(pl.col("reason").fill_null("").str.starts_with(jsonl.NOT_JSON))
    if case.name.startswith("n_"):  # let through by the split: the parse refuses an element, located in the file
        assert unparsed.height > 0, (case.name, raws)
        offsets = pl.read_parquet(json_array.scan(source_of(path), tmp_path / "s.parquet"))["_offset"]
        assert re.match(r"line \d+, column \d+: \S", json_array.locate(source_of(path), offsets[0])), case.name
    elif case.name.startswith("y_"):
        assert unparsed.height == 0, (case.name, raws)
        value = json.loads(data)
        assert len(raws) == (len(value) if isinstance(value, list) else 1)
