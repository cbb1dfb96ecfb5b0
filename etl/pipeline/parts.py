"""Where a large file splits into parts that stage apart (etl.pipeline.tasks), read by a worker through fsspec.

A CSV or JSON-lines file larger than a part (PART_BYTES) is read once, in blocks, for its sha256 and its record
boundaries: a JSON line ends at any line break; a CSV record at a line break after an even number of quote
characters (a quoted value may hold line breaks; an escaped quote is two). Vectorised with numpy over each block,
no Python per record. A part ends at the first record boundary after its nominal end, so no record straddles two
parts; for a format whose records are runs of rows (an order's rows, Plan.run_key), the boundary moves on to where
the run key changes (read after the spec's transforms, over a small window), so no order straddles two parts.

A file is staged whole (one task) when it is compressed (gzip or zip cannot be read from the middle), written in an
encoding other than UTF-8 or ASCII (a quote or line break byte may be part of a wider character), small, or when a
quote character stands inside an unquoted value (`5" screen`: the quote count no longer tells where records end).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from etl.formats.rows import RAW
from etl.sources import files as sources

PART_BYTES = 128 << 20  # a part's nominal size: a task of a few seconds, its staging's memory well under 1 GB
BLOCK = 16 << 20  # read at once while splitting
WINDOW = 1 << 20  # read after a boundary to find where an order's rows end (doubled while one order fills it)
QUOTE, NEWLINE, CR = 34, 10, 13


@dataclass(frozen=True)
class Split:
    """A file's survey: its sha256, its header (a CSV's first record, as bytes: every part starts with it), and
    the byte offsets its parts start at (`bounds`, the file's size last); `whole`: why it is staged whole."""

    sha256: str = ""
    header: bytes = b""
    bounds: list[int] = field(default_factory=list)
    whole: str | None = None


def survey(fs, path: str, *, reader: str, delimiter: str, part_bytes: int) -> Split:
    """Read the file once: its sha256 and where its parts start (before any run key is considered)."""
    digest = hashlib.sha256()
    size = fs.info(path)["size"]
    targets = list(range(part_bytes, size, part_bytes))
    bounds: list[int] = []
    header_end = None if reader == "csv" else 0  # a CSV's first record is its header
    parity = 0  # of the quotes read so far (CSV)
    previous = NEWLINE  # the byte before the block
    offset = 0
    whole = None
    with fs.open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            if whole is None:
                data = np.frombuffer(block, dtype=np.uint8)
                lines = np.flatnonzero(data == NEWLINE)
                if reader == "csv":
                    quotes = np.flatnonzero(data == QUOTE)
                    if _stray_quote(data, quotes, previous, ord(delimiter)):
                        whole = 'a quote character inside an unquoted value (such as 5" screen)'
                    even = (parity + np.searchsorted(quotes, lines)) % 2 == 0
                    ends = lines[even] + offset + 1  # where a record ends: the next one starts
                    parity = (parity + quotes.size) % 2
                else:
                    ends = lines + offset + 1
                if header_end is None and ends.size:
                    header_end = int(ends[0])
                targets = [t for t in targets if header_end is not None and t > header_end]
                while targets and ends.size:  # each target's boundary: the first record end at or after it
                    at = int(np.searchsorted(ends, targets[0]))
                    if at >= ends.size:
                        break
                    bound = int(ends[at])
                    if bound < size and (not bounds or bound > bounds[-1]):
                        bounds.append(bound)
                    targets = [t for t in targets[1:] if t > bound]
                previous = int(data[-1])
            offset += len(block)
    if whole is not None or not bounds or header_end is None:
        return Split(digest.hexdigest(), b"", [], whole or "smaller than a part")
    with fs.open(path, "rb") as handle:
        header = handle.read(header_end)
    return Split(digest.hexdigest(), header, [header_end, *bounds, size])


def _stray_quote(data: np.ndarray, quotes: np.ndarray, previous: int, delimiter: int) -> bool:
    """Whether a quote stands inside an unquoted value: neither after a delimiter, a line break or a quote, nor
    before one (a block's last byte's next is not known: taken as fitting)."""
    if quotes.size == 0:
        return False
    fitting = np.array([delimiter, NEWLINE, CR, QUOTE], dtype=np.uint8)
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], previous)
    after_known = quotes + 1 < data.size
    after = data[np.minimum(quotes + 1, data.size - 1)]
    ok = np.isin(before, fitting) | np.isin(after, fitting) | ~after_known
    return not bool(ok.all())


def after_runs(fs, path: str, split: Split, uri: str, delimiter: str, spec, header_names, run_key: str) -> Split:
    """The split with each inner boundary moved to where the run key (an order's id) changes, so that the rows of
    one order stay in one part; a boundary that reaches the next is dropped."""
    from etl.pipeline.staging import transformed

    bounds = split.bounds
    moved = [bounds[0]]
    for number, bound in enumerate(bounds[1:-1], start=1):
        limit = bounds[number + 1]
        found = None
        window = WINDOW
        while found is None:
            with fs.open(path, "rb") as handle:
                handle.seek(bound)
                data = handle.read(min(window, limit - bound))
            complete = bound + len(data) >= limit
            array = np.frombuffer(data, dtype=np.uint8)
            lines = np.flatnonzero(array == NEWLINE)
            quotes = np.flatnonzero(array == QUOTE)
            ends = lines[np.searchsorted(quotes, lines) % 2 == 0] + 1
            if not complete:
                data = data[: int(ends[-1])] if ends.size else b""
            starts = np.concatenate([[0], ends])
            with tempfile.NamedTemporaryFile(suffix=".csv") as window_file:
                window_file.write(split.header + data)
                window_file.flush()
                source = sources.SourceFile(uri=uri, path=Path(window_file.name), size=len(data), delimiter=delimiter)
                rows, _ = transformed(source, header_names, spec)
                key = pl.col(RAW + run_key)
                try:
                    change = (
                        rows.select("_row", key=key)
                        .filter(pl.col("key").ne_missing(pl.col("key").shift(1)) | pl.col("key").is_null())
                        .filter(pl.col("_row") > pl.col("_row").min())  # a change after the part's first row
                        .head(1)
                        .collect()
                    )
                except pl.exceptions.PolarsError:  # a record that cannot be read: the whole file's staging says so
                    return replace(split, bounds=[], whole="a record the survey could not read")
            if change.height:
                found = bound + int(starts[change["_row"][0]])
            elif complete:
                found = limit  # one order up to the next boundary: the two parts become one
            else:
                window *= 2
        if found < limit and found > moved[-1]:
            moved.append(found)
    moved.append(bounds[-1])
    return replace(split, bounds=moved if len(moved) > 2 else [])
