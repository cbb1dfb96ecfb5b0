"""Importing users through `etl import` (issue 15): CSV and JSON lines into customers and identities,
rejects with their reasons, re-imports, dry runs, and the strings that break software."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
IDS = ["--format", "kevel_users"]


def spec(tmp_path: Path, source: Path, **options) -> Path:
    path = tmp_path / "users.yaml"
    chosen = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}, **options}
    path.write_text(json.dumps({"format": "kevel_users", "source": str(source), "options": chosen}))
    return path


def test_a_csv_of_users_becomes_customers_with_text_attributes(tmp_path, etl, query):
    source = tmp_path / "crm.csv"
    source.write_text("customerNumber,mail,city,numberOfOrders\nC1, Ann@Example.com ,Kyiv,3\nC2,bob@example,Lviv,1\n"
                      ",,Nowhere,0\nC3,,,7\n")  # fmt: skip

    run = etl("import", str(spec(tmp_path, source)), "--json")

    assert run.code == 0, run.stderr
    report = run.json
    assert (report["items"], report["valid"], report["rejected"]) == (4, 2, 2)
    assert report["entities"] == {"customers": {"added": 2, "updated": 0, "unchanged": 0}, "identities": {"added": 4}}
    assert report["merges"] == 0 and report["events"] == {}
    assert {(i["column"], i["hint"]) for i in report["issues"]} == {
        ("mail", "not a valid email id"), ("(ids)", "no id: every id field is empty or missing"),
    }  # fmt: skip
    assert [r["record"] for r in report["sample"]["first"]] == [1, 4]
    stored = query(
        "SELECT i.id_type, i.id_value, c.attributes FROM identities AS i JOIN customers AS c USING (customer_id) "
        "ORDER BY ALL"
    )
    assert [(r["id_type"], r["id_value"], json.loads(r["attributes"])) for r in stored] == [
        ("email", "ann@example.com", {"city": "Kyiv", "numberOfOrders": "3"}),
        # an email brings its sha256 along: the graph takes the two for one id
        ("email_sha256", hashlib.sha256(b"ann@example.com").hexdigest(), {"city": "Kyiv", "numberOfOrders": "3"}),
        ("external_id", "C1", {"city": "Kyiv", "numberOfOrders": "3"}),  # in its case (001: "including the register")
        ("external_id", "C3", {"numberOfOrders": "7"}),
    ]
    rejects = etl("rejects", str(report["import_id"]), "--json")
    found = [json.loads(line) for line in rejects.stdout.splitlines()]  # one JSON object per reject
    assert [(r["line"], r["reasons"][0]["column"]) for r in found] == [(3, "mail"), (4, "(ids)")]


def test_json_lines_keep_their_types_and_a_re_import_changes_nothing(tmp_path, etl, query):
    source = tmp_path / "crm.jsonl"
    source.write_text('{"customerNumber": "C1", "mail": "a@example.com", "numberOfOrders": 21, "vip": true}\n'
                      '\n{"customerNumber": "C2", "numberOfOrders": 3}\n[1]\n')  # fmt: skip

    first = etl("import", str(spec(tmp_path, source)), "--json")

    assert first.code == 0, first.stderr
    assert (first.json["items"], first.json["rejected"]) == (3, 1)
    assert first.json["files"][0]["blank_rows"] == 1
    assert query("SELECT i.id_value FROM customers AS c JOIN identities AS i USING (customer_id) "
                 "WHERE (c.attributes->>'numberOfOrders')::INT > 20 AND i.id_type = 'external_id'") == [
        {"id_value": "C1"}
    ]  # fmt: skip
    again = etl("import", str(spec(tmp_path, source)), "--json")
    assert again.json["entities"] == {
        "customers": {"added": 0, "updated": 0, "unchanged": 2},
        "identities": {"added": 0},
    }


def test_a_users_import_links_ids_and_merges_people(tmp_path, etl, query):
    first = tmp_path / "a.jsonl"
    first.write_text('{"customerNumber": "C1", "city": "Kyiv"}\n{"mail": "x@example.com", "tier": "gold"}\n')
    assert etl("import", str(spec(tmp_path, first))).code == 0
    second = tmp_path / "b.jsonl"
    second.write_text('{"customerNumber": "C1", "mail": "x@example.com"}\n')

    run = etl("import", str(spec(tmp_path, second)), "--json")

    assert run.code == 0, run.stderr
    assert run.json["merges"] == 1 and run.json["repeated_records"] == 0
    [merged] = query("SELECT count(*) AS n, any_value(attributes) AS a FROM customers")
    assert merged["n"] == 1 and json.loads(merged["a"]) == {"city": "Kyiv", "tier": "gold"}
    assert query("SELECT count(*) AS n FROM customer_merges") == [{"n": 1}]


def test_a_dry_run_stores_nothing(tmp_path, etl, query):
    source = tmp_path / "crm.jsonl"
    source.write_text('{"customerNumber": "C1"}\n')
    run = etl("import", str(spec(tmp_path, source)), "--dry-run", "--json")
    assert run.code == 0 and run.json["entities"]["customers"]["added"] == 1
    assert query("SELECT count(*) AS n FROM customers") == [{"n": 0}]


def test_an_id_field_missing_from_the_header_names_the_case_match(tmp_path, etl):
    source = tmp_path / "crm.csv"
    source.write_text("CustomerNumber,mail\nC1,a@example.com\n")
    run = etl("import", str(spec(tmp_path, source)))
    assert run.code == 1
    assert "missing required column 'customerNumber' (the header has 'CustomerNumber'" in run.stderr


def test_naughty_strings_survive_import_and_parquet_export_byte_for_byte(tmp_path, etl, query):
    strings = json.loads((SHARED / "blns" / "blns.json").read_text(encoding="utf-8"))
    source = tmp_path / "naughty.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for n, text in enumerate(strings):
            out.write(json.dumps({"customerNumber": f"c{n}", "note": text}, ensure_ascii=False) + "\n")

    run = etl("import", str(spec(tmp_path, source)), "--json")

    assert run.code == 0, run.stderr
    assert run.json["rejected"] == 0
    stored = query("SELECT i.id_value, c.attributes->>'note' AS note FROM customers AS c "
                   "JOIN identities AS i USING (customer_id)")  # fmt: skip
    assert {r["id_value"]: r["note"] for r in stored} == {f"c{n}": text for n, text in enumerate(strings)}
    out = tmp_path / "exports"
    assert etl("export", "parquet", str(out)).code == 0
    exported = pq.read_table(out / "customers.parquet").column("attributes").to_pylist()
    assert sorted(json.loads(a)["note"] for a in exported) == sorted(strings)


def test_a_column_without_a_name_is_an_error_naming_it(tmp_path, etl):
    source = tmp_path / "crm.csv"
    source.write_text("customerNumber,,city\nC1,x,Kyiv\n")
    run = etl("import", str(spec(tmp_path, source)))
    assert run.code == 1
    assert f"{source}: line 1: column 2 has no name" in " ".join(run.stderr.split())


def test_a_misspelt_id_type_is_a_spec_error_and_other_names_are_kept(tmp_path, etl, query):
    source = tmp_path / "crm.jsonl"
    source.write_text('{"customerNumber": "C1", "loyalty": " Card-7 "}\n')
    run = etl("import", str(spec(tmp_path, source, id={"field": "customerNumber", "type": "external_idd"})))
    assert run.code == 2
    assert "unknown id type 'external_idd' (did you mean external_id?)" in " ".join(run.stderr.split())

    named = etl("import", str(spec(tmp_path, source, ids={"loyalty_card": "loyalty"})))
    assert named.code == 0, named.stderr
    assert query("SELECT id_type, id_value FROM identities ORDER BY ALL") == [
        {"id_type": "external_id", "id_value": "C1"},
        {"id_type": "loyalty_card", "id_value": "Card-7"},  # a type of its own: trimmed, its case kept
    ]


def test_a_10_mb_attribute_value_is_stored_whole(tmp_path, etl, query):
    big = "x" * (10 << 20)
    source = tmp_path / "crm.jsonl"
    source.write_text(json.dumps({"customerNumber": "C1", "notes": big}) + "\n")
    run = etl("import", str(spec(tmp_path, source)), "--json")
    assert run.code == 0, run.stderr
    assert query("SELECT length(attributes->>'notes') AS n FROM customers") == [{"n": len(big)}]


def test_two_records_of_one_person_the_later_wins_attribute_by_attribute_and_is_counted(tmp_path, etl, query):
    source = tmp_path / "crm.jsonl"
    source.write_text('{"customerNumber": "C1", "city": "Kyiv", "tier": "gold"}\n{"mail": "x@example.com"}\n'
                      '{"customerNumber": "C1", "mail": "x@example.com", "city": "Lviv"}\n')  # fmt: skip
    run = etl("import", str(spec(tmp_path, source)), "--json")
    assert run.code == 0, run.stderr
    assert run.json["repeated_records"] == 2  # three records of one person: two repeat it
    [person] = query("SELECT attributes FROM customers")
    assert json.loads(person["attributes"]) == {"city": "Lviv", "tier": "gold"}
