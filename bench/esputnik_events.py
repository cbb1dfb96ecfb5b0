"""Benchmark eSputnik's events (issue 19, item 6).

1. 5,000,000 events as eSputnik past-event bodies ({"events": [...500]}, one a line, in files of 1,000 bodies:
   views, product and category views, carts, orders and their deliveries, each with an eventId parameter of its
   own (no two alike); 200,000 contacts, known to the store
   from a users import made once) against DuckDB's own read_json of the same files into a table: the floor, the
   first import into the store of contacts and the re-import, each in its own subprocess (bench/harness.py: wall
   time, peak RSS), in rounds; medians. Targets: first import <= 2.0x, re-import <= 1.5x, peak RSS <= 1.5 GB.
2. `etl events delete` of one month of a store of 50,000,000 events (bench/events.py's segment store, copied),
   then `etl events restore` of it: each <= 10 s.

    .venv/bin/python bench/esputnik_events.py [--events 5000000] [--delete-events 50000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from events import segment_store  # noqa: E402  (bench/, on the path above)
from harness import (  # noqa: E402
    ETL,
    Floor,
    Row,
    Run,
    Series,
    StepFailed,
    Target,
    checked,
    etl_import,
    failed_row,
    floor_and_imports,
    made_once,
    ratio_rows,
    remove_duckdb_file,
    table,
)

MAX_RSS = 1.5e9
TARGETS = {"first import": Target(2.0, MAX_RSS), "re-import": Target(1.5, MAX_RSS)}  # x floor, peak RSS
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


def contacts_spec(path: Path, users: Path) -> Path:
    """The spec of the contacts' import (the people the events name, by email): kevel_users of users.jsonl."""
    path.write_text(json.dumps({"format": "kevel_users", "source": str(users), "options": {"ids": {"email": "mail"}}}))
    return path


def measure_import(n: int, workdir: Path, rounds: int) -> list[Row] | str:
    """Rounds of the floor, the first import into a copy of the store of contacts and the re-import: the rows, or
    the failure."""
    folder = workdir / f"esputnik-{n}"
    code = f"import esputnik_events as e; from pathlib import Path; e.write_bodies(Path({str(folder)!r}), {n})"
    made_once(folder / "users.jsonl", f"{n}-{BODY}-{BODIES_PER_FILE}-unique", code)
    files = sorted(folder.glob("past_events_*.jsonl"))
    contacts = workdir / "esputnik-contacts.duckdb"
    spec = workdir / "esputnik.yaml"
    spec.write_text(json.dumps({"format": "esputnik_events", "source": str(folder / "past_events_*.jsonl")}))
    store = workdir / "esputnik-bench.duckdb"

    def fresh_store() -> None:
        remove_duckdb_file(store)
        shutil.copy(contacts, store)

    floor = Floor(files, "read_json(?, format = 'newline_delimited')", count="sum(len(events))")
    try:
        if not contacts.exists():
            made = contacts_spec(workdir / "esputnik-contacts.yaml", folder / "users.jsonl")
            checked("contacts", etl_import(made, contacts))
        series = floor_and_imports(floor.step(workdir / "esputnik-floor.duckdb"), spec, store, rounds, fresh_store)
    except StepFailed as failed:
        return failed_row("eSputnik bodies", failed)

    def label(name: str, run: Run) -> str:
        if name == "floor":
            size = sum(f.stat().st_size for f in files) / 1e9
            return f"{n:,} events in {len(files)} files, {size:.2f} GB: floor (read_json)"
        report = run.json()
        c, orders = report["entities"]["events"], report["entities"].get("orders", {}).get("added", 0)
        return (f"{n:,} events: {name} ({c['added']:,} added, {c['unchanged']:,} unchanged, {orders:,} orders, "
                f"{report['rejected']:,} rejected)")  # fmt: skip

    return ratio_rows(series, TARGETS, label)


def measure_delete(n: int, workdir: Path) -> str:
    """`etl events delete` of March 2024 in a copy of bench/events.py's segment store of `n` events, then
    `etl events restore` of it: each one run."""
    store = workdir / "esputnik-delete.duckdb"
    target = Target(max_s=DELETE_TARGET_S)
    rows: list[Row] = []
    try:
        built = segment_store(n, workdir)
        remove_duckdb_file(store)
        started = time.monotonic()
        shutil.copy(built, store)
        print(
            f"esputnik bench: copied the store of {n:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr
        )
        deleted = checked("delete", [ETL, "events", "delete", "--from", "2024-03-01", "--to", "2024-03-31", "--json",
                                     "--store", store])  # fmt: skip
        report = deleted.json()
        rows.append(Row(Series.of("delete", deleted), target, label=f"delete March 2024 of {n:,} events",
                        cells={"rows": f"{report['events']:,} events, {report['event_items']:,} items"}))  # fmt: skip
        restored = checked("restore", [ETL, "events", "restore", str(report["import_id"]), "--json", "--store", store])
        rows.append(Row(Series.of("restore", restored), target, label="restore it",
                        cells={"rows": f"{restored.json()['events']:,} events"}))  # fmt: skip
    except StepFailed as failed:
        return "\n".join([table(rows, extra=["rows"]) if rows else "", failed_row(failed.name, failed)])
    remove_duckdb_file(store)
    return table(rows, extra=["rows"])


def measure(events: int, delete_events: int, workdir: Path, rounds: int) -> str:
    out = []
    if events:
        imported = measure_import(events, workdir, rounds)
        out += [imported if isinstance(imported, str) else table(imported)]
    if delete_events:
        out += ["", f"Deleting a month of {delete_events:,} events and restoring it (wall time of the command):", ""]
        out += [measure_delete(delete_events, workdir)]
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
