"""The store's invariants (issue 33, deliverable 4): etl.quality.store_invariants finds each kind of broken store, `etl
validate` shows it, and random small batches of every format that names people, imported in several orders, keep
every invariant and give the people the documented rules give (tests/conformance/model.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from etl.quality import store_invariants
from tests.conformance import formats, model
from tests.conftest import EXPECTATIONS, NOT_AN_EMAILS_HASH, rows_of


def people_in(store: Path) -> set[frozenset[tuple[str, str]]]:
    """Each customer as the set of its ids (an email's own sha256, which the graph adds, left out)."""
    sql = "SELECT list((i.id_type, i.id_value)) AS ids FROM identities AS i WHERE {} GROUP BY i.customer_id"
    rows = rows_of(store, sql.format(NOT_AN_EMAILS_HASH))  # a constant condition
    return {frozenset(tuple(pair) for pair in row["ids"]) for row in rows}


# --- each invariant, broken by hand ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Orders, users, CrossEngage and eSputnik events (with items) by three people; every invariant holds. Built
    once: the tests break copies of it."""
    folder = tmp_path_factory.mktemp("sample")
    store = folder / "cdp.duckdb"
    specs = [
        formats.kevel_orders(folder, "orders", [("o1", "email", "ann@example.com"), ("o2", "external_id", "Crm-2")]),
        formats.kevel_users(folder, "users", [{"customerNumber": "Crm-1", "mail": "ann@example.com"}]),
        formats.crossengage_events(folder, "1", [formats.crossengage_event("Cart", id="Crm-2",
                                                                           product={"id": "p1", "price": 3})]),
        formats.esputnik_events(folder, "es", [formats.esputnik_event(
            "cartUpdated", ("email", "bob@example.com"), ("products", [{"productKey": "p1", "price": 2}]))]),
    ]  # fmt: skip
    for spec in specs:  # module-scoped: the project's suites named here, not through the autouse fixture
        formats.imported(store, spec, expectations=EXPECTATIONS)
    return store


def broken_by(store: Path, *statements: str, copy: Path | None = None) -> dict[str, dict]:
    """The violations of a copy of the store changed by the statements, by invariant."""
    copy = copy or store.with_name("broken.duckdb")
    shutil.copy(store, copy)
    with duckdb.connect(str(copy)) as con:
        for statement in statements:
            con.execute(statement)
        return {v["invariant"]: v for v in store_invariants.violations(con)}


def test_a_store_of_every_kind_of_record_keeps_every_invariant(sample_store: Path):
    tables = rows_of(sample_store, "SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM events "
                     "WHERE user_id IS NOT NULL) AS named, (SELECT count(*) FROM event_items) AS items")  # fmt: skip
    assert tables == [{"orders": 2, "named": 2, "items": 2}]  # every invariant below has rows to hold on
    assert broken_by(sample_store) == {}


def test_an_event_on_another_customer_than_its_named_id_s_is_found_with_both_customers(sample_store: Path):
    found = broken_by(sample_store, "UPDATE events SET customer_id = (SELECT max(customer_id) FROM customers) + 1 "
                                    "WHERE event_type = 'Cart'")  # fmt: skip

    (example,) = found["event_on_its_named_customer"]["examples"]
    named = rows_of(sample_store, "SELECT customer_id FROM identities WHERE id_value = 'Crm-2'")[0]["customer_id"]
    assert (example["user_id_type"], example["user_id"], example["named_customer"]) == ("external_id", "Crm-2", named)
    assert example["customer_id"] != named
    assert found["customer_of_record_exists"]["violations"] == 1  # and that customer does not exist


def test_an_order_off_its_buyer_and_its_order_events_are_found(sample_store: Path):
    found = broken_by(sample_store, "UPDATE orders SET customer_id = customer_id + 100 WHERE order_id = 'o1'")

    assert [e["order_id"] for e in found["order_on_its_buyers_customer"]["examples"]] == ["o1"]
    assert [e["order_id"] for e in found["order_event_on_its_orders_customer"]["examples"]] == ["o1"]


def test_an_id_on_two_customers_and_an_id_stored_twice_are_found(sample_store: Path):
    found = broken_by(
        sample_store,
        "INSERT INTO identities SELECT id_type, business_unit, id_value, customer_id + 1, first_import_id, node, "
        "cluster FROM identities WHERE id_value = 'Crm-1'",
        "INSERT INTO identities SELECT * FROM identities WHERE id_value = 'Crm-2'",
    )

    assert found["id_belongs_to_one_customer"]["examples"][0]["id_value"] == "Crm-1"
    assert found["id_stored_once"]["examples"] == [
        {"id_type": "external_id", "business_unit": "", "id_value": "Crm-2", "copies": 2}
    ]


def test_items_without_their_parent_and_orders_without_their_place_event_are_found(sample_store: Path):
    found = broken_by(
        sample_store,
        "DELETE FROM orders WHERE order_id = 'o2'",
        "DELETE FROM events WHERE event_type = 'Cart'",
        "DELETE FROM events WHERE event_type = 'orderPlace' AND order_id = 'o1'",
    )

    assert [e["order_id"] for e in found["line_item_has_its_order"]["examples"]] == ["o2"]
    assert found["event_item_has_its_event"]["violations"] == 1
    assert found["order_has_one_order_place"]["examples"] == [{"order_id": "o1", "order_places": 0}]
    assert found["order_event_on_its_orders_customer"]["examples"][0]["order_stored"] is False


def test_an_import_whose_counts_do_not_add_up_is_found(sample_store: Path):
    found = broken_by(sample_store, "UPDATE imports SET rejected = rejected + 1, items = items + 1 WHERE import_id = 1")

    assert found["import_counts_add_up"]["examples"] == [
        {"import_id": 1, "items": 3, "valid": 2, "rejected": 1, "rejects_rows": 0}
    ]


def test_etl_validate_lists_the_broken_invariants_and_exits_1(sample_store: Path, etl, tmp_path: Path):
    copy = tmp_path / "broken.duckdb"
    broken_by(sample_store, "UPDATE orders SET customer_id = customer_id + 100 WHERE order_id = 'o1'", copy=copy)

    ok = etl("validate", "--store", str(sample_store), "--json", "--no-docs")
    broken = etl("validate", "--store", str(copy), "--no-docs")
    as_json = etl("validate", "--store", str(copy), "--no-docs", "--json")

    assert ok.code == 0 and ok.json["invariants"] == []
    assert broken.code == 1
    assert "Store invariants broken:" in broken.stdout and "order_on_its_buyers_customer: 1 row(s)" in broken.stdout
    assert as_json.code == 1
    assert [v["invariant"] for v in as_json.json["invariants"]] == [
        "customer_of_record_exists",
        "order_event_on_its_orders_customer",
        "order_on_its_buyers_customer",
    ]
    # the orders suite checks the same of an import's own orders, inside its transaction
    failed = [e["description"] for e in as_json.json["expectations"] if not e["success"]]
    assert any("order_on_its_buyers_customer" in d for d in failed), failed


# --- the documented defect: an event naming two people's ids --------------------------------------------------


@pytest.mark.parametrize("crossengage_first", [True, False])
def test_an_event_naming_an_email_and_another_external_id_sits_on_its_named_id_s_customer(
    tmp_path: Path, store: Path, crossengage_first: bool
):
    """Issue 33: CrossEngage's event (id crm-1, email ann), eSputnik's (email ann, externalCustomerId crm-2): ann
    belongs to crm-1 (the smaller external id) whichever came first, and each event to the person of the id it
    names."""
    named_twice = formats.crossengage_event(id="crm-1", email="ann@example.com")
    crossengage = formats.crossengage_events(tmp_path, "1", [named_twice])
    esputnik = formats.esputnik_events(tmp_path, "es", [formats.esputnik_event(
        "pageViewed", ("email", "ann@example.com"), ("externalCustomerId", "crm-2"))])  # fmt: skip
    for spec in [crossengage, esputnik] if crossengage_first else [esputnik, crossengage]:
        formats.imported(store, spec)  # the invariants after each

    assert people_in(store) == model.people([[("external_id", "crm-1"), ("email", "ann@example.com")],
                                             [("email", "ann@example.com"), ("external_id", "crm-2")]])  # fmt: skip
    assert people_in(store) == {frozenset({("external_id", "crm-1"), ("email", "ann@example.com")}),
                                frozenset({("external_id", "crm-2")})}  # fmt: skip


def test_an_order_re_imported_with_another_buyer_takes_its_order_events_along(tmp_path: Path, store: Path):
    """Order events follow their order (events.user_id_type is null for them): when a re-import names another
    buyer, the order moves to that buyer's customer, and so must its orderPlace of the first import."""
    formats.imported(store, formats.kevel_orders(tmp_path, "first", [("o1", "email", "ann@example.com")]))
    formats.imported(store, formats.kevel_orders(tmp_path, "second", [("o1", "email", "bob@example.com")]))

    events = rows_of(store, "SELECT e.event_type, e.customer_id = o.customer_id AS on_the_order_s_customer "
                     "FROM events AS e JOIN orders AS o USING (order_id) ORDER BY e.event_id")  # fmt: skip
    assert events == [{"event_type": "orderPlace", "on_the_order_s_customer": True},
                      {"event_type": "orderUpdate", "on_the_order_s_customer": True}]  # fmt: skip


# --- the property: random batches of every format, in several orders -------------------------------------------

EMAILS = ["ann@example.com", "bob@example.com", "cy@example.org"]
EXTERNALS = ["Cust-1", "cust-1", "CUST-2", "c-3"]  # the first two differ in case only: two people (001)
PHONES = ["+380501111111", "+380502222222"]
FORMATS = ["kevel_orders", "shopify_orders", "kevel_users_csv", "kevel_users_jsonl", "crossengage_events",
           "esputnik_events"]  # fmt: skip


@st.composite
def written(draw, id_type: str) -> tuple[str, str, str]:
    """An id as some file writes it: (type, the value written, the value meant); emails in any case, every value
    perhaps with spaces around."""
    meant = draw(st.sampled_from({"email": EMAILS, "external_id": EXTERNALS, "phone": PHONES}[id_type]))
    value = meant
    if id_type == "email":
        value = "".join(c.upper() if draw(st.booleans()) else c for c in meant)
    if draw(st.booleans()):
        value = draw(st.sampled_from([" ", "  ", "\t"])) + value + draw(st.sampled_from(["", " "]))
    return id_type, value, meant


@st.composite
def record(draw, fmt: str) -> list[tuple[str, str, str]]:
    """The ids of one record of a format, as that format may name a person."""
    if fmt in ("kevel_orders",):
        return [draw(written(draw(st.sampled_from(["email", "phone", "external_id"]))))]
    if fmt == "shopify_orders":
        return [draw(written(draw(st.sampled_from(["email", "phone"]))))]
    if fmt == "crossengage_events":
        types = draw(st.sampled_from([["external_id"], ["email", "external_id"], ["email"]]))
    elif fmt == "esputnik_events":
        types = draw(st.sampled_from([["email"], ["phone"], ["email", "external_id"], ["email", "phone"],
                                      ["phone", "external_id"]]))  # fmt: skip
    else:
        types = draw(st.lists(st.sampled_from(["email", "external_id", "phone"]), min_size=1, max_size=3, unique=True))
    return [draw(written(t)) for t in types]


batches = st.lists(
    st.sampled_from(FORMATS).flatmap(lambda fmt: st.tuples(st.just(fmt), st.lists(record(fmt), min_size=1,
                                                                                  max_size=3))),
    min_size=2, max_size=3,
)  # fmt: skip


def spec_of(folder: Path, n: int, fmt: str, records: list[list[tuple[str, str, str]]]) -> dict:
    """The file of one batch: every record distinct (its own order id, event time or attribute)."""
    name = f"b{n}"
    if fmt == "kevel_orders":
        return formats.kevel_orders(folder, name, [(f"o{n}-{k}", *ids[0][:2]) for k, ids in enumerate(records)])
    if fmt == "shopify_orders":
        rows = [formats.shopify_row(f"#{n}{k:02}", **{("Email" if ids[0][0] == "email" else "Phone"): ids[0][1]})
                for k, ids in enumerate(records)]  # fmt: skip
        return formats.shopify_orders(folder, name, rows)
    if fmt.startswith("kevel_users"):
        users = [{formats.USERS_IDS[t]: value for t, value, _ in ids} | {"batch": f"{n}-{k}"}
                 for k, ids in enumerate(records)]  # fmt: skip
        return formats.kevel_users(folder, name, users, jsonl=fmt.endswith("jsonl"))
    if fmt == "crossengage_events":
        names = {"external_id": "id", "email": "email"}
        return formats.crossengage_events(folder, name, [
            formats.crossengage_event(**{names[t]: value for t, value, _ in ids}, n=f"{n}-{k}")
            for k, ids in enumerate(records)])  # fmt: skip
    params = {"email": "email", "phone": "phone", "external_id": "externalCustomerId"}
    return formats.esputnik_events(folder, name, [
        formats.esputnik_event("pageViewed", *[(params[t], value) for t, value, _ in ids], ("n", f"{n}-{k}"))
        for k, ids in enumerate(records)])  # fmt: skip


# each example is 4-6 imports (about 0.6 s each here): 6 examples keep the test near 25 s; no shrinking, which
# re-runs imports for minutes (the failing batches are printed whole)
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(batches=batches, rotation=st.integers(min_value=1, max_value=2))
def test_random_batches_of_every_format_in_any_order_keep_the_invariants_and_the_documented_people(
    tmp_path_factory, batches, rotation
):
    folder = tmp_path_factory.mktemp("batches")
    specs = [spec_of(folder, n, fmt, records) for n, (fmt, records) in enumerate(batches)]
    expected = model.people([[(t, meant) for t, _, meant in ids] for _, records in batches for ids in records])
    rotated = specs[rotation % len(specs) :] + specs[: rotation % len(specs)]
    for order, label in ((specs, "given"), (rotated[::-1], "rotated and reversed")):
        store = folder / f"{label}.duckdb"
        for spec in order:
            report = formats.imported(store, spec)  # the invariants after every import
            assert report["rejected"] == 0, (spec, report["issues"])
        assert people_in(store) == expected, label
