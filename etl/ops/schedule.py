"""Scheduled imports: specs with a `schedule:`, run by `etl schedule run-due` when due.

A schedule is cron (five fields, UTC) or the form of Kevel's dashboard, years / months /
days / hours (each a number or a list; a unit left out means every one; the minute is 0).
`run-due` is meant to be called every few minutes (cron, CI): for each scheduled spec it
takes the latest time the schedule fired at or before now; if no run was recorded for that
time, it runs the import. Only the latest missed time is caught up, not every one.

Each run imports into the store its spec resolves to (--store, then $ETL_STORE, then the
spec's store:, then data/cdp.duckdb), and its lock and history live beside that store.

One at a time: a run holds a lock file (<store>.locks/<name>.lock, with its process id).
A run triggered while another instance of the same schedule is still running is skipped
and recorded as skipped; a lock whose process is gone (a crash) is cleared and noted.

A spec of the folder that cannot be read (bad YAML, a key wrong, a schedule cron cannot read) does not stop
the others: `list` and `run-due` list and run every valid schedule, then name each invalid spec (its file,
the key and what was expected) and exit with status 1.

History: one JSON line per triggered run in <store>.schedules.jsonl (completed, failed,
skipped), beside the store rather than in it, because a skipped run happens exactly when
another process holds the store.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from cron_descriptor import get_description
from cronsim import CronSim, CronSimError

from etl.errors import EtlError, ImportCancelled, SpecError
from etl.spec import ImportSpec, ScheduleForm, load_spec_data, validate_spec
from etl.store.connection import store_path


@dataclass(frozen=True)
class Schedule:
    name: str  # the spec file's name without .yaml
    path: Path
    cron: str
    years: tuple[int, ...] = ()  # the form's years: only fire times in these years count

    def _times(self, start: datetime, *, reverse: bool = False):
        for time in CronSim(self.cron, start.astimezone(UTC), reverse=reverse):
            if not self.years or time.year in self.years:
                yield time
            elif (reverse and time.year < min(self.years)) or (not reverse and time.year > max(self.years)):
                return

    def next_runs(self, after: datetime, count: int = 3) -> list[datetime]:
        found = []
        for time in self._times(after):
            found.append(time)
            if len(found) == count:
                break
        return found

    def latest_due(self, now: datetime) -> datetime | None:
        """The latest time the schedule fired at or before now."""
        return next(iter(self._times(now, reverse=True)), None)

    def describe(self) -> str:
        words = get_description(self.cron)
        if self.years:
            words += f", only in {', '.join(str(y) for y in self.years)}"
        return f"{words} (UTC)"


def to_cron(schedule: str | ScheduleForm) -> tuple[str, tuple[int, ...]]:
    """The schedule as a cron expression and a year filter; SpecError when cron cannot read it."""
    if isinstance(schedule, str):
        cron, years = schedule, ()
    else:

        def field(values: list[int] | None) -> str:
            return ",".join(str(v) for v in values) if values else "*"

        cron = f"0 {field(schedule.hours)} {field(schedule.days)} {field(schedule.months)} *"
        years = tuple(schedule.years or ())
    try:
        CronSim(cron, datetime.now(UTC))
    except CronSimError as exc:
        raise SpecError(f"schedule: {cron!r} is not a cron expression this reads ({exc})") from None
    return cron, years


def scheduled(folder: Path, invalid: list[str] | None = None) -> list[tuple[Schedule, ImportSpec]]:
    """Every spec in the folder (*.yaml, *.yml) that has a schedule, by name.

    `invalid`: where the errors of the specs that cannot be read go (each names its file, the key and what was
    expected), the others being returned all the same; without it, the first such error is raised."""
    if not folder.is_dir():
        raise EtlError(f"{folder}: no such folder of specs (give one with --specs)")
    found = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            spec = validate_spec(load_spec_data(path), str(path))
            if spec.schedule is None:
                continue
            try:
                cron, years = to_cron(spec.schedule)
            except SpecError as exc:
                raise SpecError(f"{path}: {exc}") from None
        except EtlError as exc:
            if invalid is None:
                raise
            invalid.append(str(exc))
            continue
        found.append((Schedule(path.stem, path, cron, years), spec))
    return found


# --- history and locks ----------------------------------------------------------


def history_path(store: Path) -> Path:
    return store.with_name(store.name + ".schedules.jsonl")


def history(store: Path, name: str | None = None) -> list[dict[str, Any]]:
    path = history_path(store)
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [e for e in entries if name is None or e["schedule"] == name]


def _record(store: Path, entry: dict[str, Any]) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    with open(history_path(store), "a", encoding="utf-8") as log:  # one short line: an atomic append
        log.write(json.dumps(entry, default=str) + "\n")


class _Lock:
    """A lock file per schedule holding the owner's pid and host; stale when that process is gone."""

    def __init__(self, store: Path, name: str) -> None:
        self.path = store.with_name(store.name + ".locks") / f"{name}.lock"
        self.note = ""

    def acquire(self) -> str | None:
        """None when taken; else who holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self._holder()
                if holder is not None:
                    return holder
                continue  # stale: cleared, try again
            with os.fdopen(fd, "w") as handle:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(UTC)}, handle,
                          default=str)  # fmt: skip
            return None
        return "another run (its lock could not be cleared)"

    def _holder(self) -> str | None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            owner = {}
        pid, host = owner.get("pid"), owner.get("host")
        if isinstance(pid, int) and (host not in (None, socket.gethostname()) or psutil.pid_exists(pid)):
            return f"process {pid} on {host}, running since {owner.get('since')}"
        self.path.unlink(missing_ok=True)
        self.note = f"cleared a stale lock left by process {pid} (it is no longer running)"
        return None

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


# --- running what is due -----------------------------------------------------------


def store_of_schedule(folder: Path, name: str, explicit: str | None) -> Path:
    """The store a schedule (by spec name) imports to, for its history; the default when its spec is gone."""
    for schedule, spec in scheduled(folder, []) if folder.is_dir() else []:  # another spec invalid: no matter
        if schedule.name == name:
            return store_path(explicit, spec.store)
    return store_path(explicit)


def run_due(folder: Path, explicit_store: str | None, now: datetime, invalid: list[str] | None = None
            ) -> list[dict[str, Any]]:  # fmt: skip
    """Run every scheduled import that is due at `now`; returns what happened, one entry each.

    explicit_store: --store, which overrides every spec's store: (None: each spec's own).
    invalid: as for `scheduled` (the valid schedules run, whatever the others)."""
    from etl.pipeline.importer import run_import  # Polars and DuckDB load only when importing

    done = []
    for schedule, spec in scheduled(folder, invalid):
        store = store_path(explicit_store, spec.store)  # --store, $ETL_STORE, the spec's store:, the default
        due = schedule.latest_due(now)
        if due is None or any(e["due_at"] == due.isoformat() for e in history(store, schedule.name)):
            continue
        entry: dict[str, Any] = {
            "schedule": schedule.name, "due_at": due.isoformat(), "at": now.isoformat(), "store": str(store),
        }  # fmt: skip
        lock = _Lock(store, schedule.name)
        holder = lock.acquire()
        try:
            if holder is not None:
                entry |= {"status": "skipped", "detail": f"the previous run is still running ({holder})"}
            else:
                result = run_import(spec, store, extra={"schedule": schedule.name, "scheduled_for": due})
                entry |= {"status": result["status"], "import_id": result["import_id"]}
        except ImportCancelled:
            entry["status"] = "cancelled"
            raise
        except EtlError as exc:
            entry |= {"status": "failed", "detail": str(exc)}
        finally:
            if holder is None:
                lock.release()
            if lock.note:
                entry["note"] = lock.note
            _record(store, entry)
        done.append(entry)
    return done
