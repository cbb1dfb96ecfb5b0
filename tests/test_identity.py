"""The identity graph (issue 15, item 4), on a real DuckDB: batches of records' ids in, people out."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from conftest import NOT_AN_EMAILS_HASH

from etl.entities.identity import graph as identity
from etl.store.connection import connect

Ids = list[tuple[str, str]]  # (id_type, id_value) of one record


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "store.duckdb", read_only=False) as connection:  # a real store: orders follow buyers
        yield connection


def run(con, import_id: int, records: list[Ids]) -> tuple[dict[str, int], list[int]]:
    """Stage the records' ids as an import would, resolve; the counts and each record's customer."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_identity_links (record BIGINT, id_type VARCHAR, business_unit VARCHAR,"
        " id_value VARCHAR)"
    )
    rows = [(n, t, "", v) for n, ids in enumerate(records) for t, v in ids]
    if rows:
        con.executemany("INSERT INTO stg_identity_links VALUES (?, ?, ?, ?)", rows)
    counts = identity.resolve(con, import_id)
    identity.add_customers(con, import_id)  # as an entity without attributes does
    customers = dict(con.execute("SELECT record, customer_id FROM stg_record_customers").fetchall())
    return counts, [customers[n] for n in range(len(records))]


def people(con) -> set[frozenset[tuple[str, str]]]:
    """The partition of the ids into people, whatever their customer_id values; an email's own sha256, which the
    graph adds beside it, left out (test_an_email_and_its_sha256_are_one_id shows it)."""
    rows = con.execute(
        f"SELECT customer_id, list((id_type, id_value)) FROM identities AS i WHERE {NOT_AN_EMAILS_HASH} GROUP BY ALL"  # noqa: S608 (a constant)
    ).fetchall()
    return {frozenset(tuple(pair) for pair in ids) for _, ids in rows}


def test_the_ids_of_one_record_are_one_customer(con):
    counts, customers = run(con, 1, [[("email", "x@e.com"), ("phone", "+15551234")], [("email", "y@e.com")]])
    # five: each email brings its sha256 along

    assert counts == {"customers_added": 2, "identities_added": 5, "merges": 0}
    assert customers[0] != customers[1]
    assert people(con) == {frozenset({("email", "x@e.com"), ("phone", "+15551234")}), frozenset({("email", "y@e.com")})}


def test_an_order_by_email_and_a_user_row_linking_it_to_an_external_id_are_one_customer(con):
    _, [buyer] = run(con, 1, [[("email", "x@e.com")]])
    counts, [user] = run(con, 2, [[("external_id", "42"), ("email", "x@e.com")]])

    assert user == buyer  # customer_id is kept
    assert counts == {"customers_added": 0, "identities_added": 1, "merges": 0}


def test_a_record_whose_ids_belong_to_two_customers_merges_them(con):
    _, [a, b] = run(con, 1, [[("email", "x@e.com")], [("phone", "+15551234")]])
    con.execute('UPDATE customers SET attributes = \'{"city": "Kyiv"}\' WHERE customer_id = $b', {"b": b})
    con.execute('UPDATE customers SET attributes = \'{"tier": "gold"}\' WHERE customer_id = $a', {"a": a})

    counts, [merged] = run(con, 2, [[("email", "x@e.com"), ("phone", "+15551234")]])

    assert merged == min(a, b) and counts["merges"] == 1
    merges = con.execute("SELECT import_id, merged_id, into_id FROM customer_merges").fetchall()
    assert merges == [(2, max(a, b), merged)]
    [(attributes,)] = con.execute("SELECT attributes FROM customers").fetchall()
    assert json.loads(attributes) == {"tier": "gold", "city": "Kyiv"}  # the merged one's attributes follow


def test_two_external_ids_claiming_one_email_the_smallest_keeps_it(con):
    _, [c42] = run(con, 1, [[("external_id", "42"), ("email", "x@e.com")]])
    counts, [c41] = run(con, 2, [[("external_id", "41"), ("email", "x@e.com")]])

    assert c41 != c42 and counts["merges"] == 0
    assert people(con) == {frozenset({("external_id", "41"), ("email", "x@e.com")}), frozenset({("external_id", "42")})}
    assert con.execute("SELECT customer_id FROM identities WHERE id_value = '42'").fetchall() == [(c42,)]


@pytest.mark.parametrize("email_first", [True, False])
def test_an_email_and_its_sha256_are_one_id_whichever_came_first(email_first, con):
    x_hash = hashlib.sha256(b"x@e.com").hexdigest()
    by_email, by_hash = [[("email", "x@e.com"), ("external_id", "1")]], [[("email_sha256", x_hash), ("phone", "+1555")]]
    first, second = (by_email, by_hash) if email_first else (by_hash, by_email)

    _, [one] = run(con, 1, first)
    counts, [other] = run(con, 2, second)

    assert one == other and counts["customers_added"] == 0 and counts["merges"] == 0
    assert con.execute("SELECT id_type, id_value FROM identities ORDER BY 1").fetchall() == [
        ("email", "x@e.com"), ("email_sha256", x_hash), ("external_id", "1"), ("phone", "+1555"),
    ]  # fmt: skip
    _, [hash_alone] = run(con, 3, [[("email_sha256", x_hash)]])
    assert hash_alone == one


def test_a_record_naming_two_external_ids_links_neither(con):
    run(con, 1, [[("external_id", "1"), ("external_id", "2")]])
    assert people(con) == {frozenset({("external_id", "1")}), frozenset({("external_id", "2")})}


BATCHES: list[list[Ids]] = [
    [[("email", "x@e.com")], [("email", "z@e.com"), ("phone", "+15550000")]],  # orders
    [[("external_id", "42"), ("email", "x@e.com")], [("external_id", "7"), ("email", "y@e.com")]],  # users
    [[("external_id", "42"), ("phone", "+15551111")], [("phone", "+15551111"), ("email", "z@e.com")]],  # more ids
    [[("external_id", "41"), ("email", "x@e.com")], [("email", "y@e.com"), ("email", "w@e.com")]],  # a conflict
]


def test_the_people_do_not_depend_on_the_order_of_the_imports(tmp_path):
    partitions = set()
    # every batch first, second ... last, and every two batches in both orders: the rotations and their reverses
    # (all the orders took 17 s)
    rotations = [tuple((start + i) % len(BATCHES) for i in range(len(BATCHES))) for start in range(len(BATCHES))]
    for order in rotations + [r[::-1] for r in rotations]:
        with connect(tmp_path / f"{''.join(map(str, order))}.duckdb", read_only=False) as con:
            for import_id, batch in enumerate(order, 1):
                run(con, import_id, BATCHES[batch])
            partitions.add(frozenset(people(con)))
            (duplicates,) = con.execute(
                "SELECT count(*) - count(DISTINCT (id_type, business_unit, id_value)) FROM identities"
            ).fetchall()[0]
            assert duplicates == 0  # each id belongs to exactly one customer
    assert len(partitions) == 1
    (partition,) = partitions
    assert frozenset({("external_id", "41"), ("email", "x@e.com")}) in partition
    assert frozenset({("external_id", "42"), ("phone", "+15551111"), ("email", "z@e.com"), ("phone", "+15550000")}) in (
        partition
    )


def test_a_re_import_changes_nothing(con):
    for import_id in (1, 2):
        for batch in BATCHES:
            run(con, import_id, batch)
        if import_id == 1:
            first = con.execute("SELECT * EXCLUDE (first_import_id) FROM identities ORDER BY ALL").fetchall()
    assert con.execute("SELECT * EXCLUDE (first_import_id) FROM identities ORDER BY ALL").fetchall() == first
    counts, _ = run(con, 3, BATCHES[1])
    assert counts == {"customers_added": 0, "identities_added": 0, "merges": 0}


def random_batches(seed: int, batches: int = 5, records: int = 10) -> list[list[Ids]]:
    """Records drawing from small pools of ids, so that they share ids, chain, and conflict."""
    rng = random.Random(seed)
    pools = {"external_id": 30, "email": 30, "phone": 20}
    out = []
    for _ in range(batches):
        batch = []
        for _ in range(records):
            ids = {(t, f"{t[0]}{rng.randrange(n)}") for t, n in pools.items() if rng.random() < 0.55}
            batch.append(sorted(ids) or [("email", "e0")])
        out.append(batch)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_only_the_touched_clusters_are_recomputed_yet_every_order_gives_the_same_people(tmp_path, seed):
    """The graph is computed again only where an import's new ids and links reach: the people must be those of
    importing every record at once, whatever the order of the imports."""
    batches = random_batches(seed)
    rng = random.Random(seed)
    orders = [list(range(len(batches)))] + [rng.sample(range(len(batches)), len(batches)) for _ in range(3)]
    with connect(tmp_path / "all.duckdb", read_only=False) as con:
        run(con, 1, [record for batch in batches for record in batch])
        expected = people(con)
    for n, order in enumerate(orders):
        with connect(tmp_path / f"{n}.duckdb", read_only=False) as con:
            for import_id, batch in enumerate(order, 1):
                run(con, import_id, batches[batch])
            assert people(con) == expected, order
            (externals,) = con.execute(
                "SELECT max(n) FROM (SELECT count(*) FILTER (id_type = 'external_id') AS n FROM identities "
                "GROUP BY customer_id)"
            ).fetchall()[0]
            assert externals <= 1  # at most one external id per person
