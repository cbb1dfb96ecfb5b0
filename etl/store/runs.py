"""Runs: every change to the store (an import, an event delete or restore) is one transaction, recorded in `imports`.

`recorded_run` is the one transaction runner: it opens the store for writing, numbers the run, runs its work
between BEGIN and COMMIT, records the run's report in the same transaction, and on any failure (an error, Ctrl-C)
rolls the work back and records the failed run in a transaction of its own. A crash (kill -9) leaves no COMMIT: the
store is as it was. A dry run does the work, reports it, and rolls it back.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the commands that only print a report (to_json) load no DuckDB
    import duckdb


@dataclass
class Run:
    """The run being made: its number, when it started (wall clock and monotonic)."""

    run_id: int
    started_at: datetime
    started: float = field(default_factory=time.monotonic)

    def duration_s(self) -> float:
        return round(time.monotonic() - self.started, 3)


@dataclass(frozen=True)
class Recorded:
    """What `imports` keeps of a run beside its report: the sources it read and its counts."""

    sources: list[str]
    items: int | None
    valid: int | None
    rejected: int | None


def recorded_run(
    store: Path,
    *,
    work: Callable[[duckdb.DuckDBPyConnection, Run], dict[str, Any]],
    failed: Callable[[BaseException, Run], dict[str, Any]],
    recorded: Callable[[dict[str, Any]], Recorded],
    dry_run: bool,
    wait: float,
    memory_limit: str | None = None,
) -> dict[str, Any]:
    """`work(con, run)` in one transaction, its report recorded with it; returns the report.

    On failure, `failed(exc, run)` gives the failed run's report, recorded in a transaction of its own, and the
    exception goes on. `recorded(report)`: what `imports` keeps beside it.
    The run's time starts once the store is held: a wait for another process is not the run's."""
    from etl.store.connection import connect

    with connect(store, read_only=False, wait=wait, memory_limit=memory_limit) as con:
        (run_id,) = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0]
        run = Run(run_id, datetime.now(UTC))
        con.begin()
        try:
            report = work(con, run)
            report.setdefault("duration_s", run.duration_s())
            if dry_run:  # everything ran; storing is what a dry run leaves out
                con.rollback()
                con.begin()
            _record(con, report, run, recorded(report))
            with _ctrl_c_deferred():  # an interrupted COMMIT may still have committed
                con.commit()
        except BaseException as exc:
            _rollback(con)
            report = failed(exc, run)
            con.begin()
            _record(con, report, run, recorded(report))
            con.commit()
            raise
        return report


def error_text(exc: BaseException) -> str:
    """What a failed run's report says of its error: an EtlError's own words, else the exception's type too."""
    from etl.errors import EtlError

    return str(exc) if isinstance(exc, EtlError) else f"{type(exc).__name__}: {exc}"


def _record(con: duckdb.DuckDBPyConnection, report: dict[str, Any], run: Run, kept: Recorded) -> None:
    con.execute(
        """
        INSERT INTO imports
        SELECT $import_id, $status, $dry_run, $format, $sources, $started_at, now(),
               $items, $valid, $rejected, $error, $report::JSON
        """,
        {
            "import_id": report["import_id"],
            "status": report["status"],
            "dry_run": report["dry_run"],
            "format": report["format"],
            "sources": kept.sources,
            "started_at": run.started_at,
            "items": kept.items,
            "valid": kept.valid,
            "rejected": kept.rejected,
            "error": report.get("error"),
            "report": to_json(report),
        },
    )


def to_json(report: dict[str, Any]) -> str:
    """A report as JSON text: datetimes in ISO 8601 (UTC as Z), dates as dates."""
    return json.dumps(report, default=json_value, ensure_ascii=False)


def json_value(value: Any) -> Any:
    """A datetime or date as JSON text (json.dumps' `default`)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the run (a failed COMMIT leaves no transaction to undo)."""
    import duckdb

    try:
        con.rollback()
    except duckdb.TransactionException:
        pass


@contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold Ctrl-C back while the COMMIT runs, then act on it.

    DuckDB turns Ctrl-C into an interrupted query, and a COMMIT interrupted late has still
    committed: the run would then be reported cancelled while its data is in the store.
    So the COMMIT runs to its end; a Ctrl-C that came meanwhile is too late to cancel,
    and the run is reported as what it is, completed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: pressed.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        print("Ctrl-C came while the run was committing: too late to cancel, it completed.", file=sys.stderr)
