"""`etl schedule list` and `etl schedule run-due`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.common import (
    StoreOption,
    fail,
    out,
    schedule_app,
)
from etl.display import terminal
from etl.display.page import Page
from etl.errors import EtlError, ImportCancelled

SpecsOption = Annotated[Path, typer.Option("--specs", help="The folder of import specs (*.yaml).")]


@schedule_app.command("list")
def schedule_list(
    specs: SpecsOption = Path("specs"),
    now: Annotated[str | None, typer.Option("--now", help="Count from this UTC time (ISO), not now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per schedule.")] = False,
) -> None:
    """List scheduled specs: the schedule, in words, and its next three runs (UTC).

    Example: `etl schedule list --specs specs/`
    """
    from etl.ops.schedule import scheduled

    invalid: list[str] = []
    try:
        found = scheduled(specs, invalid)
    except EtlError as exc:
        fail(str(exc), 1)
    start = _utc(now)
    rows = [
        {
            "name": s.name,
            "spec": str(s.path),
            "cron": s.cron,
            "years": list(s.years),
            "in_words": s.describe(),
            "next": [t.isoformat() for t in s.next_runs(start)],
        }
        for s, _ in found
    ]
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
    else:
        page = Page()
        table = page.table(f"Schedules in {specs}", ("schedule", "key"), ("cron", "key"), ("in words", "prose"),
                           ("next runs (UTC)", "key"))  # fmt: skip
        for row in rows:
            table.add(row["name"], row["cron"], row["in_words"], "\n".join(row["next"]))
        terminal.show(out, page) if rows else out.print(f"No valid spec in {specs} has a schedule.")
    _report_invalid(invalid)


@schedule_app.command("run-due")
def schedule_run_due(
    specs: SpecsOption = Path("specs"),
    store: StoreOption = None,
    now: Annotated[str | None, typer.Option("--now", help="Act as if it were this UTC time (ISO).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per triggered run.")] = False,
) -> None:
    """Run the scheduled imports that are due; call it every few minutes from cron or CI.

    Example (crontab): `*/5 * * * * cd /srv/cdp && .venv/bin/etl schedule run-due --specs specs/`
    """
    from etl.ops.schedule import run_due

    invalid: list[str] = []
    try:
        done = run_due(specs, str(store) if store else None, _utc(now), invalid)
    except ImportCancelled as exc:
        fail(str(exc), 130)
    except EtlError as exc:
        fail(str(exc), 1)
    if as_json:
        for entry in done:
            sys.stdout.write(json.dumps(entry) + "\n")
    else:
        for e in done:
            extra = f" import {e['import_id']}" if e.get("import_id") else ""
            line = f"{e['schedule']} (due {e['due_at']}): {e['status']}{extra} into {e['store']} {e.get('detail', '')}"
            out.print(line.rstrip(), markup=False, highlight=False)
        if not done:
            out.print("Nothing is due.")
    _report_invalid(invalid)
    if any(e["status"] == "failed" for e in done):
        raise typer.Exit(1)


def _report_invalid(invalid: list[str]) -> None:
    """The specs that could not be read, on stderr, after the valid ones were listed or run: exit status 1."""
    for message in invalid:
        sys.stderr.write(f"error: invalid spec, not scheduled: {message}\n")
    if invalid:
        raise typer.Exit(1)


def _utc(text: str | None):
    from datetime import UTC, datetime

    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now {text!r}: expected an ISO date and time, e.g. 2026-11-24T03:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
