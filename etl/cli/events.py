"""`etl events delete` and `etl events restore`: events removed by time range, as eSputnik's Remove events, and
put back (etl.entities.events.deletes)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from etl.cli.common import WAIT_DEFAULT, StoreOption, WaitOption, events_app, fail, out
from etl.display import layouts, terminal
from etl.errors import EtlError

DryRun = Annotated[bool, typer.Option("--dry-run", help="Count what would change, and change nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the run's report as one JSON object.")]


@events_app.command("delete")
def delete(
    start: Annotated[str, typer.Option("--from", metavar="DATE", help="First day (UTC), or a date and time.")],
    end: Annotated[str, typer.Option("--to", metavar="DATE", help="Last day, included (UTC), or a date and time.")],
    types: Annotated[
        list[str] | None, typer.Option("--type", metavar="TYPE", help="Only events of this type; repeatable.")
    ] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
    store: StoreOption = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Delete the events that occurred from --from to --to (both days included), in one transaction.

    The deleted events are kept: `etl events restore RUN_ID` puts them back. Orders are not touched.

    Example: `etl events delete --from 2019-06-04 --to 2020-01-04 --type pageViewed`
    """
    from etl.api.store import Store

    try:
        report = Store(store, wait=wait).events.delete(start, end, types=types, dry_run=dry_run).to_dict()
    except EtlError as exc:
        fail(str(exc), 1)
    _print(report, as_json, "deleted")


@events_app.command("restore")
def restore(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="The delete run (etl runs lists it).")],
    dry_run: DryRun = False,
    as_json: AsJson = False,
    store: StoreOption = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Put back the events that an `etl events delete` run removed, exactly as they were.

    Example: `etl events restore 12`
    """
    from etl.api.store import Store

    try:
        report = Store(store, wait=wait).events.restore(run_id, dry_run=dry_run).to_dict()
    except EtlError as exc:
        fail(str(exc), 1)
    _print(report, as_json, "restored")


def _print(report: dict, as_json: bool, verb: str) -> None:
    if as_json:
        out.print(json.dumps(report, default=str), soft_wrap=True)
        return
    terminal.show(out, layouts.events_run(report, verb))
