"""A JSON file holding one array of objects (or one object) -> one record per element, streaming.

`to_records(source, path)` writes a Parquet file of `_line` (the line an element starts on, when known),
`_row` (its number, from 0) and `raw` (its text as written): what the JSON lines path stages, so the elements
are typed, checked, hashed and rejected as JSON lines are.

DuckDB splits the array (read_json_objects, format array: C++, streaming, each element's text as written):
at 1 GB in about 3 s, holding a few batches. Its parser is not strict everywhere, so the reader adds what it
lets through: the file must start with `[` (or `{`: one object) after whitespace and a byte-order mark, end
with `]`, and an array without elements holds JSON whitespace alone; the elements themselves are parsed by the
JSON lines path, strictly (serde_json: no NaN, no trailing comma, no comments, nested at most 128 deep).
Known leniency left: a form feed between two elements is taken as whitespace.

Malformed JSON fails the whole file naming its line and column (an array cannot be resynchronised: after a
broken element, where the next begins is a guess). DuckDB does not say where an element is, so on that path,
and for the lines of rejected elements, `scan` reads the file again: numpy finds, chunk by chunk, the bytes that
matter for the array's shape (quotes, brackets, commas, line breaks), which quotes are escaped (an odd run of
backslashes before them) and so which of the others are outside strings; the depth of each bracket is a running
sum, and the commas at depth one separate the elements. It is slower (about 30 MB/s) and runs only when
something is wrong. An element longer than MAX_RECORD_BYTES fails the file (no event is that large).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from etl.errors import InputError
from etl.sources import files as sources

CHUNK = 32 << 20  # bytes read at a time: numpy's work arrays are a few times this
MAX_RECORD_BYTES = 128 << 20
SMALL_FILE = 16 << 20  # an invalid file this small is read whole to find its first error
SCHEMA = pa.schema([("_line", pa.uint32()), ("_row", pa.uint32()), ("_offset", pa.uint64()), ("raw", pa.string())])
BATCH = 100_000  # elements per batch from DuckDB
_DUCKDB_MEMORY = "500MB"
_QUOTE, _OPEN, _CLOSE, _COMMA, _NEWLINE = 1, 2, 3, 4, 5
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[ord('"')] = _QUOTE
_CLASS[[ord("["), ord("{")]] = _OPEN
_CLASS[[ord("]"), ord("}")]] = _CLOSE
_CLASS[ord(",")] = _COMMA
_CLASS[[ord("\n"), ord("\r")]] = _NEWLINE
_WHITESPACE = b" \t\r\n"  # JSON's: a form feed is not
_JSON_SPACE = " \t\r\n"
_BOM = b"\xef\xbb\xbf"


class _Shape:
    """Where the reader is in the file: what it has seen of the array, and the lines before the current chunk."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.mode: str | None = None  # "array" or "object", from the first byte that is not whitespace
        self.ended = False  # the array's (or the object's) last bracket was read
        self.elements = 0
        self.line = 1  # of the first byte of the chunk
        self.column = 1  # (in characters) of the first byte of the chunk

    def fail(self, buffer: bytes, at: int, what: str) -> InputError:
        line = self.line + buffer.count(b"\n", 0, at)
        start = buffer.rfind(b"\n", 0, at) + 1
        column = (self.column if start == 0 else 1) + len(buffer[start:at].decode("utf-8", "replace"))
        return InputError(f"{self.uri}: line {line}, column {column}: {what}")


def to_records(source: sources.SourceFile, path: Path) -> Path:
    """The file's elements as a Parquet file at `path` (see the module's docstring); InputError when the file is
    not an array of elements (or one object), naming the line and column."""
    mode = _first_byte(source)
    if mode == "[" and _ends_with_bracket(source):
        try:
            elements = _split_by_duckdb(source, path)
        except (duckdb.Error, OSError) as exc:  # OSError: DuckDB's error through Arrow's reader
            scan(source, path)  # raises for the array's shape, naming the line and column
            offset = first_invalid(path)  # else an element is wrong
            if offset is not None:
                raise InputError(f"{source.uri}: {locate(source, offset)}") from None
            message = str(exc).splitlines()[0].replace(str(source.path), source.uri)
            raise InputError(f"{source.uri}: {message}") from None
        if elements:
            return path
    try:
        return scan(source, path)  # one object, an empty array, or a file that does not end: it says why
    except InputError as exc:
        first = _first_error(source)  # the scan says what breaks the shape, which may come after the first error
        if first is None or not _before(first, str(exc)):
            raise
        raise InputError(f"{source.uri}: {first}") from None


def _before(one: str, other: str) -> bool:
    """Whether the place `line L, column C` that message `one` names comes before `other`'s."""
    places = [re.search(r"line (\d+), column (\d+):", text) for text in (one, other)]
    if None in places:
        return False
    return tuple(map(int, places[0].groups())) < tuple(map(int, places[1].groups()))


def _first_error(source: sources.SourceFile) -> str | None:
    """For a small file (a pasted example), where Python's json finds its first error; None when it finds none
    (or the file is large: reading it whole is what the scan avoids)."""
    if source.size > SMALL_FILE:
        return None
    with open(source.path, "rb") as handle:
        head = handle.read()
    start = len(head) - len(head.removeprefix(_BOM).lstrip(_WHITESPACE))
    try:
        json.loads(head[start:].decode("utf-8"))
    except (ValueError, RecursionError):
        return locate(source, start)
    return None


def _first_byte(source: sources.SourceFile) -> str:
    with open(source.path, "rb") as handle:
        head = handle.read(1 << 16)
    return head.removeprefix(_BOM).lstrip(_WHITESPACE)[:1].decode("latin-1")


def _ends_with_bracket(source: sources.SourceFile) -> bool:
    with open(source.path, "rb") as handle:
        handle.seek(max(0, source.size - (1 << 16)))
        return handle.read().rstrip(_WHITESPACE).endswith(b"]")


def _split_by_duckdb(source: sources.SourceFile, path: Path) -> int:
    """The elements, numbered, into `path`, as DuckDB reads them; how many."""
    con = duckdb.connect(config={"memory_limit": _DUCKDB_MEMORY})
    try:
        query = con.sql(
            "SELECT json::VARCHAR AS raw FROM read_json_objects($path, format = 'array', maximum_object_size = $max)",
            params={"path": str(source.path), "max": MAX_RECORD_BYTES},
        )
        count = 0
        with pq.ParquetWriter(path, SCHEMA, compression="lz4") as writer:
            for batch in query.to_arrow_reader(BATCH):
                size = batch.num_rows
                rows = pa.array(np.arange(count, count + size, dtype=np.uint32))
                nulls = pa.nulls(size, pa.uint32()), pa.nulls(size, pa.uint64())
                table = pa.Table.from_arrays([nulls[0], rows, nulls[1], batch.column(0)], schema=SCHEMA)
                writer.write_table(table)
                count += size
        return count
    finally:
        con.close()


def scan(source: sources.SourceFile, path: Path) -> Path:
    """The file's elements into `path` by numpy (see the module's docstring), with their lines and first
    bytes (`_offset`); InputError, naming the line and column, when the file is not an array or one object."""
    shape = _Shape(source.uri)
    writer = pq.ParquetWriter(path, SCHEMA, compression="lz4")
    try:
        with open(source.path, "rb") as handle:
            carry = b""  # the element that the last chunk did not end, from its start
            carry_offset = 0  # its first byte in the file
            first = True
            while True:
                chunk = handle.read(max(CHUNK, len(carry)))  # an element longer than a chunk: read more at once
                at_end = not chunk
                buffer = carry + chunk
                if first:
                    first = False
                    if buffer.startswith(_BOM):
                        buffer, carry_offset = buffer[len(_BOM) :], len(_BOM)
                consumed = _chunk(buffer, carry_offset, at_end, shape, writer, source)
                if len(buffer) - consumed > MAX_RECORD_BYTES:
                    rest = buffer[consumed:]
                    at = len(rest) - len(rest.lstrip(_WHITESPACE))  # the element's first byte
                    raise shape.fail(rest, at, f"an element longer than {MAX_RECORD_BYTES >> 20} MB")
                carry, carry_offset = buffer[consumed:], carry_offset + consumed
                if at_end:
                    break
    finally:
        writer.close()
    if shape.mode is None:
        raise InputError(f"{source.uri}: the file is empty; expected a JSON array of objects, or one object")
    return path


def _advance(shape: _Shape, buffer: bytes, consumed: int) -> None:
    lines = buffer.count(b"\n", 0, consumed)
    start = buffer.rfind(b"\n", 0, consumed) + 1
    shape.column = (shape.column if lines == 0 else 1) + len(buffer[start:consumed].decode("utf-8", "replace"))
    shape.line += lines


def _chunk(buffer: bytes, offset: int, at_end: bool, shape: _Shape, writer, source) -> int:
    """Write the elements that end in `buffer` (which starts where an element may start: the file's start, or
    just after a separator); the bytes consumed (the rest starts the next element, read again with more), the
    shape's line and column moved past them."""
    if shape.ended:  # only whitespace may follow the end
        rest = buffer.lstrip(_WHITESPACE)
        if rest:
            raise shape.fail(buffer, len(buffer) - len(rest), "more after the end of the JSON value")
        consumed = len(buffer)
    elif shape.mode is None:  # what the file holds, from its first byte that is not whitespace
        rest = buffer.lstrip(_WHITESPACE)
        start = len(buffer) - len(rest)
        if not rest:
            consumed = len(buffer)
        elif rest[:1] in (b"[", b"{"):
            shape.mode = "array" if rest[:1] == b"[" else "object"
            prefix = start + (rest[:1] == b"[")  # the array's bracket is no element's
            _advance(shape, buffer, prefix)
            return prefix + _chunk(buffer[prefix:], offset + prefix, at_end, shape, writer, source)
        else:
            raise shape.fail(buffer, start, "expected a JSON array of objects, or one object")
    else:
        consumed = _elements(buffer, offset, at_end, shape, writer, source)
    _advance(shape, buffer, consumed)
    return consumed


def _elements(buffer: bytes, offset: int, at_end: bool, shape: _Shape, writer, source) -> int:
    start = 0
    data = np.frombuffer(buffer, dtype=np.uint8)
    marks = np.flatnonzero(_CLASS[data[start:]]) + start
    kinds = kinds_all = _CLASS[data[marks]]
    quotes = marks[kinds == _QUOTE]
    quotes = quotes[~_escaped(data, quotes)]
    # outside a string: an even number of (unescaped) quotes before (the chunk starts outside one)
    inside = (np.searchsorted(quotes, marks) % 2).astype(bool)
    inside[kinds == _QUOTE] = False
    broken = marks[inside & (kinds == _NEWLINE)]
    depth_base = 1 if shape.mode == "array" else 0
    structural = ~inside & ((kinds == _OPEN) | (kinds == _CLOSE) | (kinds == _COMMA))
    positions, kinds = marks[structural], kinds[structural]
    steps = np.where(kinds == _OPEN, 1, np.where(kinds == _CLOSE, -1, 0)).astype(np.int64)
    depth = depth_base + np.cumsum(steps)  # after each bracket
    # the end of the value: the bracket that closes the array (depth 0) or the object (back to 0)
    closing = np.flatnonzero((kinds == _CLOSE) & (depth == 0))
    end = int(positions[closing[0]]) if closing.size else None
    if end is not None:
        positions, depth, kinds = positions[: closing[0]], depth[: closing[0]], kinds[: closing[0]]
    if broken.size and (end is None or broken[0] < end):
        raise shape.fail(buffer, int(broken[0]), "a line break inside a string (write it as \\n)")
    if end is not None and buffer[end] != (ord("]") if shape.mode == "array" else ord("}")):
        raise shape.fail(buffer, end, f"expected {']' if shape.mode == 'array' else '}'}, found {chr(buffer[end])}")
    separators = positions[(kinds == _COMMA) & (depth == depth_base)] if shape.mode == "array" else positions[:0]
    if end is None:
        if at_end:
            raise shape.fail(buffer, len(buffer), "the file ends inside the JSON value (is it truncated?)")
        if not separators.size:  # no element ended: read on
            return 0
        bounds = np.concatenate(([start], separators[:-1] + 1))
        ends = separators
        consumed = int(separators[-1]) + 1
    else:
        if shape.mode == "object":
            bounds, ends = np.array([start]), np.array([end + 1])
        else:
            bounds = np.concatenate(([start], separators + 1))
            ends = np.concatenate((separators, [end]))
        consumed = end + 1
        shape.ended = True
    newlines = marks[kinds_all == _NEWLINE] if end is None else marks[(kinds_all == _NEWLINE) & (marks < end)]
    empty_ok = end is not None and not separators.size
    _write(buffer, data, bounds, ends, newlines, offset, shape, writer, source, empty_ok=empty_ok)
    if shape.ended:
        rest = buffer[consumed:].lstrip(_WHITESPACE)
        if rest:
            raise shape.fail(buffer, len(buffer) - len(rest), "more after the end of the JSON value")
        return len(buffer)
    return consumed


def _escaped(data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """Whether each quote is escaped: preceded by an odd number of backslashes (a run that cannot reach before
    the buffer's start, which is never inside a string)."""
    run = np.zeros(quotes.size, dtype=np.int64)
    active = quotes > 0
    active[active] = data[quotes[active] - 1] == 0x5C
    back = 1
    while active.any():
        run[active] += 1
        back += 1
        reach = active & (quotes - back >= 0)
        active = np.zeros_like(reach)
        active[reach] = data[quotes[reach] - back] == 0x5C
    return run % 2 == 1


def _write(buffer, data, bounds, ends, newlines, offset, shape: _Shape, writer, source, *, empty_ok: bool) -> None:
    """The elements buffer[bounds[i]:ends[i]] as rows: one text column of the buffer's bytes, separators and
    line breaks made spaces (the slices then meet end to start)."""
    text = data.copy()
    text[ends[ends < len(text)]] = 0x20  # the commas, and the closing bracket
    text[newlines] = 0x20  # outside strings (checked), so whitespace
    last_end = int(ends[-1]) + (1 if int(ends[-1]) < len(text) and shape.mode == "array" else 0)
    cut = np.concatenate((bounds, [min(last_end, len(text))])).astype(np.int64)
    strings = pa.LargeStringArray.from_buffers(len(bounds), pa.py_buffer(cut), pa.py_buffer(text))
    try:
        strings.validate(full=True)
    except pa.ArrowInvalid:
        raise sources.locate_invalid_utf8(source) or InputError(f"{source.uri}: not valid UTF-8") from None
    raw = pl.Series("raw", strings, dtype=pl.String)
    blank = raw.str.strip_chars(_JSON_SPACE).str.len_bytes() == 0
    if blank.any():
        if empty_ok and len(bounds) == 1:  # [] or [ ]: no element at all
            return
        where = int(bounds[blank.arg_true()[0]])
        raise shape.fail(buffer, where, "an empty element (a comma with no value before or after it)")
    odd = raw.str.strip_chars().str.len_bytes() == 0  # only whitespace, of a kind JSON does not allow
    if odd.any():
        where = int(bounds[odd.arg_true()[0]])
        raise shape.fail(buffer, where, "whitespace JSON does not allow (a form feed?) where an element should be")
    lead = raw.str.len_bytes() - raw.str.strip_chars_start(_JSON_SPACE).str.len_bytes()
    starts = bounds + lead.to_numpy()
    lines = np.searchsorted(newlines[data[newlines] == 0x0A], starts) + shape.line
    frame = pl.DataFrame(
        {
            "_line": pl.Series(lines, dtype=pl.UInt32),
            "_row": pl.Series(np.arange(shape.elements, shape.elements + len(bounds)), dtype=pl.UInt32),
            "_offset": pl.Series(starts + offset, dtype=pl.UInt64),
            "raw": raw.str.strip_chars(_JSON_SPACE),
        }
    )
    shape.elements += len(bounds)
    writer.write_table(frame.to_arrow().cast(SCHEMA))


def locate(source: sources.SourceFile, offset: int) -> str:
    """Where in the file, and why, the element starting at byte `offset` is not valid JSON, or not followed by a
    comma or the array's end: `line L, column C: message` (Python's json reads it again, from the file: this
    runs for one element, the first refused)."""
    with open(source.path, "rb") as handle:
        handle.seek(offset)
        text = handle.read(MAX_RECORD_BYTES).decode("utf-8", "replace")
    line, column = _position(source.path, offset)

    refused: list[str] = []

    def refuse(constant: str) -> None:
        refused.append(constant)
        raise ValueError(constant)

    decoder = json.JSONDecoder(parse_constant=refuse)
    try:
        _, end = decoder.raw_decode(text)
        after = len(text) - len(text[end:].lstrip(_JSON_SPACE))
        if after < len(text) and text[after] not in ",]":
            at, message = after, "expected , or ] after an element (a comma missing?)"
        else:
            at, message = 0, "not valid JSON (nested too deeply, or a lone surrogate)"
    except json.JSONDecodeError as exc:
        at, message = exc.pos, exc.msg
    except ValueError:  # NaN, Infinity: found where they are written, outside strings (the element starts outside)
        from etl.readers.jsonl import constant_at, constant_message

        found = constant_at(text)
        at, message = (found[0] if found else 0), constant_message(refused[0])
    except RecursionError:
        at, message = 0, "nested too deeply"
    lines = text.count("\n", 0, at)
    at_column = (column if lines == 0 else 1) + at - (text.rfind("\n", 0, at) + 1)
    return f"line {line + lines}, column {at_column}: {message}{_likely_cause(text, at)}"


def _likely_cause(text: str, at: int) -> str:
    """What the text at the error most likely is, for the mistakes of JSON copied from documentation pages: a
    no-break space as indentation, a comment, a JSON text inside a string with its quotes not escaped."""
    here = text[at : at + 2]
    if here[:1] in ("\u00a0", "\u2007", "\u202f", "\ufeff"):
        return f" (a no-break space, U+{ord(here[0]):04X}, is not JSON whitespace: copied from a web page?)"
    if here in ("//", "/*"):
        return " (a comment: JSON has none)"
    if re.search(r'"\s*[\[{]\s*"$', text[max(0, at - 8) : at]):
        return ' (a JSON text inside a string must escape its quotes: "{\\"key\\": ...}")'
    return ""


def first_invalid(path: Path) -> int | None:
    """The first byte of the first element of a scanned file (`scan`'s Parquet) that the JSON lines parse
    refuses as not valid JSON; None when there is none."""
    from etl.readers import jsonl

    parsed = jsonl.parse(pl.scan_parquet(path).select("_row", "_offset", "raw"))
    invalid = parsed.filter(pl.col("reason").fill_null("").str.starts_with(jsonl.NOT_JSON)).sort("_row").head(1)
    found = invalid.collect()
    return int(found["_offset"][0]) if found.height else None


def _position(path: Path, offset: int) -> tuple[int, int]:
    line, last = 1, b""
    with open(path, "rb") as handle:
        read = 0
        while read < offset:
            chunk = handle.read(min(CHUNK, offset - read))
            read += len(chunk)
            line += chunk.count(b"\n")
            cut = chunk.rfind(b"\n")
            last = chunk[cut + 1 :] if cut >= 0 else last + chunk
    return line, len(last.decode("utf-8", "replace")) + 1
