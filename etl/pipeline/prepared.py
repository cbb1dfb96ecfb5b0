"""Staging a file whose records are not one event each (a format's plan with `prepare`: eSputnik's past-events
bodies hold 500): the records are counted and hashed as read, those the store applied whole before are staged as
their events' keys and hashes alone (without being read into events, parsed or checked: that reading is the
import's dearest step), and the others are read into events by the format (in DuckDB), each event hashed as its
record's hash with its place in the record mixed in, so that a record is known again by the hash of its text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from etl.formats.rows import record_hash
from etl.pipeline.known import Known


def stage_records(index: int, plan, known: Known | None, records: Path, work: Path) -> tuple[Path, Path]:
    """The events of the records not known (a Parquet file, hash_hi and hash_lo among its columns), and the known
    records' events as keys and hashes (_file, _row, _seq, hash_hi, hash_lo), from a file's `records`."""
    counts = plan.prepare.counts(records)  # _record, n (its events), bytes
    order = np.argsort(counts["_record"])
    record = np.asarray(counts["_record"])[order].astype(np.int64)
    events = np.asarray(counts["n"])[order].astype(np.int64)
    sizes = np.asarray(counts["bytes"])[order].astype(np.int64)
    first = np.cumsum(events) - events
    hashed = (
        pl.scan_parquet(records)
        .select(pl.col("_row").cast(pl.Int64).alias("_record"), **record_hash([pl.col("raw")], plan.hash_salt))
        .sort("_record")
        .collect(engine="streaming")
    )
    high, low = hashed["hash_hi"].to_numpy(), hashed["hash_lo"].to_numpy()
    whole = known.whole(high, events) if known is not None else np.zeros(high.size, dtype=bool)
    keep = ~whole
    offsets = pa.table({
        "_record": record[keep], "first_row": first[keep], "hash_hi": high[keep], "hash_lo": low[keep],
    })  # fmt: skip
    out = work / f"events-{index}.parquet"
    plan.prepare.run(records, out, offsets, sizes[keep])
    placeholders = work / f"known-events-{index}.parquet"
    _placeholders(index, first[whole], events[whole], high[whole], low[whole]).write_parquet(placeholders)
    return out, placeholders


def _placeholders(index: int, first: np.ndarray, events: np.ndarray, high: np.ndarray, low: np.ndarray):
    """One row per event of the known records: its number in the file, its record's hash with its place in the
    record mixed into the low half (as the format's reading makes it)."""
    starts = np.repeat(first, events)
    element = np.arange(starts.size, dtype=np.int64) - np.repeat(np.cumsum(events) - events, events)
    row = (starts + element).astype(np.uint32)
    return pl.DataFrame({
        "_file": pl.Series(np.full(row.size, index, dtype=np.uint32)),
        "_row": pl.Series(row),
        "_seq": pl.Series((np.uint64(index) << np.uint64(32)) + row.astype(np.uint64)),
        "hash_hi": pl.Series(np.repeat(high, events)),
        "hash_lo": pl.Series(np.repeat(low, events) ^ element.astype(np.uint64)),
    })  # fmt: skip
