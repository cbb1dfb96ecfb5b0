"""Reading sources: compression by extension and magic bytes, zip rules, encodings."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from etl.errors import InputError
from etl.readers import csv as csv_reader
from etl.sources import files as sources
from tests.conftest import kevel_row, write_csv


def read_rows(uri: str, tmp_path: Path, compression: str = "auto", encoding: str = "utf-8") -> list[dict]:
    with sources.opened(uri, compression=compression, encoding=encoding, spool_dir=tmp_path / "spool") as source:
        csv_reader.read_header(source)
        return csv_reader.scan_csv_text(source).drop("_row").collect().to_dicts()


def test_zip_with_one_member_reads_like_the_plain_file(tmp_path):
    plain = write_csv(tmp_path / "orders.csv", [kevel_row("o1"), kevel_row("o2")])
    archive = tmp_path / "orders.csv.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(plain, "orders.csv")
    renamed = tmp_path / "orders.bin"  # no extension: found by its magic bytes
    renamed.write_bytes(archive.read_bytes())
    expected = read_rows(str(plain), tmp_path)
    assert read_rows(str(archive), tmp_path) == expected
    assert read_rows(str(renamed), tmp_path) == expected


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a.csv": "x\n1\n", "b.csv": "x\n2\n"}, "must hold exactly one file; it holds 2"),
        ({"../evil.csv": "x\n1\n"}, "refusing zip member '../evil.csv'"),
        ({"/etc/evil.csv": "x\n1\n"}, "refusing zip member '/etc/evil.csv'"),
    ],
)
def test_zip_archives_that_break_the_rules_are_refused(tmp_path, members, message):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    with pytest.raises(InputError, match=message):
        read_rows(str(archive), tmp_path)
    assert not (tmp_path.parent / "evil.csv").exists()


def test_gzip_is_read_by_extension_and_its_sha256_is_of_the_stored_bytes(tmp_path):
    plain = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])
    packed = tmp_path / "orders.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with sources.opened(str(packed), compression="auto", encoding="utf-8", spool_dir=tmp_path / "spool") as source:
        import hashlib

        assert source.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()
        assert source.path.read_bytes() == plain.read_bytes()
    assert list((tmp_path / "spool").iterdir()) == []  # the spool is cleaned up


def test_other_encodings_are_transcoded_and_undecodable_bytes_name_line_and_column(tmp_path):
    source = tmp_path / "cp1251.csv"
    source.write_bytes("name,city\nОлена,Київ\n".encode("cp1251"))
    assert read_rows(str(source), tmp_path, encoding="cp1251") == [{"name": "Олена", "city": "Київ"}]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name,city\nok,ok\nx,\x81bad\n")  # 0x81 is undefined in cp1252
    with pytest.raises(
        InputError, match=r"bad.csv: line 3, column 3 \(byte\), field 2 \('city'\): bytes 81 .* are not valid cp1252"
    ):
        read_rows(str(bad), tmp_path, encoding="cp1252")


def test_credentials_in_a_uri_never_reach_the_label():
    assert sources.display_uri("sftp://user:s3cret@host/path/file.csv") == "sftp://host/path/file.csv"
    assert sources.display_uri("/local/file.csv") == "/local/file.csv"


def test_sources_are_fsspec_urls_and_globs_in_name_order(tmp_path):
    for name in ("b.csv", "a.csv", "c.txt"):
        write_csv(tmp_path / name, [kevel_row(name)])
    assert sources.list_sources([f"file://{tmp_path}/*.csv"]) == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    assert sources.list_sources([f"file://{tmp_path}/a.csv"]) == [str(tmp_path / "a.csv")]
    with pytest.raises(InputError, match="no file matches this pattern"):
        sources.list_sources([str(tmp_path / "*.json")])
    with pytest.raises(InputError, match="is a folder"):
        sources.list_sources([str(tmp_path)])
