"""E-goi Contacts as a user source (issue 20): a list's contacts from E-goi's API v3, served on loopback by
tests/egoi_server.py, into ids (egoi_contact_id, email_sha256) and the prefixed status attributes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from conftest import rows_of
from egoi_server import contact

from etl.errors import EtlError, InputError, SpecError
from etl.importer import run_import
from etl.spec import validate_spec

PREFIX = "egoi.account123.list321."


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def egoi_spec(api, key_variable: str = "EGOI_API_KEY", **options) -> dict:
    chosen = {"list_id": 321, "retry_backoff_s": 0, **options}
    return {"format": "egoi_contacts", "source": api.base_url, "connection": {"api_key": "${" + key_variable + "}"},
            "options": chosen}  # fmt: skip


def run(api, store: Path, monkeypatch, key: str, *, dry_run: bool = False, **options) -> dict:
    monkeypatch.setenv("EGOI_API_KEY", key)
    return run_import(validate_spec(egoi_spec(api, **options), "egoi.yaml"), store, dry_run=dry_run)


def people(store: Path) -> list[dict]:
    """Each customer's ids (type:value, sorted) and attributes."""
    found = rows_of(
        store,
        "SELECT c.customer_id, list_sort(list(i.id_type || ':' || i.id_value)) AS ids, c.attributes "
        "FROM customers AS c JOIN identities AS i USING (customer_id) GROUP BY ALL ORDER BY ids",
    )
    return [{"ids": r["ids"], "attributes": json.loads(r["attributes"])} for r in found]


def test_a_list_becomes_people_with_their_egoi_ids_hashed_emails_and_prefixed_statuses(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [
        contact("c1", " Ann@Example.com ", cellphone="351-911111111", cellphone_status="active"),
        contact("c2", None, status="unconfirmed", consent="none"),
        contact(None, None),  # neither id: rejected
        contact("c4", "not-an-email"),  # rejected
        contact(None, "bob@example.com", consent=..., phone="+351 21 000 0000", phone_status="inactive"),
    ]

    report = run(egoi_api, store, monkeypatch, egoi_api.key())

    assert (report["status"], report["items"], report["valid"], report["rejected"]) == ("completed", 5, 3, 2)
    assert report["entities"] == {"customers": {"added": 3, "updated": 0, "unchanged": 0}, "identities": {"added": 4}}
    assert report["api"] == {
        "service": "E-goi API v3", "endpoint": f"{egoi_api.base_url}/lists/321/contacts", "account_id": "123",
        "list_id": 321, "segment_id": None, "pages": 1, "contacts": 5, "total_items": 5, "retries": 0,
        "attribute_prefix": PREFIX,
    }  # fmt: skip
    assert [f["uri"] for f in report["files"]] == [f"{egoi_api.base_url}/lists/321/contacts"]
    assert people(store) == [
        {"ids": ["egoi_contact_id:c1", f"email_sha256:{sha('ann@example.com')}"],
         "attributes": {PREFIX + "status": "active", PREFIX + "consent": "consent", PREFIX + "emailStatus": "active",
                        PREFIX + "cellphoneStatus": "active"}},
        {"ids": ["egoi_contact_id:c2"],
         "attributes": {PREFIX + "status": "unconfirmed", PREFIX + "consent": "none"}},
        {"ids": [f"email_sha256:{sha('bob@example.com')}"],
         "attributes": {PREFIX + "status": "active", PREFIX + "emailStatus": "active",
                        PREFIX + "phoneStatus": "inactive"}},
    ]  # fmt: skip
    rejects = rows_of(store, "SELECT source, line, reasons FROM rejects ORDER BY line")
    assert [(r["source"], r["line"], [(x["column"], x["hint"]) for x in r["reasons"]]) for r in rejects] == [
        (f"{egoi_api.base_url}/lists/321/contacts", 3, [("(ids)", "no id: the contact has neither contact_id nor email")]),
        (f"{egoi_api.base_url}/lists/321/contacts", 4, [("email", "not a valid email")]),
    ]  # fmt: skip
    stored_text = json.dumps(rows_of(store, "SELECT * FROM identities")) + json.dumps(people(store))
    assert "ann@example.com" not in stored_text.lower() and "bob@example.com" not in stored_text


def test_the_key_goes_in_the_apikey_header_and_the_account_comes_from_it(egoi_api, store, monkeypatch):
    egoi_api.account_id = "9876"
    egoi_api.lists[5] = [contact("x1", "x@example.com")]

    report = run(egoi_api, store, monkeypatch, egoi_api.key(), list_id=5)

    assert egoi_api.paths() == ["/my-account", "/lists/5/contacts"]
    assert all(r["key_given"] for r in egoi_api.requests)
    assert report["api"]["attribute_prefix"] == "egoi.account9876.list5."
    assert set(people(store)[0]["attributes"]) == {
        "egoi.account9876.list5.status", "egoi.account9876.list5.consent", "egoi.account9876.list5.emailStatus"
    }  # fmt: skip
