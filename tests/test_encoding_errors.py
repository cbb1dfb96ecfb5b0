"""What an import says of a file in another encoding than the one it is read in: a UTF-16 or UTF-32 file names
its encoding and how to set it (issue 33), and a byte not valid in the encoding names its line, byte column and
field, with the header's name of that field, whatever the delimiter."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from conftest import kevel_row, rows_of

from etl.errors import InputError
from etl.pipeline.importer import run_import
from etl.readers.csv import read_header
from etl.sources import files as sources
from etl.sources.encodings import wide_unicode
from etl.spec import validate_spec

NAME = "Zoë Ñúñez"


def import_file(source, store, **keys):
    return run_import(validate_spec({"format": "kevel_orders", "source": str(source), **keys}, "spec.yaml"), store)


def kevel_bytes(rows, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    header = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


WIDE = [  # how the file is written, the codec the error names, and its name
    ("utf-16 with BOM", lambda text: text.encode("utf-16"), "utf-16", "UTF-16 LE"),
    ("utf-16-be with BOM", lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "utf-16", "UTF-16 BE"),
    ("utf-16-le without BOM", lambda text: text.encode("utf-16-le"), "utf-16-le", "UTF-16 LE"),
    ("utf-16-be without BOM", lambda text: text.encode("utf-16-be"), "utf-16-be", "UTF-16 BE"),
    ("utf-32-le without BOM", lambda text: text.encode("utf-32-le"), "utf-32-le", "UTF-32 LE"),
    ("utf-32 with BOM", lambda text: text.encode("utf-32"), "utf-32", "UTF-32 LE"),
]


@pytest.mark.parametrize(("how", "encode", "codec", "name"), WIDE, ids=[w[0] for w in WIDE])
def test_a_wide_unicode_header_is_named_with_its_codec(how, encode, codec, name):
    header = kevel_bytes([kevel_row("o1", lineItem_name=NAME)]).decode().splitlines(keepends=True)[0]
    found = wide_unicode(encode(header))
    assert found is not None and found[:2] == (codec, name)
    assert wide_unicode(header.encode()) is None and wide_unicode(NAME.encode("cp1252")) is None


@pytest.mark.parametrize(("how", "encode", "codec", "name"), [WIDE[0], WIDE[3]], ids=[WIDE[0][0], WIDE[3][0]])
def test_a_utf16_file_read_as_utf8_names_its_encoding_and_how_to_set_it(tmp_path, store, how, encode, codec, name):
    text = kevel_bytes([kevel_row("o1", lineItem_name=NAME)]).decode()
    source = tmp_path / "orders.csv"
    source.write_bytes(encode(text))

    with pytest.raises(InputError) as failed:
        import_file(source, store)
    message = str(failed.value)
    assert f"{source}: line 1, column 1: the file looks like {name}" in message
    assert f"`encoding: {codec}`" in message and "`encoding: auto`" in message
    assert not store.exists() or rows_of(store, "SELECT count(*) AS n FROM orders") == [{"n": 0}]

    for setting in (codec, "auto"):  # what the message says to set reads the file (the conformance suite stores it)
        with sources.opened(str(source), compression="auto", encoding=setting, spool_dir=tmp_path) as opened:
            assert read_header(opened)[0] == "orderId"
            assert NAME in opened.path.read_text(encoding="utf-8")


def test_a_utf16_file_read_as_a_code_page_says_so_too(tmp_path, store):
    """cp1252 reads every byte of UTF-16 (the BOM as "ÿþ", NULs as NUL): the header then says what it is."""
    source = tmp_path / "orders.csv"
    source.write_bytes(kevel_bytes([kevel_row("o1")], encoding="utf-16"))
    with pytest.raises(
        InputError, match=r"line 1, column 1: the file looks like UTF-16 LE .* reads it as cp1252; .*utf-16`"
    ):
        import_file(source, store, encoding="cp1252")
    with pytest.raises(InputError, match=r"line 1, column 1: the file looks like UTF-16 LE .* reads it as ascii"):
        import_file(source, store, encoding="ascii")


# the delimiter, the encoding the file is read in (UTF-8: Polars finds the byte; another: the transcoding does), and
# whether the spec names the delimiter or leaves it auto
CASES = [  # "," is tests/test_read.py's
    (";", "utf-8", "auto"),
    (";", "ascii", "given"),
    ("\t", "utf-8", "given"),
    ("|", "ascii", "auto"),
]


@pytest.mark.parametrize(("delimiter", "read_as", "spec_delimiter"), CASES)
def test_an_invalid_byte_names_its_line_byte_field_and_column_name(tmp_path, store, delimiter, read_as, spec_delimiter):
    # the byte is in lineItem_name of the second record; an earlier field holds the delimiter, quoted
    rows = [kevel_row("o1"), kevel_row("o2", promotions=f"A{delimiter}B", lineItem_name="Ren\xe9e")]
    header = list(rows[1])
    source = tmp_path / "orders.csv"
    source.write_bytes(kevel_bytes(rows, delimiter, encoding="latin-1"))
    line = source.read_bytes().split(b"\n")[2]
    column = line.index(b"\xe9") + 1
    keys = {"encoding": read_as, "delimiter": delimiter if spec_delimiter == "given" else "auto"}

    with pytest.raises(InputError) as failed:
        import_file(source, store, **keys)

    field = header.index("lineItem_name") + 1
    assert f"{source}: line 3, column {column} (byte), field {field} ('lineItem_name'): bytes e9 " in str(failed.value)
    assert f"are not valid {read_as}" in str(failed.value)


def test_an_invalid_byte_in_a_json_lines_file_names_no_csv_field(tmp_path, store):
    """A JSON lines file read in a code page has no fields by delimiter: the error names line and byte only."""
    source = tmp_path / "users.jsonl"
    source.write_bytes(b'{"mail": "a@example.com", "city": "Porto"}\n{"mail": "b@example.com", "city": "x\x81"}\n')
    spec = {"format": "kevel_users", "source": str(source), "encoding": "cp1252", "options": {"ids": {"email": "mail"}}}

    with pytest.raises(InputError) as failed:
        run_import(validate_spec(spec, "spec.yaml"), store)

    column = source.read_bytes().split(b"\n")[1].index(b"\x81") + 1
    assert f"{source}: line 2, column {column} (byte): bytes 81 " in str(failed.value)
