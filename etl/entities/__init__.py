"""Entities: the kinds of record the store keeps, each one folder (entity.py and its SQL files, named by step), and
the engine's view of them (the `Entity` protocol).

An entity module declares:
- NAME, the entity's name (a format's ENTITY names it);
- STAGING: the canonical columns its formats stage in stg_rows (what its SQL reads; no vendor's names);
- STRATEGIES: its merge strategies, {name: the SQL file(s) that carry it out};
- TABLES: the tables it writes, DERIVED: the tables it keeps derived from them;
- `store(con, run)`: everything after staging, inside the import's transaction: resolve people, compare,
  merge, check that what it meant to write is what the store holds (raising EtlError otherwise); it leaves
  stg_rejects (every rejected record with its reasons) and returns what `report` needs;
- `report(con, run, stored)`: the report's counts ({kept, entities, events, extra, sample}) and its own lines for
  the reader (`notes`: [{text, warning}]) and `sample_of` (what its sample holds), which etl.display.layouts lays out
  as they are.
- KNOWN, the query of the known records (etl.pipeline.known): the high halves (hash_hi) of the record hashes the
  store keeps of records it applied before and that would change nothing again (and `events`, how many events
  the store holds of each, where a record may be many: the events entity). Records of the files with one of
  these (a hash of the record as read, its fields and the format's options: Plan.hash_salt) are staged as keys
  and hash alone, without being parsed or checked (they were, when they were applied). The entity's known SQL
  (entities/<entity>/known.sql, known_settle.sql for customers) matches their whole hashes and leaves
  stg_known_needed: how many of them the import needs whole (`known_needed`). When any is, `store` stops there
  (returns None); the engine then stages and stores the import again with nothing known.

The engine (etl.pipeline.importer) runs the same steps around them for every entity: read and stage, store, rejects,
the quality gate, the report, dry run and the one transaction.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from etl.errors import EtlError

REGISTRY = {
    "orders": "etl.entities.orders.entity",
    "customers": "etl.entities.customers.entity",
    "products": "etl.entities.products.entity",
    "events": "etl.entities.events.entity",
}


class Entity(Protocol):
    """What every entity module declares (tests/test_formats.py checks each registered one against it)."""

    NAME: str
    STAGING: tuple[str, ...] | list[str]
    STRATEGIES: dict[str, tuple[str, ...]]
    TABLES: tuple[str, ...]
    DERIVED: tuple[str, ...]
    KNOWN: str

    def store(self, con: Any, run: Run) -> Any: ...

    def report(self, con: Any, run: Run, stored: Any) -> dict[str, Any]: ...


@dataclass
class Run:
    """What an entity's steps know of the import they run in."""

    import_id: int
    started_at: datetime
    dry_run: bool
    options: Any  # the format's options model
    plans: list[Any]  # the format's plan of each file
    state: Any  # etl.pipeline.staging.Staging: per-file results and timings
    format: str = ""  # the format's name


def nothing_lost(*balances: tuple[str, int, str, int]) -> None:
    """The one "nothing lost" check: each balance (what, count, what it must equal, count) must hold; raises an
    EtlError naming every one that does not (the import is then rolled back: nothing is stored). The pipeline
    checks that every record read is kept or rejected; each entity, that what it meant to store is stored."""
    broken = [f"{a} {x:,} != {b} {y:,}" for a, x, b, y in balances if x != y]
    if broken:
        raise EtlError("consistency check failed (nothing was stored): " + "; ".join(broken))


def load(name: str) -> Entity:
    if name not in REGISTRY:
        raise KeyError(f"unknown entity {name!r}; the entities are {', '.join(REGISTRY)}")
    return cast(Entity, importlib.import_module(REGISTRY[name]))


def first_and_last(con, query: str, params: dict) -> dict[str, list[dict]]:
    """A report's sample: `query` (a {direction} in it orders by the records' place in the import, ASC or DESC,
    and limits) run both ways, as {first, last}, each in the import's order, every row a dict."""
    out = {}
    for which, direction in (("first", "ASC"), ("last", "DESC")):
        cursor = con.execute(query.format(direction=direction), params)  # direction: one of two literals
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        out[which] = rows if which == "first" else rows[::-1]
    return out


def known_needed(con) -> int:
    """How many records staged as known the entity's known SQL found the import needs whole (stg_known_needed):
    its `store` stops when any is, and the engine stages and stores the import again (etl.pipeline.known)."""
    return con.execute("SELECT needed FROM stg_known_needed").fetchall()[0][0]
