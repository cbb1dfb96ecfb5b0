"""Deleting events by time range, as eSputnik's Remove events does, and putting them back.

`delete(store, start, end, types)`: the events that occurred from `start` to `end` (both ends inclusive: a date
is a whole UTC day, `--to 2020-01-04` includes that day; a date and time is that instant), of the given types or
all, leave `events` (with their items) for `deleted_events` and `deleted_event_items`, so that `restore(store,
run_id)` puts them back exactly, in the same event ids. Each is one transaction, recorded as a run in `imports`
(format `events delete` or `events restore`) with its report. Orders are not touched: a delete removes what
happened (events), not the orders an order import or order events made.

A restored event belongs to the person its id names now (people may have merged since it was deleted); one that
the store holds again (the same event imported after the delete: its event_key) is not put back twice, and is
counted as `already_stored`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from etl.errors import EtlError, SpecError
from etl.store import runs
from etl.store.connection import DELETE_MEMORY_LIMIT, WAIT_S
from etl.store.sqlfiles import run_sql

DELETE = "events delete"
RESTORE = "events restore"


def bound(text: str, *, end: bool) -> datetime:
    """A --from or --to value as an instant (UTC): a date is its day's first instant, or for the end the next
    day's (excluded); a date and time without an offset is UTC."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SpecError(
            f"{'--to' if end else '--from'} {text!r}: expected a date (2020-01-04) or a date and time "
            "(2020-01-04T12:30, UTC unless an offset is given)"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment + timedelta(microseconds=1) if end else moment  # the instant given is included


def delete(store: Path, start: str, end: str, types: list[str] | None = None, *, dry_run: bool = False,
           wait: float = WAIT_S) -> dict[str, Any]:  # fmt: skip
    """Delete the events of the range (see the module's docstring); the run's report."""
    low, high = bound(start, end=False), bound(end, end=True)
    if high <= low:
        raise SpecError(f"--to {end} is before --from {start}: the range holds no time")
    params = {"from": low, "to": high, "types": list(types or [])}

    def work(con, run_id: int) -> dict[str, Any]:
        run_sql(con, "entities/events/delete", run_id=run_id, **params)
        counts = _per_type(con, "SELECT event_type, count(*) FROM deleted_events WHERE deleted_by = $run GROUP BY 1",
                           run_id)  # fmt: skip
        (items,) = con.execute(
            "SELECT count(*) FROM deleted_event_items WHERE deleted_by = $run", {"run": run_id}
        ).fetchall()[0]
        return {"from": start, "to": end, "types": params["types"], "deleted": counts, "event_items": items,
                "events": sum(counts.values())}  # fmt: skip

    return _run(store, DELETE, work, dry_run, wait)


def restore(store: Path, run_id: int, *, dry_run: bool = False, wait: float = WAIT_S) -> dict[str, Any]:
    """Put back the events that delete run `run_id` removed; the run's report."""

    def work(con, this_run: int) -> dict[str, Any]:
        found = con.execute("SELECT format, status, dry_run FROM imports WHERE import_id = $run", {"run": run_id})
        rows = found.fetchall()
        if not rows or rows[0][0] != DELETE or rows[0][1] != "completed" or rows[0][2]:
            raise SpecError(f"run {run_id} is not a completed `etl events delete` (etl runs lists them)")
        (held,) = con.execute(
            "SELECT count(*) FROM deleted_events WHERE deleted_by = $run", {"run": run_id}
        ).fetchall()[0]
        if not held:
            restored_by = con.execute(
                "SELECT max(import_id) FROM imports WHERE format = $format AND status = 'completed' AND NOT dry_run "
                "AND report->>'$.restores' = $run::VARCHAR",
                {"format": RESTORE, "run": run_id},
            ).fetchall()[0][0]
            said = f" (run {restored_by} restored them)" if restored_by else ""
            raise SpecError(f"the events run {run_id} deleted are back already{said}: nothing to restore")
        counts = _per_type(con, "SELECT event_type, count(*) FROM deleted_events WHERE deleted_by = $run GROUP BY 1",
                           run_id)  # fmt: skip
        run_sql(con, "entities/events/restore", run_id=run_id)
        restored = _per_type(con, "SELECT event_type, count(*) FROM stg_restored GROUP BY 1", this_run)
        (items,) = con.execute("SELECT count(*) FROM stg_restored_items").fetchall()[0]
        return {"restores": run_id, "restored": restored, "event_items": items, "events": sum(restored.values()),
                "already_stored": sum(counts.values()) - sum(restored.values())}  # fmt: skip

    return _run(store, RESTORE, work, dry_run, wait)


def _per_type(con, query: str, run_id: int) -> dict[str, int]:
    params = {"run": run_id} if "$run" in query else {}
    return {kind: count for kind, count in sorted(con.execute(query, params).fetchall())}


def _run(store: Path, kind: str, work, dry_run: bool, wait: float) -> dict[str, Any]:
    """`work(con, run_id)` as a recorded run (etl.store.runs: one transaction, a failed run recorded too); a dry
    run does the work, reports it and rolls it back."""
    if not store.exists():
        raise EtlError(f"no store at {store}: nothing to {kind.split()[1]}")

    def done(con, run: runs.Run) -> dict[str, Any]:
        report = {"import_id": run.run_id, "status": "completed", "dry_run": dry_run, "format": kind,
                  **work(con, run.run_id)}  # fmt: skip
        report["duration_s"] = run.duration_s()
        return report

    def failed(exc: BaseException, run: runs.Run) -> dict[str, Any]:
        return {"import_id": run.run_id, "status": "failed", "dry_run": dry_run, "format": kind,
                "error": runs.error_text(exc)}  # fmt: skip

    def recorded(report: dict[str, Any]) -> runs.Recorded:  # every event of the range counts as valid
        return runs.Recorded([], report.get("events"), report.get("events"), 0)

    return runs.recorded_run(store, work=done, failed=failed, recorded=recorded, dry_run=dry_run, wait=wait,
                             memory_limit=DELETE_MEMORY_LIMIT)  # fmt: skip
