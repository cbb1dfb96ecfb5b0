"""Known records: the records of an import that the store applied before, found by their hash, staged as their
keys and hash alone (not parsed, checked or compared again: they were when they were applied).

One mechanism for every entity:
- the entity declares KNOWN, a query of the high halves (hash_hi) of the record hashes the store keeps for
  records it applied before and that would change nothing again (and, for a record of many events, `events`: how
  many of its events the store holds); `Known.load` runs it once per import;
- staging marks each record it hashed (Plan.hash_salt) `_known` by that half alone (a membership test costs
  nearly nothing; a join, much more): `expr` for a streamed scan, `mask` for batches of a Parquet file,
  `whole` for the records a format prepares into events (etl.pipeline.prepared); the marked ones are staged
  apart, as keys and hash;
- the entity's known SQL matches the whole hash and tells what it needs of them: a record that only shares the
  high half, or whose entity this import changes otherwise, is needed whole. It leaves the table stg_known_needed
  (one row, `needed`: how many), and stops there when any is (entities.known_needed);
- the engine checks it after the entity's store step (`check`), and raises KnownRecordsNeeded there: the import's
  stage and store steps then run again, with nothing known (the files opened, spooled or fetched are read again
  as they are).

`use_known=False` (etl.pipeline.importer.run_import) knows nothing: every record is read whole, the way a known
record must give the same store (the tests compare both ways).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import duckdb
import numpy as np
import polars as pl

from etl import entities


class KnownRecordsNeeded(Exception):  # noqa: N818  (a signal to the engine, not an error anyone sees)
    """A record staged as known (keys and hash alone) is needed whole: stage and store run again without them."""


@dataclass(frozen=True)
class Known:
    """The records an entity applied before: `hashes` (hash_hi, and `events` where the entity counts them)."""

    hashes: pl.DataFrame

    @staticmethod
    def load(con: duckdb.DuckDBPyConnection, query: str) -> Known | None:
        """The entity's KNOWN query's rows; None when the store holds none (nothing is staged apart)."""
        hashes = con.sql(query).pl()
        return Known(hashes) if hashes.height else None

    def expr(self) -> pl.Expr:
        """Whether a row's hash_hi is known: for a streamed scan (Polars builds the set once for the scan)."""
        return pl.col("hash_hi").is_in(pl.lit(self.hashes["hash_hi"].implode()))

    @cached_property
    def _sorted(self) -> np.ndarray:
        return np.sort(self.hashes["hash_hi"].to_numpy())

    @cached_property
    def _sorted_events(self) -> tuple[np.ndarray, np.ndarray]:
        """The hashes' high halves sorted, with how many events the store holds of each (once per import, not per
        prepared file)."""
        stored = self.hashes.sort("hash_hi")
        return stored["hash_hi"].to_numpy(), stored["events"].to_numpy().astype(np.int64)

    def mask(self, hashes: np.ndarray) -> np.ndarray:
        """Whether each of `hashes` (hash_hi) is known: for batches, by a binary search in the sorted hashes, as
        `is_in` builds a set of every known hash for each batch (5M known events: 1.6 s a batch)."""
        searched = self._sorted
        order = np.argsort(hashes)  # sorted keys: numpy's search starts from the last one's place (4x)
        places = np.empty(hashes.size, dtype=np.intp)
        places[order] = np.searchsorted(searched, hashes[order])
        return searched[np.minimum(places, searched.size - 1)] == hashes

    def whole(self, high: np.ndarray, events: np.ndarray) -> np.ndarray:
        """Whether each record (its hash's high half, its events) is one the store holds every event of: its
        hash's high half is a stored event's, and the store holds as many events of that hash as the record has
        (a record with a rejected event is not). Nothing is, for an entity whose KNOWN counts no events."""
        if "events" not in self.hashes.columns:
            return np.zeros(high.size, dtype=bool)
        keys, held = self._sorted_events
        places = np.minimum(np.searchsorted(keys, high), keys.size - 1)
        return (keys[places] == high) & (held[places] == events)

    def marked(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """A streamed scan's rows, `_known` beside each."""
        return rows.with_columns(_known=self.expr())

    def marked_batch(self, batch: pl.DataFrame) -> pl.DataFrame:
        """A batch's rows, `_known` beside each."""
        return batch.with_columns(_known=pl.Series(self.mask(batch["hash_hi"].to_numpy())))


def check(con: duckdb.DuckDBPyConnection) -> None:
    """After the entity's store step: KnownRecordsNeeded when it needs records staged as known whole."""
    if count := entities.known_needed(con):
        raise KnownRecordsNeeded(f"{count} records staged as known are needed whole")
