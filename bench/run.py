"""Benchmark `etl import` of a Kevel order export against DuckDB's own CSV load.

What it measures, each step in its own subprocess (wall time, and peak RSS from
`os.wait4`, which is that process's own high-water mark):

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

The four steps run in rounds (3 by default), interleaved so that a slow spell of the
machine hits every step alike; each step's median wall time is compared with the floor's
median, and the min-max is shown beside it. This machine's timings vary by 10-15% from
one minute to the next, more than a single run can tell apart from a real change.

Targets: first import <= 2.0x the floor, re-imports <= 1.5x, peak RSS <= 1.5 GB
(10^9 bytes) for every import (the highest of the rounds). The entity counts from `etl import --json` are
checked too, since a fast import that gets the counts wrong is no result.

The input files come from bench/generate_kevel_orders.py with a fixed seed and
are kept in the work directory with a stamp of their parameters, so reruns skip
generation. Prints a Markdown table and writes it to <workdir>/results.md.

    .venv/bin/python bench/run.py                   # 1,000,000 orders (~460 MB)
    .venv/bin/python bench/run.py --orders 20000 --rounds 1   # a quick try
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from segments import measure_segments  # bench/segments.py (the script's folder is on sys.path)

BENCH_DIR = Path(__file__).resolve().parent
GENERATOR = BENCH_DIR / "generate_kevel_orders.py"
ETL = Path(sys.executable).parent / "etl"

CHANGED_FRACTION = 0.01
TRANSFORMED = "first import, ten transformation steps"
SAMPLE = "bundled sample (make import's spec), end to end"
SAMPLE_SPEC = BENCH_DIR.parent / "data" / "samples" / "kevel_orders.yaml"
SAMPLE_MAX_S = 2.0  # wall, from the process's start to its end
TRANSFORMS_MAX_EXTRA = 0.15  # the ten-step spec may add at most 15% to a first import
FIRST_IMPORT_MAX_RATIO = 2.0
REIMPORT_MAX_RATIO = 1.5
MAX_RSS_BYTES = 1.5e9

FLOOR_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[2]])
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
"""


@dataclass
class Run:
    """One finished subprocess: its wall time, peak RSS and output."""

    wall_s: float
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Step:
    name: str
    run: Run
    max_ratio: float | None = None  # None: the floor, which is the reference
    report: dict = field(default_factory=dict)  # parsed `etl import --json`
    problems: list[str] = field(default_factory=list)  # failed count checks


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
    return parser.parse_args()


# --- input files -------------------------------------------------------------


def generator_stamp(orders: int, seed: int, changed_fraction: float) -> str:
    """The parameters a file was made with, and the generator's own hash."""
    generator_sha = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:16]
    return json.dumps(
        {
            "orders": orders,
            "seed": seed,
            "changed_fraction": changed_fraction,
            "generator_sha256": generator_sha,
        }
    )


def ensure_orders_csv(path: Path, orders: int, seed: int, changed_fraction: float) -> Path:
    """Generate the CSV unless it is already there with the same stamp."""
    stamp_path = path.with_suffix(".stamp")
    stamp = generator_stamp(orders, seed, changed_fraction)
    if path.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
        print(f"reusing {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)
        return path
    stamp_path.unlink(missing_ok=True)
    partial = path.with_suffix(".csv.partial")
    subprocess.run(
        [
            sys.executable,
            GENERATOR,
            partial,
            "--orders",
            str(orders),
            "--seed",
            str(seed),
            "--changed-fraction",
            str(changed_fraction),
        ],
        check=True,
    )
    partial.replace(path)
    stamp_path.write_text(stamp)
    return path


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
    """orders_csv rewritten as another system's export (see TEN_STEP_SPEC), once per input.

    In a process of its own: a child forked from a parent that held the data would report
    the parent's memory as its own peak RSS.
    """
    stamp_path = path.with_suffix(".stamp")
    stamp = json.dumps({"from": orders_csv.with_suffix(".stamp").read_text(), "spec": TEN_STEP_SPEC})
    if path.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
        print(f"reusing {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)
        return path
    partial = path.with_suffix(".csv.partial")
    subprocess.run([sys.executable, __file__, "--make-foreign", orders_csv, partial], check=True)
    partial.replace(path)
    stamp_path.write_text(stamp)
    return path


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


# --- measuring ---------------------------------------------------------------


def run_measured(command: list[str | Path]) -> Run:
    """Run a command, returning its wall time and its own peak RSS (ru_maxrss)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall_s, usage.ru_maxrss * 1024, process.returncode, out.read(), err.read())


def generate_in_child(code: str) -> None:
    """Run Python `code` (with bench/ on the path) in a child process: a benchmark's input is generated there, as
    Linux hands a parent's peak RSS down to the processes it starts (ru_maxrss), so generating it in the bench's
    own process would show in every step's figure."""
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); {code}"], check=True)


def remove_duckdb_file(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def exit_if_failed(name: str, run: Run) -> None:
    if run.returncode != 0:
        print(f"\n{name} failed with exit code {run.returncode}", file=sys.stderr)
        print(run.stderr, file=sys.stderr)
        sys.exit(1)


def measure_floor(csv_path: Path, db_path: Path) -> tuple[Step, int]:
    """DuckDB's plain CSV load into a fresh file; returns the step and its row count."""
    remove_duckdb_file(db_path)
    run = run_measured([sys.executable, "-c", FLOOR_SCRIPT, db_path, csv_path])
    exit_if_failed("floor", run)
    remove_duckdb_file(db_path)
    return Step("floor (DuckDB read_csv)", run), int(run.stdout.strip())


def measure_import(name: str, csv_path: Path, store: Path, max_ratio: float, spec: Path | None = None) -> Step:
    command: list[str | Path] = [ETL, "import"]
    command += [spec] if spec else ["--format", "kevel_orders", "--source", csv_path]
    command += ["--store", store, "--json"]
    run = run_measured(command)
    exit_if_failed(name, run)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(f"\n{name}: stdout is not one JSON object:\n{run.stdout}", file=sys.stderr)
        print(run.stderr, file=sys.stderr)
        sys.exit(1)
    return Step(name, run, max_ratio, report)


# --- checks and the table ----------------------------------------------------


def check_counts(step: Step, expect: dict[str, dict[str, object]]) -> None:
    """Compare entity counts with expectations: an int, or a (low, high) range."""
    for entity, counts in expect.items():
        actual = step.report.get("entities", {}).get(entity, {})
        for key, wanted in counts.items():
            got = actual.get(key)
            ok = isinstance(got, int) and wanted[0] <= got <= wanted[1] if isinstance(wanted, tuple) else got == wanted
            if not ok:
                step.problems.append(f"{entity}.{key}={got}, expected {wanted}")


def print_counts(step: Step) -> None:
    report = step.report
    entities = "; ".join(
        f"{entity} " + " ".join(f"{k}={v:,}" for k, v in counts.items())
        for entity, counts in report.get("entities", {}).items()
    )
    events = " ".join(f"{k}={v:,}" for k, v in report.get("events", {}).items())
    print(
        f"{step.name}: status={report.get('status')} items={report.get('items')} "
        f"valid={report.get('valid')} rejected={report.get('rejected')} | {entities} "
        f"| events {events} | duration_s={report.get('duration_s')}",
        flush=True,
    )
    for problem in step.problems:
        print(f"  COUNT CHECK FAILED: {problem}", flush=True)


@dataclass
class Measured:
    """One step over every round: the median wall time decides, the spread is shown."""

    name: str
    steps: list[Step]
    max_ratio: float | None

    @property
    def wall_s(self) -> float:
        return statistics.median(s.run.wall_s for s in self.steps)

    @property
    def spread(self) -> str:
        walls = [s.run.wall_s for s in self.steps]
        return f"{min(walls):.2f}-{max(walls):.2f}"

    @property
    def peak_rss_bytes(self) -> int:
        return max(s.run.peak_rss_bytes for s in self.steps)

    @property
    def problems(self) -> list[str]:
        return [p for s in self.steps for p in s.problems]

    @property
    def gate_s(self) -> str:
        """The quality gate's share of the import (timings_s: load_suites + validate), median."""
        shares = [
            s.report.get("timings_s", {}).get("load_suites", 0) + s.report.get("timings_s", {}).get("validate", 0)
            for s in self.steps
            if s.report
        ]
        return f"{statistics.median(shares):.2f}" if shares else "-"


def verdict(measured: Measured, floor_s: float) -> tuple[str, str]:
    """(target, result) columns for one row of the table."""
    if measured.max_ratio is None:
        return "reference", "-"
    target = f"<= {measured.max_ratio:.1f}x, <= {MAX_RSS_BYTES / 1e9:.1f} GB"
    failed = []
    if measured.wall_s / floor_s > measured.max_ratio:
        failed.append("time")
    if measured.peak_rss_bytes > MAX_RSS_BYTES:
        failed.append("RSS")
    if measured.problems:
        failed.append("counts")
    return target, f"FAIL ({', '.join(failed)})" if failed else "pass"


def results_table(rows: list[Measured]) -> str:
    floor_s = rows[0].wall_s
    lines = [
        "| step | wall s (median) | min-max | peak RSS GB | x floor | gate s | target | result |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        target, result = verdict(row, floor_s)
        lines.append(
            f"| {row.name} | {row.wall_s:.2f} | {row.spread} | {row.peak_rss_bytes / 1e9:.2f} "
            f"| {row.wall_s / floor_s:.2f} | {row.gate_s} | {target} | {result} |"
        )
    return "\n".join(lines)


# --- main --------------------------------------------------------------------


def run_round(
    args: argparse.Namespace, workdir: Path, orders_csv: Path, changed_csv: Path, foreign_csv: Path
) -> tuple[list[Step], int]:
    """floor, first import into a fresh store, re-import, 1% changed, and a first import of the
    foreign file through the ten-step spec: one of each; and the row count."""
    floor, rows = measure_floor(orders_csv, workdir / "floor.duckdb")
    print(f"floor: {rows:,} rows in {floor.run.wall_s:.2f} s", flush=True)

    sample_store = workdir / "sample.duckdb"
    remove_duckdb_file(sample_store)
    sample = measure_import(SAMPLE, SAMPLE_SPEC, sample_store, 0.0, spec=SAMPLE_SPEC)
    check_counts(sample, {"orders": {"added": 4}})
    print_counts(sample)

    store = workdir / "store.duckdb"
    remove_duckdb_file(store)
    first = measure_import("first import", orders_csv, store, FIRST_IMPORT_MAX_RATIO)
    check_counts(
        first,
        {
            "orders": {"added": args.orders, "updated": 0},
            "line_items": {"added": rows, "updated": 0},
        },
    )
    print_counts(first)

    again = measure_import("re-import, same file", orders_csv, store, REIMPORT_MAX_RATIO)
    check_counts(
        again,
        {
            "orders": {"added": 0, "updated": 0, "unchanged": args.orders},
            "line_items": {"added": 0, "updated": 0},
        },
    )
    print_counts(again)

    changed = measure_import("re-import, 1% changed", changed_csv, store, REIMPORT_MAX_RATIO)
    expected_updates = args.orders * CHANGED_FRACTION  # binomial; allow +-20%
    check_counts(
        changed,
        {
            "orders": {
                "added": 0,
                "updated": (int(expected_updates * 0.8), int(expected_updates * 1.2)),
            },
            "line_items": {"added": 0},
        },
    )
    print_counts(changed)

    spec = workdir / "ten_steps.yaml"
    spec.write_text(TEN_STEP_SPEC.replace("SOURCE", str(foreign_csv)), encoding="utf-8")
    remove_duckdb_file(store)
    transformed = measure_import(TRANSFORMED, foreign_csv, store, FIRST_IMPORT_MAX_RATIO, spec=spec)
    check_counts(
        transformed,
        {
            "orders": {"added": args.orders, "updated": 0},
            "line_items": {"added": rows, "updated": 0},
        },
    )
    if transformed.report.get("rejected"):
        transformed.problems.append(f"rejected={transformed.report['rejected']}, expected 0")
    print_counts(transformed)
    return [floor, first, again, changed, transformed, sample], rows


def main() -> None:
    if sys.argv[1:2] == ["--make-foreign"]:
        write_foreign_csv(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    args = parse_args()
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if args.only_validation:
        print(measure_validation(args, workdir))
        return
    if args.only_segments:
        print(measure_segments(args.segment_orders, workdir))
        return
    orders_csv = ensure_orders_csv(workdir / "orders.csv", args.orders, args.seed, 0.0)
    changed_csv = ensure_orders_csv(workdir / "orders_changed.csv", args.orders, args.seed, CHANGED_FRACTION)
    foreign_csv = ensure_foreign_csv(orders_csv, workdir / "orders_foreign.csv")

    rounds = []
    for number in range(1, args.rounds + 1):
        print(f"\n-- round {number} of {args.rounds}", flush=True)
        steps, rows = run_round(args, workdir, orders_csv, changed_csv, foreign_csv)
        rounds.append(steps)
    measured = [Measured(steps[0].name, list(steps), steps[0].max_ratio) for steps in zip(*rounds, strict=True)]
    heading = f"{args.orders:,} orders, {rows:,} rows, seed {args.seed}, median of {args.rounds} rounds"
    table = results_table(measured[:4])
    first, transformed = measured[1], measured[4]
    extra = transformed.wall_s / first.wall_s - 1
    within = extra <= TRANSFORMS_MAX_EXTRA and transformed.peak_rss_bytes <= MAX_RSS_BYTES
    verdict_text = "pass" if within and not transformed.problems else "FAIL"
    transforms_line = (
        f"{TRANSFORMED}: {transformed.wall_s:.2f} s (min-max {transformed.spread}, peak RSS "
        f"{transformed.peak_rss_bytes / 1e9:.2f} GB) against the first import's {first.wall_s:.2f} s: "
        f"{extra:+.1%} (target <= +{TRANSFORMS_MAX_EXTRA:.0%}, <= {MAX_RSS_BYTES / 1e9:.1f} GB) {verdict_text}"
    )
    sample = measured[5]
    sample_ok = sample.wall_s <= SAMPLE_MAX_S and not sample.problems
    sample_line = (
        f"{SAMPLE}: {sample.wall_s:.2f} s (min-max {sample.spread}, of which the gate {sample.gate_s} s) "
        f"(target <= {SAMPLE_MAX_S:.1f} s) {'pass' if sample_ok else 'FAIL'}"
    )
    s3_line = measure_s3_gzip(args, workdir) if args.s3_gzip_orders else ""
    validation_line = measure_validation(args, workdir) if args.validation_orders else ""
    segments_line = measure_segments(args.segment_orders, workdir) if args.segment_orders else ""
    users_table = ""
    if args.users:
        from users import measure as measure_users  # bench/users.py, beside this file

        users_table = measure_users(args.users, workdir, args.rounds)
    shopify_table = ""
    if args.shopify_orders:
        from shopify import measure as measure_shopify  # bench/shopify.py, beside this file

        shopify_table = measure_shopify(args.shopify_orders, workdir, args.rounds)
    products_table = ""
    if args.products:
        from products import measure as measure_products  # bench/products.py, beside this file

        products_table = measure_products(args.products, args.products_xml_gb, args.orders, workdir, args.rounds,
                                          orders_csv)  # fmt: skip
    events_table = ""
    if args.events or args.segment_events:
        from events import measure as measure_events  # bench/events.py, beside this file

        events_table = measure_events(args.events, args.segment_events, workdir, args.rounds)
    esputnik_table = ""
    if args.esputnik_events or args.delete_events:
        from esputnik_events import measure as measure_esputnik  # bench/esputnik_events.py, beside this file

        esputnik_table = measure_esputnik(args.esputnik_events, args.delete_events, workdir, args.rounds)
    egoi_table = ""
    if args.egoi_contacts:
        from egoi_contacts import measure as measure_egoi  # bench/egoi_contacts.py, beside this file

        egoi_table = measure_egoi(args.egoi_contacts)
    parts = [heading, table, sample_line, transforms_line, s3_line, validation_line, segments_line, users_table,
             shopify_table, products_table, events_table, esputnik_table, egoi_table]  # fmt: skip
    text = "\n\n".join(parts)
    print(f"\n{text}")
    (workdir / "results.md").write_text(text + "\n")


# --- the expectation suites over 10 million line items ----------------------------

VALIDATION_MAX_SHARE = 0.25  # validating may take at most a quarter of the import's time


def measure_validation(args: argparse.Namespace, workdir: Path) -> str:
    """Import ~10 million line items into a fresh store, then run the line_items suite over them
    with `etl validate --no-docs` (the gate, as imports run it): wall time and peak RSS of each."""
    csv_path = ensure_orders_csv(workdir / "orders_10m_lines.csv", args.validation_orders, args.seed, 0.0)
    store = workdir / "validation.duckdb"
    remove_duckdb_file(store)
    imported = measure_import("import", csv_path, store, 0.0)
    lines = imported.report["entities"]["line_items"]["added"]
    timings = imported.report.get("timings_s", {})
    run = run_measured([ETL, "validate", "--entity", "line_items", "--store", store, "--json", "--no-docs"])
    if run.returncode not in (0, 1):
        exit_if_failed("etl validate", run)
    result = json.loads(run.stdout)
    share = run.wall_s / imported.run.wall_s
    ok = share <= VALIDATION_MAX_SHARE and run.peak_rss_bytes <= MAX_RSS_BYTES
    remove_duckdb_file(store)
    return (
        f"validating {lines:,} line items ({result['checked']} expectations of line_items.json, etl validate): "
        f"{run.wall_s:.2f} s, peak RSS {run.peak_rss_bytes / 1e9:.2f} GB, against their import's "
        f"{imported.run.wall_s:.2f} s (peak RSS {imported.run.peak_rss_bytes / 1e9:.2f} GB, of which the suites "
        f"inside the import: {timings.get('validate', 0):.2f} s, plus {timings.get('load_suites', 0):.2f} s loading "
        f"them): {share:.1%} (target <= {VALIDATION_MAX_SHARE:.0%}, <= {MAX_RSS_BYTES / 1e9:.1f} GB) "
        f"{'pass' if ok else 'FAIL'}"
    )


# --- a large gzip file from S3 ----------------------------------------------------

MOTO_SERVER = """
import sys, time
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]))
server.start()
print("ready", flush=True)
time.sleep(10**9)
"""

UPLOAD = """
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="bench", aws_secret_access_key="bench",
                  region_name="us-east-1")
s3.create_bucket(Bucket="bench")
s3.upload_file(sys.argv[2], "bench", sys.argv[3])
"""


def ensure_gzip(csv_path: Path) -> Path:
    """csv_path gzipped (level 1, streamed), once per input."""
    packed = csv_path.with_suffix(".csv.gz")
    stamp_path = packed.with_suffix(".stamp")
    stamp = csv_path.with_suffix(".stamp").read_text()
    if packed.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
        return packed
    import gzip
    import shutil

    with open(csv_path, "rb") as plain, gzip.open(packed.with_suffix(".partial"), "wb", compresslevel=1) as out:
        shutil.copyfileobj(plain, out, 4 << 20)
    packed.with_suffix(".partial").replace(packed)
    stamp_path.write_text(stamp)
    return packed


def measure_s3_gzip(args: argparse.Namespace, workdir: Path) -> str:
    """Peak RSS of importing a ~1 GB (unpacked) gzip file from an S3 server on loopback (moto)."""
    import socket

    csv_path = ensure_orders_csv(workdir / "orders_large.csv", args.s3_gzip_orders, args.seed, 0.0)
    unpacked = csv_path.stat().st_size
    packed = ensure_gzip(csv_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-c", MOTO_SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        while (line := server.stdout.readline()) and line.strip() != "ready":  # moto says hello first
            pass
        subprocess.run([sys.executable, "-c", UPLOAD, endpoint, packed, "orders.csv.gz"], check=True)
        store = workdir / "s3.duckdb"
        remove_duckdb_file(store)
        command: list[str | Path] = [
            ETL, "import", "--format", "kevel_orders", "--source", "s3://bench/orders.csv.gz",
            "--connection", f"endpoint_url={endpoint}", "--connection", "key=bench", "--connection", "secret=bench",
            "--store", store, "--json",
        ]  # fmt: skip
        run = run_measured(command)
        exit_if_failed("S3 gzip import", run)
        report = json.loads(run.stdout)
        remove_duckdb_file(store)
    finally:
        server.kill()
        server.wait()
    verdict_text = "pass" if run.peak_rss_bytes <= MAX_RSS_BYTES else "FAIL"
    return (
        f"gzip from S3 (loopback moto server): {packed.stat().st_size / 1e6:,.0f} MB packed, {unpacked / 1e9:.2f} GB "
        f"unpacked, {report['items']:,} rows: {run.wall_s:.2f} s, peak RSS {run.peak_rss_bytes / 1e9:.2f} GB "
        f"(target <= {MAX_RSS_BYTES / 1e9:.1f} GB) {verdict_text}"
    )


if __name__ == "__main__":
    main()
