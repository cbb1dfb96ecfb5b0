"""Orders and users resolve through one identity graph (issue 15, item 4): an order's buyer is a customer,
whatever the order of the imports, and stored orders follow their buyer's ids when people merge or an id moves."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from etl.pipeline.importer import run_import
from etl.segments import run as segment
from etl.spec import validate_spec
from etl.store.connection import connect
from tests.conftest import NOT_AN_EMAILS_HASH, kevel_row, write_csv

USERS_OPTIONS = {"ids": {"external_id": "customerNumber", "email": "mail", "phone": "mobile"},
                 "updated_at_field": "updatedAt"}  # fmt: skip


def users_file(folder: Path, name: str, rows: list[dict]) -> dict:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return {"format": "kevel_users", "source": str(path), "options": USERS_OPTIONS}


def orders_file(folder: Path, name: str, rows: list[dict]) -> dict:
    return {"format": "kevel_orders", "source": str(write_csv(folder / f"{name}.csv", rows))}


def imported(store: Path, *specs: dict) -> None:
    for n, spec in enumerate(specs):
        report = run_import(validate_spec(spec, f"spec {n}"), store)
        assert report["rejected"] == 0, report["issues"]


def people(store: Path) -> dict[frozenset, dict]:
    """Each customer by its ids: its attributes and its orders (customer_id values left out: they may differ)."""
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            f"""
            SELECT list(DISTINCT i.id_type || ':' || i.id_value), any_value(c.attributes),
                   (SELECT list(o.order_id ORDER BY o.order_id) FROM orders AS o WHERE o.customer_id = c.customer_id)
            FROM customers AS c JOIN identities AS i USING (customer_id)
            WHERE {NOT_AN_EMAILS_HASH}
            GROUP BY c.customer_id
            """  # noqa: S608 (NOT_AN_EMAILS_HASH: a constant)
        ).fetchall()
    return {
        frozenset(ids): {"attributes": json.loads(attributes), "orders": orders or []}
        for ids, attributes, orders in rows
    }


def test_an_order_by_email_and_a_user_row_linking_it_to_an_external_id_are_one_customer(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(
        store,
        orders_file(
            tmp_path, "orders", [kevel_row("o1", userId="X@Example.com"), kevel_row("o2", userId="x@example.com")]
        ),
    )
    imported(store, users_file(tmp_path, "users", [{"customerNumber": "42", "mail": "x@example.com", "city": "Kyiv"}]))

    assert people(store) == {
        frozenset({"email:x@example.com", "external_id:42"}): {"attributes": {"city": "Kyiv"}, "orders": ["o1", "o2"]},
    }
    with connect(store, read_only=False) as con:
        events = con.execute("SELECT DISTINCT customer_id FROM events").fetchall()
        (customer,) = con.execute("SELECT customer_id FROM identities WHERE id_value = '42'").fetchall()[0]
        users = con.execute("SELECT customer_id, external_ids, emails, attributes FROM users").fetchall()
    assert events == [(customer,)]
    assert users == [(customer, ["42"], ["x@example.com"], '{"city":"Kyiv"}')]  # the analysts' view
    summary = segment.run("customer_summary", {"observation_end": "2030-12-31"}, store=store)
    assert summary.height == 1  # the segments count one customer


def test_an_order_moves_when_a_smaller_external_id_claims_its_buyer_s_email(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(
        store,
        users_file(tmp_path, "a", [{"customerNumber": "42", "mail": "x@example.com"}]),
        orders_file(tmp_path, "orders", [kevel_row("o1", userId="x@example.com")]),
        users_file(tmp_path, "b", [{"customerNumber": "41", "mail": "x@example.com"}]),
    )
    assert people(store) == {
        frozenset({"email:x@example.com", "external_id:41"}): {"attributes": {}, "orders": ["o1"]},
        frozenset({"external_id:42"}): {"attributes": {}, "orders": []},
    }
    with duckdb.connect(str(store), read_only=True) as con:
        moved = con.execute(
            "SELECT (SELECT customer_id FROM events), (SELECT k.customer_id FROM order_facts JOIN customer_keys AS k "
            "USING (customer_key)), (SELECT customer_id FROM identities WHERE id_value = '41')"
        ).fetchall()[0]
    assert len(set(moved)) == 1  # the event and the segments' facts moved with the order


def test_users_orders_and_more_ids_in_every_order_give_the_same_people(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    files = [
        users_file(folder, "users", [
            {"customerNumber": "42", "mail": "x@example.com", "tier": "gold", "updatedAt": "2024-01-01T00:00:00Z"},
            {"customerNumber": "7", "mail": "y@example.com", "tier": "silver", "updatedAt": "2024-01-01T00:00:00Z"},
        ]),
        orders_file(folder, "orders", [
            kevel_row("o1", userId="x@example.com"), kevel_row("o2", userIdType="phone", userId="+15551111"),
            kevel_row("o3", userId="z@example.com"),
        ]),
        users_file(folder, "more", [
            {"customerNumber": "42", "mobile": "+15551111", "tier": "platinum", "updatedAt": "2024-02-01T00:00:00Z"},
            {"customerNumber": "8", "mail": "z@example.com", "city": "Lviv", "updatedAt": "2024-01-15T00:00:00Z"},
        ]),
        users_file(folder, "conflict", [
            {"customerNumber": "41", "mail": "x@example.com", "tier": "bronze", "updatedAt": "2023-06-01T00:00:00Z"},
        ]),
    ]  # fmt: skip
    # every file first, second, third and last, and every two files in both orders: the rotations and their
    # reverses (8 of the 24 orders, which took 82 s)
    orders = [files[i:] + files[:i] for i in range(len(files))]
    orders += [order[::-1] for order in orders]
    results = []
    for n, order in enumerate(orders):
        store = tmp_path / f"{n}.duckdb"
        imported(store, *order)
        results.append(people(store))
    assert all(result == results[0] for result in results[1:])
    at = {n: {"updatedAt": f"{day}T00:00:00Z"} for n, day in [(41, "2023-06-01"), (42, "2024-02-01"), (7, "2024-01-01"),
                                                                (8, "2024-01-15")]}  # an attribute too  # fmt: skip
    assert results[0] == {
        frozenset({"email:x@example.com", "external_id:41"}): {
            "attributes": {"tier": "bronze", **at[41]},
            "orders": ["o1"],
        },
        frozenset({"external_id:42", "phone:+15551111"}): {
            "attributes": {"tier": "platinum", **at[42]},
            "orders": ["o2"],
        },
        frozenset({"external_id:7", "email:y@example.com"}): {"attributes": {"tier": "silver", **at[7]}, "orders": []},
        frozenset({"external_id:8", "email:z@example.com"}): {
            "attributes": {"city": "Lviv", **at[8]},
            "orders": ["o3"],
        },
    }


def test_a_store_written_before_the_graph_gets_its_buyers_resolved_when_opened(tmp_path):
    store = tmp_path / "cdp.duckdb"
    imported(
        store,
        orders_file(
            tmp_path, "orders", [kevel_row("o1", userId="x@example.com"), kevel_row("o2", userId="y@example.com")]
        ),
    )
    with duckdb.connect(str(store)) as con:  # the layout of before: "type:id" keys and a users table
        con.execute("DROP VIEW users")
        con.execute("DELETE FROM store_meta WHERE key = 'schema_stamp'")  # nor had it a schema stamp
        for table in ("customers", "identities", "identity_links", "customer_keys", "order_facts"):
            con.execute(f"DELETE FROM {table}")  # noqa: S608 (our own names)
        con.execute("ALTER TABLE orders ALTER customer_id SET DATA TYPE VARCHAR USING user_id_type || ':' || user_id")
        con.execute("ALTER TABLE events ALTER customer_id SET DATA TYPE VARCHAR USING NULL")
        con.execute("UPDATE events SET customer_id = 'email:' || order_id")
        con.execute("ALTER TABLE customer_keys ALTER customer_id SET DATA TYPE VARCHAR")
        con.execute(
            "CREATE TABLE users AS SELECT DISTINCT customer_id, user_id_type, user_id, 1 AS first_import_id FROM orders"
        )

    with connect(store, read_only=False) as con:
        buyers = con.execute(
            "SELECT o.order_id, i.id_value, e.customer_id = o.customer_id, f.customer_key IS NOT NULL "
            "FROM orders AS o JOIN identities AS i USING (customer_id) JOIN events AS e USING (order_id) "
            "JOIN order_facts AS f USING (order_id) WHERE i.id_type = 'email' ORDER BY 1"
        ).fetchall()
        kinds = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'users'").fetchall()
    assert buyers == [("o1", "x@example.com", True, True), ("o2", "y@example.com", True, True)]
    assert kinds == [("VIEW",)]
    imported(store, orders_file(tmp_path, "again", [kevel_row("o1", userId="x@example.com")]))  # and it imports on


def test_when_people_merge_each_attribute_is_the_one_set_latest_whichever_customer_is_kept(tmp_path):
    gold = users_file(
        tmp_path, "gold", [{"mail": "a@example.com", "tier": "gold", "updatedAt": "2024-02-01T00:00:00Z"}]
    )
    silver = users_file(
        tmp_path,
        "silver",
        [{"mobile": "+15550000", "tier": "silver", "city": "Lviv", "updatedAt": "2024-01-01T00:00:00Z"}],
    )
    link = users_file(
        tmp_path, "link", [{"mail": "a@example.com", "mobile": "+15550000", "updatedAt": "2023-01-01T00:00:00Z"}]
    )
    for n, first_two in enumerate([(gold, silver), (silver, gold)]):
        store = tmp_path / f"{n}.duckdb"
        imported(store, *first_two, link)
        assert people(store) == {
            frozenset({"email:a@example.com", "phone:+15550000"}): {
                "attributes": {"tier": "gold", "city": "Lviv", "updatedAt": "2024-02-01T00:00:00Z"}, "orders": [],
            },
        }  # fmt: skip


def events_file(folder: Path, name: str, format_name: str, entries: list[dict]) -> dict:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    options = {"unknown_contacts": "create"} if format_name == "esputnik_events" else {}
    return {"format": format_name, "source": str(path), "options": options}


def test_an_event_sits_on_the_customer_its_named_id_resolves_to_whatever_the_import_order(tmp_path):
    # issue 33: an eSputnik event naming email ann and externalCustomerId crm-2, after a CrossEngage event that made
    # ann crm-1's, sat on crm-2's customer although it names ann (user_id_type email); the other way round it did not
    crm_1 = {"event": "viewed", "id": "crm-1", "email": "ann@example.com", "businessUnit": "s"}
    crossengage = events_file(tmp_path, "event_history_1", "crossengage_events", [crm_1])
    params = [{"name": "Email", "value": "ann@example.com"}, {"name": "externalCustomerId", "value": "crm-2"}]
    esputnik = events_file(tmp_path, "es", "esputnik_events", [{"eventTypeKey": "paid", "params": params}])
    placed = []
    for n, order in enumerate([(crossengage, esputnik), (esputnik, crossengage)]):
        store = tmp_path / f"{n}.duckdb"
        imported(store, *order)
        with duckdb.connect(str(store), read_only=True) as con:
            placed.append(con.execute(
                "SELECT e.event_type, e.user_id_type, e.user_id, "
                "(SELECT list_sort(list(x.id_type || ':' || x.id_value)) FROM identities AS x "
                " WHERE x.customer_id = e.customer_id AND x.id_type <> 'email_sha256') AS customer_ids, "
                "e.customer_id = i.customer_id AS on_its_named_ids_customer "
                "FROM events AS e JOIN identities AS i ON i.id_type = e.user_id_type AND i.id_value = e.user_id "
                "ORDER BY 1"
            ).fetchall())  # fmt: skip
    ann_and_crm_1 = ["email:ann@example.com", "external_id:crm-1"]
    assert placed[0] == [
        ("paid", "email", "ann@example.com", ann_and_crm_1, True),
        ("viewed", "external_id", "crm-1", ann_and_crm_1, True),
    ]
    assert placed[1] == placed[0]
