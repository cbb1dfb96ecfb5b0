"""Benchmark product imports (issue 17, item 7).

1. 1,000,000 products as JSON lines (kevel_products, Google's fields and three attributes) against DuckDB's own
   read_json of the same file into a table: the floor, the first import into a fresh store and the re-import of
   the same file, each in its own subprocess (bench/harness.py: wall time, peak RSS), in rounds; each step's
   median against the floor's. Targets: first import <= 2.0x, re-import <= 1.5x, peak RSS <= 1.5 GB.
2. A 1 GB Google Merchant RSS feed (google_merchant): its import's wall time, throughput and peak RSS (<= 1.5 GB).
3. The enrichment's cost: category_interest on the kevel_orders bench's store (orders imported from the same
   generator), reading order_lines_enriched with no catalogue and with a catalogue of every product, against the
   same query over line_items alone.

    .venv/bin/python bench/products.py [--products 1000000] [--xml-gb 1] [--orders 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/, on the path above)
    Floor,
    Row,
    Series,
    StepFailed,
    Target,
    checked,
    counted,
    etl_import,
    failed_row,
    floor_and_imports,
    made_once,
    python,
    ratio_rows,
    remove_duckdb_file,
    table,
)

MAX_RSS = 1.5e9
TARGETS = {"first import": Target(2.0, MAX_RSS), "re-import": Target(1.5, MAX_RSS)}  # x floor, peak RSS
CATEGORIES = ["Home > Kitchen > Knives", "Men > Shirts > Short Sleeve", "Women > Dresses", "Kids > Shoes", "Garden"]


def product_frame(n: int):
    import polars as pl

    i = pl.int_range(0, n, eager=True)
    return pl.DataFrame({
        "id": "p" + i.cast(pl.String), "title": "Product " + i.cast(pl.String),
        "description": pl.Series(["A fine product, well made and well priced. " * 3] * n),
        "link": "https://shop.example/p/" + i.cast(pl.String), "image_link": "https://cdn.example/" + i.cast(pl.String),
        "price": ((i % 9000 + 100) / 100).round(2).cast(pl.String) + " EUR",
        "availability": pl.Series(["in_stock", "out_of_stock"] * (n // 2) + ["in_stock"] * (n % 2)),
        "brand": pl.Series(["Acme", "Globex", "Initech", "Umbrella"] * (n // 4) + ["Acme"] * (n % 4)),
        "product_type": pl.Series(CATEGORIES * (n // 5) + CATEGORIES[: n % 5]),
        "item_group_id": "g" + (i // 3).cast(pl.String), "gtin": (4_000_000_000_000 + i).cast(pl.String),
        "condition": pl.Series(["new"] * n), "color": pl.Series(["red", "blue"] * (n // 2) + ["red"] * (n % 2)),
        "size": pl.Series(["M"] * n), "custom_label_0": pl.Series(["summer"] * n), "stock": i % 50, "rating": i % 5,
    })  # fmt: skip


def write_jsonl(path: Path, n: int) -> None:
    product_frame(n).write_ndjson(path)


def write_rss(path: Path, gigabytes: float) -> None:
    """An RSS feed of about `gigabytes`, written a block of items at a time."""
    import polars as pl

    block = product_frame(100_000)
    items = block.select(
        pl.format(
            "<item><g:id>{}</g:id><title>{}</title><description>{}</description><link>{}</link>"
            "<g:image_link>{}</g:image_link><g:price>{}</g:price><g:availability>{}</g:availability>"
            "<g:brand>{}</g:brand><g:product_type>{}</g:product_type><g:item_group_id>{}</g:item_group_id>"
            "<g:gtin>{}</g:gtin><g:condition>{}</g:condition><g:color>{}</g:color><g:size>{}</g:size>"
            "<g:custom_label_0>{}</g:custom_label_0></item>",
            *[
                pl.col(c).cast(pl.String).str.replace_all(">", "&gt;")
                for c in (
                    "id",
                    "title",
                    "description",
                    "link",
                    "image_link",
                    "price",
                    "availability",
                    "brand",
                    "product_type",
                    "item_group_id",
                    "gtin",
                    "condition",
                    "color",
                    "size",
                    "custom_label_0",
                )
            ],
        ).alias("item")  # fmt: skip
    )["item"]
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
                  "<channel><title>Bench</title>\n")  # fmt: skip
        written, round_no = 0, 0
        while written < gigabytes * 1e9:
            text = "\n".join(items.str.replace("<g:id>p", f"<g:id>r{round_no}-p", literal=True))  # unique ids
            out.write(text + "\n")
            written += len(text)
            round_no += 1
        out.write("</channel></rss>\n")


def spec(workdir: Path, source: Path, fmt: str) -> Path:
    path = workdir / f"products-{fmt}.yaml"
    path.write_text(json.dumps({"format": fmt, "source": str(source)}))
    return path


def measure_jsonl(n: int, workdir: Path, rounds: int) -> list[Row] | str:
    """Rounds of the floor, the first import into a fresh store and the re-import: the rows, or the failure."""
    path = workdir / "products.jsonl"
    code = f"import products; from pathlib import Path; products.write_jsonl(Path({str(path)!r}), {n})"
    source = made_once(path, str(n), code)
    floor = Floor(source, "read_json(?)").step(workdir / "products-floor.duckdb")
    imports = spec(workdir, source, "kevel_products")
    try:
        series = floor_and_imports(floor, imports, workdir / "products-bench.duckdb", rounds)
    except StepFailed as failed:
        return failed_row(source.name, failed)

    return ratio_rows(series, TARGETS, counted(source.name, "floor (read_json)", "products"))


def measure_xml(gigabytes: float, workdir: Path) -> str:
    path = workdir / "products.xml"
    code = f"import products; from pathlib import Path; products.write_rss(Path({str(path)!r}), {gigabytes})"
    source = made_once(path, str(gigabytes), code)
    store = workdir / "products-xml.duckdb"
    remove_duckdb_file(store)
    try:
        run = checked("XML feed", etl_import(spec(workdir, source, "google_merchant"), store))
    except StepFailed as failed:
        return f"XML feed: {failed}"
    finally:
        remove_duckdb_file(store)
    report = run.json()
    size = source.stat().st_size
    row = Row(Series.of("XML feed", run), Target(max_rss_bytes=MAX_RSS))
    return (
        f"XML feed ({size / 1e9:.2f} GB, {report['items']:,} items, google_merchant): {run.wall_s:.1f} s, "
        f"{size / 1e6 / run.wall_s:.0f} MB/s, {report['items'] / run.wall_s:,.0f} items/s; peak RSS "
        f"{run.peak_rss_bytes / 1e9:.2f} GB ({row.target.text()}: {row.verdict}); reading the XML into JSON objects "
        f"{report['timings_s'].get('read_validate_stage', 0):.1f} s of it (staging)"
    )


ENRICHMENT = """
import statistics, sys, time
from pathlib import Path
from etl.segments.catalog import get
store = Path(sys.argv[1])
values = {"since": "2000-01-01", "observation_end": "2100-01-01"}
import duckdb
def timed(sql):
    out = []
    for _ in range(3):
        with duckdb.connect(str(store), read_only=True) as con:
            con.execute("SET enable_progress_bar = false")  # on a slow run the bar reached this probe's stdout
            start = time.perf_counter()
            con.execute(sql, {"since": values["since"], "observation_end": values["observation_end"],
                              "statuses": ["placed", "paid", "fulfilled"]}).fetchall()
            out.append(time.perf_counter() - start)
    return statistics.median(out)
body = get("category_interest").body
print(timed(body), timed(body.replace("main.order_lines_enriched", "main.line_items")))
"""


def measure_enrichment(orders: int, workdir: Path, orders_csv: Path | None = None) -> str:
    """`orders_csv`: the kevel_orders bench's file (make bench's), else one of `orders` orders made here."""
    import duckdb

    path = workdir / "products-orders.csv"
    code = (
        "import generate_kevel_orders as g; from pathlib import Path; "
        f"g.generate({orders}, 42, 0.0).write_csv(Path({str(path)!r}))"
    )
    csv = orders_csv or made_once(path, str(orders), code)
    store = workdir / "products-enrich.duckdb"
    remove_duckdb_file(store)
    orders_spec = workdir / "products-orders.yaml"
    orders_spec.write_text(json.dumps({"format": "kevel_orders", "source": str(csv)}))
    checked("enrichment: orders import", etl_import(orders_spec, store))
    probe = python("import sys; sys.path.insert(0, '.'); " + ENRICHMENT, store)
    without = checked("enrichment: category_interest", probe).stdout.split()
    with duckdb.connect(str(store), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT DISTINCT product_id FROM line_items").fetchall()]
    feed = workdir / "products-catalogue.jsonl"
    with feed.open("w") as out:
        for n, product_id in enumerate(ids):
            out.write(json.dumps({"id": product_id, "brand": "Acme", "product_type": CATEGORIES[n % 5]}) + "\n")
    checked("enrichment: catalogue import", etl_import(spec(workdir, feed, "kevel_products"), store))
    with_catalogue = checked("enrichment: category_interest", probe).stdout.split()
    with duckdb.connect(str(store), read_only=True) as con:
        lines = con.execute("SELECT count(*) FROM line_items").fetchall()[0][0]
    remove_duckdb_file(store)
    return (
        f"Enrichment ({lines:,} line items of {orders:,} kevel_orders bench orders; category_interest, median of 3): "
        f"over line_items alone {float(without[1]):.2f} s; over order_lines_enriched with no catalogue "
        f"{float(without[0]):.2f} s, with a catalogue of its {len(ids):,} products {float(with_catalogue[0]):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--xml-gb", type=float, default=1.0)
    parser.add_argument("--orders", type=int, default=1_000_000, help="kevel_orders orders for the enrichment")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR.parent / "data" / "bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(measure(args.products, args.xml_gb, args.orders, args.workdir, args.rounds))


def measure(products: int, xml_gb: float, orders: int, workdir: Path, rounds: int = 3,
            orders_csv: Path | None = None) -> str:  # fmt: skip
    imported = measure_jsonl(products, workdir, rounds)
    lines = [f"Products: {products:,} as JSON lines, median of {rounds} rounds", "",
             imported if isinstance(imported, str) else table(imported)]  # fmt: skip
    lines += ["", measure_xml(xml_gb, workdir) if xml_gb else "", "",
              measure_enrichment(orders, workdir, orders_csv) if orders else ""]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
