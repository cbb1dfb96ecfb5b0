"""The store's invariants: what must hold between its tables after any import, checked in one query.

- every order sits on the customer its buyer's id (user_id_type, user_id) resolves to in `identities`, and an
  order without a buyer on none; every event that names its person by an id, on that id's customer; every
  order event (orderPlace, orderUpdate) on its order's customer;
- every id (type, business unit, value) is stored once, on one customer, and that customer exists; every
  customer has an id; the customer of every order and event exists;
- keys are unique (customers, orders, line items, events); line items have their order, event items their
  event; every order has one orderPlace event (in `events`, or in `deleted_events` after `etl events delete`);
- every completed import adds up: items = valid + rejected, and `rejects` holds its rejected rows.

`violations(con)` returns the broken ones, each with a few example rows; `etl validate` prints them (and exits
1), and the tests check them after their imports. The query is etl/quality/store_invariants.sql.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from etl.store.sqlfiles import sql

EXAMPLES = 5


def violations(con: duckdb.DuckDBPyConnection, examples: int = EXAMPLES) -> list[dict[str, Any]]:
    """Each broken invariant: {invariant, violations (rows breaking it), examples (the first rows, as dicts)}."""
    rows = con.execute(sql("quality/store_invariants"), {"examples": examples}).fetchall()
    return [
        {"invariant": name, "violations": count, "examples": [json.loads(example) for example in sample]}
        for name, count, sample in rows
    ]


def describe(found: list[dict[str, Any]]) -> str:
    """The violations in words, one line per invariant and one per example (empty when none)."""
    lines = []
    for violation in found:
        lines.append(f"{violation['invariant']}: {violation['violations']:,} row(s)")
        lines += [f"  {json.dumps(example, sort_keys=True, default=str)}" for example in violation["examples"]]
    return "\n".join(lines)
