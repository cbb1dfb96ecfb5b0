"""Generate a Kevel Audience order CSV from a seed, for `make bench`.

The file looks like a CRM export: 1..4 line items per order (2.5 on average), the
order fields only on each order's first row, ISO-8601 dates with +0100 offsets.
`--changed-fraction` rewrites the line-item status of that share of the orders, so
a re-import of the result updates exactly those orders.

Vectorised with NumPy and Polars: generating 2.5 million rows takes seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

STATUSES = ["placed", "paid", "fulfilled", "refunded", "cancelled"]
CURRENCIES = ["EUR", "USD", "GBP", "PLN", "UAH"]
COUNTRIES = ["France", "Germany", "Portugal", "Ukraine", "Poland", "Spain", ""]
BRANDS = ["Nike", "Adidas", "Puma", "Zara", "Uniqlo", ""]
CATEGORIES = ["Men;Shirts;Short Sleeve Shirts", "Women;Shoes", "Kids;Toys;Lego", "Home;Kitchen"]


def generate(orders: int, seed: int, changed_fraction: float = 0.0) -> pl.DataFrame:
    """One row per line item, in file order."""
    rng = np.random.default_rng(seed)
    items_per_order = rng.integers(1, 5, size=orders)  # 1..4, mean 2.5
    rows = int(items_per_order.sum())
    order_no = np.repeat(np.arange(orders), items_per_order)
    first_row = np.ones(rows, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(items_per_order)[:-1]])
    line_no = np.arange(rows) - np.repeat(starts, items_per_order)
    first_row = line_no == 0

    status_idx = rng.integers(0, len(STATUSES), size=rows)
    if changed_fraction > 0:
        # A separate stream, so the draws below (prices, dates, users...) stay the
        # same as in the unchanged file and only the line-item statuses differ.
        changed_orders = np.random.default_rng([seed, 1]).random(orders) < changed_fraction
        changed_rows = changed_orders[order_no]
        status_idx = np.where(changed_rows, (status_idx + 1) % len(STATUSES), status_idx)

    price = np.round(rng.uniform(1, 300, size=rows), 2)
    quantity = rng.integers(1, 4, size=rows).astype(float)
    li_total = np.round(price * quantity, 2)
    li_tax = np.round(li_total * 0.2, 2)
    order_total = np.bincount(order_no, weights=li_total)[order_no]
    order_tax = np.round(order_total * 0.2, 2)
    created = (
        np.datetime64("2019-01-01T00:00:00") + rng.integers(0, 5 * 365 * 86400, size=orders).astype("timedelta64[s]")
    )[order_no]
    user_no = rng.integers(0, orders // 3 + 1, size=orders)[order_no]
    product_no = rng.integers(0, 50_000, size=rows)

    frame = pl.DataFrame(
        {
            "order_no": order_no,
            "first": first_row,
            "line_no": line_no,
            "status": np.array(STATUSES)[status_idx],
            "li_total": li_total,
            "li_tax": li_tax,
            "quantity": quantity,
            "order_total": np.round(order_total, 2),
            "order_tax": order_tax,
            "created": created.astype("datetime64[ms]"),
            "user_no": user_no,
            "product_no": product_no,
            "currency": np.array(CURRENCIES)[(user_no % len(CURRENCIES))],
            "country": np.array(COUNTRIES)[(user_no % len(COUNTRIES))],
            "brand": np.array(BRANDS)[product_no % len(BRANDS)],
            "category": np.array(CATEGORIES)[product_no % len(CATEGORIES)],
        }
    )
    frame = frame.with_columns(pl.col("country", "brand").replace("", None))
    first = pl.col("first")

    def order_field(expr: pl.Expr) -> pl.Expr:
        return pl.when(first).then(expr).otherwise(None)

    money = lambda c: pl.col(c).round(2).cast(pl.String)  # noqa: E731
    created_iso = pl.col("created").dt.strftime("%Y-%m-%dT%H:%M:%S+0100")
    return frame.select(
        orderId=pl.format("or{}", pl.col("order_no")),
        userIdType=order_field(pl.lit("email")),
        userId=order_field(pl.format("user{}@example.com", pl.col("user_no"))),
        currency=order_field(pl.col("currency")),
        total=order_field(money("order_total")),
        subtotal=order_field((pl.col("order_total") - pl.col("order_tax")).round(2).cast(pl.String)),
        tax=order_field(money("order_tax")),
        shipping=order_field(pl.lit("0")),
        discount=order_field(pl.lit("0")),
        refund=order_field(pl.lit("0")),
        paymentMethod=order_field(pl.lit("Visa")),
        shippingMethod=order_field(pl.lit("UPS")),
        shippingCountry=order_field(pl.col("country")),
        source=order_field(pl.lit("web")),
        promotions=order_field(pl.when(pl.col("order_no") % 7 == 0).then(pl.lit("WINTERSALE;VIP")).otherwise(None)),
        createdAt=order_field(created_iso),
        lastUpdated=order_field(created_iso),
        custom_channel=order_field(pl.lit("crm")),
        lineItem_id=pl.format("li{}-{}", pl.col("order_no"), pl.col("line_no")),
        lineItem_productId=pl.format("p{}", pl.col("product_no")),
        lineItem_name=pl.format("Product {}", pl.col("product_no")),
        lineItem_sku=pl.format("p{}-5", pl.col("product_no")),
        lineItem_brand=pl.col("brand"),
        lineItem_categories=pl.col("category"),
        lineItem_currency=pl.col("currency"),
        lineItem_total=money("li_total"),
        lineItem_subtotal=(pl.col("li_total") - pl.col("li_tax")).round(2).cast(pl.String),
        lineItem_tax=money("li_tax"),
        lineItem_shipping=pl.lit("0"),
        lineItem_discount=pl.lit("0"),
        lineItem_refund=pl.lit("0"),
        lineItem_quantity=pl.col("quantity").cast(pl.String),
        lineItem_adult=pl.lit("false"),
        lineItem_size=pl.lit("M"),
        lineItem_status=pl.col("status"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--changed-fraction", type=float, default=0.0)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    generate(args.orders, args.seed, args.changed_fraction).write_csv(args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
