"""Bad input, through the `etl` command as a user meets it.

Every bad file gets a clear message naming the file, the line and (where it applies) the
column and what was expected, never a Python traceback; and nothing is lost: a row that
cannot be stored is in rejects with its reasons and raw values (items = valid + rejected),
and a file that cannot be read at all leaves the store as it was, with the run recorded
as failed in `imports`.

Each `etl` call costs one to three seconds of start-up, so each test runs one import (two where
the store must hold something beforehand) and checks the report, the message and the store.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from etl.formats import rows as rows_module
from tests.conftest import KEVEL_HEADER, kevel_row, line_row, write_csv

DATA_TABLES = ["orders", "line_items", "users", "events", "rejects"]

# The hints a user reads in the report and in rejects.reasons (docs/formats/kevel_orders.md).
NOT_A_NUMBER = "not a number (Double, e.g. 102.5)"
COMMA_HINT = rows_module.COMMA_HINT
NOT_A_DATETIME = "not an ISO-8601 date and time (e.g. 2020-09-16T10:38:06+0100)"
NOT_A_BOOLEAN = "not a boolean (true or false)"
NOT_A_STATUS = "not a line item status (placed, paid, fulfilled, refunded, cancelled)"
SAME_ORDER = "another row of the same order was rejected, so the whole order is"
NOT_CONTIGUOUS = "rows of this order are not contiguous: only its last contiguous run of rows is kept"


# -- helpers ------------------------------------------------------------------------------


def run_import(etl, *sources: Path):
    """`etl import --format kevel_orders --source ... --json`; never a traceback, whatever happens."""
    args = ["import", "--format", "kevel_orders"]
    for source in sources:
        args += ["--source", str(source)]
    run = etl(*args, "--json")
    assert "Traceback" not in run.stderr, run.stderr
    return run


def completed(run) -> dict[str, Any]:
    """The JSON report of an import that must have completed; checks that nothing was lost."""
    assert run.code == 0, run.stderr
    report = run.json
    assert report["status"] == "completed"
    assert report["items"] == report["valid"] + report["rejected"]
    assert report["items"] == sum(f["rows"] for f in report["files"])
    return report


def message(run) -> str:
    """The error on stderr, as one line (the terminal may wrap long messages)."""
    return " ".join(run.stderr.split())


def counts(query) -> dict[str, int]:
    return {table: query(f"SELECT count(*) AS n FROM {table}")[0]["n"] for table in DATA_TABLES}  # noqa: S608


def assert_whole_file_failed(run, query, source: Path, *expected_in_message: str) -> str:
    """The run failed with a message naming the file (and each fragment), and stored nothing."""
    assert run.code != 0, f"the import did not fail: {run.stdout[:600]}"
    text = message(run)
    assert text.startswith("error:"), run.stderr
    for fragment in (str(source), *expected_in_message):
        assert fragment in text, f"{fragment!r} not in the message: {text}"
    assert counts(query) == dict.fromkeys(DATA_TABLES, 0)
    runs = query("SELECT import_id, status, items, valid, rejected, error FROM imports ORDER BY import_id")
    assert [{k: v for k, v in r.items() if k != "error"} for r in runs] == [
        {"import_id": 1, "status": "failed", "items": None, "valid": None, "rejected": None}
    ]
    error = " ".join(runs[0]["error"].split())
    for fragment in (str(source), *expected_in_message):
        assert fragment in error, f"{fragment!r} not in imports.error: {error}"
    return text


def raw_of(row: dict[str, Any], header: list[str]) -> dict[str, Any]:
    """A row as rejects.raw holds it: every column of the file, empty text as null."""
    return {name: (row.get(name) or None) for name in header}


def stored_rejects(query) -> list[dict[str, Any]]:
    """The rejects as {line, record, order, reasons: [(column, hint)]}, by line."""
    rows = query("SELECT line, record, raw, reasons FROM rejects ORDER BY line")
    return [
        {
            "line": r["line"],
            "record": r["record"],
            "order": json.loads(r["raw"])["orderId"],
            "reasons": [(x["column"], x["hint"]) for x in r["reasons"]],
        }
        for r in rows
    ]


# -- the file as a whole -----------------------------------------------------------------


def test_an_empty_file_fails_naming_the_file_and_line_1(etl, query, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(b"")

    run = run_import(etl, source)

    text = assert_whole_file_failed(run, query, source, "line 1")
    assert "empty" in text and "expected a header" in text


def test_a_header_only_file_imports_nothing_and_completes(etl, query, tmp_path):
    source = write_csv(tmp_path / "orders.csv", [], header=KEVEL_HEADER)

    report = completed(run_import(etl, source))

    assert {k: report[k] for k in ("items", "valid", "rejected", "issues")} == {
        "items": 0,
        "valid": 0,
        "rejected": 0,
        "issues": [],
    }
    assert [{k: f[k] for k in ("uri", "rows", "blank_rows", "ignored_columns")} for f in report["files"]] == [
        {"uri": str(source), "rows": 0, "blank_rows": 0, "ignored_columns": []}
    ]
    assert counts(query) == dict.fromkeys(DATA_TABLES, 0)
    assert query("SELECT status, items FROM imports") == [{"status": "completed", "items": 0}]


def test_a_missing_required_column_is_named_with_a_hint_when_only_its_case_differs(etl, query, tmp_path):
    # currency is missing outright; createdAt is there as CreatedAt (names are case sensitive).
    rows = [kevel_row("o1")]
    for row in rows:
        del row["currency"]
        row["CreatedAt"] = row.pop("createdAt")
    source = write_csv(tmp_path / "orders.csv", rows)

    run = run_import(etl, source)

    text = assert_whole_file_failed(run, query, source, "line 1", "'currency'", "'createdAt'", "'CreatedAt'")
    assert text.count("case sensitive") == 1  # only createdAt has a near miss in the header
    assert text.index("'createdAt'") < text.index("case sensitive")
    assert "expected" in text


def test_an_unknown_extra_column_is_ignored_listed_and_kept_in_a_rejects_raw_values(etl, query, tmp_path):
    rows = [
        kevel_row("o1", giftNote="wrap it"),
        kevel_row("o2", total="12,5", giftNote="call first"),  # rejected: its raw keeps giftNote
    ]
    source = write_csv(tmp_path / "orders.csv", rows)
    header = list(rows[0])

    report = completed(run_import(etl, source))

    assert report["files"][0]["ignored_columns"] == ["giftNote"]
    assert (report["items"], report["valid"], report["rejected"]) == (2, 1, 1)
    assert query("SELECT order_id, total FROM orders") == [{"order_id": "o1", "total": 10.0}]
    (reject,) = query("SELECT line, record, raw, reasons FROM rejects")
    assert {**reject, "raw": json.loads(reject["raw"])} == {
        "line": 3,
        "record": 2,
        "raw": raw_of(rows[1], header),
        "reasons": [{"column": "total", "hint": COMMA_HINT, "value": rows[1]["total"]}],
    }
    assert json.loads(reject["raw"])["giftNote"] == "call first"


# -- values that do not parse: rejected rows, the rest stored ---------------------------------


def test_values_that_do_not_parse_are_rejected_with_column_hint_line_and_raw_values(etl, query, tmp_path):
    rows = [
        kevel_row("o1"),
        kevel_row("o2", total="12,5"),  # line 3
        kevel_row("o3", createdAt="2024-13-45T00:00:00Z"),  # line 4
        kevel_row("o4", lineItem_adult="yes"),  # line 5
        kevel_row("o5", lineItem_status="shipped"),  # line 6
        kevel_row("o6", tax="two", lineItem_quantity="1.5.0", lineItem_status="Paid"),  # line 7: two reasons
        kevel_row("o7"),  # line 8: fine, but its second line item is not ...
        line_row("o7", lineItem_sku="p1-2", lineItem_total="n/a"),  # line 9
        kevel_row("o8", lineItem_adult="TRUE", lineItem_status="Fulfilled"),  # line 10: fine (any case)
    ]
    source = write_csv(tmp_path / "orders.csv", rows)
    header = list(dict.fromkeys(k for row in rows for k in row))

    report = completed(run_import(etl, source))

    assert (report["items"], report["valid"], report["rejected"]) == (9, 2, 7)
    assert stored_rejects(query) == [
        {"line": 3, "record": 2, "order": "o2", "reasons": [("total", COMMA_HINT)]},
        {"line": 4, "record": 3, "order": "o3", "reasons": [("createdAt", NOT_A_DATETIME)]},
        {"line": 5, "record": 4, "order": "o4", "reasons": [("lineItem_adult", NOT_A_BOOLEAN)]},
        {"line": 6, "record": 5, "order": "o5", "reasons": [("lineItem_status", NOT_A_STATUS)]},
        {
            "line": 7,
            "record": 6,
            "order": "o6",
            "reasons": [("tax", NOT_A_NUMBER), ("lineItem_quantity", NOT_A_NUMBER)],
        },
        {"line": 8, "record": 7, "order": "o7", "reasons": [("orderId", SAME_ORDER)]},
        {"line": 9, "record": 8, "order": "o7", "reasons": [("lineItem_total", NOT_A_NUMBER)]},
    ]
    # The raw values are the row as read, every column, for each reject (o7's first row too).
    raws = [json.loads(r["raw"]) for r in query("SELECT raw FROM rejects ORDER BY line")]
    assert raws == [raw_of(rows[i], header) for i in (1, 2, 3, 4, 5, 6, 7)]
    # The other orders are stored; the issues count each reason once per row.
    assert query("SELECT order_id FROM orders ORDER BY order_id") == [{"order_id": "o1"}, {"order_id": "o8"}]
    assert query("SELECT count(*) AS n FROM line_items") == [{"n": report["valid"]}]
    assert sorted((i["column"], i["hint"], i["count"]) for i in report["issues"]) == [
        ("createdAt", NOT_A_DATETIME, 1),
        ("lineItem_adult", NOT_A_BOOLEAN, 1),
        ("lineItem_quantity", NOT_A_NUMBER, 1),
        ("lineItem_status", NOT_A_STATUS, 1),
        ("lineItem_total", NOT_A_NUMBER, 1),
        ("orderId", SAME_ORDER, 1),
        ("tax", NOT_A_NUMBER, 1),
        ("total", COMMA_HINT, 1),
    ]


# -- compression -------------------------------------------------------------------------


def test_a_truncated_gzip_file_fails_naming_the_file_and_stores_nothing(etl, query, tmp_path):
    plain = write_csv(tmp_path / "plain.csv", [kevel_row(f"o{i}", lineItem_name=f"item {i}") for i in range(300)])
    whole = gzip.compress(plain.read_bytes())
    source = tmp_path / "orders.csv.gz"
    source.write_bytes(whole[: len(whole) // 2])

    run = run_import(etl, source)

    text = assert_whole_file_failed(run, query, source, "gzip")
    assert "expected" in text


def test_a_truncated_gzip_names_the_bytes_and_line_it_decompressed(tmp_path):
    """The count is what zlib makes of the truncated file (it said "after 0 decompressed bytes" whatever the size)."""
    import zlib

    from etl.errors import InputError
    from etl.sources import files as sources

    data = b"".join(b'{"event":"x","id":"u%d"}\n' % i for i in range(200_000))  # more than one read of 4 MB
    truncated = gzip.compress(data)[: len(gzip.compress(data)) // 2]
    source = tmp_path / "events.jsonl.gz"
    source.write_bytes(truncated)
    unpacked = zlib.decompressobj(wbits=31).decompress(truncated)
    assert 0 < len(unpacked) < len(data)
    line = unpacked.count(b"\n") + 1

    with pytest.raises(InputError) as caught:
        with sources.opened(str(source), compression="auto", encoding="utf-8", spool_dir=tmp_path / "spool"):
            pass

    assert str(caught.value).endswith(
        f"events.jsonl.gz: line {line}: truncated gzip stream after {len(unpacked):,} "
        "decompressed bytes; expected a complete gzip file (re-export or re-upload it)"
    )


def test_a_gzip_file_without_the_gz_extension_is_detected_by_its_magic_bytes(etl, query, tmp_path):
    rows = [kevel_row("o1"), line_row("o1", lineItem_sku="p1-2"), kevel_row("o2", total="x"), kevel_row("o3")]
    plain = write_csv(tmp_path / "plain.csv", rows)
    source = tmp_path / "orders.csv"  # gzip inside, no .gz
    source.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()

    report = completed(run_import(etl, source))

    assert (report["items"], report["valid"], report["rejected"]) == (4, 3, 1)
    assert report["files"][0]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()  # as stored
    assert query("SELECT order_id, line_no, sku FROM line_items ORDER BY order_id, line_no") == [
        {"order_id": "o1", "line_no": 1, "sku": "p1-1"},
        {"order_id": "o1", "line_no": 2, "sku": "p1-2"},
        {"order_id": "o3", "line_no": 1, "sku": "p1-1"},
    ]
    assert stored_rejects(query) == [{"line": 4, "record": 3, "order": "o2", "reasons": [("total", NOT_A_NUMBER)]}]


# -- encoding and line endings -------------------------------------------------------------


def test_a_file_that_is_not_utf8_fails_naming_line_and_column_and_leaves_the_store_as_it_was(etl, query, tmp_path):
    first = write_csv(tmp_path / "first.csv", [kevel_row("o1")])
    completed(run_import(etl, first))
    before = {t: query(f"SELECT * FROM {t} ORDER BY ALL") for t in DATA_TABLES}  # noqa: S608

    # o1 changed and a new o2 whose name has a cp1252/latin-1 'é' (byte e9) on line 3.
    rows = [kevel_row("o1", total="99"), kevel_row("o2", lineItem_name="Café crème", lineItem_sku="x")]
    source = write_csv(tmp_path / "orders.csv", rows, encoding="cp1252")
    line_3 = source.read_bytes().split(b"\n")[2]
    column = line_3.index(b"\xe9") + 1  # 1-based position in the line

    run = run_import(etl, source)

    assert run.code != 0
    text = message(run)
    assert text.startswith("error:")
    for fragment in (str(source), "line 3", f"column {column}", "utf-8", "expected"):
        assert fragment in text, f"{fragment!r} not in the message: {text}"
    assert {t: query(f"SELECT * FROM {t} ORDER BY ALL") for t in DATA_TABLES} == before  # noqa: S608
    runs = query("SELECT import_id, status, error FROM imports ORDER BY import_id")
    assert [(r["import_id"], r["status"]) for r in runs] == [(1, "completed"), (2, "failed")]
    assert "line 3" in runs[1]["error"] and str(source) in runs[1]["error"]


def test_a_column_name_that_is_not_utf8_fails_naming_line_1_and_its_column(etl, query, tmp_path):
    # A cp1252 header: custom_región would otherwise be stored under a mangled key.
    rows = [kevel_row("o1", custom_región="norte"), kevel_row("o2", custom_región="sur")]
    source = write_csv(tmp_path / "orders.csv", rows, encoding="cp1252")
    header_line = source.read_bytes().split(b"\n")[0]
    column = header_line.index(b"\xf3") + 1  # 1-based position of 'ó' in line 1

    run = run_import(etl, source)

    assert_whole_file_failed(run, query, source, "line 1", f"column {column}", "utf-8", "expected")


def test_crlf_line_endings_import_exactly_as_lf(etl, query, tmp_path):
    def rows(prefix: str) -> list[dict[str, Any]]:
        return [
            kevel_row(f"{prefix}1", userId="ann@example.com", lineItem_name='Socks, "red"\npack'),  # lines 2-3
            line_row(f"{prefix}1", lineItem_sku="p1-2", lineItem_name="B"),  # line 4
            kevel_row(f"{prefix}2", userId="bob@example.com", total="x", lineItem_name="C"),  # line 5: rejected
            kevel_row(f"{prefix}3", userId="cy@example.com", lineItem_name="D"),  # line 6
        ]

    lf = write_csv(tmp_path / "lf.csv", rows("L"), newline="\n")
    crlf = write_csv(tmp_path / "crlf.csv", rows("C"), newline="\r\n")
    assert crlf.read_bytes().count(b"\r\n") == 5  # header + 4 records; the quoted newline stays \n

    report = completed(run_import(etl, lf, crlf))

    assert [(f["rows"], f["blank_rows"], f["ignored_columns"]) for f in report["files"]] == [(4, 0, [])] * 2

    def items(prefix: str) -> list[dict[str, Any]]:
        found = query(
            "SELECT order_id, line_no, name, sku, status FROM line_items WHERE order_id LIKE $p ORDER BY ALL",
            {"p": f"{prefix}%"},
        )
        return [{**r, "order_id": r["order_id"][1:]} for r in found]

    expected = [
        {"order_id": "1", "line_no": 1, "name": 'Socks, "red"\npack', "sku": "p1-1", "status": "paid"},
        {"order_id": "1", "line_no": 2, "name": "B", "sku": "p1-2", "status": "paid"},
        {"order_id": "3", "line_no": 1, "name": "D", "sku": "p1-1", "status": "paid"},
    ]
    assert items("L") == expected
    assert items("C") == expected

    def rejects(source: Path) -> list[dict[str, Any]]:  # orderId without its L or C
        found = query("SELECT line, record, raw FROM rejects WHERE source = $s", {"s": str(source)})
        return [{**r, "raw": {**json.loads(r["raw"]), "orderId": json.loads(r["raw"])["orderId"][1:]}} for r in found]

    assert rejects(crlf) == rejects(lf)
    assert [(r["line"], r["record"], r["raw"]["lineItem_name"]) for r in rejects(crlf)] == [(5, 3, "C")]


def test_a_utf8_byte_order_mark_is_skipped_and_orderid_recognised(etl, query, tmp_path):
    rows = [kevel_row("o1"), kevel_row("o2", total="x")]
    source = write_csv(tmp_path / "orders.csv", rows, encoding="utf-8-sig")
    assert source.read_bytes().startswith(b"\xef\xbb\xbforderId,")

    report = completed(run_import(etl, source))

    assert report["files"][0]["ignored_columns"] == []
    assert (report["items"], report["valid"], report["rejected"]) == (2, 1, 1)
    assert query("SELECT order_id FROM orders") == [{"order_id": "o1"}]
    (reject,) = query("SELECT line, raw FROM rejects")
    assert reject["line"] == 3
    assert json.loads(reject["raw"]) == raw_of(rows[1], list(rows[1]))  # "orderId", not "\ufefforderId"


# -- CSV structure ----------------------------------------------------------------------------


def test_quoted_commas_quotes_and_newlines_import_intact_and_later_lines_are_counted_right(etl, query, tmp_path):
    rows = [
        kevel_row("o1", lineItem_name='Socks, "red"\npack'),  # lines 2-3
        line_row("o1", lineItem_sku="p1-2", lineItem_name='a\n\n"b", c'),  # lines 4-6 (a blank line inside)
        kevel_row("o2", lineItem_status="lost", lineItem_name="one\r\ntwo"),  # lines 7-8: rejected
        kevel_row("o3", total="x"),  # line 9: rejected
        kevel_row("o4", lineItem_name='""'),  # line 10
    ]
    source = write_csv(tmp_path / "orders.csv", rows)
    header = list(dict.fromkeys(k for row in rows for k in row))

    report = completed(run_import(etl, source))

    assert (report["items"], report["valid"], report["rejected"], report["files"][0]["blank_rows"]) == (5, 3, 2, 0)
    assert query("SELECT order_id, line_no, name FROM line_items ORDER BY order_id, line_no") == [
        {"order_id": "o1", "line_no": 1, "name": 'Socks, "red"\npack'},
        {"order_id": "o1", "line_no": 2, "name": 'a\n\n"b", c'},
        {"order_id": "o4", "line_no": 1, "name": '""'},
    ]
    assert stored_rejects(query) == [
        {"line": 7, "record": 3, "order": "o2", "reasons": [("lineItem_status", NOT_A_STATUS)]},
        {"line": 9, "record": 4, "order": "o3", "reasons": [("total", NOT_A_NUMBER)]},
    ]
    raws = [json.loads(r["raw"]) for r in query("SELECT raw FROM rejects ORDER BY line")]
    assert raws == [raw_of(rows[2], header), raw_of(rows[3], header)]


@pytest.mark.parametrize(
    ("rows", "surplus_on", "line"),
    [
        pytest.param(  # o1 takes lines 2-3; o2, on line 4, has one field too many
            [kevel_row("o1", lineItem_name="two\nlines"), kevel_row("o2"), kevel_row("o3")],
            3,
            4,
            id="after a multi-line record",
        ),
        pytest.param(  # o2 starts on line 3 and ends on line 4, with one field too many
            [kevel_row("o1"), kevel_row("o2", lineItem_name="two\nlines"), kevel_row("o3")],
            3,
            3,
            id="a multi-line record",
        ),
    ],
)
def test_a_row_with_more_fields_than_the_header_fails_naming_its_line(etl, query, tmp_path, rows, surplus_on, line):
    # The line named is where the record starts, as rejects.line is for rejected rows.
    source = write_csv(tmp_path / "orders.csv", rows)
    lines = source.read_text(encoding="utf-8").split("\n")
    lines[surplus_on] += ",surplus"  # physical line surplus_on + 1
    source.write_text("\n".join(lines), encoding="utf-8")
    width = len(dict.fromkeys(k for row in rows for k in row))  # the header written

    run = run_import(etl, source)

    text = assert_whole_file_failed(run, query, source, f"{width + 1} fields", "expected")
    assert re.search(rf"\blines? {line}\b", text), f"line {line} not named: {text}"
    assert not re.search(rf"\blines? {line + 1}\b", text), text


def test_an_order_whose_rows_are_not_contiguous_keeps_only_its_last_run(etl, query, tmp_path):
    rows = [
        kevel_row("o1", total="10"),  # line 2: first run of o1 ...
        line_row("o1", lineItem_sku="p1-2"),  # line 3: ... rejected, not contiguous
        kevel_row("o2"),  # line 4
        kevel_row("o1", total="20", lineItem_total="20", lineItem_sku="p1-9"),  # line 5: the run kept
    ]
    source = write_csv(tmp_path / "orders.csv", rows)

    report = completed(run_import(etl, source))

    assert (report["items"], report["valid"], report["rejected"]) == (4, 2, 2)
    assert report["issues"] == [
        {"column": "orderId", "hint": NOT_CONTIGUOUS, "count": 2, "percent": 50.0, "examples": ["o1"]}
    ]
    assert query("SELECT order_id, total FROM orders ORDER BY order_id") == [
        {"order_id": "o1", "total": 20.0},
        {"order_id": "o2", "total": 10.0},
    ]
    assert query("SELECT order_id, line_no, sku, total FROM line_items ORDER BY order_id, line_no") == [
        {"order_id": "o1", "line_no": 1, "sku": "p1-9", "total": 20.0},
        {"order_id": "o2", "line_no": 1, "sku": "p1-1", "total": 10.0},
    ]
    assert stored_rejects(query) == [
        {"line": 2, "record": 1, "order": "o1", "reasons": [("orderId", NOT_CONTIGUOUS)]},
        {"line": 3, "record": 2, "order": "o1", "reasons": [("orderId", NOT_CONTIGUOUS)]},
    ]
    # Nothing lost: every row read is a stored line item or a reject.
    stored = query("SELECT count(*) AS n FROM line_items")[0]["n"] + query("SELECT count(*) AS n FROM rejects")[0]["n"]
    assert report["items"] == stored == len(rows)
