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
from etl.pipeline.importer import run_import
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
    gate = report["validation"]  # the suites ran over what it stored; egoi_contact_id is a type they know
    assert gate["success"] and gate["checked"] > 0 and gate["failed"] == {"critical": 0, "warning": 0, "info": 0}
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
    endpoint = f"{egoi_api.base_url}/lists/321/contacts"
    assert [(r["source"], r["line"], [(x["column"], x["hint"]) for x in r["reasons"]]) for r in rejects] == [
        (endpoint, 3, [("(ids)", "no id: the contact has neither contact_id nor email")]),
        (endpoint, 4, [("email", "not a valid email")]),
    ]
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


def kevel_users(tmp_path: Path, store: Path, rows: str) -> dict:
    source = tmp_path / "crm.csv"
    source.write_text(rows)
    spec = {"format": "kevel_users", "source": str(source), "options": {"ids": {"email": "mail", "external_id": "id"}}}
    return run_import(validate_spec(spec, "crm.yaml"), store)


@pytest.mark.parametrize("egoi_first", [False, True])
def test_an_email_and_its_sha256_are_one_person_whichever_came_first(egoi_first, tmp_path, egoi_api, store,
                                                                      monkeypatch):  # fmt: skip
    egoi_api.lists[321] = [contact("c1", "ann@example.com")]
    key = egoi_api.key()
    imports = [lambda: kevel_users(tmp_path, store, "id,mail,city\nC1,Ann@Example.com,Kyiv\n"),
               lambda: run(egoi_api, store, monkeypatch, key)]  # fmt: skip
    for one in reversed(imports) if egoi_first else imports:
        assert one()["status"] == "completed"

    assert people(store) == [
        {"ids": ["egoi_contact_id:c1", "email:ann@example.com", f"email_sha256:{sha('ann@example.com')}",
                 "external_id:C1"],  # in its case (the one id rule: etl/formats/ids.py)
         "attributes": {"city": "Kyiv", PREFIX + "status": "active", PREFIX + "consent": "consent",
                        PREFIX + "emailStatus": "active"}},
    ]  # fmt: skip


def test_paging_reads_every_page_to_the_end(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact(f"c{n}", f"u{n}@example.com") for n in range(2500)]

    report = run(egoi_api, store, monkeypatch, egoi_api.key(), page_size=1000)

    pages = [(r["query"]["offset"], r["query"]["limit"]) for r in egoi_api.requests if r["path"] != "/my-account"]
    assert pages == [("0", "1000"), ("1000", "1000"), ("2000", "1000")]
    assert (report["items"], report["api"]["pages"], report["api"]["contacts"]) == (2500, 3, 2500)
    assert rows_of(store, "SELECT count(*) AS n FROM identities WHERE id_type = 'egoi_contact_id'") == [{"n": 2500}]


def test_an_empty_list_and_a_full_last_page_end_the_paging(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = []
    egoi_api.lists[7] = [contact(f"c{n}") for n in range(4)]
    key = egoi_api.key()

    empty = run(egoi_api, store, monkeypatch, key)
    full = run(egoi_api, store, monkeypatch, key, list_id=7, page_size=2)  # total_items says when to stop

    assert (empty["items"], empty["api"]["pages"]) == (0, 1)
    assert (full["items"], full["api"]["pages"]) == (4, 2)


def test_a_list_of_25000_contacts_is_imported_and_its_re_import_changes_nothing(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact(f"c{n:05d}", f"user{n}@example.com") for n in range(25_000)]
    key = egoi_api.key()

    first = run(egoi_api, store, monkeypatch, key)
    again = run(egoi_api, store, monkeypatch, key)
    egoi_api.lists[321][7]["base"]["status"] = "inactive"  # one contact changed in E-goi
    changed = run(egoi_api, store, monkeypatch, key)

    assert (first["items"], first["rejected"], first["api"]["pages"]) == (25_000, 0, 25)
    assert first["entities"]["customers"] == {"added": 25_000, "updated": 0, "unchanged": 0}
    assert again["entities"] == {"customers": {"added": 0, "updated": 0, "unchanged": 25_000},
                                 "identities": {"added": 0}}  # fmt: skip
    assert again["known_records"] == 25_000
    assert changed["entities"]["customers"] == {"added": 0, "updated": 1, "unchanged": 24_999}
    (person,) = rows_of(
        store, "SELECT c.attributes->>$name AS status FROM customers AS c JOIN identities AS i USING (customer_id) "
        "WHERE i.id_type = 'egoi_contact_id' AND i.id_value = 'c00007'", {"name": PREFIX + "status"},
    )  # fmt: skip
    assert person == {"status": "inactive"}


def test_a_channel_status_goes_when_the_channel_does(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact("c1", "ann@example.com", cellphone="+351911111111", cellphone_status="active")]
    key = egoi_api.key()
    run(egoi_api, store, monkeypatch, key)
    egoi_api.lists[321] = [contact("c1", "ann@example.com", cellphone=None, cellphone_status="inactive")]

    report = run(egoi_api, store, monkeypatch, key)

    assert report["entities"]["customers"]["updated"] == 1
    assert PREFIX + "cellphoneStatus" not in people(store)[0]["attributes"]


def test_429_and_500_are_retried_and_counted(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact(f"c{n}") for n in range(30)]
    egoi_api.fail("/lists/321/contacts", 429, offset=0)
    egoi_api.fail("/lists/321/contacts", 500, offset=20)

    report = run(egoi_api, store, monkeypatch, egoi_api.key(), page_size=10)

    offsets = [r["query"]["offset"] for r in egoi_api.requests if r["path"] != "/my-account"]
    assert offsets == ["0", "0", "10", "20", "20"]
    assert (report["status"], report["items"], report["api"]["retries"], report["api"]["pages"]) == (
        "completed", 30, 2, 3,
    )  # fmt: skip


def test_a_failure_on_page_40_of_50_stores_nothing(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact(f"c{n}", f"u{n}@example.com") for n in range(500)]
    egoi_api.fail("/lists/321/contacts", 503, times=2, offset=390)  # the first try and its one retry
    key = egoi_api.key()

    with pytest.raises(EtlError) as failure:
        run(egoi_api, store, monkeypatch, key, page_size=10, max_retries=1)

    message = str(failure.value)
    assert "the store is unchanged" in message and "page 40, contacts from 391" in message
    assert "HTTP 503" in message and "after 1 retries" in message and key not in message
    assert rows_of(store, "SELECT count(*) AS n FROM customers") == [{"n": 0}]
    assert rows_of(store, "SELECT status, sources FROM imports") == [
        {"status": "failed", "sources": [egoi_api.base_url]}
    ]


@pytest.mark.parametrize(
    ("permissions", "segment", "missing"),
    [
        (("contacts", "segment"), None, "Get my account info"),
        (("account", "segment"), None, "Get all contacts"),
        (("account", "contacts"), "5", "Get all contacts by segment"),
    ],
)
def test_a_key_without_a_permission_is_told_which_one(permissions, segment, missing, egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact("c1")]
    egoi_api.segments[(321, "5")] = [contact("c1")]
    key = egoi_api.key(*permissions)

    with pytest.raises(InputError) as failure:
        run(egoi_api, store, monkeypatch, key, segment_id=segment)

    message = str(failure.value)
    assert "HTTP 403" in message and f'lacks the permission "{missing}"' in message
    assert "Get all contacts, Get all contacts by segment, Get my account info" in message
    assert key not in message


def test_a_refused_key_and_an_unknown_list_say_so(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact("c1")]

    with pytest.raises(InputError, match=r"HTTP 401 Unauthorized \(Invalid API key\): the API key was refused"):
        run(egoi_api, store, monkeypatch, "not-a-key")
    with pytest.raises(InputError, match=r"GET /lists/99/contacts.*HTTP 404.*there is no such list"):
        run(egoi_api, store, monkeypatch, egoi_api.key(), list_id=99)


def test_an_unanswered_request_times_out_after_its_retries(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact("c1")]
    egoi_api.fail("/lists/321/contacts", None, times=2)

    with pytest.raises(InputError) as failure:
        run(egoi_api, store, monkeypatch, egoi_api.key(), timeout_s=0.3, max_retries=1)

    assert "did not answer GET /lists/321/contacts?offset=0&limit=1000 (page 1, contacts from 1) within 0.3 s, " \
           "2 tries" in str(failure.value)  # fmt: skip
    assert egoi_api.paths() == ["/my-account", "/lists/321/contacts", "/lists/321/contacts"]  # tried, then once more
    assert rows_of(store, "SELECT count(*) AS n FROM customers") == [{"n": 0}]


def test_a_rejected_contact_keeps_what_the_mapping_reads_and_no_more(egoi_api, store, monkeypatch):
    """Names, numbers, extra fields and tags are not imported, so a reject does not keep them either; the email
    as typed is what was wrong, and is kept to find the contact in E-goi (issue 33)."""
    egoi_api.lists[321] = [
        contact("c4", " Ann@@example ", first_name="Ann", last_name="Secret", cellphone="351-911111111",
                cellphone_status="active", phone="+351 21 000 0000", birth_date="1980-01-01"),
        contact(None, None, cellphone="   ", phone=None),  # no ids; a blank cellphone is no cellphone
    ]  # fmt: skip

    report = run(egoi_api, store, monkeypatch, egoi_api.key())

    assert (report["valid"], report["rejected"]) == (0, 2)
    kept = rows_of(store, "SELECT raw->>'line' AS record FROM rejects ORDER BY rejects.line")
    raws = [json.loads(r["record"]) for r in kept]
    read = {"status": "active", "consent": "consent", "email_status": "active", "phone_status": "inactive"}
    assert raws == [
        {"base": {"contact_id": "c4", "email": " Ann@@example ", **read, "cellphone_status": "active",
                  "has_cellphone": True, "has_phone": True}},
        {"base": {"contact_id": None, "email": None, **read, "email_status": "inactive",
                  "cellphone_status": "inactive", "has_cellphone": None, "has_phone": None}},
    ]  # fmt: skip
    everything = json.dumps(rows_of(store, "SELECT * FROM rejects"), default=str)
    for kept_out in ("Secret", "911111111", "000 0000", "1980", "extra", "tags", "first_name"):
        assert kept_out not in everything


def test_a_segment_is_read_in_pages_of_at_most_100_as_e_goi_documents(egoi_api, store, monkeypatch):
    """E-goi's OpenAPI document caps `limit` at 100 for a segment's contacts (1000 for a list's); the loopback
    server answers 422 above it, as E-goi does."""
    egoi_api.lists[321] = []
    egoi_api.segments[(321, "5")] = [contact(f"c{n}") for n in range(250)]

    report = run(egoi_api, store, monkeypatch, egoi_api.key(), segment_id=5, page_size=1000)

    pages = [(r["query"]["offset"], r["query"]["limit"]) for r in egoi_api.requests if r["path"] != "/my-account"]
    assert pages == [("0", "100"), ("100", "100"), ("200", "100")]
    assert (report["items"], report["api"]["pages"]) == (250, 3)
    ids = rows_of(store, "SELECT id_value FROM identities WHERE id_type = 'egoi_contact_id' ORDER BY id_value")
    assert [r["id_value"] for r in ids] == sorted(f"c{n}" for n in range(250))


def test_a_segment_brings_its_contacts_only(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact("c1"), contact("c2"), contact("c3")]
    egoi_api.segments[(321, "5")] = [contact("c2")]

    report = run(egoi_api, store, monkeypatch, egoi_api.key(), segment_id=5)

    assert egoi_api.paths() == ["/my-account", "/lists/321/contacts/segment/5"]
    assert (report["items"], report["api"]["segment_id"]) == (1, "5")
    assert [p["ids"] for p in people(store)] == [["egoi_contact_id:c2"]]


def test_a_dry_run_reads_the_list_and_stores_nothing(egoi_api, store, monkeypatch):
    egoi_api.lists[321] = [contact("c1", "ann@example.com")]

    report = run(egoi_api, store, monkeypatch, egoi_api.key(), dry_run=True)

    assert (report["dry_run"], report["entities"]["customers"]["added"]) == (True, 1)
    assert rows_of(store, "SELECT count(*) AS n FROM customers") == [{"n": 0}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"transforms": [{"rename": {"from": "a", "to": "b"}}]}, "transforms: an E-goi Contacts import takes no"),
        ({"connection": {}}, "connection.api_key: required"),
        ({"connection": {"api_key": "${K}", "endpoint_url": "x"}}, "connection.endpoint_url: unknown key"),
        ({"options": {"list_idd": 3}}, "options.list_id: required key is missing"),
        ({"options": {"list_id": 3, "page_size": 5000}}, "options.page_size: Input should be less than or equal"),
        ({"source": "s3://bucket/x"}, "source: expected E-goi's API address"),
    ],
)
def test_spec_mistakes_are_named(change, message):
    spec = {"format": "egoi_contacts", "connection": {"api_key": "${EGOI_API_KEY}"}, "options": {"list_id": 1},
            **change}  # fmt: skip
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(".", r"\.")):
        validate_spec(spec, "egoi.yaml")


def test_the_source_defaults_to_egois_api():
    spec = validate_spec({"format": "egoi_contacts", "connection": {"api_key": "${K}"}, "options": {"list_id": 1}}, "s")
    assert spec.source == ["https://api.egoiapp.com"]


def test_the_command_and_its_schedule_never_show_the_key(tmp_path, egoi_api, etl, store):
    egoi_api.lists[321] = [contact("c1", "ann@example.com")]
    key = egoi_api.key()
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "egoi.yaml"
    spec.write_text(yaml.safe_dump({**egoi_spec(egoi_api), "schedule": "0 3 * * *"}))
    env = {"EGOI_API_KEY": key}

    imported = etl("import", str(spec), "--json", env=env)
    shown = etl("import", str(spec), env=env)  # the report as printed
    due = etl("schedule", "run-due", "--specs", str(specs), "--store", str(store), "--now", "2026-12-04T03:05:00Z",
              "--json", env=env)  # fmt: skip
    report = etl("report", "1", "--json")
    egoi_api.keys[key] = ("account",)  # the key loses a permission: the run fails
    refused = etl("import", str(spec), "--json", env=env)

    assert imported.code == 0, imported.stderr
    assert imported.json["api"]["contacts"] == 1 and imported.json["entities"]["customers"]["added"] == 1
    assert "E-goi" in shown.stdout and "1 page" in shown.stdout
    assert [json.loads(line)["status"] for line in due.stdout.splitlines()] == ["completed"]
    assert refused.code == 1 and 'lacks the permission "Get all contacts"' in refused.stderr
    everything = [imported.stdout, imported.stderr, shown.stdout, shown.stderr, due.stdout, due.stderr,
                  report.stdout, refused.stdout, refused.stderr]  # fmt: skip
    assert all(key not in text for text in everything)
    assert key.encode() not in store.read_bytes()
    assert all(key.encode() not in p.read_bytes() for p in store.parent.rglob("*") if p.is_file())


def test_an_inbox_of_an_api_format_is_refused(tmp_path, egoi_api, etl):
    spec = tmp_path / "egoi.yaml"
    spec.write_text(yaml.safe_dump(egoi_spec(egoi_api)))

    run = etl("inbox", str(tmp_path), "--spec", str(spec))

    assert run.code == 2 and "egoi_contacts reads an API, not files: import it with etl import" in run.stderr


def test_a_proxy_named_in_the_connection_carries_the_requests(egoi_api, store, monkeypatch):
    from egoi_server import forward_proxy

    egoi_api.lists[321] = [contact("c1", "ann@example.com")]
    monkeypatch.setenv("EGOI_API_KEY", egoi_api.key())
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the environment's proxy is not used
    with forward_proxy() as (proxy, seen):
        spec = {**egoi_spec(egoi_api), "connection": {"api_key": "${EGOI_API_KEY}", "proxy": proxy}}
        report = run_import(validate_spec(spec, "egoi.yaml"), store)

    assert report["items"] == 1
    assert seen == [f"{egoi_api.base_url}/my-account", f"{egoi_api.base_url}/lists/321/contacts?offset=0&limit=1000"]


def test_known_records_needed_whole_are_staged_again_from_the_contacts_fetched_once(egoi_api, store, monkeypatch):
    """A known contact whose customer another contact of the list joins is needed whole (its ids, its attributes:
    entities/customers/known_settle.sql): the import stages and stores again with nothing known, from the file the
    fetch wrote, and asks E-goi once. It gives what an import without known records gives."""
    from etl.pipeline import importer

    egoi_api.lists[321] = [contact("c1", "ann@example.com", status="active")]
    run(egoi_api, store, monkeypatch, egoi_api.key())
    egoi_api.lists[321] = [contact("c1", "ann@example.com", status="active"),
                           contact("c9", "Ann@Example.com", status="unsubscribed")]  # fmt: skip
    staged = []
    stage_and_store = importer._stage_and_store
    monkeypatch.setattr(importer, "_stage_and_store", lambda *a, **k: staged.append(k) or stage_and_store(*a, **k))
    egoi_api.requests.clear()

    report = run(egoi_api, store, monkeypatch, egoi_api.key())

    assert [k["use_known"] for k in staged] == [True, False]  # c1 staged as known first, then read whole
    assert egoi_api.paths() == ["/my-account", "/lists/321/contacts"]  # the fetch ran once
    assert (report["status"], report["items"], report["known_records"]) == ("completed", 2, 0)
    assert report["entities"]["customers"] == {"added": 0, "updated": 1, "unchanged": 0}
    monkeypatch.setattr(importer, "_stage_and_store", stage_and_store)
    compared = store.with_name("compared.duckdb")
    egoi_api.lists[321] = [contact("c1", "ann@example.com", status="active")]
    run_import(validate_spec(egoi_spec(egoi_api), "egoi.yaml"), compared, use_known=False)
    egoi_api.lists[321].append(contact("c9", "Ann@Example.com", status="unsubscribed"))
    again = run_import(validate_spec(egoi_spec(egoi_api), "egoi.yaml"), compared, use_known=False)
    assert again["entities"] == report["entities"] and people(compared) == people(store)
