"""The customers entity's attribute merge (issue 15, items 3-4), on a real DuckDB: records' patches in,
attributes out."""

from __future__ import annotations

import itertools
import json

import pytest

from etl.entities.customers import entity as customers
from etl.entities.identity import graph as identity
from etl.store.connection import connect


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "store.duckdb", read_only=False) as connection:
        yield connection


def load(con, import_id: int, records: list[dict], strategy: str = "merge") -> dict[str, int]:
    """Records {id, patch, [updated_at, drop_nulls, not_attributes]} as an import stages them."""
    con.execute("CREATE OR REPLACE TEMP TABLE stg_identity_links (record BIGINT, id_type VARCHAR, "
                "business_unit VARCHAR, id_value VARCHAR)")  # fmt: skip
    con.executemany("INSERT INTO stg_identity_links VALUES (?, 'external_id', '', ?)",
                    [(n, r["id"]) for n, r in enumerate(records)])  # fmt: skip
    identity.resolve(con, import_id)
    con.execute("CREATE OR REPLACE TEMP TABLE stg_rows (_seq BIGINT, patch VARCHAR, not_attributes VARCHAR)")
    staged = [(n, json.dumps(r["patch"]), json.dumps(r.get("not_attributes", {}))) for n, r in enumerate(records)]
    con.executemany("INSERT INTO stg_rows VALUES (?, ?, ?)", staged)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_customer_records (_seq BIGINT, customer_id BIGINT, drop_nulls BOOLEAN, "
        "updated_at TIMESTAMPTZ, record_hash UHUGEINT)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE stg_skipped (record BIGINT, customer_id BIGINT)")  # none known
    con.executemany(
        "INSERT INTO stg_customer_records SELECT ?, customer_id, ?, ?, md5_number(? || ?) "
        "FROM stg_record_customers WHERE record = ?",
        [
            (n, r.get("drop_nulls", False), r.get("updated_at"), strategy, json.dumps(r), n)
            for n, r in enumerate(records)
        ],
    )  # fmt: skip  (the hash as a format makes it: of the record and the strategy)
    return customers.apply_attributes(con, import_id, strategy)


def attributes(con) -> dict[str, dict]:
    rows = con.execute(
        "SELECT i.id_value, c.attributes FROM customers AS c JOIN identities AS i USING (customer_id)"
    ).fetchall()
    return {external_id: json.loads(value) for external_id, value in rows}


def test_merge_the_later_record_wins_attribute_by_attribute_and_a_null_removes(con):
    assert load(con, 1, [{"id": "1", "patch": {"city": "Kyiv", "tier": "gold", "orders": 3}}]) == {
        "added": 1, "updated": 0, "unchanged": 0,
    }  # fmt: skip
    counts = load(con, 2, [{"id": "1", "patch": {"city": "Lviv"}}, {"id": "1", "patch": {"tier": None, "vip": True}}])
    assert counts == {"added": 0, "updated": 1, "unchanged": 0}
    assert attributes(con) == {"1": {"city": "Lviv", "orders": 3, "vip": True}}  # JSON types kept


def test_nulls_dropped_and_id_fields_left_out(con):
    load(con, 1, [{"id": "1", "patch": {"city": "Kyiv"}}])
    load(con, 2, [{"id": "1", "patch": {"city": None, "customerNumber": "1", "mail": "a@b.co"}, "drop_nulls": True,
                   "not_attributes": {"customerNumber": None, "mail": None}}])  # fmt: skip
    assert attributes(con) == {"1": {"city": "Kyiv"}}


def test_replace_makes_the_import_s_attributes_the_whole_set(con):
    load(con, 1, [{"id": "1", "patch": {"city": "Kyiv", "tier": "gold"}}])
    load(con, 2, [{"id": "1", "patch": {"tier": "silver", "gone": None}}], strategy="replace")
    assert attributes(con) == {"1": {"tier": "silver"}}


def test_a_re_import_is_unchanged(con):
    records = [{"id": "1", "patch": {"zeta": 1, "alpha": "x", "mid": None}}, {"id": "2", "patch": {"b": [1, 2]}}]
    load(con, 1, records)
    stored = con.execute("SELECT customer_id, attributes FROM customers ORDER BY ALL").fetchall()
    assert load(con, 2, records) == {"added": 0, "updated": 0, "unchanged": 2}
    assert con.execute("SELECT customer_id, attributes FROM customers ORDER BY ALL").fetchall() == stored
    assert sorted((json.loads(a) for _, a in stored), key=str) == sorted(
        [{"zeta": 1, "alpha": "x"}, {"b": [1, 2]}], key=str
    )


def test_timed_and_untimed_imports_of_the_same_values_agree(tmp_path):
    """The attribute-by-attribute path (with updated_at) and the whole-object one give the same attributes."""
    found = []
    for updated_at in (None, "2024-01-01T00:00:00Z"):
        with connect(tmp_path / f"{bool(updated_at)}.duckdb", read_only=False) as con:
            load(con, 1, [{"id": "1", "patch": {"a": 1, "b": 2}, "updated_at": updated_at}])
            second = [
                {"id": "1", "patch": {"b": None, "c": [3]}, "updated_at": updated_at},
                {"id": "1", "patch": {"c": 4, "d": None}, "drop_nulls": True, "updated_at": updated_at},
            ]
            load(con, 2, second)
            found.append(attributes(con))
    assert found[0] == found[1] == {"1": {"a": 1, "c": 4}}


FILES = [
    [{"id": "1", "patch": {"a": 1, "b": 1}, "updated_at": "2024-01-01T00:00:00Z"}],
    [{"id": "1", "patch": {"a": 2}, "updated_at": "2024-02-01T00:00:00Z"}],
    [{"id": "1", "patch": {"b": None, "c": 3}, "updated_at": "2023-12-01T00:00:00Z"}],
]


def test_with_updated_at_the_attributes_do_not_depend_on_the_order_of_the_imports(tmp_path):
    results = set()
    for order in itertools.permutations(range(len(FILES))):
        with connect(tmp_path / ("".join(map(str, order)) + ".duckdb"), read_only=False) as con:
            for import_id, n in enumerate(order, 1):
                load(con, import_id, FILES[n])
            results.add(json.dumps(attributes(con), sort_keys=True))
    # a: the February value; b: January's 1 is later than December's removal; c: nobody later said otherwise
    assert results == {json.dumps({"1": {"a": 2, "b": 1, "c": 3}}, sort_keys=True)}


def test_an_unknown_strategy_is_refused(con):
    with pytest.raises(ValueError, match="unknown strategy 'upsert'"):
        customers.apply_attributes(con, 1, "upsert")  # type: ignore[arg-type]


def test_the_record_applied_last_is_skipped_the_next_time_but_not_once_another_changed_the_customer(con):
    first = {"id": "1", "patch": {"city": "Kyiv", "tier": "gold"}}
    load(con, 1, [first])
    (stored,) = con.execute("SELECT record_hash FROM customers").fetchall()[0]
    assert stored is not None  # what the next import compares with

    assert load(con, 2, [first]) == {"added": 0, "updated": 0, "unchanged": 1}
    assert load(con, 3, [{"id": "1", "patch": {"city": "Lviv"}}]) == {"added": 0, "updated": 1, "unchanged": 0}
    assert load(con, 4, [first]) == {"added": 0, "updated": 1, "unchanged": 0}  # not skipped: Lviv is undone
    assert attributes(con) == {"1": {"city": "Kyiv", "tier": "gold"}}
    assert load(con, 5, [first], strategy="replace") == {"added": 0, "updated": 0, "unchanged": 1}
    assert load(con, 6, [{"id": "1", "patch": {"tier": "gold"}}], strategy="replace") == {
        "added": 0, "updated": 1, "unchanged": 0,
    }  # fmt: skip
    assert attributes(con) == {"1": {"tier": "gold"}}


def test_a_new_customer_keeps_no_nulls_whatever_the_null_rule(con):
    load(con, 1, [{"id": "1", "patch": {"city": "Kyiv", "gone": None}}])
    load(con, 2, [{"id": "2", "patch": {"gone": None}}, {"id": "2", "patch": {"city": None, "tier": "gold"}}])
    assert attributes(con) == {"1": {"city": "Kyiv"}, "2": {"tier": "gold"}}
