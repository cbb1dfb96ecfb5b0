"""Conformance with specification 002 (Kevel Audience, Offline Imports): its file-source rules ("File
Encodings", "File Sources"), the users Info on lowercasing ids, and the "E-goi Contacts Source" with its
"E-goi Attribute Mapping". Each test imports what the document describes and asserts what the store holds.
The table: docs/conformance/002.md (its section "Encodings, file sources, E-goi").
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
from pathlib import Path

import pytest
from conftest import kevel_row, rows_of, write_csv
from egoi_server import contact
from test_egoi_contacts import people  # each customer's ids and attributes

from etl.errors import InputError, SpecError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec

# Accented names of Western European customers: every letter is in Windows-1252 and ISO-8859-1 alike.
NAMES = ["Zoë Ñúñez", "François Lefèvre", "Jürgen Groß", "Ærøskøbing Ålborg", "Iñès Peña-Ibáñez"]
CITIES = ["São Paulo", "Málaga", "Zürich", "Kraków", "Besançon"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def users_file(path: Path, encoding: str, rows: int = 5, extra: str = "") -> Path:
    """A CRM export of users in `encoding`: mail, name, city (+ `extra` in the first name: a cp1252-only sign)."""
    people = [{"mail": f"u{n}@example.com", "name": NAMES[n] + (extra if n == 0 else ""), "city": CITIES[n]}
              for n in range(rows)]  # fmt: skip
    return write_csv(path, people, encoding=encoding)


def import_users(store: Path, *sources: Path, **keys) -> dict:
    spec = {"format": "kevel_users", "source": [str(s) for s in sources], "options": {"ids": {"email": "mail"}}}
    return run_import(validate_spec({**spec, **keys}, "users.yaml"), store)


def stored_names(store: Path) -> dict[str, tuple[str, str]]:
    """{email: (name, city)} of the stored people."""
    rows = rows_of(
        store,
        "SELECT i.id_value AS mail, c.attributes->>'name' AS name, c.attributes->>'city' AS city "
        "FROM customers AS c JOIN identities AS i USING (customer_id) WHERE i.id_type = 'email'",
    )
    return {r["mail"]: (r["name"], r["city"]) for r in rows}


def expected_names(rows: int = 5, extra: str = "") -> dict[str, tuple[str, str]]:
    return {f"u{n}@example.com": (NAMES[n] + (extra if n == 0 else ""), CITIES[n]) for n in range(rows)}


# --- File Encodings ---------------------------------------------------------------------------------------------


def test_utf8_is_the_default_encoding(tmp_path, store):
    """ "Most files should use the very common "UTF-8" file encoding": a spec naming none reads UTF-8."""
    report = import_users(store, users_file(tmp_path / "users.csv", "utf-8"))

    assert report["files"][0]["encoding"] == "utf-8"
    assert stored_names(store) == expected_names()


@pytest.mark.parametrize(
    ("encoding", "extra"),
    [("windows-1252", " – “VIP” €"), ("iso-8859-1", "")],  # the dash, quotes and euro exist in Windows-1252 only
)
def test_an_explicit_encoding_stores_the_text_as_written(tmp_path, store, encoding, extra):
    """ "it is also possible to explicitly specify the file's encoding": a Windows-1252 and an ISO-8859-1 export."""
    source = users_file(tmp_path / "users.csv", encoding, extra=extra)

    report = import_users(store, source, encoding=encoding)

    assert report["files"][0]["encoding"] == encoding
    assert stored_names(store) == expected_names(extra=extra)


def test_an_explicit_encoding_reads_an_orders_file_too(tmp_path, store):
    rows = [kevel_row("o1", lineItem_name="Crème brûlée à l'orange", shippingCountry="España")]
    source = write_csv(tmp_path / "orders.csv", rows, encoding="iso-8859-1")

    run_import(validate_spec({"format": "kevel_orders", "source": str(source), "encoding": "latin-1"}, "s"), store)

    assert rows_of(store, "SELECT name FROM line_items") == [{"name": "Crème brûlée à l'orange"}]
    assert rows_of(store, "SELECT shipping_country FROM orders") == [{"shipping_country": "España"}]


def test_auto_detection_reads_windows_1252_iso_8859_1_and_utf16(tmp_path, store):
    """ "file encoding auto-detection can be selected": three files of one import, each detected on its own.
    Choice: ISO-8859-1 text is named windows-1252 (cp1252), which reads every letter of it alike (the two differ
    only at 0x80-0x9F, invisible control characters in ISO-8859-1)."""
    windows = users_file(tmp_path / "a-windows.csv", "cp1252", rows=3, extra=" – “VIP”")
    latin = users_file(tmp_path / "b-latin.csv", "iso-8859-1", rows=5)
    utf16 = users_file(tmp_path / "c-utf16.csv", "utf-16", rows=2)

    report = import_users(store, windows, latin, utf16, encoding="auto")

    assert [f["encoding"] for f in report["files"]] == ["cp1252", "cp1252", "utf-16"]
    assert stored_names(store) == expected_names()  # the later file's record of a person wins: all five as written


def test_utf16_without_a_byte_order_mark_is_detected(tmp_path, store):
    rows = [kevel_row("o1", lineItem_name="Zoë’s crème")]
    source = tmp_path / "orders.csv"
    source.write_bytes(write_csv(tmp_path / "plain.csv", rows).read_text().encode("utf-16-le"))

    report = run_import(
        validate_spec({"format": "kevel_orders", "source": str(source), "encoding": "auto"}, "s"), store
    )

    assert report["files"][0]["encoding"] == "utf-16-le"
    assert rows_of(store, "SELECT name FROM line_items") == [{"name": "Zoë’s crème"}]


def test_a_file_in_another_encoding_than_the_spec_says_is_an_error_not_garbled_text(tmp_path, store):
    """ "results in garbled text or in an error": here always the error, naming line, byte, field and the fix;
    nothing is stored."""
    source = users_file(tmp_path / "users.csv", "cp1252")

    with pytest.raises(InputError) as failed:
        import_users(store, source)

    column = source.read_bytes().split(b"\n")[1].index("ë".encode("cp1252")) + 1
    assert f"users.csv: line 2, column {column} (byte), field 2 ('name'): bytes eb " in str(failed.value)
    assert "set `encoding:`" in str(failed.value)
    assert rows_of(store, "SELECT count(*) AS n FROM customers") == [{"n": 0}]


# --- File Sources -----------------------------------------------------------------------------------------------


def test_gzip_is_detected_from_the_file_name_extension(tmp_path, store):
    """ "detect the necessary decompression method from the file name extension": users.csv.gz is gunzipped. Choice:
    a gzip file without the extension is found by its magic bytes too (what a user who renamed it expects)."""
    named = tmp_path / "users.csv.gz"
    named.write_bytes(gzip.compress(users_file(tmp_path / "a.csv", "utf-8", rows=3).read_bytes()))
    unnamed = tmp_path / "users-more.csv"  # gzip inside, no .gz
    unnamed.write_bytes(gzip.compress(users_file(tmp_path / "b.csv", "utf-8", rows=5).read_bytes()))

    report = import_users(store, named, unnamed)

    assert [f["status"] for f in report["files"]] == ["stored", "stored"]
    assert stored_names(store) == expected_names()


# --- Users: "We automatically lowercase the following User IDs" -----------------------------------------------


def identities(store: Path) -> list[tuple[str, str]]:
    rows = rows_of(store, "SELECT id_type, id_value FROM identities ORDER BY id_type, id_value")
    return [(r["id_type"], r["id_value"]) for r in rows]


def test_ids_are_trimmed_and_emails_lowercased_other_ids_keep_their_case(tmp_path, store):
    """The document's list of lowercased id types is empty (lost from the page). Choice, with 001 ("All values,
    except for the email address, are mapped including the register") and issue 33: emails and email_sha256 (hex)
    are lowercased, every id trimmed, other ids (external_id: CRM ids such as Salesforce's) keep their case."""
    digest = sha("bob@example.com").upper()
    source = tmp_path / "users.csv"
    source.write_text(
        "mail,crm,hashed,tier\n Ann@Example.COM ,Cust-42 ,,gold\n,001A000001abcDE,,silver\n"
        f",001A000001ABCde,{digest},bronze\n",
        encoding="utf-8",
    )

    options = {"ids": {"email": "mail", "external_id": "crm", "email_sha256": "hashed"}}
    run_import(validate_spec({"format": "kevel_users", "source": str(source), "options": options}, "s"), store)

    assert identities(store) == sorted(
        [
            ("email", "ann@example.com"),
            ("email_sha256", sha("ann@example.com")),  # the graph's own, beside the email
            ("email_sha256", digest.lower()),
            ("external_id", "001A000001ABCde"),
            ("external_id", "001A000001abcDE"),
            ("external_id", "Cust-42"),
        ]
    )
    tiers = rows_of(store, "SELECT attributes->>'tier' AS tier FROM customers ORDER BY tier")
    assert [r["tier"] for r in tiers] == ["bronze", "gold", "silver"]  # the two CRM ids are two people


def test_an_email_is_lowercased_and_trimmed_before_it_is_hashed(tmp_path, store):
    """ "we also lowercase and trim the original ID before transforming it (for example hashing plaintext
    emails)": hash_emails stores sha256("ann@example.com") for " Ann@Example.COM ", and no plain email."""
    source = tmp_path / "users.csv"
    source.write_text("mail,tier\n Ann@Example.COM ,gold\n", encoding="utf-8")

    options = {"ids": {"email": "mail"}, "hash_emails": True}
    run_import(validate_spec({"format": "kevel_users", "source": str(source), "options": options}, "s"), store)

    assert identities(store) == [("email_sha256", sha("ann@example.com"))]


# --- E-goi Contacts Source --------------------------------------------------------------------------------------

PREFIX = "egoi.account123.list321."  # the document's example: account 123, list 321


def egoi_import(api, store: Path, monkeypatch, key: str, **options) -> dict:
    monkeypatch.setenv("EGOI_API_KEY", key)
    spec = {"format": "egoi_contacts", "source": api.base_url, "connection": {"api_key": "${EGOI_API_KEY}"},
            "options": {"list_id": 321, "retry_backoff_s": 0, **options}}  # fmt: skip
    return run_import(validate_spec(spec, "egoi.yaml"), store)


def test_egoi_mapping_table_row_by_row(egoi_api, store, monkeypatch):
    """ "E-goi Attribute Mapping": contact_id -> the internal E-goi id type; email -> Email SHA256 (the plain email
    not stored); status, consent -> attributes; email_status, cellphone_status, phone_status -> attributes "if" the
    channel is available; the other Contact fields are not consumed. The example's names: account 123, list 321."""
    egoi_api.account_id = "123"
    egoi_api.lists[321] = [
        contact("7", " Ann@Example.com ", status="active", consent="consent", email_status="active",
                cellphone="351-911111111", cellphone_status="active", phone=None, phone_status="inactive",
                first_name="Ann", last_name="Lee"),
        contact("8", None, status="unconfirmed", consent="none", email_status="inactive",
                cellphone=None, cellphone_status="inactive", phone="+351 21 000 0000", phone_status="active"),
    ]  # fmt: skip

    report = egoi_import(egoi_api, store, monkeypatch, egoi_api.key())

    assert report["api"]["attribute_prefix"] == PREFIX
    assert people(store) == [
        {"ids": ["egoi_contact_id:7", f"email_sha256:{sha('ann@example.com')}"],
         "attributes": {PREFIX + "status": "active", PREFIX + "consent": "consent",
                        PREFIX + "emailStatus": "active", PREFIX + "cellphoneStatus": "active"}},
        {"ids": ["egoi_contact_id:8"],
         "attributes": {PREFIX + "status": "unconfirmed", PREFIX + "consent": "none",
                        PREFIX + "phoneStatus": "active"}},
    ]  # fmt: skip
    everything = json.dumps(
        rows_of(store, "SELECT * FROM customers") + rows_of(store, "SELECT * FROM identities"), default=str
    )
    for not_consumed in ("ann@example.com", "Lee", "911111111", "000 0000", "first_name"):
        assert not_consumed not in everything.lower() and not_consumed not in everything


def test_egoi_email_is_merged_into_an_existing_profile(tmp_path, egoi_api, store, monkeypatch):
    """ "it will be transformed into sha256 representation and merged into any existing profiles": a person a CRM
    file knows by the plain email gains the contact's id and statuses; their other attributes stay."""
    source = tmp_path / "crm.csv"
    source.write_text("mail,city\nann@example.com,Porto\n", encoding="utf-8")
    import_users(store, source)
    egoi_api.lists[321] = [contact("7", "ANN@example.com")]

    egoi_import(egoi_api, store, monkeypatch, egoi_api.key())

    (person,) = people(store)
    assert person["ids"] == ["egoi_contact_id:7", "email:ann@example.com", f"email_sha256:{sha('ann@example.com')}"]
    assert person["attributes"]["city"] == "Porto" and person["attributes"][PREFIX + "status"] == "active"


def test_egoi_permissions_list_all_contacts_and_get_my_account_info_import_a_list(egoi_api, store, monkeypatch):
    """ "an E-goi API key with permissions to List All Contacts and Get My Account Info": enough for a whole list
    (a segment needs "Get all contacts by segment" too: test_egoi_contacts::test_a_key_without_a_permission_...)."""
    egoi_api.lists[321] = [contact("7", "ann@example.com"), contact("8")]

    report = egoi_import(egoi_api, store, monkeypatch, egoi_api.key("account", "contacts"))

    assert report["status"] == "completed"
    assert rows_of(store, "SELECT count(*) AS n FROM identities WHERE id_type = 'egoi_contact_id'") == [{"n": 2}]


def test_egoi_segment_id_imports_the_segments_contacts_only_under_the_lists_prefix(egoi_api, store, monkeypatch):
    """ "only a subset of Contacts from that List that belong to a given Segment, you may fill in the Segment Id":
    the attributes keep the list's name (the format names no segment in them)."""
    egoi_api.lists[321] = [contact("7"), contact("8"), contact("9")]
    egoi_api.segments[(321, "5")] = [contact("8", status="inactive")]

    egoi_import(egoi_api, store, monkeypatch, egoi_api.key(), segment_id=5)

    assert people(store) == [
        {"ids": ["egoi_contact_id:8"],
         "attributes": {PREFIX + "status": "inactive", PREFIX + "consent": "consent"}},
    ]  # fmt: skip
    assert [r["path"] for r in egoi_api.requests][1:] == ["/lists/321/contacts/segment/5"]


def test_egoi_import_allows_no_transformations():
    """ "the user import from this type of Source does not allow you to specify any transformations"."""
    spec = {"format": "egoi_contacts", "connection": {"api_key": "${EGOI_API_KEY}"}, "options": {"list_id": 321},
            "transforms": [{"rename": {"from": "status", "to": "state"}}]}  # fmt: skip
    with pytest.raises(SpecError, match="transforms: an E-goi Contacts import takes no transformations"):
        validate_spec(spec, "egoi.yaml")


def test_the_byte_order_marks_auto_detection_knows(tmp_path, store):
    """A UTF-8 export with Excel's byte-order mark (the default encoding reads it, the mark is not a header
    letter) and a UTF-16 BE one with its mark (auto)."""
    plain = users_file(tmp_path / "users.csv", "utf-8", rows=2).read_text(encoding="utf-8")
    excel = tmp_path / "excel.csv"
    excel.write_bytes(codecs.BOM_UTF8 + plain.encode())
    big_endian = tmp_path / "big-endian.csv"
    big_endian.write_bytes(codecs.BOM_UTF16_BE + plain.encode("utf-16-be"))

    import_users(store, excel)
    report = import_users(store, big_endian, encoding="auto")

    assert report["files"][0]["encoding"] == "utf-16"
    assert stored_names(store) == expected_names(rows=2)
