"""What past imports did: `etl runs`, `etl report`, `etl rejects`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.common import (
    WAIT_DEFAULT,
    StoreOption,
    WaitOption,
    app,
    console,
    fail,
    out,
)
from etl.display import layouts, terminal
from etl.display.page import Page
from etl.errors import EtlError
from etl.store.runs import to_json


@app.command()
def runs(
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON lines.")] = False,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Show the runs of one schedule (by spec name), skipped ones too.")
    ] = None,
    specs: Annotated[
        Path, typer.Option("--specs", help="With --schedule: the folder of specs, to find the schedule's store.")
    ] = Path("specs"),
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """List past imports, newest first.

    Example: `etl runs --store data/cdp.duckdb`, or `etl runs --schedule nightly_orders`
    """
    if schedule is not None:
        from etl.ops.schedule import store_of_schedule

        try:
            schedule_store = store_of_schedule(specs, schedule, str(store) if store else None)
        except EtlError as exc:
            fail(str(exc), 1)
        _schedule_runs(schedule, schedule_store, as_json)
        return
    try:
        from etl.api.store import RUNS

        rows = _store(store, wait)._records(RUNS)  # as Store.runs(), without loading Polars
    except EtlError as exc:
        fail(str(exc), 1)
    if as_json:
        for row in rows:
            sys.stdout.write(to_json(row) + "\n")
        return
    terminal.show(out, layouts.runs(rows))


def _schedule_runs(name: str, store: Path, as_json: bool) -> None:
    from etl.ops.schedule import history

    entries = list(reversed(history(store, name)))
    if as_json:
        for entry in entries:
            sys.stdout.write(json.dumps(entry) + "\n")
        return
    page = Page()
    table = page.table(f"Runs of schedule {name}", ("due at (UTC)", "key"), ("status", "key"), ("import", "number"),
                       ("ran at", "key"), ("detail", "prose"))  # fmt: skip
    for e in entries:
        detail = "; ".join(x for x in (e.get("detail", ""), e.get("note", "")) if x)
        table.add(e["due_at"], e["status"], e.get("import_id"), e["at"], detail)
    terminal.show(out, page) if entries else out.print(f"No runs of schedule {name!r} yet.")


@app.command("report")
def show_report(
    import_id: Annotated[int, typer.Argument(help="The import's id (see etl runs).")],
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    item: Annotated[
        int | None, typer.Option("--item", help="Open item N of the report's sample (its number there) in full.")
    ] = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Show the report of a past import again, or one item of its sample in full.

    Example: `etl report 3 --json`, or `etl report 3 --item 2`
    """
    try:
        found = _store(store, wait).report(import_id)
    except EtlError as exc:
        fail(str(exc), 1)
    result = found.to_dict()
    if item is not None:
        try:
            detail = found.item(item)
        except EtlError as exc:
            fail(str(exc), 1)
        if as_json:
            sys.stdout.write(to_json(detail) + "\n")
        else:
            terminal.show(out, layouts.report_item(result, item))
        return
    if as_json:
        sys.stdout.write(to_json(result) + "\n")
    else:
        terminal.show(out, layouts.import_report(result))


@app.command("rejects")
def show_rejects(
    import_id: Annotated[int, typer.Argument(help="The import's id (see etl runs).")],
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON lines.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the rows to FILE.csv or FILE.parquet.")] = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """List an import's rejected rows: file, line, every reason, and the values as read.

    Example: `etl rejects 3`, or `etl rejects 3 --out rejects.csv`
    """
    if out_file is not None and out_file.suffix.lower() not in {".csv", ".parquet"}:
        fail(f"--out {out_file}: expected a .csv or .parquet file")
    try:
        frame = _store(store, wait).rejects(import_id)
    except EtlError as exc:
        fail(str(exc), 1)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        if out_file.suffix.lower() == ".parquet":
            frame.write_parquet(out_file)
        else:  # CSV has no lists: the reasons go as JSON text there
            import polars as pl

            each = pl.col("reasons").list.eval(pl.element().struct.json_encode()).list.join(",")
            reasons = pl.format("[{}]", each).alias("reasons")
            frame.with_columns(reasons).write_csv(out_file)
        console.print(f"{frame.height:,} rejected rows of import {import_id} written to {out_file}")
        return
    rows = frame.to_dicts()
    if as_json:
        for row in rows:
            row["raw"] = json.loads(row["raw"]) if row["raw"] is not None else None
            sys.stdout.write(to_json(row) + "\n")
        return
    terminal.show(out, layouts.rejects(import_id, rows))


def _store(store: Path | None, wait: float):
    from etl.api.store import Store

    return Store(store, wait=wait)
