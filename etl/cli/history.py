"""What past imports did: `etl runs`, `etl report`, `etl rejects`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from etl.cli import render, tables
from etl.cli.common import (
    WAIT_DEFAULT,
    StoreOption,
    WaitOption,
    app,
    console,
    fail,
    out,
    read_only_store,
)
from etl.errors import EtlError
from etl.pipeline import report
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
        with read_only_store(store, wait) as con:
            cursor = con.execute(
                "SELECT import_id, status, dry_run, format, started_at, items, valid, rejected, "
                "sources, error FROM imports ORDER BY import_id DESC"
            )
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    except EtlError as exc:
        fail(str(exc), 1)
    if as_json:
        for row in rows:
            sys.stdout.write(to_json(dict(zip(names, row, strict=True))) + "\n")
        return
    table = tables.new(
        "Imports", ("id", "number"), ("status", "key"), ("dry run", "key"), ("format", "key"),
        ("started (UTC)", "key"), ("items", "number"), ("valid", "number"), ("rejected", "number"),
        ("sources", "key"), ("error", "prose"),
    )  # fmt: skip
    for row in rows:
        record = dict(zip(names, row, strict=True))
        tables.add_row(
            table, record["import_id"], record["status"], "yes" if record["dry_run"] else "",
            record["format"], record["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
            *(None if record[k] is None else f"{record[k]:,}" for k in ("items", "valid", "rejected")),
            "\n".join(record["sources"] or []), (record["error"] or "").splitlines()[0] if record["error"] else "",
        )  # fmt: skip
    tables.show(out, table)


def _schedule_runs(name: str, store: Path, as_json: bool) -> None:
    from etl.ops.schedule import history

    entries = list(reversed(history(store, name)))
    if as_json:
        for entry in entries:
            sys.stdout.write(json.dumps(entry) + "\n")
        return
    table = tables.new(
        f"Runs of schedule {name}", ("due at (UTC)", "key"), ("status", "key"), ("import", "number"),
        ("ran at", "key"), ("detail", "prose"),
    )  # fmt: skip
    for e in entries:
        detail = "; ".join(x for x in (e.get("detail", ""), e.get("note", "")) if x)
        tables.add_row(table, e["due_at"], e["status"], e.get("import_id"), e["at"], detail)
    tables.show(out, table) if entries else out.print(f"No runs of schedule {name!r} yet.")


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
        with read_only_store(store, wait) as con:
            row = con.execute("SELECT report FROM imports WHERE import_id = ?", [import_id]).fetchone()
    except EtlError as exc:
        fail(str(exc), 1)
    if row is None:
        fail(f"no import {import_id} in the store (see etl runs)", 1)
    result = json.loads(row[0])
    if item is not None:
        try:
            detail = report.sample_item(result, item)
        except EtlError as exc:
            fail(str(exc), 1)
        if as_json:
            sys.stdout.write(to_json(detail) + "\n")
        else:
            render.render_item(result, item, out)
        return
    if as_json:
        sys.stdout.write(row[0] + "\n")
    else:
        render.render(result, out)


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
        with read_only_store(store, wait) as con:
            known = con.execute("SELECT count(*) FROM imports WHERE import_id = $id", {"id": import_id}).fetchall()
            if not known[0][0]:
                fail(f"no import {import_id} in the store (see etl runs)", 1)
            rows_of = "FROM rejects WHERE import_id = $id ORDER BY source, record"
            if out_file is not None:
                out_file.parent.mkdir(parents=True, exist_ok=True)
                # CSV has no lists: the reasons go as JSON text there
                reasons = "reasons" if out_file.suffix.lower() == ".parquet" else "to_json(reasons)::VARCHAR AS reasons"
                chosen = con.sql(
                    f"SELECT source, line, record, {reasons}, raw::VARCHAR AS raw {rows_of}",  # noqa: S608
                    params={"id": import_id},
                )
                chosen.write_parquet(str(out_file)) if out_file.suffix.lower() == ".parquet" else chosen.write_csv(
                    str(out_file)
                )
                count = con.execute("SELECT count(*) FROM rejects WHERE import_id = $id", {"id": import_id}).fetchall()
                console.print(f"{count[0][0]:,} rejected rows of import {import_id} written to {out_file}")
                return
            relation = con.sql(
                f"SELECT source, line, record, reasons, raw::VARCHAR AS raw {rows_of}",  # noqa: S608
                params={"id": import_id},
            )
            names = relation.columns
            rows = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    except EtlError as exc:
        fail(str(exc), 1)
    if as_json:
        for row in rows:
            row["raw"] = json.loads(row["raw"]) if row["raw"] is not None else None
            sys.stdout.write(to_json(row) + "\n")
        return
    table = tables.new(
        f"Rejected rows of import {import_id}: {len(rows):,}", ("file", "key"), ("line", "number"),
        ("reasons", "prose"), ("values as read", "prose"),
    )  # fmt: skip
    for row in rows:
        reasons = "\n".join(_reason_text(r) for r in row["reasons"])
        tables.add_row(table, row["source"], row["line"], reasons, row["raw"])
    tables.show(out, table) if rows else out.print(f"Import {import_id} rejected no rows.")


def _reason_text(reason: dict[str, Any]) -> str:
    got = "" if reason["value"] is None else f" (got {json.dumps(reason['value'], ensure_ascii=False)})"
    return f"{reason['column']}: {reason['hint']}{got}"
