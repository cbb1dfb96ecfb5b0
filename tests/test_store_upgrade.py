"""A store written by an earlier version keeps working: its tables are brought up to date."""

from __future__ import annotations

import json

import duckdb
from conftest import kevel_row, write_csv

OLD_REJECTS = """
CREATE TABLE rejects (
    import_id BIGINT, source VARCHAR, line BIGINT, record BIGINT, raw JSON,
    reasons STRUCT("column" VARCHAR, hint VARCHAR)[]
)
"""


def test_rejects_from_before_reasons_had_a_value_are_kept_with_value_null(tmp_path, store, etl, query):
    store.parent.mkdir(parents=True)
    with duckdb.connect(str(store)) as con:
        con.execute(OLD_REJECTS)
        con.execute(
            "INSERT INTO rejects VALUES (1, 'old.csv', 2, 1, ?, [{'column': 'total', 'hint': 'old'}])",
            ['{"total": "x"}'],
        )
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1", total="abc")])

    run = etl("import", "--format", "kevel_orders", "--source", str(source))

    assert run.code == 0, run.stderr
    assert query("SELECT source, reasons FROM rejects ORDER BY import_id, line") == [
        {"source": "old.csv", "reasons": [{"column": "total", "hint": "old", "value": None}]},
        {
            "source": str(source),
            "reasons": [{"column": "total", "hint": "not a number (Double, e.g. 102.5)", "value": "abc"}],
        },
    ]


def test_customers_patch_hash_becomes_record_hash_and_the_next_import_applies_the_record_once_more(
    tmp_path, store, etl, query
):
    source = tmp_path / "users.csv"
    source.write_text("customerNumber,city\nc1,Lviv\n", encoding="utf-8")
    spec = tmp_path / "users.yaml"
    options = {"id": {"field": "customerNumber", "type": "external_id"}}
    spec.write_text(json.dumps({"format": "kevel_users", "source": str(source), "options": options}))
    assert etl("import", str(spec)).code == 0
    with duckdb.connect(str(store)) as con:  # as the store was before: a 64-bit hash of the patch alone
        con.execute("ALTER TABLE customers DROP COLUMN record_hash")
        con.execute("ALTER TABLE customers ADD COLUMN patch_hash UBIGINT")
        con.execute("UPDATE customers SET patch_hash = 42")

    upgraded, again = etl("import", str(spec), "--json"), etl("import", str(spec), "--json")

    assert upgraded.code == 0, upgraded.stderr
    columns = {c["column_name"] for c in query("SELECT column_name FROM information_schema.columns "
                                                "WHERE table_name = 'customers'")}  # fmt: skip
    assert "patch_hash" not in columns and "record_hash" in columns
    assert upgraded.json["entities"]["customers"] == {"added": 0, "updated": 0, "unchanged": 1}
    assert (upgraded.json["known_records"], again.json["known_records"]) == (0, 1)  # the hash is set, then used
    assert query("SELECT attributes FROM customers") == [{"attributes": '{"city":"Lviv"}'}]


def test_line_items_gain_custom_fields_and_a_kevel_file_imported_before_stays_unchanged(tmp_path, store, etl, query):
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1"), kevel_row("o2")])
    assert etl("import", "--format", "kevel_orders", "--source", str(source)).code == 0
    with duckdb.connect(str(store)) as con:  # the store as the version before line_items.custom_fields left it
        con.execute("ALTER TABLE line_items DROP COLUMN custom_fields")
        # and the stored orders' content hashes, which the merge no longer keeps (nor trusts)
        con.execute("DELETE FROM order_row_hashes")  # a store of that version had none: the orders are compared
        con.execute("ALTER TABLE orders ADD COLUMN content_hash UBIGINT DEFAULT 0")
        con.execute("INSERT INTO store_meta VALUES ('content_hash_version', 'an earlier version')")

    again = etl("import", "--format", "kevel_orders", "--source", str(source), "--json")

    assert again.code == 0, again.stderr
    assert again.json["entities"]["orders"] == {"added": 0, "updated": 0, "unchanged": 2}
    assert query("SELECT order_id, custom_fields FROM line_items ORDER BY order_id") == [
        {"order_id": "o1", "custom_fields": None}, {"order_id": "o2", "custom_fields": None},
    ]  # fmt: skip
    assert query("SELECT column_name FROM information_schema.columns WHERE column_name = 'content_hash'") == []
    assert query("SELECT count(*) AS n FROM store_meta WHERE key = 'content_hash_version'") == [{"n": 0}]
    assert again.json["known_orders"] == 0  # compared, not known: the store had no row hashes


def test_stored_emails_gain_their_sha256_and_the_people_holding_the_two_become_one(tmp_path, store, etl, query):
    import hashlib

    ann = hashlib.sha256(b"ann@example.com").hexdigest()
    source = tmp_path / "users.csv"
    source.write_text("customerNumber,mail,city\nc1,ann@example.com,Lviv\nc2,bob@example.com,Kyiv\n")
    spec = tmp_path / "users.yaml"
    options = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}
    spec.write_text(json.dumps({"format": "kevel_users", "source": str(source), "options": options}))
    assert etl("import", str(spec)).code == 0
    with duckdb.connect(str(store)) as con:  # as a store was before: emails without their hashes, and a second
        # person known by Ann's hash alone (an import of hashed emails)
        con.execute("DELETE FROM identity_links WHERE b IN (SELECT node FROM identities WHERE id_type = 'email_sha256')"
                    " OR a IN (SELECT node FROM identities WHERE id_type = 'email_sha256')")  # fmt: skip
        con.execute("DELETE FROM identities WHERE id_type = 'email_sha256'")
        con.execute("DELETE FROM store_meta WHERE key = 'email_hashes_linked'")
        con.execute("INSERT INTO customers VALUES (99, '{\"vip\": true}', 1, 1, NULL)")
        node = con.execute("SELECT nextval('identity_node_ids')").fetchall()[0][0]
        con.execute("INSERT INTO identities VALUES ('email_sha256', '', ?, 99, 1, ?, ?)", [ann, node, node])

    from etl.store import connect

    with connect(store, read_only=False):  # what every import and write does first: the upgrade
        pass

    people = query(
        "SELECT list_sort(list(i.id_type)) AS types, any_value(c.attributes) AS attributes FROM customers AS c "
        "JOIN identities AS i USING (customer_id) GROUP BY c.customer_id ORDER BY 1"
    )
    assert [(p["types"], json.loads(p["attributes"])) for p in people] == [
        (["email", "email_sha256", "external_id"], {"city": "Lviv", "vip": True}),
        (["email", "email_sha256", "external_id"], {"city": "Kyiv"}),
    ]
    assert query("SELECT count(*) AS n FROM customer_merges WHERE merged_id = 99") == [{"n": 1}]
    assert query("SELECT value FROM store_meta WHERE key = 'email_hashes_linked'") == [{"value": "true"}]
