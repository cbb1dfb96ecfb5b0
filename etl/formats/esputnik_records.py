"""eSputnik's records read into events, in DuckDB (esputnik_events.sql): the `prepare` of the esputnik_events
format's plan (see etl.pipeline.prepared, which calls it). DuckDB's JSON functions keep a value of any JSON type as
text,
which Polars' decoding cannot; they read a part of the file at a time, as over 1,000 bodies of 500 events they
held more than a gigabyte."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

BODY_START = r'^\s*\{\s*"events"\s*:\s*\['  # a past-events body: "events" its first key, an array
# What DuckDB's JSON parser lets through and JSON has not (JSONTestSuite's n_ files it takes): a trailing comma,
# NaN, Infinity. A record holding a comma before a closing bracket, or NaN or Inf anywhere (in a string too: such
# records are few) is parsed strictly (serde_json, through Polars); one that is not JSON is read as one record,
# not a body, and the JSON lines parse rejects it naming its line and column (a JSON file fails there, as a
# CrossEngage array does). Literal searches and one small pattern: 0.2 s per 150 MB more than reading the text.
TRAILING_COMMA = r",\s*[\]}]"
# the events of each record: a past-events body's, else one (esputnik_events.sql tells a body the same way)
COUNTS = """
SELECT _row AS _record,
    coalesce(CASE WHEN regexp_matches(raw, $body_start) THEN try(json_array_length(raw, '$.events')) END, 1) AS n,
    strlen(raw) AS bytes,
    contains(raw, 'NaN') OR contains(raw, 'Inf') OR regexp_matches(raw, $trailing_comma) AS suspect
FROM read_parquet($records)
"""
PART_BYTES = 8 << 20  # of records' text read at once
PART_ROWS = 100_000
MEMORY = "700MB"


class EventReader:
    """What the engine asks of a format's `prepare`: `counts(records)` (each record's events and size) and
    `run(records, out, offsets, sizes)` (the events of the records `offsets` names, with their numbers and
    hashes, into `out`)."""

    def __init__(self, params: dict[str, object]) -> None:
        self.params = params  # the query's parameters: the format's options
        self.query = resources.files("etl.formats").joinpath("esputnik_events.sql").read_text(encoding="utf-8")
        self.not_json: dict[str, list[int]] = {}  # the records of a file that are not strictly JSON (counts)
        self.suspects: dict[str, list[int]] = {}  # those that may hold a trailing comma, NaN ... (counts)

    def counts(self, records: Path) -> dict[str, np.ndarray]:
        with _connection() as con:
            params = {"records": str(records), "body_start": BODY_START, "trailing_comma": TRAILING_COMMA}
            counts = con.sql(COUNTS, params=params).fetchnumpy()
        suspects = np.asarray(counts.pop("suspect"), dtype=bool)
        not_json = _not_json(records, np.asarray(counts["_record"])[suspects]) if suspects.any() else []
        self.not_json[str(records)] = not_json
        self.suspects[str(records)] = np.asarray(counts["_record"])[suspects].astype(np.int64).tolist()
        if not_json:  # one record each: the JSON lines parse rejects it
            n = np.asarray(counts["n"]).copy()
            n[np.isin(np.asarray(counts["_record"]), not_json)] = 1
            counts["n"] = n
        return counts

    def run(self, records: Path, out: Path, offsets: pa.Table, sizes: np.ndarray) -> None:
        """offsets: _record, first_row (its first event's number), hash_hi, hash_lo (its hash), of each record to
        read, in order; sizes: their text's bytes."""
        with _connection() as con:
            con.register("record_offsets", offsets)
            not_json = self.not_json.get(str(records), [])
            params = {**self.params, "records": str(records), "body_start": BODY_START, "not_json": not_json,
                      "suspect_records": self.suspects.get(str(records), [])}  # fmt: skip
            writer = None
            try:
                for low, high in _parts(offsets.column("_record").to_numpy(), sizes):
                    part = con.sql(self.query, params={**params, "first_record": low, "last_record": high})
                    reader = part.to_arrow_reader(PART_ROWS)
                    if writer is None:  # the query's columns: the same for every part (its SQL casts them)
                        writer = pq.ParquetWriter(out, reader.schema, compression="lz4")
                    for batch in reader:
                        writer.write_batch(batch)
            finally:
                if writer is not None:
                    writer.close()

    def event_lines(self, path: Path, events: pl.DataFrame) -> pl.Series:
        """The lines of rejected events in the file (event_lines), for the engine's rejects."""
        return event_lines(path, events)


class _connection:
    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = duckdb.connect(config={"memory_limit": MEMORY, "preserve_insertion_order": "false"})
        return self.con

    def __exit__(self, *exc) -> None:
        self.con.close()


def _not_json(records: Path, suspects: np.ndarray) -> list[int]:
    """Of the records `suspects` names, those that are not JSON to a strict parser (serde_json)."""
    text = pl.col("raw")
    found = (
        pl.scan_parquet(records)
        .filter(pl.col("_row").is_in(pl.Series(suspects, dtype=pl.UInt32).implode()))
        .filter(text.str.json_path_match("$").is_null() & (text.str.strip_chars() != "null"))
        .select("_row")
        .collect()
    )
    return found["_row"].cast(pl.Int64).to_list()


def _parts(records: np.ndarray, sizes: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) record numbers of consecutive parts of at most PART_BYTES of text (a larger record alone)."""
    if records.size == 0:
        return [(0, -1)]  # no record: the query runs once, for the output's columns
    ends = np.cumsum(sizes)
    parts, start = [], 0
    while start < records.size:
        stop = max(start + 1, int(np.searchsorted(ends, ends[start] - sizes[start] + PART_BYTES, "right")))
        parts.append((int(records[start]), int(records[stop - 1])))
        start = stop
    return parts


def event_lines(path: Path, events: pl.DataFrame) -> pl.Series:
    """The line of each of `events` (_element: its place in its record; _offset, _line and _bytes: its record's
    first byte, line and length) in the file at `path`: a body's event on the line it starts on (a past-events
    body written over many lines, as 003's example is), another record's on its record's line. For rejected
    events only (few): each of their bodies is read again from the file, and numpy finds where its events
    start, as etl.readers.json_array finds an array's elements."""
    lines = events["_line"].to_numpy().astype(np.int64).copy()
    offsets, elements = events["_offset"].to_numpy(), events["_element"].to_numpy().astype(np.int64)
    with open(path, "rb") as handle:
        for offset, first_line, size in events.select("_offset", "_line", "_bytes").unique().iter_rows():
            handle.seek(offset)
            starts = _element_starts(handle.read(size))
            if starts is None:
                continue
            rows = np.flatnonzero((offsets == offset) & (elements < starts.size))
            lines[rows] = first_line + starts[elements[rows]]
    return pl.Series("_line", lines, dtype=pl.UInt32)


def _element_starts(body: bytes) -> np.ndarray | None:
    """The line (from 0) each element of a body's events array starts on; None when `body` is not a body."""
    from etl.readers.json_array import _escaped

    if re.match(BODY_START.encode(), body) is None:
        return None
    data = np.frombuffer(body, dtype=np.uint8)
    quotes = np.flatnonzero(data == ord('"'))
    quotes = quotes[~_escaped(data, quotes)]
    marks = np.flatnonzero(np.isin(data, np.frombuffer(b"[]{},", dtype=np.uint8)))
    marks = marks[np.searchsorted(quotes, marks) % 2 == 0]  # an even number of quotes before: not in a string
    kinds = data[marks]
    steps = np.where(np.isin(kinds, (ord("["), ord("{"))), 1, np.where(np.isin(kinds, (ord("]"), ord("}"))), -1, 0))
    depth = np.cumsum(steps)  # after each mark: inside the events' array, 2
    place = np.arange(depth.size)
    opened = int(np.flatnonzero(depth == 2)[0])
    closed = np.flatnonzero((depth < 2) & (place > opened))
    end = int(closed[0]) if closed.size else depth.size
    commas = marks[(place > opened) & (place < end) & (depth == 2) & (kinds == ord(","))]
    starts = np.concatenate(([marks[opened]], commas)) + 1
    # each element's first byte that is not whitespace, and the line breaks before it
    solid = np.flatnonzero(~np.isin(data, np.frombuffer(b" \t\r\n", dtype=np.uint8)))
    firsts = solid[np.minimum(np.searchsorted(solid, starts), solid.size - 1)]
    return np.searchsorted(np.flatnonzero(data == ord("\n")), firsts)
