"""Records applied before are skipped without looking their ids up (etl/entities/customers/known.sql, issue 15 item 9):
a re-import costs a hash join. The skip must never change what an import gives: each test here runs the same
imports with the skip and without it (run_import's use_known) and compares every customer, id and attribute."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import duckdb
import pytest
from conftest import NOT_AN_EMAILS_HASH

from etl.pipeline.importer import run_import
from etl.spec import validate_spec

OPTIONS = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail", "phone": "mobile"}}
FIELDS = ["customerNumber", "mail", "mobile", "city", "tier"]


def users_spec(folder: Path, name: str, rows: list[dict]) -> dict:
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return {"format": "kevel_users", "source": str(path), "options": OPTIONS}


def imported(store: Path, specs: list[dict], *, skip: bool) -> list[dict]:
    """Each import's report, with the skip on or off."""
    return [run_import(validate_spec(spec, f"spec {n}"), store, use_known=skip) for n, spec in enumerate(specs)]


def people(store: Path) -> dict[frozenset, dict]:
    """Each customer by its ids, with its attributes (customer_id values left out: they may differ)."""
    with duckdb.connect(str(store), read_only=True) as con:
        query = (  # NOT_AN_EMAILS_HASH: a constant
            "SELECT list(i.id_type || ':' || i.id_value), any_value(c.attributes) "  # noqa: S608
            f"FROM customers AS c JOIN identities AS i USING (customer_id) WHERE {NOT_AN_EMAILS_HASH} "
            "GROUP BY c.customer_id"
        )
        rows = con.execute(query).fetchall()
    return {frozenset(ids): json.loads(attributes) for ids, attributes in rows}


def counts(report: dict) -> tuple:
    """What a report says the import did, but known_records (which the skip alone sets)."""
    return report["entities"]["customers"], report["entities"]["identities"], report["merges"], report["rejected"]


def both_ways(tmp_path: Path, specs: list[dict]) -> list[dict]:
    """The imports with the skip and without it give the same people and counts; the reports with the skip."""
    skipped = imported(tmp_path / "skip.duckdb", specs, skip=True)
    looked_up = imported(tmp_path / "lookup.duckdb", specs, skip=False)
    assert [counts(r) for r in skipped] == [counts(r) for r in looked_up]
    assert people(tmp_path / "skip.duckdb") == people(tmp_path / "lookup.duckdb")
    assert all(r["known_records"] == 0 for r in looked_up)
    return skipped


def user(number: str = "", mail: str = "", mobile: str = "", city: str = "", tier: str = "") -> dict:
    return {"customerNumber": number, "mail": mail, "mobile": mobile, "city": city, "tier": tier}


def test_a_re_import_is_known_record_by_record_and_a_changed_record_is_not(tmp_path):
    rows = [user("c1", "a@example.com", city="Kyiv"), user("c2", city="Lviv"), user(mail="b@example.com", tier="gold")]
    changed = [rows[0], {**rows[1], "city": "Odesa"}, rows[2]]
    specs = [users_spec(tmp_path, "first", rows), users_spec(tmp_path, "again", rows),
             users_spec(tmp_path, "changed", changed)]  # fmt: skip

    first, again, then = both_ways(tmp_path, specs)

    assert first["known_records"] == 0
    assert again["known_records"] == 3
    assert again["entities"]["customers"] == {"added": 0, "updated": 0, "unchanged": 3}
    assert then["known_records"] == 2
    assert then["entities"]["customers"] == {"added": 0, "updated": 1, "unchanged": 2}
    assert [r["change"] for r in again["sample"]["first"]] == ["unchanged"] * 3


@pytest.mark.parametrize("known_last", [True, False])
def test_a_known_record_whose_customer_another_record_changes_is_applied_in_its_order(tmp_path, known_last):
    known, change = user("c1", city="Kyiv", tier="gold"), user("c1", city="Lviv")
    rows = [change, known] if known_last else [known, change]
    specs = [users_spec(tmp_path, "first", [known]), users_spec(tmp_path, "both", rows)]

    _, both = both_ways(tmp_path, specs)

    assert both["known_records"] == 0  # its customer was touched: it takes the long way
    expected = {"city": "Kyiv", "tier": "gold"} if known_last else {"city": "Lviv", "tier": "gold"}
    assert people(tmp_path / "skip.duckdb") == {frozenset({"external_id:c1"}): expected}


def test_a_customer_that_loses_an_id_forgets_the_hash_of_its_record(tmp_path):
    # f, p and e are one person (A) until two customer numbers claim e and p: A lives on with p and f, and
    # e goes to c5's person; A's record, read again, resolves by its first id, e: to c5's person now. (Here
    # the claims touch A too; the hash A forgets when it loses an id guards the cases where nothing else does.)
    p = "+380500000001"
    earlier, record = (
        user(mail="f@example.com", mobile=p, tier="bronze"),
        user(mail="e@example.com", mobile=p, city="Kyiv"),
    )
    claims = [user("c5", mail="e@example.com", tier="gold"), user("c3", mobile=p, tier="silver")]
    specs = [users_spec(tmp_path, "earlier", [earlier]), users_spec(tmp_path, "a", [record]),
             users_spec(tmp_path, "claims", claims), users_spec(tmp_path, "again", [record])]  # fmt: skip

    reports = both_ways(tmp_path, specs)

    assert reports[3]["known_records"] == 0
    assert people(tmp_path / "skip.duckdb")[frozenset({"external_id:c5", "email:e@example.com"})] == {
        "city": "Kyiv", "tier": "gold",
    }  # fmt: skip


def random_rows(rng: random.Random, count: int) -> list[dict]:
    """Records over a few ids, so that they share ids, merge, and claim each other's."""
    rows = []
    for _ in range(count):
        row = user(
            rng.choice(["", "", "c1", "c2", "c3"]),
            rng.choice(["", "a@example.com", "b@example.com", "c@example.com"]),
            rng.choice(["", "", "+380500000001", "+380500000002"]),
            rng.choice(["", "Kyiv", "Lviv"]),
            rng.choice(["", "gold", "silver"]),
        )
        if not (row["customerNumber"] or row["mail"] or row["mobile"]):
            row["mail"] = "d@example.com"
        rows.append(row)
    return rows


@pytest.mark.parametrize("seed", range(4))  # each seed 18 imports, twice (16 s): four vary enough
def test_random_imports_re_imports_and_mixtures_give_the_same_with_and_without_the_skip(tmp_path, seed):
    rng = random.Random(seed)
    files = [random_rows(rng, rng.randint(1, 4)) for _ in range(3)]
    mixed = rng.sample(files[0] + files[1], k=len(files[0] + files[1])) + random_rows(rng, 1)
    sequence = [files[0], files[0], files[1], files[0], mixed, files[2], files[1], files[0], mixed]
    specs = [users_spec(tmp_path, f"import-{n}", rows) for n, rows in enumerate(sequence)]

    reports = both_ways(tmp_path, specs)

    assert reports[1]["known_records"] + reports[1]["repeated_records"] >= 1  # the same file again: known


def test_a_file_read_in_batches_gives_what_it_gives_read_at_once(tmp_path, monkeypatch):
    # the users' formats are read in batches (staging.BATCH_ROWS): rejects, known records and changed ones
    # spread over many batches of two
    rows = [user(f"c{n}", f"u{n}@example.com", city="Kyiv") for n in range(7)] + [user(mail="not-an-email")]
    changed = [rows[0], {**rows[3], "city": "Lviv"}, *rows[4:], user("c9", tier="gold")]
    specs = [users_spec(tmp_path, "first", rows), users_spec(tmp_path, "changed", changed)]
    whole = imported(tmp_path / "whole.duckdb", specs, skip=True)
    monkeypatch.setattr("etl.pipeline.staging.BATCH_ROWS", 2)

    batched = imported(tmp_path / "batched.duckdb", specs, skip=True)

    assert [(counts(r), r["known_records"], r["items"]) for r in batched] == [
        (counts(r), r["known_records"], r["items"]) for r in whole
    ]
    assert batched[1]["known_records"] == 4 and batched[1]["rejected"] == 1
    assert people(tmp_path / "batched.duckdb") == people(tmp_path / "whole.duckdb")


def test_a_file_of_a_header_alone_stores_nothing(tmp_path):
    (report,) = imported(tmp_path / "store.duckdb", [users_spec(tmp_path, "empty", [])], skip=True)

    assert (report["items"], report["valid"], report["rejected"]) == (0, 0, 0)
    assert report["entities"]["customers"] == {"added": 0, "updated": 0, "unchanged": 0}
