"""Benchmark `etl import` of a Kevel order export against DuckDB's own CSV load.

What it measures, each step in a process of its own (bench/harness.py: wall time, and
peak RSS of the process tree):

  floor         DuckDB alone: CREATE TABLE t AS SELECT * FROM read_csv(?) into a fresh file.
                Nothing that reads and stores the same CSV can be much faster, so the
                import is judged as a multiple of this, not in absolute seconds, which
                would depend on the machine.
  first import  `etl import` of the file into a fresh store.
  re-import     the same file again into the same store: nothing should change.
  1% changed    a file from the same seed with 1% of the orders changed: about 1% of
                the orders should be updated.
  transforms    the same orders exported by "another system" (other column names, status
                codes, another date format ...) imported into a fresh store through a spec
                of ten transformation steps that maps them back: at most 15% slower than
                the first import, and storing the same counts.

The steps run in rounds (3 by default), interleaved so that a slow spell of the
machine hits every step alike; each step's median wall time is compared with the floor's
median, and the min-max is shown beside it. This machine's timings vary by 10-15% from
one minute to the next, more than a single run can tell apart from a real change.

Targets: first import <= 2.0x the floor, re-imports <= 1.5x, peak RSS <= 1.5 GB
(10^9 bytes) for every import (the highest of the rounds). The entity counts from `etl import --json` are
checked too, since a fast import that gets the counts wrong is no result.

The input files come from bench/generate_kevel_orders.py with a fixed seed and
are kept in the work directory with a stamp of their parameters, so reruns skip
generation. Then the other benchmarks, each sized by an option (0 skips it): a gzip
from S3 (bench/s3_gzip.py), the suites over 10M line items (bench/validation.py), the
segments (bench/segments.py), users, Shopify, products, events, eSputnik and E-goi
(bench/<name>.py), and the executors (bench/executors.py: the orders and the eSputnik events staged by processes
and a Dask cluster against local). Prints Markdown tables and writes them to <workdir>/results.md.

    .venv/bin/python bench/run.py                   # 1,000,000 orders (~460 MB)
    .venv/bin/python bench/run.py --orders 20000 --rounds 1   # a quick try of the orders alone:
        --s3-gzip-orders 0 --validation-orders 0 --segment-orders 0 --users 0 --shopify-orders 0 \
        --products 0 --events 0 --segment-events 0 --esputnik-events 0 --delete-events 0 --egoi-contacts 0 \
        --executor-workers 0
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from harness import (  # bench/harness.py (the script's folder is on sys.path)
    ETL,
    Floor,
    Row,
    Run,
    Series,
    Step,
    StepFailed,
    Target,
    checked,
    etl_import,
    exit_failed,
    interleave,
    made_once,
    remove_duckdb_file,
    stamp_of,
    table,
)
from segments import measure_segments

BENCH_DIR = Path(__file__).resolve().parent
GENERATOR = BENCH_DIR / "generate_kevel_orders.py"

CHANGED_FRACTION = 0.01
TRANSFORMED = "first import, ten transformation steps"
SAMPLE = "bundled sample (make import's spec), end to end"
SAMPLE_SPEC = BENCH_DIR.parent / "data" / "samples" / "kevel_orders.yaml"
SAMPLE_MAX_S = 2.0  # wall, from the process's start to its end
TRANSFORMS_MAX_EXTRA = 0.15  # the ten-step spec may add at most 15% to a first import
FIRST_IMPORT_MAX_RATIO = 2.0
REIMPORT_MAX_RATIO = 1.5
MAX_RSS_BYTES = 1.5e9


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all four steps; the median counts")
    parser.add_argument(
        "--s3-gzip-orders",
        type=int,
        default=2_200_000,
        help="orders in the gzip file imported from a loopback S3 server (2,200,000: about 1 GB unpacked); 0 skips it",
    )
    parser.add_argument(
        "--validation-orders",
        type=int,
        default=4_000_000,
        help="orders (about 2.5 line items each: 10 million) imported, then validated by etl validate; 0 skips it",
    )
    parser.add_argument("--only-validation", action="store_true", help="run the validation step alone")
    parser.add_argument(
        "--segment-orders", type=int, default=10_000_000, help="orders in the store the segments run on; 0 skips it"
    )
    parser.add_argument("--only-segments", action="store_true", help="run the segments step alone")
    parser.add_argument(
        "--users", type=int, default=1_000_000, help="users for the users benchmark (bench/users.py); 0 skips it"
    )
    parser.add_argument(
        "--shopify-orders", type=int, default=1_000_000,
        help="orders of the Shopify export benchmark (bench/shopify.py); 0 skips it",
    )  # fmt: skip
    parser.add_argument(
        "--products", type=int, default=1_000_000,
        help="products of the product feed benchmark (bench/products.py: JSON lines, XML, the enrichment); 0 skips it",
    )  # fmt: skip
    parser.add_argument("--products-xml-gb", type=float, default=1.0, help="size of its XML feed; 0 skips it")
    parser.add_argument(
        "--events", type=int, default=5_000_000,
        help="events of the event feed benchmark (bench/events.py: a CrossEngage array on one line); 0 skips it",
    )  # fmt: skip
    parser.add_argument("--segment-events", type=int, default=50_000_000,
                        help="events of the store the event segments run on; 0 skips them")  # fmt: skip
    parser.add_argument(
        "--esputnik-events", type=int, default=5_000_000,
        help="events of the eSputnik benchmark (bench/esputnik_events.py: past-event bodies); 0 skips it",
    )  # fmt: skip
    parser.add_argument("--delete-events", type=int, default=50_000_000,
                        help="events of the store a month is deleted from and restored; 0 skips it")  # fmt: skip
    parser.add_argument("--egoi-contacts", type=int, default=100_000,
                        help="contacts of the E-goi benchmark (bench/egoi_contacts.py); 0 skips it")  # fmt: skip
    parser.add_argument("--executor-workers", type=int, default=os.cpu_count() or 2,
                        help="workers of the executors' benchmark (bench/executors.py: the orders and the eSputnik "
                        "events with processes and a Dask cluster against local); 0 skips it")  # fmt: skip
    return parser.parse_args()


# --- input files -------------------------------------------------------------


def ensure_orders_csv(path: Path, orders: int, seed: int, changed_fraction: float) -> Path:
    """The generator's CSV, made again only when its parameters or the generator itself changed."""
    generator_sha = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:16]
    key = json.dumps({"orders": orders, "seed": seed, "changed_fraction": changed_fraction,
                      "generator_sha256": generator_sha})  # fmt: skip
    code = (f"import generate_kevel_orders as g; g.generate({orders}, {seed}, {changed_fraction})"
            f".write_csv({str(path)!r})")  # fmt: skip
    return made_once(path, key, code)


# The same orders as another system might export them: other column names, numeric status
# codes, dates as 31.07.2021 22:53:05 +0100, upper-case emails with spaces, 0/1 flags, a
# column to drop. TEN_STEP_SPEC maps it back to kevel_orders, so its import stores exactly
# what the plain file's does, and the difference in time is what the transformations cost.
STATUS_CODES = {"placed": "1", "paid": "2", "fulfilled": "3", "refunded": "4", "cancelled": "5"}
FOREIGN_DATE = "dd.MM.yyyy HH:mm:ss Z"
STATUS_MAP = json.dumps({code: status for status, code in STATUS_CODES.items()})
TEN_STEP_SPEC = f"""\
format: kevel_orders
source: SOURCE
transforms:
  - rename: {{from: order_ref, to: orderId}}
  - rename: {{from: email, to: userId, lowercase: true, trim: true}}
  - new: {{field: userIdType, value: email}}
  - delete: {{field: internal_note}}
  - rename: {{from: state, to: lineItem_status, map: {STATUS_MAP}}}
  - rename: {{from: created, to: createdAt, timestamp: "{FOREIGN_DATE}"}}
  - rename: {{from: updated, to: lastUpdated, timestamp: "{FOREIGN_DATE}"}}
  - rename: {{from: qty, to: lineItem_quantity, cast: integer}}
  - rename: {{from: price, to: lineItem_total, cast: float}}
  - rename: {{from: adult, to: lineItem_adult, cast: bool}}
"""


def ensure_foreign_csv(orders_csv: Path, path: Path) -> Path:
    """orders_csv rewritten as another system's export (see TEN_STEP_SPEC), once per input."""
    key = json.dumps({"from": stamp_of(orders_csv).read_text(), "spec": TEN_STEP_SPEC})
    code = f"import run; from pathlib import Path as P; run.write_foreign_csv(P({str(orders_csv)!r}), P({str(path)!r}))"
    return made_once(path, key, code)


def write_foreign_csv(orders_csv: Path, partial: Path) -> None:
    import polars as pl  # only here: the bench itself only starts processes

    def foreign_date(column: str) -> pl.Expr:  # 2021-07-31T22:53:05+0100 -> 31.07.2021 22:53:05 +0100
        value = pl.col(column)
        return pl.concat_str(
            value.str.slice(8, 2), pl.lit("."), value.str.slice(5, 2), pl.lit("."), value.str.slice(0, 4),
            pl.lit(" "), value.str.slice(11, 8), pl.lit(" "), value.str.slice(19),
        )  # fmt: skip

    (
        pl.scan_csv(orders_csv, infer_schema=False)
        .with_columns(
            pl.concat_str(pl.lit(" "), pl.col("userId").str.to_uppercase()).alias("userId"),
            pl.col("lineItem_status").replace(STATUS_CODES),
            foreign_date("createdAt").alias("createdAt"),
            foreign_date("lastUpdated").alias("lastUpdated"),
            pl.when(pl.col("lineItem_adult") == "true").then(pl.lit("1")).otherwise(pl.lit("0")).alias("adult"),
            internal_note=pl.lit("checked"),
        )
        .drop("userIdType", "lineItem_adult")
        .rename(
            {
                "orderId": "order_ref",
                "userId": "email",
                "lineItem_status": "state",
                "createdAt": "created",
                "lastUpdated": "updated",
                "lineItem_quantity": "qty",
                "lineItem_total": "price",
            }
        )  # fmt: skip
        .sink_csv(partial)
    )


# --- the steps ---------------------------------------------------------------


def measure_import(name: str, source: Path, store: Path, spec: Path | None = None) -> Run:
    """`etl import` of `source` as kevel_orders (or of `spec`) into `store`; StepFailed unless it exits 0 with
    one JSON object on stdout."""
    command = etl_import(spec, store) if spec else [ETL, "import", "--format", "kevel_orders", "--source", source,
                                                    "--store", store, "--json"]  # fmt: skip
    done = checked(name, command)
    try:
        done.json()
    except json.JSONDecodeError:
        raise StepFailed(f"{name}: stdout is not one JSON object:\n{done.stdout}", done) from None
    return done


def check_counts(report: dict, expect: dict[str, dict[str, object]]) -> list[str]:
    """The entity counts that differ from expectations: an int, or a (low, high) range."""
    problems = []
    for entity, counts in expect.items():
        actual = report.get("entities", {}).get(entity, {})
        for key, wanted in counts.items():
            got = actual.get(key)
            ok = isinstance(got, int) and wanted[0] <= got <= wanted[1] if isinstance(wanted, tuple) else got == wanted
            if not ok:
                problems.append(f"{entity}.{key}={got}, expected {wanted}")
    return problems


def print_counts(name: str, report: dict, problems: list[str]) -> None:
    entities = "; ".join(
        f"{entity} " + " ".join(f"{k}={v:,}" for k, v in counts.items())
        for entity, counts in report.get("entities", {}).items()
    )
    events = " ".join(f"{k}={v:,}" for k, v in report.get("events", {}).items())
    print(
        f"{name}: status={report.get('status')} items={report.get('items')} "
        f"valid={report.get('valid')} rejected={report.get('rejected')} | {entities} "
        f"| events {events} | duration_s={report.get('duration_s')}",
        flush=True,
    )
    for problem in problems:
        print(f"  COUNT CHECK FAILED: {problem}", flush=True)


def gate_s(series: Series) -> str:
    """The quality gate's share of the imports (timings_s: load_suites + validate), median."""
    timings = [done.json().get("timings_s", {}) for done in series.runs]
    return f"{statistics.median(t.get('load_suites', 0) + t.get('validate', 0) for t in timings):.2f}"


def orders_steps(
    args: argparse.Namespace, workdir: Path, orders_csv: Path, changed_csv: Path, foreign_csv: Path
) -> tuple[list[Step], dict[str, list[str]]]:
    """A round's steps: the floor, the bundled sample, a first import into a fresh store, its re-import, the 1%
    changed file, and a first import of the foreign file through the ten-step spec; and the problems their count
    checks find, by step (filled as they run)."""
    problems: dict[str, list[str]] = defaultdict(list)
    store = workdir / "store.duckdb"
    spec = workdir / "ten_steps.yaml"
    spec.write_text(TEN_STEP_SPEC.replace("SOURCE", str(foreign_csv)), encoding="utf-8")
    floor_rows = 0

    def floor() -> Run:
        nonlocal floor_rows
        done = Floor(orders_csv).measure(workdir / "floor.duckdb")
        floor_rows = int(done.stdout.strip())
        print(f"floor: {floor_rows:,} rows in {done.wall_s:.2f} s", flush=True)
        return done

    def imported(name: str, source: Path, expect: Callable[[], dict], spec: Path | None = None,
                 fresh: Path | None = None) -> Step:  # fmt: skip
        def measure() -> Run:
            if fresh:
                remove_duckdb_file(fresh)
            done = measure_import(name, source, fresh or store, spec)
            report = done.json()
            found = check_counts(report, expect())
            if name == TRANSFORMED and report.get("rejected"):
                found.append(f"rejected={report['rejected']}, expected 0")
            problems[name] += found
            print_counts(name, report, found)
            return done

        return Step(name, measure)

    n, updates = args.orders, args.orders * CHANGED_FRACTION  # updates: binomial; allowed +-20%
    new = lambda: {"orders": {"added": n, "updated": 0}, "line_items": {"added": floor_rows, "updated": 0}}  # noqa: E731
    same = lambda: {"orders": {"added": 0, "updated": 0, "unchanged": n}, "line_items": {"added": 0, "updated": 0}}  # noqa: E731
    some = lambda: {"orders": {"added": 0, "updated": (int(updates * 0.8), int(updates * 1.2))},  # noqa: E731
                    "line_items": {"added": 0}}  # fmt: skip
    steps = [
        Step("floor (DuckDB read_csv)", floor),
        imported(SAMPLE, SAMPLE_SPEC, lambda: {"orders": {"added": 4}}, SAMPLE_SPEC, fresh=workdir / "sample.duckdb"),
        imported("first import", orders_csv, new, fresh=store),
        imported("re-import, same file", orders_csv, same),
        imported("re-import, 1% changed", changed_csv, some),
        imported(TRANSFORMED, foreign_csv, new, spec, fresh=store),
    ]
    return steps, problems


def measure_orders(args: argparse.Namespace, workdir: Path) -> tuple[Path, str]:
    """The orders' rounds: the kevel_orders CSV (for the benchmarks after) and the text of their figures."""
    orders_csv = ensure_orders_csv(workdir / "orders.csv", args.orders, args.seed, 0.0)
    changed_csv = ensure_orders_csv(workdir / "orders_changed.csv", args.orders, args.seed, CHANGED_FRACTION)
    foreign_csv = ensure_foreign_csv(orders_csv, workdir / "orders_foreign.csv")
    steps, problems = orders_steps(args, workdir, orders_csv, changed_csv, foreign_csv)
    announce = lambda number: print(f"\n-- round {number} of {args.rounds}", flush=True)  # noqa: E731
    series = interleave(steps, args.rounds, before_round=announce)
    floor, sample, first, again, changed, transformed = series.values()
    rss = MAX_RSS_BYTES

    def row(s: Series, target: Target, reference: Series | None = floor) -> Row:
        return Row(s, target, reference, problems=problems.get(s.name, []), cells={"gate s": gate_s(s)})

    rows = [
        Row(floor, reference=floor),
        row(first, Target(FIRST_IMPORT_MAX_RATIO, rss)),
        row(again, Target(REIMPORT_MAX_RATIO, rss)),
        row(changed, Target(REIMPORT_MAX_RATIO, rss)),
    ]
    rows_read = int(floor.last.stdout.strip())
    heading = f"{args.orders:,} orders, {rows_read:,} rows, seed {args.seed}, median of {args.rounds} rounds"
    sampled = row(sample, Target(max_s=SAMPLE_MAX_S), reference=None)
    sample_line = (f"{SAMPLE}: {sample.median_s:.2f} s (min-max {sample.spread}, of which the gate {gate_s(sample)} s) "
                   f"(target {sampled.target.text()}) {sampled.verdict}")  # fmt: skip
    ten = row(transformed, Target(1 + TRANSFORMS_MAX_EXTRA, rss), reference=first)
    transforms_line = (
        f"{TRANSFORMED}: {transformed.median_s:.2f} s (min-max {transformed.spread}, peak RSS "
        f"{transformed.peak_rss_bytes / 1e9:.2f} GB) against the first import's {first.median_s:.2f} s: "
        f"{ten.ratio - 1:+.1%} (target <= +{TRANSFORMS_MAX_EXTRA:.0%}, <= {rss / 1e9:.1f} GB) {ten.verdict}"
    )
    return orders_csv, "\n\n".join([heading, table(rows, extra=["gate s"]), sample_line, transforms_line])


def bench(name: str) -> ModuleType:
    """A bench/ module beside this file, imported only when it runs (E-goi's brings pytest along)."""
    return importlib.import_module(name)


def main() -> None:
    args = parse_args()
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    def orders_csv(path: str, orders: int) -> Path:
        return ensure_orders_csv(workdir / path, orders, args.seed, 0.0)

    def validation() -> str:  # 10 million line items by default
        return bench("validation").measure(orders_csv("orders_10m_lines.csv", args.validation_orders), workdir,
                                           MAX_RSS_BYTES)  # fmt: skip

    try:
        if args.only_validation or args.only_segments:
            return print(validation() if args.only_validation else measure_segments(args.segment_orders, workdir))
        orders, orders_text = measure_orders(args, workdir)
        s3 = bench("s3_gzip").measure if args.s3_gzip_orders else None
        # a failed step of the orders, S3, validation or segments ends the bench (exit 1); the modules after them
        # show theirs as a line of their figures and go on
        parts = [
            orders_text,
            s3(orders_csv("orders_large.csv", args.s3_gzip_orders), workdir, MAX_RSS_BYTES) if s3 else "",
            validation() if args.validation_orders else "",
            measure_segments(args.segment_orders, workdir) if args.segment_orders else "",
            bench("users").measure(args.users, workdir, args.rounds) if args.users else "",
            bench("shopify").measure(args.shopify_orders, workdir, args.rounds) if args.shopify_orders else "",
            bench("products").measure(args.products, args.products_xml_gb, args.orders, workdir, args.rounds, orders)
            if args.products else "",
            bench("events").measure(args.events, args.segment_events, workdir, args.rounds)
            if args.events or args.segment_events else "",
            bench("esputnik_events").measure(args.esputnik_events, args.delete_events, workdir, args.rounds)
            if args.esputnik_events or args.delete_events else "",
            bench("egoi_contacts").measure(args.egoi_contacts) if args.egoi_contacts else "",
            bench("executors").measure(orders_csv("orders.csv", args.orders), args.esputnik_events, workdir,
                                       args.rounds, args.executor_workers, args.orders)
            if args.executor_workers and args.esputnik_events else "",
        ]  # fmt: skip
    except StepFailed as failed:
        exit_failed(failed)
    text = "\n\n".join(parts)
    print(f"\n{text}")
    (workdir / "results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
