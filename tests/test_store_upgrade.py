"""A store written by an earlier version keeps working: its tables are brought up to date."""

from __future__ import annotations

import json

import duckdb
from conftest import kevel_row, rows_of, write_csv

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
        con.execute("DELETE FROM store_meta WHERE key = 'schema_stamp'")  # nor had it a schema stamp

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
        con.execute("DELETE FROM store_meta WHERE key = 'schema_stamp'")  # nor had it a schema stamp

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
        con.execute("DELETE FROM store_meta WHERE key = 'schema_stamp'")  # nor had it a schema stamp
        con.execute("INSERT INTO customers VALUES (99, '{\"vip\": true}', 1, 1, NULL)")
        node = con.execute("SELECT nextval('identity_node_ids')").fetchall()[0][0]
        con.execute("INSERT INTO identities VALUES ('email_sha256', '', ?, 99, 1, ?, ?)", [ann, node, node])

    from etl.store.connection import connect

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


def _old_rule(value, id_type, *, fold_case=False):
    """The id rule before issue 33: kevel_users, crossengage_events and esputnik_events lowercased external ids."""
    import polars as pl

    lowered = ("email", "email_sha256", "external_id", "phone")
    trimmed = value.str.strip_chars()
    if isinstance(id_type, str):
        return trimmed.str.to_lowercase() if id_type in lowered else trimmed
    return pl.when(id_type.is_in(lowered)).then(trimmed.str.to_lowercase()).otherwise(trimmed)


def _as_given(value, id_type, *, fold_case=False):
    """kevel_orders' rule before issue 33: emails trimmed and lowercased, other ids as given (untrimmed)."""
    import polars as pl

    lowered = ("email", "email_sha256")
    return pl.when(id_type.is_in(lowered)).then(value.str.strip_chars().str.to_lowercase()).otherwise(value)


def test_a_store_written_under_the_old_id_rule_gets_back_the_case_it_still_knows_and_reports_the_rest(
    tmp_path, store, monkeypatch, capsys
):
    from etl.formats import crossengage_events, esputnik_events, kevel_orders, kevel_users
    from etl.pipeline.importer import run_import
    from etl.spec import validate_spec
    from etl.store import connection as etl_store

    def imported(spec: dict) -> None:
        assert run_import(validate_spec(spec, "spec"), store)["rejected"] == 0

    with monkeypatch.context() as old:  # the store as the version before it wrote it
        for module in (crossengage_events, esputnik_events, kevel_users):
            old.setattr(module, "normalised", _old_rule)
        old.setattr(kevel_orders, "normalised", _as_given)
        imported(
            {
                "format": "kevel_orders",
                "source": str(
                    write_csv(
                        tmp_path / "o.csv",
                        [
                            kevel_row("k1", userIdType="external_id", userId="Cust-42"),
                            kevel_row("k2", userIdType="loyalty_card", userId=" L-9 "),
                        ],
                    )
                ),
            }
        )  # fmt: skip (untrimmed: as given)
        (tmp_path / "event_history_1.json").write_text(json.dumps([
            {"event": "viewed", "id": "Cust-42", "email": "ann@example.com", "businessUnit": "s"},
            {"event": "viewed", "id": "Zed-1"},
        ]))  # fmt: skip
        imported({"format": "crossengage_events", "source": str(tmp_path / "event_history_1.json")})
        (tmp_path / "es.json").write_text(
            json.dumps({"eventTypeKey": "paid", "params": [{"name": "ExternalCustomerId", "value": "Eve-9"}]})
        )
        imported({"format": "esputnik_events", "source": str(tmp_path / "es.json"),
                  "options": {"unknown_contacts": "create"}})  # fmt: skip
        users = tmp_path / "users.jsonl"
        users.write_text(json.dumps({"customerNumber": "Bob-7", "name": "Bob"}) + "\n"
                         + json.dumps({"customerNumber": "Cust-42", "tier": "gold"}) + "\n")  # fmt: skip
        imported({"format": "kevel_users", "source": str(users), "options": {"ids": {"external_id": "customerNumber"}}})
    with duckdb.connect(str(store)) as con:
        con.execute("DELETE FROM store_meta WHERE key = 'ids_case_kept'")
        con.execute("DELETE FROM store_meta WHERE key = 'schema_stamp'")  # nor had it a schema stamp
        before = con.execute("SELECT list_sort(list(id_value)) FROM identities WHERE id_type = 'external_id'")
        assert before.fetchall() == [(["Cust-42", "bob-7", "cust-42", "eve-9", "zed-1"],)]
        assert con.execute("SELECT id_value FROM identities WHERE id_type = 'loyalty_card'").fetchall() == [(" L-9 ",)]
    capsys.readouterr()

    with etl_store.connect(store, read_only=False):  # opened for writing: upgraded
        pass

    message = capsys.readouterr().err
    people = rows_of(store, """
        SELECT list_sort(list(i.id_type || ':' || i.id_value)) AS ids, any_value(c.attributes) AS attributes,
               (SELECT list_sort(list(o.order_id)) FROM orders AS o WHERE o.customer_id = c.customer_id) AS orders,
               (SELECT list_sort(list(e.user_id)) FROM events AS e
                WHERE e.customer_id = c.customer_id AND e.order_id IS NULL AND e.event_type <> 'orderPlace') AS events
        FROM customers AS c JOIN identities AS i USING (customer_id)
        WHERE i.id_type <> 'email_sha256' GROUP BY c.customer_id ORDER BY ids
    """)  # fmt: skip
    assert people == [
        # Cust-42: the order's and the event's (given so: recovered) are one person, the users record's attributes
        # (folded: cust-42 stood for it) with them
        {"ids": ["email:ann@example.com", "external_id:Cust-42"], "attributes": '{"tier":"gold"}', "orders": ["k1"],
         "events": ["Cust-42"]},
        {"ids": ["external_id:Eve-9"], "attributes": "{}", "orders": None, "events": ["Eve-9"]},
        {"ids": ["external_id:Zed-1"], "attributes": "{}", "orders": None, "events": ["Zed-1"]},
        {"ids": ["external_id:bob-7"], "attributes": '{"name":"Bob"}', "orders": None, "events": None},  # unknown
        {"ids": ["loyalty_card:L-9"], "attributes": "{}", "orders": ["k2"], "events": None},  # trimmed
    ]  # fmt: skip
    [(mark,)] = [tuple(r.values()) for r in rows_of(store, "SELECT value FROM store_meta WHERE key = 'ids_case_kept'")]
    assert json.loads(mark)["unknown_case"] == ["external_id:bob-7"]
    assert f"etl import --format kevel_users --source {users}" in message
    assert "external_id:bob-7" in message and "3 ids took back the form they were given, 1 were the same id" in message
    with etl_store.connect(store, read_only=False):  # once
        pass
    assert capsys.readouterr().err == ""
