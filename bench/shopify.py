"""Benchmark `etl import` of a Shopify orders export (issue 16, item 7): a generated 79-column export of
1,000,000 orders (1 to 3 line items each: about 2,000,000 rows) against DuckDB's own read_csv of it into a table.

Steps, each in its own subprocess (bench/harness.py: wall time, peak RSS): the floor, the first import into a fresh
store, and the re-import of the same file. Targets: first import <= 2.0x the floor, re-import <= 1.5x, peak RSS
<= 1.5 GB. Three rounds by default, each step's median against the floor's median.

    .venv/bin/python bench/shopify.py [--orders 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import Floor, Run, StepFailed, Target, floor_and_imports, made_once, ratio_rows, table  # noqa: E402

if TYPE_CHECKING:
    import polars as pl

MAX_RSS_BYTES = 1.5e9
TARGETS = {"first import": Target(2.0, MAX_RSS_BYTES), "re-import": Target(1.5, MAX_RSS_BYTES)}  # x floor, peak RSS

# Shopify's 79 columns, in the order of today's export
HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip", "Billing Province",
    "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street", "Shipping Address1", "Shipping Address2",
    "Shipping Company", "Shipping City", "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone",
    "Notes", "Note Attributes", "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level", "Source",
    "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value",
    "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties",
    "Billing Province Name", "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At",
    "Payment References",
]  # fmt: skip
LINE_LEVEL = {"Name", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
              "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
              "Lineitem fulfillment status", "Vendor", "Lineitem discount"}  # fmt: skip


def export(n: int) -> pl.DataFrame:
    """n orders of 1-3 lines; the order columns on each order's first row only, as Shopify writes them."""
    import polars as pl  # only in the child that writes the file: the bench's own process stays small

    order = pl.int_range(0, n, eager=True).alias("order")
    orders = pl.DataFrame(order).with_columns(lines=(pl.col("order") % 3 + 1))
    rows = orders.select(pl.col("order").repeat_by("lines").explode())
    rows = rows.with_columns(line=pl.int_range(0, pl.len()).over("order"))
    i, line = pl.col("order"), pl.col("line")
    first = line == 0
    s = lambda e: e.cast(pl.String)  # noqa: E731
    # winter and summer offsets in one file, as daylight saving makes them
    offset = pl.when(i % 2 == 0).then(pl.lit(" -0800")).otherwise(pl.lit(" -0700"))
    created = pl.lit("2024-") + s(i % 12 + 1).str.zfill(2) + "-" + s(i % 28 + 1).str.zfill(2) + " 10:00:00" + offset
    price = (i % 50 + 1).cast(pl.Float64) + 0.95
    quantity = i % 3 + 1
    lines_value = (price * quantity) * (i % 3 + 1)
    values = {
        "Name": pl.lit("#") + s(i + 1001),
        "Email": pl.when(i % 10 == 0).then(pl.lit("")).otherwise(pl.lit("buyer") + s(i % 300_000) + "@example.com"),
        "Financial Status": pl.lit("paid"),
        "Paid at": created,
        "Fulfillment Status": pl.lit("fulfilled"),
        "Fulfilled at": created,
        "Accepts Marketing": pl.when(i % 2 == 0).then(pl.lit("yes")).otherwise(pl.lit("no")),
        "Currency": pl.lit("USD"),
        "Subtotal": (lines_value - 1).round(2).cast(pl.String),
        "Shipping": pl.lit("5.00"),
        "Taxes": pl.lit("2.00"),
        "Total": (lines_value - 1 + 7).round(2).cast(pl.String),
        "Discount Code": pl.when(i % 5 == 0).then(pl.lit("SPRING")).otherwise(pl.lit("")),
        "Discount Amount": pl.lit("1.00"),
        "Shipping Method": pl.lit("Standard"),
        "Created at": created,
        "Lineitem quantity": s(quantity),
        "Lineitem name": pl.lit("Product ") + s(i % 997),
        "Lineitem price": s(price),
        "Lineitem sku": pl.when(i % 4 == 0).then(pl.lit("")).otherwise(pl.lit("SKU-") + s(i % 997)),
        "Lineitem requires shipping": pl.lit("true"),
        "Lineitem taxable": pl.lit("true"),
        "Lineitem fulfillment status": pl.lit("fulfilled"),
        "Billing Name": pl.lit("Ann Buyer"),
        "Billing Street": s(i % 900 + 1) + " Main St",
        "Billing City": pl.lit("Portland"),
        "Billing Zip": pl.lit("'97201"),
        "Billing Province": pl.lit("OR"),
        "Billing Country": pl.lit("US"),
        "Shipping Name": pl.lit("Ann Buyer"),
        "Shipping Street": s(i % 900 + 1) + " Main St",
        "Shipping City": pl.when(i % 2 == 0).then(pl.lit("Portland")).otherwise(pl.lit("Salem")),
        "Shipping Zip": pl.lit("'97201"),
        "Shipping Province": pl.lit("OR"),
        "Shipping Country": pl.lit("US"),
        "Notes": pl.when(i % 100 == 0).then(pl.lit("Leave at the door,\nplease")).otherwise(pl.lit("")),
        "Payment Method": pl.lit("Shopify Payments"),
        "Payment Reference": pl.lit("c") + s(i),
        "Refunded Amount": pl.lit("0.00"),
        "Vendor": pl.lit("Acme"),
        "Outstanding Balance": pl.lit("0.00"),
        "Id": s(i + 5_000_000_000),
        "Tags": pl.when(i % 3 == 0).then(pl.lit("vip, wholesale")).otherwise(pl.lit("")),
        "Risk Level": pl.lit("Low"),
        "Source": pl.lit("web"),
        "Lineitem discount": pl.lit("0.00"),
        "Tax 1 Name": pl.lit("State Tax"),
        "Tax 1 Value": pl.lit("2.00"),
        "Phone": pl.when(i % 10 == 0).then(pl.lit("+1 503 555 0100")).otherwise(pl.lit("")),
        "Billing Province Name": pl.lit("Oregon"),
        "Shipping Province Name": pl.lit("Oregon"),
        "Payment ID": pl.lit("c") + s(i),
        "Payment References": pl.lit("c") + s(i),
    }
    columns = []
    for name in HEADER:
        value = values.get(name, pl.lit(""))
        if name not in LINE_LEVEL:
            value = pl.when(first).then(value).otherwise(pl.lit(""))
        columns.append(value.alias(name))
    return rows.select(columns)


def ensure(path: Path, n: int) -> Path:
    return made_once(path, str(n), f"import shopify; shopify.export({n}).write_csv({str(path)!r})")


def measure(n: int, workdir: Path, rounds: int = 3) -> str:
    """Rounds of floor, first import and re-import; each step's median against the floor's median."""
    source = ensure(workdir / "shopify-orders.csv", n)
    spec = workdir / "shopify.yaml"
    spec.write_text(json.dumps({"format": "shopify_orders", "source": str(source)}))
    try:
        series = floor_and_imports(Floor(source).step(workdir / "shopify-floor.duckdb"), spec,
                                   workdir / "shopify-bench.duckdb", rounds)  # fmt: skip
    except StepFailed as failed:
        return f"shopify_orders: {failed}"

    def label(name: str, run: Run) -> str:
        if name == "floor":
            return "floor (read_csv into a table)"
        report = run.json()
        o = report["entities"]["orders"]
        return f"{name} ({report['items']:,} rows; {o['added']:,} added, {o['unchanged']:,} unchanged)"

    heading = f"shopify_orders: {n:,} orders in a 79-column export, median of {rounds} rounds"
    return "\n".join([heading, "", table(ratio_rows(series, TARGETS, label))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three steps; the median counts")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    text = measure(args.orders, args.workdir.resolve(), args.rounds)
    print(text)
    (args.workdir / "shopify-results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
