"""What a format makes of a file: one Plan for every format, the engine's fields once, and the entity's facts.

The engine (etl.pipeline.staging) reads the engine's fields alone: the fields (header, missing, ignored, problems),
`transform` (the typed rows and their checks), what it stages (kept_columns, reject_keys), the record hash's salt
and how to read the file (reader, row_wise, run_key, prepare). What only the format's entity reads of a plan is
in `facts`, one dataclass per entity (an order's key field, the type of each id value, where an event's items
are ...). A capability is a typed field, None when the format has none: nothing is found by probing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from etl.formats.rows import Check


@dataclass(frozen=True)
class OrdersFacts:
    """What the orders entity reads of a plan."""

    order_columns: Sequence[str] = ()  # canonical columns taken from the first row of an order's run
    line_columns: Sequence[str] = ()  # canonical columns taken from every row
    key_field: str = "orderId"  # the input field that names a record's key (an order's id), for reject reasons


@dataclass(frozen=True)
class CustomersFacts:
    """What the customers entity reads of a plan."""

    id_types: tuple[str, ...] = ()  # the type of each value of `ids`, in order


@dataclass(frozen=True)
class ProductsFacts:
    """What the products entity reads of a plan: nothing yet (the options say the rest)."""


@dataclass(frozen=True)
class EventsFacts:
    """What the events entity reads of a plan (etl.formats.events says what each means)."""

    id_types: tuple[str, ...] = ()  # the type of each value of `ids`
    item_paths: tuple[str, ...] = ()  # where in properties the items are
    currency_paths: tuple[str, ...] = ()  # where the items' currency is, when an item names none
    known_people_only: bool = False  # an event whose person the store does not know is rejected
    feeds_orders: bool = False  # its order_* columns change the orders entity
    default_currency: str | None = None  # of an order whose events name none (etl/entities/events/orders.sql)


Facts = OrdersFacts | CustomersFacts | ProductsFacts | EventsFacts


class Prepare(Protocol):
    """What reads a file's records into events when a record is not one event (eSputnik's past-events bodies):
    etl.pipeline.prepared stages such a file with it."""

    def counts(self, records: Path) -> dict[str, np.ndarray]:
        """Each record's number (_record), its events (n) and its size (bytes)."""
        ...

    def run(self, records: Path, out: Path, offsets: pa.Table, sizes: np.ndarray) -> None:
        """The events of the records `offsets` names, with their numbers and hashes, into `out`."""
        ...

    def event_lines(self, path: Path, events: pl.DataFrame) -> pl.Series:
        """The line of each event of `events` (_record, _element, _offset ...) in the file at `path`."""
        ...


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What a format makes of a file with a given header."""

    transform: Callable[[pl.LazyFrame], tuple[pl.LazyFrame, list[Check]]]
    facts: Facts
    header: Sequence[str] = ()  # the record's fields, in order (the file's columns after the spec's transforms)
    missing: Sequence[str] = ()  # required fields the header lacks
    ignored: Sequence[str] = ()  # columns the format does not know: read, kept in rejects' raw, not stored
    problems: tuple[str, ...] = ()  # what makes the header unusable
    reader: str = "csv"
    kept_columns: Sequence[str] = ()  # the canonical columns staged for each kept row (hash_hi, hash_lo with them)
    reject_keys: Sequence[str] = ()  # canonical columns a reject keeps (the entity's merge needs them)
    # with a salt (etl.formats.hashing), the engine hashes each record as read (hash_hi, hash_lo) and stages those
    # the store applied before apart (etl.pipeline.known); a record of several rows (an order's run) hashes each
    # row (rows.run_hashes)
    hash_salt: str | None = None
    # the input field whose value names a run of one record's rows (an order's id): when the store knows some
    # rows, the engine numbers the runs (rows.with_runs) before the known rows go apart, so that a run's rows are
    # known, or not, together; else the format numbers them where it likes
    run_key: str | None = None
    row_wise: bool = False  # each row a record of its own: the engine may read the file in batches
    prepare: Prepare | None = None  # records into events first (etl.pipeline.prepared); the rows keep `_record`
