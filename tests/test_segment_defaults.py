"""A segment's date defaults to the store's last purchase day (issue 35): the last day of purchase_facts (an order
with a buyer and a line item in the statuses), the same from the command line, from Python and from the SQL macros.
A store of a few orders on known days, and the rows expected of it written out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import rows_of

from etl.segments import catalog as segment_catalog
from etl.segments import run as segment
from etl.store.connection import connect, refresh_order_facts

LAST = date(2024, 5, 13)  # the last purchase day of the store below
CATEGORIES = {"p1": ["Men", "Shirts"], "p2": ["Men", "Socks"], "p3": ["Home", "Kitchen"]}
A, B, C, D = 1, 2, 3, 4  # customers
ORDERS = [  # order, customer, created_at, country, line items (product, status, total)
    ("a0", A, datetime(2022, 11, 1, 9, tzinfo=UTC), "DE", [("p3", "paid", 5.0)]),
    ("a1", A, datetime(2024, 3, 1, 10, tzinfo=UTC), "DE", [("p1", "paid", 20.0)]),
    ("a2", A, datetime(2024, 5, 10, 12, tzinfo=UTC), "FR", [("p2", "placed", 30.0)]),
    ("b1", B, datetime(2024, 4, 20, 10, tzinfo=UTC), "PL", [("p1", "fulfilled", 50.0)]),
    # 01:30 on 14 May in UTC+2: 23:30 on 13 May in UTC, the last purchase day
    ("b2", B, datetime(2024, 5, 14, 1, 30, tzinfo=timezone(timedelta(hours=2))), "PL",
     [("p1", "paid", 10.0), ("p2", "cancelled", 5.0)]),
    ("c1", C, datetime(2024, 6, 1, 8, tzinfo=UTC), "FR", [("p1", "cancelled", 80.0)]),  # later, but no purchase
    ("c2", C, datetime(2024, 6, 2, 8, tzinfo=UTC), "FR", [("p2", "refunded", 40.0)]),  # neither
    ("d1", D, datetime(2024, 1, 15, 8, tzinfo=UTC), "DE", [("p3", "paid", 100.0)]),
    ("n1", None, datetime(2024, 6, 5, 8, tzinfo=UTC), "DE", [("p1", "paid", 60.0)]),  # no buyer: nobody's purchase
]  # fmt: skip


def write_store(store: Path, orders=ORDERS) -> Path:
    store.parent.mkdir(parents=True, exist_ok=True)
    order_rows = [
        {"order_id": o, "customer_id": c, "user_id_type": "external_id" if c else None,
         "user_id": str(c) if c else None, "created_at": at, "shipping_country": country}
        for o, c, at, country, _ in orders
    ]  # fmt: skip
    line_rows = [
        {"order_id": o, "line_no": n, "product_id": p, "status": status, "total": total, "quantity": 1.0,
         "category": " > ".join(CATEGORIES[p]), "categories": CATEGORIES[p]}
        for o, _, _, _, lines in orders
        for n, (p, status, total) in enumerate(lines, start=1)
    ]  # fmt: skip
    with connect(store, read_only=False) as con:
        if orders:
            con.register("o", pl.DataFrame(order_rows).to_arrow())
            con.register("l", pl.DataFrame(line_rows).to_arrow())
            con.execute("INSERT INTO orders BY NAME SELECT * FROM o")
            con.execute("INSERT INTO line_items BY NAME SELECT * FROM l")
            refresh_order_facts(con)  # rows inserted by hand, as `etl refresh` does after them
    return store


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("segment_defaults") / "cdp.duckdb")


def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns)


def test_the_last_purchase_day_is_the_last_day_with_a_purchase(shop):
    (row,) = rows_of(shop, """
        SELECT last_purchase_day() AS purchases, last_purchase_day(['cancelled']) AS cancelled,
            last_purchase_day(['refunded']) AS refunded,
            last_purchase_day(['placed', 'paid', 'fulfilled', 'refunded', 'cancelled']) AS any_status,
            last_purchase_day(['paid']) AS paid, last_purchase_day(['placed']) AS placed
    """)  # fmt: skip
    # a later cancelled or refunded order moves it only when its status is asked for; the buyerless order never
    assert row == {
        "purchases": LAST, "cancelled": date(2024, 6, 1), "refunded": date(2024, 6, 2),
        "any_status": date(2024, 6, 2), "paid": LAST, "placed": date(2024, 5, 10),
    }  # fmt: skip


def test_rfm_without_observation_end_is_rfm_up_to_the_last_purchase_day(shop):
    got = segment.run("rfm", store=shop)
    assert got.equals(segment.run("rfm", {"observation_end": LAST}, store=shop))
    assert not got.equals(segment.run("rfm", {"observation_end": date(2024, 6, 2)}, store=shop))
    assert got.select("customer_id", "recency_days", "frequency", "monetary").to_dicts() == [
        {"customer_id": A, "recency_days": 3, "frequency": 3, "monetary": 55.0},
        {"customer_id": B, "recency_days": 0, "frequency": 2, "monetary": 60.0},
        {"customer_id": D, "recency_days": 119, "frequency": 1, "monetary": 100.0},
    ]
    with duckdb.connect(str(shop), read_only=True) as con:  # the store's own macros, as an analyst's SQL sees them
        assert con.sql("SELECT * FROM rfm()").pl().equals(got)
        assert con.sql("SELECT * FROM rfm(DATE '2024-05-13')").pl().equals(got)  # positional, as before
        assert con.sql("SELECT * FROM rfm(observation_end := DATE '2024-05-13')").pl().equals(got)


def test_rfm_of_other_statuses_defaults_to_their_last_day(shop):
    frame, values = segment.run_with_parameters("rfm", {"statuses": "cancelled"}, store=shop)
    assert values == {"observation_end": date(2024, 6, 1), "statuses": ["cancelled"]}
    assert frame.select("customer_id", "recency_days").to_dicts() == [
        {"customer_id": B, "recency_days": 19},
        {"customer_id": C, "recency_days": 0},
    ]
    with duckdb.connect(str(shop), read_only=True) as con:
        assert con.sql("SELECT * FROM rfm(statuses := ['cancelled'])").pl().equals(frame)


# A parameter each needs besides its date (bought_product_within: a product), as Python and as the macro's
EXTRA = {"bought_product_within": ({"product": "p1"}, "product := 'p1'"), "churn_risk": ({"days": 30}, "days := 30")}
WITH_STORE_DEFAULTS = [
    s.name for s in segment_catalog.catalog().values() if any(p.store_default for p in s.parameters)
]  # fmt: skip


def test_the_segments_with_a_date_default_to_the_last_purchase_day():
    dated = {s.name for s in segment_catalog.catalog().values() if any(p.type == "DATE" for p in s.parameters)}
    events = {"abandoned_browse", "abandoned_cart", "event_count", "viewed_category"}  # their window: every event
    assert set(WITH_STORE_DEFAULTS) == dated - events and len(WITH_STORE_DEFAULTS) == 11
    for name in WITH_STORE_DEFAULTS:
        assert not any(p.required for p in segment_catalog.get(name).parameters)


@pytest.mark.parametrize("name", WITH_STORE_DEFAULTS)
def test_a_default_is_the_same_from_python_the_command_line_and_sql(shop, etl, name):
    params, macro_args = EXTRA.get(name, ({}, ""))
    frame, values = segment.run_with_parameters(name, params, store=shop)
    assert frame.height > 0
    resolved = {p.name: values[p.name] for p in segment_catalog.get(name).parameters if p.store_default}
    assert resolved == ({"start": LAST - timedelta(days=6)} if name == "bought_product_within"
                        else {"observation_end": LAST})  # fmt: skip
    # the rows are those of the values given, and of the SQL's own default (run() passes NULL to the SQL)
    assert in_order(frame).equals(in_order(segment.run(name, {**params, **resolved}, store=shop)))
    assert in_order(frame).equals(in_order(segment.run(name, params, store=shop)))
    with duckdb.connect(str(shop), read_only=True) as con:
        macro = con.sql(f"SELECT * FROM {name}({macro_args})").pl()  # noqa: S608 (the test's own names)
        assert in_order(macro).equals(in_order(frame))
    ran = etl("segment", "run", name, *(f"--param={k}={v}" for k, v in params.items()), "--json", "--store", str(shop))
    assert ran.code == 0, ran.stderr
    assert len(ran.stdout.splitlines()) == frame.height


def test_a_given_date_is_used_as_given(shop):
    frame, values = segment.run_with_parameters("churn_risk", {"observation_end": "2024-06-30"}, store=shop)
    assert values == {"observation_end": date(2024, 6, 30), "days": 90, "statuses": ["placed", "paid", "fulfilled"]}
    assert frame.select("customer_id", "days_since_last_purchase").to_dicts() == [
        {"customer_id": D, "days_since_last_purchase": 167}
    ]


@pytest.mark.parametrize(
    ("params", "start", "bought"),
    [
        ({"product": "p1"}, date(2024, 5, 7), {B: 1}),  # b2 on 13 May; b1 (20 April) is before the week
        ({"product": "p1", "days": 30}, date(2024, 4, 14), {B: 2}),
        ({"product": "p2"}, date(2024, 5, 7), {A: 1}),  # a2 placed; b2's p2 is cancelled
        ({"product_category": "Home", "days": 200}, date(2023, 10, 27), {D: 1}),  # a0 is older
        ({"product": "p1", "start": "2024-02-26"}, date(2024, 2, 26), {A: 1}),  # given: used as given
    ],
)  # fmt: skip
def test_bought_product_within_defaults_to_the_days_up_to_the_last_purchase_day(shop, params, start, bought):
    frame, values = segment.run_with_parameters("bought_product_within", params, store=shop)
    assert values["start"] == start
    assert dict(frame.select("customer_id", "orders").iter_rows()) == bought


def test_category_interest_defaults_to_every_purchase_up_to_the_last_purchase_day(shop):
    frame, values = segment.run_with_parameters("category_interest", store=shop)
    assert values["since"] is None and values["observation_end"] == LAST
    assert frame.select("customer_id", "category", "orders", "value").to_dicts() == [
        {"customer_id": A, "category": "Home", "orders": 1, "value": 5.0},  # a0, of 2022: the whole history
        {"customer_id": A, "category": "Men", "orders": 2, "value": 50.0},
        {"customer_id": B, "category": "Men", "orders": 2, "value": 60.0},
        {"customer_id": D, "category": "Home", "orders": 1, "value": 100.0},
    ]
    since = segment.run("category_interest", {"since": "2024-01-01"}, store=shop)
    assert since.select("customer_id", "category").rows() == [(A, "Men"), (B, "Men"), (D, "Home")]


def test_geo_counts_orders_up_to_the_last_purchase_day(shop):
    frame = segment.run("geo", store=shop)
    # C's orders (cancelled, refunded) are after the last purchase day; given a later day, they count
    assert frame.select("customer_id", "country", "orders").rows() == [(A, "DE", 3), (B, "PL", 2), (D, "DE", 1)]
    later = segment.run("geo", {"observation_end": "2024-06-30"}, store=shop)
    assert later.select("customer_id", "country", "orders").rows()[-2:] == [(C, "FR", 2), (D, "DE", 1)]


NO_PURCHASE = [o for o in ORDERS if o[0] in {"c1", "c2", "n1"}]  # cancelled, refunded, no buyer


@pytest.mark.parametrize("orders", [[], NO_PURCHASE], ids=["empty", "no-purchase"])
def test_a_store_without_purchases_has_no_default_and_no_rows(tmp_path, orders):
    store = write_store(tmp_path / "cdp.duckdb", orders)
    for name in WITH_STORE_DEFAULTS:
        params, macro_args = EXTRA.get(name, ({}, ""))
        frame, values = segment.run_with_parameters(name, params, store=store)
        assert frame.height == 0, name
        assert all(values[p.name] is None for p in segment_catalog.get(name).parameters if p.store_default), name
        assert rows_of(store, f"SELECT count(*) AS n FROM {name}({macro_args})") == [{"n": 0}]  # noqa: S608
    assert rows_of(store, "SELECT last_purchase_day() AS day") == [{"day": None}]
    if orders:  # a status asked for makes its orders purchases again
        assert segment.run("rfm", {"statuses": "cancelled"}, store=store)["customer_id"].to_list() == [C]


def test_the_defaults_show_in_the_list_and_the_help(etl):
    listing = etl("segment", "list")
    assert listing.code == 0
    assert "observation_end=None" not in listing.stdout and "start=None, days=7" not in listing.stdout
    assert "last purchase day" in listing.stdout
    text = " ".join(etl("segment", "run", "--help").stdout.split())
    assert "defaults to the store's last purchase day (UTC)" in text
    for s in segment_catalog.catalog().values():
        for p in s.parameters:
            if p.store_default:
                assert p.default is None and p.store_default.phrase in p.help


def test_a_store_of_the_previous_version_gets_the_new_macros(tmp_path):
    """An existing store whose macros want observation_end (as the previous version installed them) is read with
    the new ones (TEMP macros) at once, and has them itself after its next write connection (the schema stamp)."""
    store = write_store(tmp_path / "cdp.duckdb")
    with duckdb.connect(str(store)) as con:
        con.execute("UPDATE store_meta SET value = 'the previous version' WHERE key = 'schema_stamp'")
        con.execute("DROP MACRO last_purchase_day")
        for name in ("rfm", "customer_summary"):
            con.execute(f"CREATE OR REPLACE MACRO {name}(observation_end) AS TABLE SELECT observation_end AS day")
    with pytest.raises(duckdb.BinderException):
        rows_of(store, "SELECT * FROM rfm()")
    assert segment.run("customer_summary", store=store).height == 3  # TEMP macros, on a read-only connection
    assert segment.run("average_order_value_by_segment", store=store).height > 0  # it calls rfm()

    with connect(store, read_only=False):  # an import's, or any write connection
        pass

    assert rows_of(store, "SELECT count(*) AS n, min(recency_days) AS r FROM rfm()") == [{"n": 3, "r": 0}]
    assert rows_of(store, "SELECT last_purchase_day() AS day") == [{"day": LAST}]


def test_the_cli_without_observation_end_prints_rfm_up_to_the_last_purchase_day(etl, shop):
    ran = etl("segment", "run", "rfm", "--json", "--store", str(shop))
    assert ran.code == 0, ran.stderr
    got = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [(r["customer_id"], r["recency_days"]) for r in got] == [(A, 3), (B, 0), (D, 119)]
