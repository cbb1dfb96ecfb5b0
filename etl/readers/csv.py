"""CSV: a source's rows as text, every value a string, so that each format decides its own types.

Polars scans the (local, UTF-8) file that etl.sources.files made of the source lazily and in parallel. Here: the
header, the delimiter (`auto`: the one of , ; tab | that splits the header best), Polars' errors turned into
ones that name the line, and line numbers for records whose quoted values hold line breaks.
"""

from __future__ import annotations

import csv

import polars as pl

from etl.errors import InputError
from etl.sources.encodings import wide_unicode_message
from etl.sources.files import SourceFile, decode_error, locate_invalid_utf8


def locate_ragged_row(source: SourceFile, width: int) -> InputError | None:
    """Find the first record with more fields than the header (only called after Polars failed)."""
    with open(source.path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=source.delimiter)
        next(reader, None)
        while True:
            start = reader.line_num + 1  # line_num counts lines read: the record starts on the next
            record = next(reader, None)
            if record is None:
                return None
            if len(record) > width:
                return InputError(
                    f"{source.uri}: line {start}: {len(record)} fields, but the header has "
                    f"{width}; expected at most {width} (quote values that contain the delimiter "
                    f"{source.delimiter!r})"
                )


def read_header(source: SourceFile) -> list[str]:
    """The CSV header, with checks that Polars would otherwise report without a line."""
    if source.size == 0:
        raise InputError(f"{source.uri}: line 1: the file is empty; expected a header line")
    with open(source.path, "rb") as handle:  # Polars decodes the header leniently: check it here
        first_line = handle.readline(1 << 20)
    # UTF-16 read as UTF-8 (or as a code page, then spooled) fails at its byte-order mark, or without one gives
    # names full of NUL characters and a "missing column" error: name the encoding instead
    wide = wide_unicode_message(source.uri, first_line, source.encoding)
    if wide:
        raise InputError(wide)
    try:
        first_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise decode_error(source.uri, "utf-8", first_line, exc.start, 0, delimiter=source.delimiter) from None
    try:
        names = pl.scan_csv(source.path, infer_schema=False, separator=source.delimiter).collect_schema().names()
    except pl.exceptions.NoDataError:
        raise InputError(f"{source.uri}: line 1: the file is empty; expected a header line") from None
    except pl.exceptions.ComputeError as exc:
        raise translate_parse_error(source, exc, 0) from None
    with open(source.path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        raw_names = next(csv.reader(handle, delimiter=source.delimiter), [])
    seen: set[str] = set()
    for index, name in enumerate(raw_names, start=1):
        if name in seen:
            raise InputError(f"{source.uri}: line 1, column {index}: duplicate column name {name!r}")
        seen.add(name)
    return names


def translate_parse_error(source: SourceFile, exc: Exception, width: int) -> InputError:
    """Turn a Polars parse failure into an error that names the line."""
    message = str(exc)
    if "utf-8" in message.lower() or "utf8" in message.lower():
        located = locate_invalid_utf8(source)
        if located:
            return located
    if "more fields" in message:
        located = locate_ragged_row(source, width)
        if located:
            return located
    return InputError(f"{source.uri}: cannot be parsed as CSV: {message.splitlines()[0]}")


def scan_csv_text(source: SourceFile) -> pl.LazyFrame:
    """Every column as text (empty -> null), with `_row`: the 0-based record number."""
    return pl.scan_csv(source.path, infer_schema=False, row_index_name="_row", separator=source.delimiter)


DELIMITERS = [",", ";", "\t", "|"]  # what shops' tools write: Excel in many locales writes ";"


def header_fields(source: SourceFile) -> dict[str, int]:
    """How many fields the header line splits into with each delimiter (the header's names
    hold none of them; values may: a comma file's lists are separated by semicolons)."""
    with open(source.path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        line = handle.readline(1 << 20)
    return {d: len(next(csv.reader([line], delimiter=d), [])) for d in DELIMITERS}


def choose_delimiter(source: SourceFile, wanted: str) -> None:
    """The spec's delimiter, or with `auto` the one that splits the header into the most
    fields (a tie, such as a one-column file, keeps the comma)."""
    if wanted != "auto":
        source.delimiter = wanted
        return
    counts = header_fields(source)
    source.delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    source.delimiter_detected = True


def delimiter_hint(source: SourceFile) -> str:
    """When another delimiter splits the header into more fields than the one used: say so."""
    counts = header_fields(source)
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    if best == source.delimiter or counts[best] <= counts[source.delimiter]:
        return ""
    shown = "tab" if best == "\t" else best
    return (
        f"; the header seems to be separated by {shown!r} ({counts[best]} fields with it, "
        f"{counts[source.delimiter]} with {source.delimiter!r}): set `delimiter: {shown}` or --delimiter {shown!r}, "
        "or leave it auto"
    )


def with_line_numbers(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add `_line`, the physical line where each record starts (the header is line 1).

    2 for the first record, plus one per earlier record, plus the newlines inside earlier
    quoted values. Counting those costs a pass over every value, so the engine only does
    it for files that have such newlines (more newlines than records: `SourceFile.newlines`).
    """
    names = [n for n in lf.collect_schema().names() if not n.startswith("_")]
    newlines = pl.sum_horizontal(pl.col(n).str.count_matches("\n", literal=True).fill_null(0) for n in names).cast(
        pl.UInt64
    )
    start = (newlines.cum_sum() - newlines).cast(pl.UInt64)
    return lf.with_columns(_line=pl.col("_row").cast(pl.UInt64) + start + 2)
