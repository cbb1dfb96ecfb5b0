"""A small model of the documented identity rules, to check the store's people against (test_invariants.py).

The rules, as docs/identity.md and 001 state them:
- an id is (type, value): every value trimmed; an email lowercased, every other value kept in its case (001: "All
  values, except for the email address, are mapped including the register");
- the ids of one record are one person, and records sharing an id are one person;
- at most one external id per person: an external id is its own person's; an id seen in a record with external ids
  belongs to the smallest of them (by value); two external ids are never one person; an id seen with none joins,
  through the records linking ids that are not external, the smallest external id its part of the graph reaches
  through ids that were never seen with one (else that part is one person of its own).

This is the label propagation of etl/entities/identity/region.sql written plainly, over all the records at once: it does
not depend on the order of the imports, which is what the property test checks of the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

Id = tuple[str, str]  # (id_type, value)
EXTERNAL = "external_id"


def normalised(id_type: str, value: str) -> Id:
    value = value.strip()
    return (id_type, value.lower() if id_type in ("email", "email_sha256") else value)


def people(records: Iterable[Iterable[Id]]) -> set[frozenset[Id]]:
    """The people the records make: each a set of normalised ids."""
    fixed: dict[Id, Id] = {}  # an id and the external id it belongs to
    links: dict[Id, set[Id]] = defaultdict(set)  # between ids that are not external
    seen: set[Id] = set()
    for record in records:
        ids = {normalised(t, v) for t, v in record if v.strip()}
        seen |= ids
        externals = sorted(i for i in ids if i[0] == EXTERNAL)
        others = [i for i in ids if i[0] != EXTERNAL]
        for external in externals:
            fixed[external] = external
        if externals:
            for other in others:
                fixed[other] = min(fixed.get(other, externals[0]), externals[0], key=_rank)
        for other in others:
            links[other] |= set(others) - {other}
    label: dict[Id, Id] = {}
    for start in sorted(seen - set(fixed)):  # a part of the graph of ids never seen with an external id
        if start in label:
            continue
        part, reached, todo = {start}, [], [start]
        while todo:
            for neighbour in links[todo.pop()]:
                if neighbour in fixed:
                    reached.append(fixed[neighbour])
                elif neighbour not in part:
                    part.add(neighbour)
                    todo.append(neighbour)
        owner = min(reached, key=_rank) if reached else min(part)
        label.update(dict.fromkeys(part, owner))
    label.update(fixed)
    grouped: dict[Id, set[Id]] = defaultdict(set)
    for member, owner in label.items():
        grouped[owner].add(member)
    return {frozenset(members) for members in grouped.values()}


def _rank(external: Id) -> str:
    """External ids are compared by value."""
    return external[1]
