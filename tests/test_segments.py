"""Segments against independent computations in Polars, on generated data with the edge cases."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from etl.segments import run as segment
from etl.segments.run import SegmentError
from etl.store.connection import connect, refresh_order_facts

OBSERVATION_END = date(2024, 6, 30)
PURCHASE = ["placed", "paid", "fulfilled"]
CATEGORIES = {"p1": ["Men", "Shirts"], "p2": ["Men", "Socks"], "p3": ["Home", "Kitchen"], "p4": ["Women", "Coats"]}
CUSTOMER: dict[str, int] = {}  # "type:id" of the generated buyers -> their customer_id, numbered as they appear


def generated(seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Orders and line items: 150 random customers, plus the edge cases by name."""
    rng = random.Random(seed)
    orders, lines = [], []

    def order(customer: str, at: datetime, items: list[tuple[str, str, float, float]]) -> None:
        order_id = f"o{len(orders) + 1}"
        city = rng.choice(["Berlin", "Paris", "Kraków", None])
        id_type, _, id_value = customer.partition(":")
        orders.append({
            "order_id": order_id, "customer_id": CUSTOMER.setdefault(customer, len(CUSTOMER) + 1),
            "user_id_type": id_type, "user_id": id_value, "created_at": at,
            "shipping_country": rng.choice(["DE", "FR", "PL", " ", None]),
            "custom_fields": json.dumps({"city": city, "channel": "web"}) if city else None,
        })  # fmt: skip
        for line_no, (product, status, total, quantity) in enumerate(items, start=1):
            lines.append({
                "order_id": order_id, "line_no": line_no, "product_id": product, "status": status,
                "total": total, "quantity": quantity, "category": " > ".join(CATEGORIES[product]),
                "categories": CATEGORIES[product],
            })  # fmt: skip

    for n in range(150):
        customer = f"email:c{n}@example.com"
        for _ in range(rng.choice([1, 1, 2, 3, 5, 8])):
            at = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 600))
            items = [
                (rng.choice(list(CATEGORIES)), rng.choice(PURCHASE * 3 + ["cancelled", "refunded"]),
                 round(rng.uniform(1, 200), 2), float(rng.randint(1, 3)))
                for _ in range(rng.randint(1, 3))
            ]  # fmt: skip
            order(customer, at, items)
    day = datetime(2024, 3, 10, 9, tzinfo=UTC)
    order("single:one-purchase", day, [("p1", "paid", 50.0, 1.0)])
    order("twice:same-day", day, [("p1", "paid", 10.0, 1.0)])
    order("twice:same-day", day + timedelta(hours=5), [("p2", "paid", 30.0, 1.0)])
    order("twice:same-day", day + timedelta(days=20), [("p3", "fulfilled", 7.0, 1.0)])
    order("late:after-end", day, [("p1", "paid", 20.0, 1.0)])
    order("late:after-end", datetime(2024, 7, 1, 0, 30, tzinfo=UTC), [("p1", "paid", 999.0, 1.0)])
    order("cancelled:only", day, [("p1", "cancelled", 80.0, 1.0)])
    order("mixed:statuses", day, [("p1", "paid", 15.0, 1.0), ("p2", "refunded", 40.0, 1.0)])
    order("mixed:statuses", day + timedelta(days=3), [("p4", "cancelled", 60.0, 1.0)])
    order("late:evening", datetime(2024, 6, 30, 23, 59, tzinfo=UTC), [("p2", "placed", 5.0, 2.0)])
    return orders, lines


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, pl.DataFrame, pl.DataFrame]:
    orders, lines = generated()
    orders_frame = pl.DataFrame(orders)
    lines_frame = pl.DataFrame(lines)
    store = tmp_path_factory.mktemp("segments") / "cdp.duckdb"
    with connect(store, read_only=False) as con:
        con.register("o", orders_frame.to_arrow())
        con.register("l", lines_frame.to_arrow())
        con.execute("INSERT INTO orders BY NAME SELECT * FROM o")
        con.execute("INSERT INTO line_items BY NAME SELECT * FROM l")
        refresh_order_facts(con)  # rows inserted by hand, as `etl refresh` does after them
    return store, orders_frame, lines_frame


def purchases(orders: pl.DataFrame, lines: pl.DataFrame, end: date, statuses=PURCHASE) -> pl.DataFrame:
    values = lines.filter(pl.col("status").is_in(statuses)).group_by("order_id").agg(value=pl.col("total").sum())
    return (
        orders.join(values, on="order_id")
        .with_columns(day=pl.col("created_at").dt.convert_time_zone("UTC").dt.date())
        .filter(pl.col("day") <= end)
    )


def rows(frame: pl.DataFrame) -> list[dict]:
    return frame.sort(frame.columns[0]).to_dicts()


def test_purchases_are_orders_with_a_counted_line_item(data):
    store, orders, lines = data
    expected = purchases(orders, lines, OBSERVATION_END).select("order_id", "customer_id", "day", "value")
    got = segment.run("purchases", {"observation_end": "2024-06-30"}, store=store)
    got_rows, expected_rows = rows(got.select(expected.columns)), rows(expected)
    assert len(got_rows) == len(expected_rows) > 300
    for g, e in zip(got_rows, expected_rows, strict=True):
        assert g == pytest.approx(e)
    ids = set(got["order_id"])
    assert not ids & set(orders.filter(pl.col("customer_id") == CUSTOMER["cancelled:only"])["order_id"])


def test_customer_summary_matches_lifetimes_definitions(data):
    store, orders, lines = data
    days = purchases(orders, lines, OBSERVATION_END).group_by("customer_id", "day").agg(v=pl.col("value").sum())
    expected = (
        days.sort("day")
        .group_by("customer_id")
        .agg(
            n=pl.len(),
            first=pl.col("day").first(),
            last=pl.col("day").last(),
            total=pl.col("v").sum(),
            first_v=pl.col("v").first(),
        )  # fmt: skip
        .select(
            "customer_id",
            frequency=(pl.col("n") - 1).cast(pl.Float64),
            recency=(pl.col("last") - pl.col("first")).dt.total_days().cast(pl.Float64),
            T=(pl.lit(OBSERVATION_END) - pl.col("first")).dt.total_days().cast(pl.Float64),
            monetary_value=pl.when(pl.col("n") > 1)
            .then((pl.col("total") - pl.col("first_v")) / (pl.col("n") - 1))
            .otherwise(0.0),
        )
    )
    got = segment.run("customer_summary", {"observation_end": OBSERVATION_END}, store=store)
    assert got.columns == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert len(got) == len(expected) > 100
    for g, e in zip(rows(got), rows(expected), strict=True):
        assert g == pytest.approx(e)

    by_customer = {r["customer_id"]: r for r in rows(got)}
    single = CUSTOMER["single:one-purchase"]
    assert by_customer[single] == {
        "customer_id": single, "frequency": 0.0, "recency": 0.0, "T": 112.0, "monetary_value": 0.0
    }  # fmt: skip
    # two orders on one day are one purchase day; the repeat day's value is the only one averaged
    assert by_customer[CUSTOMER["twice:same-day"]] == {
        "customer_id": CUSTOMER["twice:same-day"], "frequency": 1.0, "recency": 20.0, "T": 112.0, "monetary_value": 7.0
    }  # fmt: skip
    assert by_customer[CUSTOMER["late:after-end"]]["frequency"] == 0.0  # the July order is after observation_end
    assert CUSTOMER["cancelled:only"] not in by_customer  # a cancelled order is not a purchase
    assert (
        by_customer[CUSTOMER["mixed:statuses"]]["frequency"] == 0.0
    )  # the refunded line does not count; the cancelled order neither
    assert by_customer[CUSTOMER["late:evening"]]["T"] == 0.0  # 23:59 UTC on the last day counts


def rfm_reference(orders, lines, end, statuses=PURCHASE) -> pl.DataFrame:
    """RFM in Polars, with the segment map written as the usual regular expressions over "RF"."""
    per_customer = (
        purchases(orders, lines, end, statuses)
        .group_by("customer_id")
        .agg(
            recency_days=(pl.lit(end) - pl.col("day").max()).dt.total_days(),
            frequency=pl.len(),
            monetary=pl.col("value").sum(),
        )  # fmt: skip
    )
    n = len(per_customer)

    def score(rank: pl.Expr) -> pl.Expr:
        percent = (rank - 1) / (n - 1) if n > 1 else rank * 0
        return pl.min_horizontal(pl.lit(5), (1 + (5 * percent).floor())).cast(pl.Int32)

    scored = per_customer.with_columns(
        r_score=score(pl.col("recency_days").rank("min", descending=True)),
        f_score=score(pl.col("frequency").rank("min")),
        m_score=score(pl.col("monetary").rank("min")),
    )
    grid = {
        r"[1-2][1-2]": "hibernating", r"[1-2][3-4]": "at_risk", r"[1-2]5": "cant_lose_them",
        r"3[1-2]": "about_to_sleep", r"33": "need_attention", r"[3-4][4-5]": "loyal_customers",
        r"41": "promising", r"51": "new_customers", r"[4-5][2-3]": "potential_loyalists", r"5[4-5]": "champions",
    }  # fmt: skip

    def named(rf: str) -> str:
        (name,) = [name for pattern, name in grid.items() if re.fullmatch(pattern, rf)]
        return name

    return scored.with_columns(
        rfm=pl.format("{}{}{}", "r_score", "f_score", "m_score"),
        segment=pl.format("{}{}", "r_score", "f_score").map_elements(named, return_dtype=pl.String),
    )


def test_rfm_scores_and_segments_match_a_reference(data):
    store, orders, lines = data
    expected = rfm_reference(orders, lines, OBSERVATION_END)
    got = segment.run("rfm", {"observation_end": "2024-06-30"}, store=store)
    money = pl.col("monetary").round(6)
    assert rows(
        got.with_columns(pl.col("recency_days").cast(pl.Int64), pl.col("frequency").cast(pl.UInt32), money)
    ) == rows(expected.select(got.columns).with_columns(money))
    assert set(got["segment"]) >= {"champions", "hibernating", "at_risk"}
    assert sorted(got["r_score"].unique()) == [1, 2, 3, 4, 5]


def test_rfm_counts_other_statuses_when_asked(data):
    store, orders, lines = data
    got = segment.run("rfm", {"observation_end": "2024-06-30", "statuses": "cancelled"}, store=store)
    assert CUSTOMER["cancelled:only"] in set(got["customer_id"])
    assert rows(got.select("customer_id", "frequency")) == rows(
        rfm_reference(orders, lines, OBSERVATION_END, ["cancelled"])
        .select("customer_id", pl.col("frequency").cast(pl.Int64))
    )  # fmt: skip


@pytest.mark.parametrize(
    ("params", "matches"),
    [
        ({"start": "2024-03-10", "product": "p1"}, pl.col("product_id") == "p1"),
        ({"start": "2024-03-10", "days": "30", "product_category": "Socks"},
         pl.col("categories").list.contains("Socks")),
        ({"start": "2023-06-01", "days": "90", "product_category": "Home > Kitchen"},
         pl.col("category") == "Home > Kitchen"),
    ],
)  # fmt: skip
def test_bought_product_within_matches_a_reference(data, params, matches):
    store, orders, lines = data
    start = date.fromisoformat(params["start"])
    end = start + timedelta(days=int(params.get("days", 7)))
    bought = (
        lines.filter(matches & pl.col("status").is_in(PURCHASE))
        .join(orders, on="order_id")
        .with_columns(day=pl.col("created_at").dt.date())
        .filter((pl.col("day") >= start) & (pl.col("day") < end))
    )
    expected = bought.group_by("customer_id").agg(
        orders=pl.col("order_id").n_unique().cast(pl.Int64), quantity=pl.col("quantity").sum(),
        value=pl.col("total").sum(),
    )  # fmt: skip
    got = segment.run("bought_product_within", params, store=store)
    assert len(got) > 0
    got_rows, expected_rows = rows(got.select("customer_id", "orders", "quantity", "value")), rows(expected)
    assert len(got_rows) == len(expected_rows)
    for g, e in zip(got_rows, expected_rows, strict=True):
        assert g == pytest.approx(e)


def test_churn_risk_matches_a_reference(data):
    store, orders, lines = data
    expected = (
        purchases(orders, lines, OBSERVATION_END)
        .group_by("customer_id")
        .agg(days=(pl.lit(OBSERVATION_END) - pl.col("day").max()).dt.total_days())
        .filter(pl.col("days") > 60)
    )
    got = segment.run("churn_risk", {"observation_end": "2024-06-30", "days": 60}, store=store)
    assert sorted(got["customer_id"]) == sorted(expected["customer_id"]) and len(got) > 10
    assert CUSTOMER["single:one-purchase"] in set(got["customer_id"])  # 112 days


def test_category_interest_matches_a_reference(data):
    store, orders, lines = data
    since = date(2024, 1, 1)
    bought = (
        lines.filter(pl.col("status").is_in(PURCHASE))
        .join(orders, on="order_id")
        .with_columns(day=pl.col("created_at").dt.date(), category=pl.col("categories").list.first())
        .filter(pl.col("day").is_between(since, OBSERVATION_END))
    )
    expected = (
        bought.group_by("customer_id", "category")
        .agg(
            orders=pl.col("order_id").n_unique().cast(pl.Int64),
            quantity=pl.col("quantity").sum(),
            value=pl.col("total").sum(),
        )  # fmt: skip
        .with_columns(share=pl.col("value") / pl.col("value").sum().over("customer_id"))
    )
    got = segment.run("category_interest", {"since": "2024-01-01", "observation_end": "2024-06-30"}, store=store)
    key = ["customer_id", "category"]
    got_rows, expected_rows = got.sort(key).to_dicts(), expected.sort(key).to_dicts()
    assert len(got_rows) == len(expected_rows) > 50
    for g, e in zip(got_rows, expected_rows, strict=True):
        assert g == pytest.approx(e)
    shares = got.group_by("customer_id").agg(pl.col("share").sum())["share"]
    assert shares.to_list() == pytest.approx([1.0] * len(shares))


def test_average_order_value_per_customer_and_per_segment(data):
    store, orders, lines = data
    per_order = purchases(orders, lines, OBSERVATION_END)
    expected = per_order.group_by("customer_id").agg(
        purchases=pl.len().cast(pl.Int64), value=pl.col("value").sum(), average_order_value=pl.col("value").mean()
    )
    got = segment.run("average_order_value", {"observation_end": "2024-06-30"}, store=store)
    for g, e in zip(rows(got), rows(expected), strict=True):
        assert g == pytest.approx(e)
    segments = rfm_reference(orders, lines, OBSERVATION_END).join(expected, on="customer_id")
    by_segment = segments.group_by("segment").agg(
        customers=pl.len().cast(pl.Int64), average_order_value=pl.col("value").sum() / pl.col("purchases").sum()
    )
    got_by_segment = segment.run("average_order_value_by_segment", {"observation_end": "2024-06-30"}, store=store)
    for g, e in zip(rows(got_by_segment.select(by_segment.columns)), rows(by_segment), strict=True):
        assert g == pytest.approx(e)


def test_geo_takes_the_most_used_country_and_city(data):
    store, orders, _ = data
    counted = orders.filter(pl.col("created_at").dt.date() <= OBSERVATION_END).with_columns(
        country=pl.col("shipping_country").str.strip_chars().replace("", None),
        city=pl.col("custom_fields").str.json_path_match("$.city"),
    )

    def most_used(column: str) -> pl.DataFrame:
        return (
            counted.filter(pl.col(column).is_not_null())
            .group_by("customer_id", column)
            .agg(n=pl.len(), latest=pl.col("created_at").max())
            .sort("n", "latest", descending=True)
            .group_by("customer_id", maintain_order=True)
            .first()
            .select("customer_id", column)
        )

    expected = (
        counted.group_by("customer_id")
        .agg(orders=pl.len().cast(pl.Int64))
        .join(most_used("country"), on="customer_id", how="left")
        .join(most_used("city"), on="customer_id", how="left")
    )
    got = segment.run("geo", {"observation_end": "2024-06-30"}, store=store)
    assert rows(got.select("customer_id", "orders", "country", "city")) == rows(
        expected.select("customer_id", "orders", "country", "city")
    )
    assert got["city"].null_count() > 0 and got["country"].null_count() < len(got)


def test_ltv_matches_a_reference(data):
    store, orders, lines = data
    counted = orders.filter(pl.col("created_at").dt.date() <= OBSERVATION_END)
    per_order = purchases(orders, lines, OBSERVATION_END)
    refunded = (
        lines.filter(pl.col("status") == "refunded")
        .join(counted, on="order_id")
        .group_by("customer_id")
        .agg(refunded=pl.col("total").sum())
    )
    expected = (
        per_order.group_by("customer_id")
        .agg(purchases=pl.len().cast(pl.Int64), value=pl.col("value").sum(), first=pl.col("day").min())
        .join(refunded, on="customer_id", how="left")
        .with_columns(
            refunded=pl.col("refunded").fill_null(0.0),
            tenure_days=(pl.lit(OBSERVATION_END) - pl.col("first")).dt.total_days(),
        )
        .with_columns(value_per_year=pl.col("value") / pl.max_horizontal(pl.col("tenure_days"), 1) * 365.25)
        .select("customer_id", "purchases", "value", "tenure_days", "value_per_year", "refunded")
    )
    got = segment.run("ltv", {"observation_end": "2024-06-30"}, store=store)
    for g, e in zip(rows(got.select(expected.columns)), rows(expected), strict=True):
        assert g == pytest.approx(e)


def test_segments_are_table_macros_for_ad_hoc_sql(data):
    store, _, _ = data
    with connect(store, read_only=True) as con:
        macro = con.sql("SELECT * FROM rfm(DATE '2024-06-30') ORDER BY customer_id").pl()
        python = segment.run("rfm", {"observation_end": "2024-06-30"}, con=con)
        money = pl.col("monetary").round(6)  # sums of doubles: the order of additions may differ
        assert macro.with_columns(money).equals(python.with_columns(money))
        only_paid = con.sql("SELECT count(*) FROM customer_summary(DATE '2024-06-30', statuses := ['paid'])")
        assert (
            only_paid.fetchall()[0][0]
            == segment.run("customer_summary", {"observation_end": "2024-06-30", "statuses": ["paid"]}, con=con).height
        )


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("rfn", {}, "no segment named 'rfn' (did you mean 'rfm'?)"),
        ("viewed_category", {}, "segment viewed_category needs the parameter category_name (VARCHAR)"),
        ("rfm", {"observation_end": "2024-06-31"},
         "parameter observation_end: expected a DATE (e.g. 2024-12-31), got "),
        ("rfm", {"observation_end": "2024-06-30", "status": "paid"},
         "has no parameter 'status' (did you mean 'statuses'?)"),
        ("churn_risk", {"observation_end": "2024-06-30", "days": "ninety"}, "parameter days: expected a INTEGER"),
        ("bought_product_within", {"start": "2024-03-10"}, "needs exactly one of: product, product_category"),
    ],
)  # fmt: skip
def test_parameter_errors_are_clear(data, name, params, message):
    store, _, _ = data
    with pytest.raises(SegmentError) as error:
        segment.run(name, params, store=store)
    assert message in str(error.value)


def test_a_parameter_is_bound_not_pasted(data):
    store, _, _ = data
    sneaky = "p1' OR 1=1 --"
    assert segment.run("bought_product_within", {"start": "2023-01-01", "days": 999, "product": sneaky},
                       store=store).height == 0  # fmt: skip


def test_every_segment_file_has_its_header(data):
    for s in segment.catalog().values():
        assert s.grain and s.summary
        assert "Example: etl segment run " + s.name in s.header
        assert s.body.startswith("WITH ")  # CTE style: import CTEs, logical CTEs, a final select


def test_etl_segment_run_writes_csv_parquet_and_json(etl, data, tmp_path):
    store, _, _ = data
    listing = etl("segment", "list")
    assert listing.code == 0 and "customer_summary" in listing.stdout and "churn_risk" in listing.stdout
    shown = etl("segment", "show", "rfm")
    assert shown.code == 0 and shown.stdout.startswith("-- Segment: rfm")

    base = ["segment", "run", "rfm", "--param", "observation_end=2024-06-30", "--store", str(store)]
    assert etl(*base, "--out", str(tmp_path / "rfm.parquet")).code == 0
    assert etl(*base, "--out", str(tmp_path / "rfm.csv")).code == 0
    as_json = etl(*base, "--json")
    assert as_json.code == 0
    from_json = [json.loads(line) for line in as_json.stdout.splitlines()]
    from_parquet = pl.read_parquet(tmp_path / "rfm.parquet")
    assert len(from_json) == from_parquet.height == pl.read_csv(tmp_path / "rfm.csv").height
    assert from_json[0] == from_parquet.row(0, named=True)

    wrong = etl("segment", "run", "rfm", "--param", "observation_end", "--store", str(store))
    assert wrong.code == 2 and "expected KEY=VALUE" in wrong.stderr
    missing = etl("segment", "run", "viewed_category", "--store", str(store))
    assert missing.code == 1 and "needs the parameter category_name" in missing.stderr
