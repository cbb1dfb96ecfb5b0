"""Benchmark event imports and event segments (issue 18, item 7).

1. 5,000,000 events as one CrossEngage array on one line (crossengage_events: views, carts with a product,
   newsletters; 200,000 people) against DuckDB's own read_json of the same file into a table: the floor, the
   first import into a fresh store and the re-import of the same file, each in its own subprocess
   (bench/harness.py: wall time, peak RSS), in rounds; medians. Targets: first import <= 2.0x, re-import <= 1.5x,
   peak RSS <= 1.5 GB.
2. The event segments over a store of 50,000,000 events (written by SQL, as an import would store them: events
   and their items, 1,000,000 people, orders of a tenth of them): each segment's query time,
   timed inside its process (<= 3 s).

    .venv/bin/python bench/events.py [--events 5000000] [--segment-events 50000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
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
    failed_row,
    floor_and_imports,
    made_once,
    python,
    ratio_rows,
    remove_duckdb_file,
    run,
    table,
)

MAX_RSS = 1.5e9
TARGETS = {"first import": Target(2.0, MAX_RSS), "re-import": Target(1.5, MAX_RSS)}  # x floor, peak RSS
SEGMENT_TARGET_S = 3.0
SEGMENTS = {
    "event_count": {"event_name": "productViewed", "min_events": 20},
    "abandoned_cart": {"hours": 24},
    "abandoned_browse": {"hours": 24, "start": "2024-06-01", "days": 7},
    "viewed_category": {"category_name": "Knives", "min_views": 3},
}


def write_feed(path: Path, n: int) -> None:
    """n events as one JSON array on one line, written a block at a time."""
    import polars as pl

    block = 500_000
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for start in range(0, n, block):
            i = pl.int_range(start, min(n, start + block), eager=True)
            frame = pl.DataFrame({"i": i}).with_columns(
                kind=(pl.col("i") % 4),
                person=(pl.col("i") * 7919 % 200_000).cast(pl.String),
                at=pl.lit("2024-") + (pl.col("i") % 12 + 1).cast(pl.String).str.zfill(2) + "-"
                + (pl.col("i") % 28 + 1).cast(pl.String).str.zfill(2) + "T"
                + (pl.col("i") % 24).cast(pl.String).str.zfill(2) + ":00:00Z",
                product=(pl.col("i") % 5000).cast(pl.String),
            )  # fmt: skip
            c = pl.col
            cart = pl.concat_str(
                [
                    pl.lit('{"event":"cartUpdated","id":"u'),
                    c("person"),
                    pl.lit('","email":"u'),
                    c("person"),
                    pl.lit('@example.com","businessUnit":"DE","timestamp":"'),
                    c("at"),
                    pl.lit('","cart":{"currency":"EUR","total":7.98,"products":[{"id":"P'),
                    c("product"),
                    pl.lit('","sku":"S'),
                    c("product"),
                    pl.lit('","quantity":2,"price":3.99,"name":"Ribbon Lace","category":"Bands"}]},"n":'),
                    c("i").cast(pl.String),
                    pl.lit("}"),
                ]
            )
            newsletter = pl.concat_str(
                [
                    pl.lit('{"event":"Subscribed Newsletter","email":"u'),
                    c("person"),
                    pl.lit('@example.com","businessUnit":"DE","timestamp":"'),
                    c("at"),
                    pl.lit('","source":"web","n":'),
                    c("i").cast(pl.String),
                    pl.lit("}"),
                ]
            )
            view = pl.concat_str(
                [
                    pl.lit('{"event":"productViewed","id":"u'),
                    c("person"),
                    pl.lit('","timestamp":"'),
                    c("at"),
                    pl.lit('","product":{"id":"P'),
                    c("product"),
                    pl.lit('","name":"Ribbon","category":"Bands","price":3.99},"n":'),
                    c("i").cast(pl.String),
                    pl.lit("}"),
                ]
            )
            text = frame.select(
                pl.when(c("kind") == 0).then(cart).when(c("kind") == 1).then(newsletter).otherwise(view).alias("e")
            )["e"]  # fmt: skip
            out.write(("," if start else "") + ",".join(text.to_list()))
        out.write("]\n")


def measure_import(n: int, workdir: Path, rounds: int) -> list[Row] | str:
    """Rounds of the floor, the first import into a fresh store and the re-import: the rows, or the failure."""
    path = workdir / "event_history_20240101000000.json"
    code = f"import events; from pathlib import Path; events.write_feed(Path({str(path)!r}), {n})"
    source = made_once(path, f"{n}-unique", code)
    spec = workdir / "events.yaml"
    spec.write_text(json.dumps({"format": "crossengage_events", "source": str(source)}))
    floor = Floor(source, "read_json(?, format = 'array')").step(workdir / "events-floor.duckdb")
    try:
        series = floor_and_imports(floor, spec, workdir / "events-bench.duckdb", rounds)
    except StepFailed as failed:
        return failed_row(source.name, failed)

    size = source.stat().st_size / 1e9
    return ratio_rows(series, TARGETS, counted(f"{n:,} events", f"floor (read_json, {size:.2f} GB)", "events"))


SEGMENT_STORE = """
import sys
from pathlib import Path
from etl.store import connection as store
n = int(sys.argv[2])
with store.connect(Path(sys.argv[1]), read_only=False) as con:
    con.execute("SET enable_progress_bar = false")
    con.execute('''
        INSERT INTO events BY NAME
        SELECT i + 1 AS event_id,
               CASE i % 4 WHEN 0 THEN 'cartUpdated' WHEN 1 THEN 'Subscribed Newsletter' ELSE 'productViewed' END
                   AS event_type,
               (i * 7919) % 1000000 + 1 AS customer_id,
               TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((i * 104729) % 31536000) AS occurred_at,
               1 AS import_id, 'crossengage_events' AS format, 'external_id' AS user_id_type,
               'u' || ((i * 7919) % 1000000 + 1) AS user_id, '{}'::JSON AS properties, i::UHUGEINT AS event_key
        FROM range(?) AS t(i)''', [n])
    con.execute('''
        INSERT INTO event_items BY NAME
        SELECT event_id, 1 AS position, 'P' || (event_id % 5000) AS product_id,
               CASE WHEN event_id % 3 = 0 THEN 'Knives' ELSE 'Bands' END AS category, 2.0 AS quantity, 3.99 AS price,
               'EUR' AS currency, '{}'::JSON AS attributes, 1 AS import_id
        FROM events WHERE event_type <> 'Subscribed Newsletter' ''')
    con.execute('''
        INSERT INTO orders BY NAME
        SELECT 'o' || i AS order_id, (i * 7) % 1000000 + 1 AS customer_id, 'external_id' AS user_id_type,
               'u' || ((i * 7) % 1000000 + 1) AS user_id, 'EUR' AS currency,
               TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((i * 7877) % 31536000) AS created_at,
               1 AS first_import_id, 1 AS last_import_id
        FROM range(100000) AS t(i)''')
    con.execute('''
        INSERT INTO line_items BY NAME
        SELECT order_id, 1 AS line_no, 'P' || (hash(order_id) % 5000) AS product_id, 'paid' AS status,
               1 AS last_import_id
        FROM orders''')
    con.execute("CHECKPOINT")
print(n)
"""

RUN_SEGMENT = """
import sys, json, time
from etl.segments import run as segment
start = time.monotonic()
got = segment.run(sys.argv[2], json.loads(sys.argv[3]), store=sys.argv[1])
print(json.dumps({"rows": got.height, "query_s": time.monotonic() - start}))
"""


def segment_store(n: int, workdir: Path) -> Path:
    """The store of `n` events the segments (and bench/esputnik_events.py's deletes) run on, made once (StepFailed)."""
    store = workdir / f"events-segments-{n}.duckdb"
    stamp = store.with_suffix(".stamp")
    if not (store.exists() and stamp.exists() and stamp.read_text() == str(n)):
        remove_duckdb_file(store)
        started = time.monotonic()
        checked("building the store", python(SEGMENT_STORE, store, str(n)))
        stamp.write_text(str(n))
        print(f"events bench: a store of {n:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return store


def measure_segments(n: int, workdir: Path) -> str:
    """Each segment's query time over the store of `n` events, timed inside a process of its own."""
    try:
        store = segment_store(n, workdir)
    except StepFailed as failed:
        return failed_row("segments", failed)
    rows, failures = [], []
    for name, params in SEGMENTS.items():
        done = run(python(RUN_SEGMENT, store, name, json.dumps(params)))
        if not done.ok:
            failures.append(failed_row(name, StepFailed(name, done, tail=200)))
            continue
        out = json.loads(done.stdout.strip().splitlines()[-1])
        series = Series(name)
        series.add(done, seconds=out["query_s"])
        rows.append(Row(series, Target(max_s=SEGMENT_TARGET_S), label=f"{name} `{json.dumps(params)}`",
                        cells={"rows": f"{out['rows']:,}"}))  # fmt: skip
    return "\n".join([table(rows, extra=["rows"], seconds="query s"), *failures])


def measure(events: int, segment_events: int, workdir: Path, rounds: int) -> str:
    out = []
    if events:
        imported = measure_import(events, workdir, rounds)
        out += [imported if isinstance(imported, str) else table(imported)]
    if segment_events:
        out += ["", f"Segments over {segment_events:,} events (query time, in a process of its own):", ""]
        out += [measure_segments(segment_events, workdir)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--segment-events", type=int, default=50_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(measure(args.events, args.segment_events, args.workdir.resolve(), args.rounds))


if __name__ == "__main__":
    main()
