"""eSputnik's records read into events, in DuckDB (esputnik_events.sql): the `prepare` of the esputnik_events
format's plan (see etl.prepared, which calls it). DuckDB's JSON functions keep a value of any JSON type as text,
which Polars' decoding cannot; they read a part of the file at a time, as over 1,000 bodies of 500 events they
held more than a gigabyte."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BODY_START = r'^\s*\{\s*"events"\s*:\s*\['  # a past-events body: "events" its first key, an array
# the events of each record: a past-events body's, else one (esputnik_events.sql tells a body the same way)
COUNTS = """
SELECT _row AS _record,
    coalesce(CASE WHEN regexp_matches(raw, $body_start) THEN try(json_array_length(raw, '$.events')) END, 1) AS n,
    strlen(raw) AS bytes
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

    def counts(self, records: Path) -> dict[str, np.ndarray]:
        with _connection() as con:
            return con.sql(COUNTS, params={"records": str(records), "body_start": BODY_START}).fetchnumpy()

    def run(self, records: Path, out: Path, offsets: pa.Table, sizes: np.ndarray) -> None:
        """offsets: _record, first_row (its first event's number), hash_hi, hash_lo (its hash), of each record to
        read, in order; sizes: their text's bytes."""
        with _connection() as con:
            con.register("record_offsets", offsets)
            params = {**self.params, "records": str(records), "body_start": BODY_START}
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


class _connection:
    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = duckdb.connect(config={"memory_limit": MEMORY, "preserve_insertion_order": "false"})
        return self.con

    def __exit__(self, *exc) -> None:
        self.con.close()


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
