"""Delimiters: `delimiter: auto` (the default) reads ',' ';' tab and '|' files as their tools
write them (Excel in many locales: ';', a BOM and CRLF), and says which it chose."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import kevel_row, line_row, write_spec

from etl.formats.rows import COMMA_HINT


def written(path, rows, delimiter: str, *, bom: bool = False, newline: str = "\n", encoding: str = "utf-8"):
    """Rows as a spreadsheet writes them: its delimiter, line ends and byte order mark."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode(encoding) + buffer.getvalue().encode(encoding))
    return path


def excel_rows():
    """A German or French Excel export: order o2 has decimal commas, as those locales write them."""
    return [
        kevel_row("o1", promotions="SUMMER;VIP"),
        line_row("o1"),
        kevel_row("o2", total="12,5", lineItem_total="12,5"),
        kevel_row("o3"),
    ]


@pytest.mark.parametrize(
    ("delimiter", "bom", "newline"),
    [(";", True, "\r\n"), (";", False, "\n"), ("\t", False, "\r\n"), ("|", False, "\n"), (",", True, "\r\n")],
    ids=["excel-semicolon", "semicolon", "tab", "pipe", "comma-bom-crlf"],
)
def test_auto_reads_each_delimiter_and_reports_it(tmp_path, etl, delimiter, bom, newline):
    source = written(tmp_path / "orders.csv", excel_rows(), delimiter, bom=bom, newline=newline)

    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--json")

    assert run.code == 0, run.stderr
    [file] = run.json["files"]
    assert (file["delimiter"], file["delimiter_detected"]) == (delimiter, True)
    assert (run.json["items"], run.json["valid"], run.json["rejected"]) == (4, 3, 1)
    assert run.json["entities"]["orders"]["added"] == 2  # o1 (two lines, a list with ';') and o3


def test_a_decimal_comma_is_a_value_error_of_its_column_named_as_such(tmp_path, etl):
    source = written(tmp_path / "orders.csv", excel_rows(), ";", bom=True, newline="\r\n")
    assert etl("import", "--format", "kevel_orders", "--source", str(source)).code == 0

    rejects = etl("rejects", "1", "--json")

    reasons = [r for line in rejects.stdout.splitlines() for r in json.loads(line)["reasons"]]
    assert {(r["column"], r["hint"], r["value"]) for r in reasons} == {
        ("total", COMMA_HINT, "12,5"),
        ("lineItem_total", COMMA_HINT, "12,5"),
    }


def test_a_given_delimiter_that_does_not_split_the_header_says_which_would(tmp_path, etl):
    source = written(tmp_path / "orders.csv", excel_rows(), ";", bom=True, newline="\r\n")

    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--delimiter", ",")

    assert run.code == 1
    said = " ".join(run.stderr.split())
    assert "line 1: missing required columns" in said
    assert "the header seems to be separated by ';'" in said
    assert "set `delimiter: ;`" in said


def test_a_spec_names_the_delimiter(tmp_path, etl):
    source = written(tmp_path / "orders.tsv", excel_rows(), "\t")
    tab = write_spec(tmp_path, source, format="kevel_orders", delimiter="tab")

    run = etl("import", str(tab), "--json")

    assert run.code == 0, run.stderr
    assert (run.json["files"][0]["delimiter"], run.json["files"][0]["delimiter_detected"]) == ("\t", False)


def test_an_unknown_delimiter_is_a_spec_error(tmp_path, etl):
    spec = write_spec(tmp_path, tmp_path / "orders.csv", format="kevel_orders", delimiter=":")

    run = etl("import", str(spec))

    assert run.code == 2
    assert "delimiter: expected one of auto, ',', ';', tab, '|'" in " ".join(run.stderr.split())
