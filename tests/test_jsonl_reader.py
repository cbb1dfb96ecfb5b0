"""The JSON-lines reader (issue 15, item 2): records, blanks and rejected lines with their reasons, strict
JSON on JSONTestSuite, and files through the same sources as CSV (gzip, a code page, HTTP, S3)."""

from __future__ import annotations

import gzip
import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from etl.errors import InputError
from etl.readers import jsonl
from etl.sources import files as sources

SUITE = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsontestsuite" / "test_parsing"
NAN = "NaN is not a JSON number (JSON has no NaN nor Infinity: expected a number, or null)"


@contextmanager
def opened(uri: str, tmp_path: Path, encoding: str = "utf-8", options: dict | None = None):
    with sources.opened(uri, compression="auto", encoding=encoding, spool_dir=tmp_path / "spool", options=options) as s:
        yield s


def rows(tmp_path: Path, data: bytes) -> list[dict]:
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    with opened(str(path), tmp_path) as source:
        return jsonl.collect(source).to_dicts()


def test_each_line_is_a_record_a_blank_or_a_reject_with_its_reason(tmp_path):
    data = (
        b'\xef\xbb\xbf{"id": 1, "tags": ["a"], "n": {"x": 1.5}}\n'
        b"\n"
        b"   \r\n"
        b"[1, 2]\n"
        b'{"id": 2, "id": 3}\n'
        b'{"id": 4, "n": {"k": 1, "k": 2}}\n'
        b'{"id": 5,}\n'
        b'{"id": NaN}\n'
        b'"text"\n'
        b'{"id": 6, "note": "a \\": b"}\r\n'
        b'{"id": 7, "city": "\xc5\x81\xc3\xb3d\xc5\xba"}'
    )
    assert [(r["_line"], r["value"], r["reason"]) for r in rows(tmp_path, data)] == [
        (1, '{"id":1,"tags":["a"],"n":{"x":1.5}}', None),
        (2, None, None),
        (3, None, None),
        (4, None, "not an object (an array)"),
        (5, None, 'a key is given twice in one object: "id" (which value was meant is ambiguous)'),
        (6, None, 'a key is given twice in one object: "k" (which value was meant is ambiguous)'),
        (7, None, "not valid JSON: Expecting property name enclosed in double quotes at column 10"),
        (8, None, f"not valid JSON: {NAN} at column 8"),
        (9, None, "not an object (a string)"),
        (10, '{"id":6,"note":"a \\": b"}', None),
        (11, '{"id":7,"city":"Łódź"}', None),
    ]


def suite_files() -> list[Path]:
    return sorted(SUITE.glob("*.json"))


def test_the_suite_is_there():
    assert len(suite_files()) > 300


@pytest.mark.parametrize("case", suite_files(), ids=lambda p: p.name)
def test_jsontestsuite_as_one_line_files(tmp_path, case):
    """Each file on one line (its line breaks, allowed only between tokens, as spaces): n_ rejected with a
    message, y_ read, or rejected as not an object; never a crash. A file that is not UTF-8 is refused."""
    data = case.read_bytes()
    one_line = data.replace(b"\r", b" ").replace(b"\n", b" ") + b"\n"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(InputError, match=r"in\.jsonl: line 1, column \d+"):
            rows(tmp_path, one_line)
        return
    found = [r for r in rows(tmp_path, one_line) if r["value"] is not None or r["reason"] is not None]
    if not found:  # the file is only whitespace: a blank line
        assert case.name.startswith("n_") and not data.removeprefix(b"\xef\xbb\xbf").strip()
        return
    (record,) = found
    if case.name.startswith("y_object_duplicated_key"):  # valid JSON, but which value was meant is ambiguous
        assert record["reason"].startswith("a key is given twice")
    elif case.name.startswith("y_"):
        is_object = isinstance(json.loads(data), dict)
        assert (record["value"] is not None) == is_object, record
        if is_object:
            assert json.loads(record["value"]) == json.loads(data)
        else:
            assert record["reason"].startswith("not an object (")
    elif case.name.startswith("n_") and case.name != "n_string_unescaped_newline.json":  # valid once on one line
        assert record["value"] is None and record["reason"], record


def test_through_the_sources_gzip_and_a_code_page(tmp_path):
    text = '{"name": "Чайник", "city": "Київ"}\n{"name": "Ґудзик"}\n'
    path = tmp_path / "users.jsonl.gz"
    path.write_bytes(gzip.compress(text.encode("cp1251")))

    with opened(str(path), tmp_path, encoding="cp1251") as source:
        found = jsonl.collect(source)

    assert [json.loads(v) for v in found["value"]] == [{"name": "Чайник", "city": "Київ"}, {"name": "Ґудзик"}]


def test_through_the_sources_http_and_s3(tmp_path, http_server, s3_server):
    data = b'{"id": 1}\n{"id": 2\n'
    (http_server.root / "users.jsonl").write_bytes(data)
    uri = s3_server.put("jsonl-reader", "users.jsonl", data)

    for source_uri, options in [(f"{http_server.base_url}/users.jsonl", {}), (uri, s3_server.storage_options)]:
        with opened(source_uri, tmp_path, options=options) as source:
            found = jsonl.collect(source).to_dicts()
        assert [r["value"] for r in found] == ['{"id":1}', None], source_uri
        assert found[1]["reason"].startswith("not valid JSON: Expecting ',' delimiter")


def test_a_key_given_twice_is_found_however_the_line_is_spaced_or_escaped(tmp_path):
    data = (
        b'{"a" :1,"a":2,"b":3}\n'  # a space before a colon: the line's literal `":` count matches the parsed one
        b'{"a":1,"\\u0061":2}\n'  # the same key, escaped
        b'{"a":1,"s":"\\u0022:","a":2}\n'  # an escape that minifies into `\":` inside a string
        b'{"a":1,"b":{"c":1,"c":2}}\n'  # nested, no spaces
        b'{"a":1,"s":"x\\":y","t" : 2}\n'  # no key twice, with a space and a `\":` in a string
    )
    assert [r["reason"] is not None for r in rows(tmp_path, data)] == [True, True, True, True, False]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[NaN]", f"not valid JSON: {NAN} at column 2"),
        (b"[Infinity]", "not valid JSON: Infinity is not a JSON number (JSON has no NaN nor Infinity: expected a "
                        "number, or null) at column 2"),
        (b'{"s": "NaN -Infinity", "n": [1, -Infinity]}',
         "not valid JSON: -Infinity is not a JSON number (JSON has no NaN nor Infinity: expected a number, or null) "
         "at column 33"),
    ],
)  # fmt: skip
def test_nan_and_infinity_are_rejected_naming_their_column(tmp_path, line, reason):
    assert [(r["_line"], r["reason"]) for r in rows(tmp_path, b'{"ok": 1}\n' + line + b"\n")] == [
        (1, None),
        (2, reason),
    ]


def test_a_key_given_twice_is_named_the_innermost_first(tmp_path):
    data = b'{"a":1,"b":{"c":1,"c":2},"a":3}\n{"\\u00e9":1,"\xc3\xa9":2}\n'
    assert [r["reason"] for r in rows(tmp_path, data)] == [
        'a key is given twice in one object: "c" (which value was meant is ambiguous)',
        'a key is given twice in one object: "é" (which value was meant is ambiguous)',
    ]
