"""csv-spectrum: each tricky CSV must read, through the project's CSV reader, to its JSON.

The reader is what an import uses: `sources.opened` (makes the source scannable),
`csv_reader.read_header` (the header, with its checks) and `csv_reader.scan_csv_text` (every value as
text). The corpus lives outside the project (SHARED_DATA/csv-spectrum, BSD-2-Clause) and is
read from there.

Empty values: the reader maps an empty field, quoted ("") or not, to null, by design (a
format's rules then treat null as "missing"); csv-spectrum's JSON writes "" for it. The
reader keeps no difference between the two, so the comparison maps null to "" on the
reader's side; every other value must be the same text, character for character (CR LF
inside a quoted value included).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from etl.readers import csv as csv_reader
from etl.sources import files as sources
from tests.conftest import SHARED_DATA

SPECTRUM = SHARED_DATA / "csv-spectrum"
CSVS = sorted((SPECTRUM / "csvs").glob("*.csv"))


def read_rows(path: Path, spool_dir: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and the records as dicts, as the import reads them (null shown as "")."""
    with sources.opened(str(path), compression="auto", encoding="utf-8", spool_dir=spool_dir) as source:
        header = csv_reader.read_header(source)
        frame = csv_reader.scan_csv_text(source).collect().drop("_row")
    rows = [{name: "" if value is None else value for name, value in row.items()} for row in frame.to_dicts()]
    return header, rows


def test_the_corpus_is_there_and_every_csv_has_its_json():
    assert len(CSVS) == 11
    assert sorted(p.stem for p in CSVS) == sorted(p.stem for p in (SPECTRUM / "json").glob("*.json"))


@pytest.mark.parametrize("path", CSVS, ids=[p.stem for p in CSVS])
def test_the_reader_reads_each_file_to_its_expected_json(path, tmp_path):
    expected = json.loads((SPECTRUM / "json" / f"{path.stem}.json").read_text(encoding="utf-8"))

    header, rows = read_rows(path, tmp_path / "spool")

    assert header == list(expected[0])
    assert rows == expected
