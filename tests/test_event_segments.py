"""Segments on events (issue 18): event_count, abandoned_cart, abandoned_browse and viewed_category, each
compared with an independent Polars computation over the same generated events and orders."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from conftest import kevel_row, write_csv

from etl.pipeline.importer import run_import
from etl.segments import run as segment
from etl.spec import validate_spec

START = datetime(2024, 3, 1, tzinfo=UTC)
PRODUCTS = [f"P{i}" for i in range(8)]
CATEGORY = {p: ("Knives" if i % 3 == 0 else "Bands") for i, p in enumerate(PRODUCTS)}


def generated(seed: int = 11) -> tuple[list[dict], list[dict]]:
    """Events of 30 people over 20 days (views, carts, newsletters) and the orders of some of them."""
    rng = random.Random(seed)
    events, orders = [], []
    for n in range(600):
        person = f"u{rng.randrange(30)}"
        at = START + timedelta(minutes=rng.randrange(20 * 24 * 60))
        kind = rng.choice(["productViewed", "productViewed", "cartUpdated", "Subscribed Newsletter"])
        event = {"event": kind, "id": person, "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if kind == "productViewed":
            product = rng.choice(PRODUCTS)
            event["product"] = {"id": product, **({"category": CATEGORY[product]} if rng.random() < 0.5 else {})}
        elif kind == "cartUpdated":
            picked = rng.sample(PRODUCTS, rng.randrange(0, 3))
            event["cart"] = {"currency": "EUR", "products": [{"id": p, "quantity": 1 + rng.randrange(2), "price": 5.0}
                                                              for p in picked]}  # fmt: skip
        else:
            event["source"] = rng.choice(["web", "shop"])
        events.append(event)
        if rng.random() < 0.12:
            order_at = at + timedelta(hours=rng.choice([1, 5, 30, 80]))
            orders.append({"order_id": f"o{n}", "person": person, "at": order_at, "product": rng.choice(PRODUCTS)})
    return events, orders


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("event_segments")
    events, orders = generated()
    (folder / "events.json").write_text(json.dumps(events))
    store = folder / "cdp.duckdb"
    run_import(validate_spec({"format": "crossengage_events", "source": str(folder / "events.json")}, "s"), store)
    rows = [kevel_row(o["order_id"], userIdType="external_id", userId=o["person"], lineItem_productId=o["product"],
                      createdAt=o["at"].strftime("%Y-%m-%dT%H:%M:%SZ")) for o in orders]  # fmt: skip
    write_csv(folder / "orders.csv", rows)
    run_import(validate_spec({"format": "kevel_orders", "source": str(folder / "orders.csv")}, "s"), store)
    products = [{"id": p, "product_type": f"Home > {CATEGORY[p]}"} for p in PRODUCTS]
    (folder / "products.jsonl").write_text("".join(json.dumps(p) + "\n" for p in products))
    run_import(validate_spec({"format": "kevel_products", "source": str(folder / "products.jsonl")}, "s"), store)
    frame = pl.DataFrame(
        [
            {
                "person": e["id"],
                "type": e["event"],
                "at": datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
                "source": e.get("source"),
                "items": [
                    {"product": p["id"], "category": p.get("category")}
                    for p in (e.get("cart", {}).get("products") or ([e["product"]] if "product" in e else []))
                ],
            }
            for e in events
        ]  # fmt: skip
    )
    return store, frame, pl.DataFrame(orders), pl.DataFrame(products)


def people(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["person"].unique().to_list())


def ids(got: pl.DataFrame) -> list[str]:
    return sorted(got["user_id"].to_list())


@pytest.mark.parametrize(
    "params",
    [
        {"event_name": "productViewed", "min_events": 9},
        {"event_name": "cartUpdated", "min_events": 2, "start": "2024-03-05", "days": 7},
        {"event_name": "Subscribed Newsletter", "min_events": 2, "property_name": "source", "property_value": "web"},
    ],
)
def test_event_count_matches_a_reference(data, params):
    store, events, _, _ = data
    chosen = events.filter(pl.col("type") == params["event_name"])
    if "start" in params:
        start = datetime.fromisoformat(params["start"]).replace(tzinfo=UTC)
        chosen = chosen.filter((pl.col("at") >= start) & (pl.col("at") < start + timedelta(days=params["days"])))
    if "property_name" in params:
        chosen = chosen.filter(pl.col(params["property_name"]) == params["property_value"])
    counts = chosen.group_by("person").len().filter(pl.col("len") >= params["min_events"])
    got = segment.run("event_count", params, store=store)
    assert ids(got) == people(counts) and counts.height > 0
    assert dict(zip(got["user_id"], got["events"], strict=True)) == dict(counts.iter_rows())


def test_abandoned_cart_matches_a_reference(data):
    store, events, orders, _ = data
    carts = events.filter(pl.col("type") == "cartUpdated")
    last = carts.sort("at").group_by("person").last().filter(pl.col("items").list.len() > 0)  # not emptied
    hours = timedelta(hours=24)
    bought = last.join(orders, on="person", how="left").filter(
        (pl.col("at_right") >= pl.col("at")) & (pl.col("at_right") <= pl.col("at") + hours)
    )
    expected = sorted(set(last["person"]) - set(bought["person"]))
    got = segment.run("abandoned_cart", {"hours": 24}, store=store)
    assert ids(got) == expected and 0 < len(expected) < last.height


def test_abandoned_browse_matches_a_reference(data):
    store, events, orders, _ = data
    items = (
        events.explode("items")
        .filter(pl.col("items").is_not_null())
        .with_columns(product=pl.col("items").struct.field("product"))
    )
    views = items.filter(pl.col("type") == "productViewed").select("person", "product", "at")
    follow = pl.concat([
        items.filter(pl.col("type") == "cartUpdated").select("person", "product", "at"),
        orders.select("person", "product", "at"),
    ])  # fmt: skip
    hours = timedelta(hours=6)
    followed = views.join(follow, on=["person", "product"], how="left").filter(
        (pl.col("at_right") >= pl.col("at")) & (pl.col("at_right") <= pl.col("at") + hours)
    )
    abandoned = views.join(followed.select("person", "product", "at").unique(), on=["person", "product", "at"],
                           how="anti")  # fmt: skip
    expected = abandoned.group_by("person").agg(pl.col("product").unique().sort().alias("products"))
    got = segment.run("abandoned_browse", {"hours": 6}, store=store)
    assert ids(got) == people(expected)
    assert {r["user_id"]: r["products"] for r in got.to_dicts()} == dict(expected.iter_rows())
    assert views.height > abandoned.height > 0


@pytest.mark.parametrize("min_views", [1, 4])
def test_viewed_category_matches_a_reference(data, min_views):
    """Knives by the viewed item's category where it names one, else by the catalogue's (Home > Knives)."""
    store, events, _, _ = data
    views = (
        events.filter(pl.col("type") == "productViewed")
        .explode("items")
        .with_columns(product=pl.col("items").struct.field("product"))
    )
    knives = views.filter(pl.col("product").replace_strict(CATEGORY) == "Knives")
    counts = knives.group_by("person").len().filter(pl.col("len") >= min_views)
    got = segment.run("viewed_category", {"category_name": "Knives", "min_views": min_views}, store=store)
    assert ids(got) == people(counts) and counts.height > 0
    assert dict(zip(got["user_id"], got["views"], strict=True)) == dict(counts.iter_rows())
