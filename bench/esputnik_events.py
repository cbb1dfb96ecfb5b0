"""Benchmark eSputnik's events (issue 19, item 6).

1. 5,000,000 events as eSputnik past-event bodies ({"events": [...500]}, one a line, in files of 1,000 bodies:
   views, product and category views, carts, orders and their deliveries, each with an eventId parameter of its
   own (no two alike); 200,000 contacts, known to the store
   from a users import made once) against DuckDB's own read_json of the same files into a table: the floor, the
   first import into the store of contacts and the re-import, each in its own subprocess (wall time, peak RSS),
   in rounds; medians. Targets: first import <= 2.0x, re-import <= 1.5x, peak RSS <= 1.5 GB.
2. `etl events delete` of one month of a store of 50,000,000 events (bench/events.py's segment store, copied),
   then `etl events restore` of it: each <= 10 s.

    .venv/bin/python bench/esputnik_events.py [--events 5000000] [--delete-events 50000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from events import SEGMENT_STORE, STEPS, ensure, floor_and_imports  # noqa: E402  (bench/, on the path above)
from run import ETL, remove_duckdb_file, run_measured  # noqa: E402

FLOOR = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited')", [sys.argv[2:]])
print(con.execute("SELECT sum(len(events)) FROM t").fetchone()[0])
"""
MAX_RSS = 1.5e9
DELETE_TARGET_S = 10.0
PEOPLE = 200_000
BODY = 500
BODIES_PER_FILE = 1_000


def write_bodies(folder: Path, n: int) -> None:
    """n events as past-event bodies, one a line, BODIES_PER_FILE bodies a file; and users.jsonl, the contacts."""
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("past_events_*.jsonl"):
        old.unlink()
    people = pl.DataFrame({"p": pl.int_range(0, PEOPLE, eager=True)})
    people.select(mail=pl.lit("u") + pl.col("p").cast(pl.String) + "@example.com").write_ndjson(folder / "users.jsonl")
    per_file = BODY * BODIES_PER_FILE
    c = pl.col
    for number, start in enumerate(range(0, n, per_file), 1):
        i = pl.int_range(start, min(n, start + per_file), eager=True)
        frame = pl.DataFrame({"i": i}).with_columns(
            kind=c("i") % 20,
            email=pl.lit("u") + (c("i") * 7919 % PEOPLE).cast(pl.String) + "@example.com",
            at=pl.lit("2024-") + (c("i") % 12 + 1).cast(pl.String).str.zfill(2) + "-"
            + (c("i") % 28 + 1).cast(pl.String).str.zfill(2) + "T"
            + (c("i") % 24).cast(pl.String).str.zfill(2) + ":" + (c("i") % 60).cast(pl.String).str.zfill(2),
            product=pl.lit("P") + (c("i") % 5000).cast(pl.String),
            order=pl.lit("o") + (c("i") - (c("i") % 20 == 19).cast(pl.Int64)).cast(pl.String),
        )  # fmt: skip

        def event(kind: str, *params: pl.Expr) -> pl.Expr:
            parts = [pl.lit('{"eventTypeKey":"' + kind + '","keyValue":"'), c("email"),
                     pl.lit('","params":[{"name":"email","value":"'), c("email"),
                     pl.lit('"},{"name":"eventId","value":"'), c("i").cast(pl.String), pl.lit('"}')]  # fmt: skip
            for param in params:
                parts += [pl.lit(","), param]
            return pl.concat_str([*parts, pl.lit('],"occurred":"'), c("at"), pl.lit('"}')])

        def param(name: str, *value: pl.Expr | str) -> pl.Expr:
            text = [v if isinstance(v, pl.Expr) else pl.lit(v) for v in value]
            return pl.concat_str([pl.lit('{"name":"' + name + '","value":'), *text, pl.lit("}")])

        page = event("pageViewed", param("page", '"{\\"location\\":\\"https://shop.example/p/', c("product"), '\\"}"'))
        view = event(
            "productViewed",
            param("product", '"{\\"productId\\":\\"', c("product"), '\\",\\"price\\":45.5,\\"isInStock\\":1}"'),
            param("currencyCode", '"USD"'),
        )
        category = event("productCategoryViewed", param("category", '"{\\"productCategoryId\\":\\"Mugs\\"}"'))
        cart = event(
            "cartUpdated",
            param("products", '"[{\\"productId\\":\\"', c("product"), '\\",\\"quantity\\":1,\\"price\\":45.5}]"'),
            param("currencyCode", '"USD"'),
            param("recycleStateId", '"', c("i").cast(pl.String), '"'),
        )
        created = event(
            "orderCreated",
            param("externalOrderId", '"', c("order"), '"'),
            param("totalCost", '"45.5"'),
            param("status", '"INITIALIZED"'),
            param("date", '"', c("at"), ':00"'),
            param("currency", '"USD"'),
            param("items", '"[{\\"externalItemId\\":\\"', c("product"), '\\",\\"quantity\\":1,\\"cost\\":45.5}]"'),
        )
        delivered = event("orderDelivered", param("externalOrderId", '"', c("order"), '"'))  # fmt: skip
        kind = c("kind")
        text = frame.select(
            pl.when(kind < 7).then(page).when(kind < 13).then(view).when(kind < 15).then(category)
            .when(kind < 18).then(cart).when(kind == 18).then(created).otherwise(delivered).alias("e"),
            body=(c("i") - start) // BODY,
        )  # fmt: skip
        bodies = text.group_by("body", maintain_order=True).agg(
            (pl.lit('{"events":[') + pl.col("e").str.join(",") + pl.lit("]}")).alias("b")
        )
        (folder / f"past_events_{number:05d}.jsonl").write_text("\n".join(bodies["b"].to_list()) + "\n")


CONTACTS = """
import sys, json
from pathlib import Path
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
spec = {"format": "kevel_users", "source": sys.argv[2], "options": {"ids": {"email": "mail"}}}
print(run_import(validate_spec(spec, "users"), Path(sys.argv[1]))["entities"]["customers"])
"""


def measure_import(n: int, workdir: Path, rounds: int) -> list[str]:
    folder = workdir / f"esputnik-{n}"
    code = f"import esputnik_events as e; from pathlib import Path; e.write_bodies(Path({str(folder)!r}), {n})"
    ensure(folder / "users.jsonl", f"{n}-{BODY}-{BODIES_PER_FILE}-unique", code)
    files = sorted(folder.glob("past_events_*.jsonl"))
    contacts = workdir / "esputnik-contacts.duckdb"
    if not contacts.exists():
        made = run_measured([sys.executable, "-c", CONTACTS, contacts, folder / "users.jsonl"])
        if made.returncode != 0:
            return [f"| contacts | failed: {made.stderr.strip()[-300:]} | | | | | | |"]
    spec = workdir / "esputnik.yaml"
    spec.write_text(json.dumps({"format": "esputnik_events", "source": str(folder / "past_events_*.jsonl")}))

    def counted(report: dict) -> dict:
        return {**report["entities"]["events"], "rejected": report["rejected"],
                "orders": report["entities"].get("orders", {}).get("added", 0)}  # fmt: skip

    try:
        times, rss, counts = floor_and_imports([FLOOR, *files], spec, workdir / "esputnik", rounds,
                                               lambda store: shutil.copy(contacts, store), counted)  # fmt: skip
    except RuntimeError as failed:
        return [f"| eSputnik bodies | {failed} | | | | | | |"]
    floor_s = statistics.median(times["floor"])
    size = sum(f.stat().st_size for f in files) / 1e9
    spread = f"{min(times['floor']):.2f}-{max(times['floor']):.2f}"
    lines = [f"| {n:,} events in {len(files)} files, {size:.2f} GB | floor (read_json) | {floor_s:.2f} | {spread} | "
             f"1.00 | {rss['floor'] / 1e9:.2f} | | |"]  # fmt: skip
    for step, target in STEPS:
        wall = statistics.median(times[step])
        ratio = wall / floor_s
        ok = ratio <= target and rss[step] <= MAX_RSS
        c = counts[step]
        lines.append(
            f"| {n:,} events | {step} ({c['added']:,} added, {c['unchanged']:,} unchanged, {c['orders']:,} orders, "
            f"{c['rejected']:,} rejected) | {wall:.2f} | {min(times[step]):.2f}-{max(times[step]):.2f} | "
            f"{ratio:.2f} | {rss[step] / 1e9:.2f} | <= {target}x, <= 1.5 GB | {'met' if ok else 'NOT met'} |"
        )
    return lines


def measure_delete(n: int, workdir: Path) -> list[str]:
    built = workdir / f"events-segments-{n}.duckdb"  # bench/events.py's segment store, made once
    stamp = built.with_suffix(".stamp")
    if not (built.exists() and stamp.exists() and stamp.read_text() == str(n)):
        remove_duckdb_file(built)
        made = run_measured([sys.executable, "-c", SEGMENT_STORE, built, str(n)])
        if made.returncode != 0:
            return [f"| delete | building the store failed: {made.stderr.strip()[-300:]} | | |"]
        stamp.write_text(str(n))
    store = workdir / "esputnik-delete.duckdb"
    remove_duckdb_file(store)
    started = time.monotonic()
    shutil.copy(built, store)
    print(f"esputnik bench: copied the store of {n:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr)
    lines = []
    deleted = run_measured([ETL, "events", "delete", "--from", "2024-03-01", "--to", "2024-03-31", "--json",
                            "--store", store])  # fmt: skip
    if deleted.returncode != 0:
        return [f"| delete | failed: {deleted.stderr.strip()[-300:]} | | |"]
    report = json.loads(deleted.stdout)
    lines.append(f"| delete March 2024 of {n:,} events | {report['events']:,} events, {report['event_items']:,} items "
                 f"| {deleted.wall_s:.2f} | {deleted.peak_rss_bytes / 1e9:.2f} | "
                 f"{'met' if deleted.wall_s <= DELETE_TARGET_S else 'NOT met'} |")  # fmt: skip
    restored = run_measured([ETL, "events", "restore", str(report["import_id"]), "--json", "--store", store])
    if restored.returncode != 0:
        return [*lines, f"| restore | failed: {restored.stderr.strip()[-300:]} | | |"]
    back = json.loads(restored.stdout)
    met = "met" if restored.wall_s <= DELETE_TARGET_S else "NOT met"
    lines.append(f"| restore it | {back['events']:,} events | {restored.wall_s:.2f} | "
                 f"{restored.peak_rss_bytes / 1e9:.2f} | {met} |")  # fmt: skip
    remove_duckdb_file(store)
    return lines


def measure(events: int, delete_events: int, workdir: Path, rounds: int) -> str:
    out = []
    if events:
        out += ["| files | step | median s | range s | x floor | peak RSS GB | target | |",
                "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        out += measure_import(events, workdir, rounds)
    if delete_events:
        out += ["", f"Deleting a month of {delete_events:,} events and restoring it (wall time of the command):", "",
                "| step | rows | s | peak RSS GB | <= 10 s |", "|---|---|---|---|---|"]  # fmt: skip
        out += measure_delete(delete_events, workdir)
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--delete-events", type=int, default=50_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(measure(args.events, args.delete_events, args.workdir.resolve(), args.rounds))


if __name__ == "__main__":
    main()
