"""An inbox folder: import every file in its root, each as its own import, and file it away.

As the vendors' feeds describe it (CrossEngage's event feed; Kevel's file sources): other
systems drop files in the root of a folder (local, S3, SFTP); each file is imported on its
own, in name order; a file that imported successfully is moved into processed/ beside it;
a failed one stays where it is, to be fixed and picked up by the next run.

- Never twice: a file whose content (sha256) a completed import already stored is not
  imported again; it is reported as skipped and moved to processed/ (its content is there).
- Names: with `inbox: {naming: event_history}` in the spec, a file must be named
  event_history_YYYYMMDDHHMMSS.json (UTC; .gz or .zip after it allowed); the timestamp is
  given to the run (report `file_timestamp`); a file named otherwise fails, unread.
- Zip archives must hold one file named as the archive without .zip. A file that breaks
  the rule is imported anyway, but its import is recorded as `marked_failed` (stored, yet
  failed, as the event feed's spec says) and the file is not moved, on this run or any later
  one: a later run finds its content stored by that import and reports it as failed again,
  neither importing nor moving it. Renamed to fit the rule, it is skipped and moved.
- Files whose name starts with a dot (uploads in progress, by convention) are left alone.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb

from etl.errors import EtlError, ImportCancelled
from etl.sources import files as sources
from etl.spec import ImportSpec
from etl.store.connection import connect

PROCESSED = "processed"
MARKED_FAILED = "marked_failed"  # the import's status when the file broke the zip rule: stored, but failed
EVENT_HISTORY = re.compile(r"^event_history_(\d{14})\.json(\.gz|\.zip)?$")


@dataclass
class Outcome:
    """What the inbox did with one file."""

    uri: str
    status: str  # imported, failed, skipped
    import_id: int | None = None
    detail: str = ""
    moved_to: str | None = None


def run_inbox(folder: str, spec: ImportSpec, store: Path, *, progress=None) -> list[Outcome]:
    """Import each file in the folder's root, in name order; returns one outcome per file."""
    from etl.pipeline.importer import run_import  # Polars and DuckDB load only when importing

    options = spec.storage_options()
    with sources.remote_errors(folder, options):
        fs, root = sources.filesystem(folder, options)
        entries = fs.ls(root, detail=True)
    files = sorted(
        (e["name"] for e in entries if e.get("type") == "file" and not PurePosixPath(e["name"]).name.startswith(".")),
        key=lambda name: PurePosixPath(name).name,
    )
    outcomes = []
    for path in files:
        name = PurePosixPath(path).name
        uri = _uri_of(folder, fs, path)
        label = sources.display_uri(uri)
        try:
            outcome = _one_file(fs, path, name, uri, label, spec, store, options, run_import, progress)
        except ImportCancelled:
            raise
        except EtlError as exc:
            outcome = Outcome(label, "failed", (exc.report or {}).get("import_id"), detail=str(exc))
        if outcome.status in ("imported", "skipped"):
            with sources.remote_errors(uri, options):
                target = f"{str(PurePosixPath(path).parent).rstrip('/')}/{PROCESSED}"
                fs.makedirs(target, exist_ok=True)
                fs.mv(path, f"{target}/{name}")
            outcome.moved_to = sources.display_uri(_uri_of(folder, fs, f"{target}/{name}"))
        outcomes.append(outcome)
    return outcomes


def _one_file(fs, path, name, uri, label, spec: ImportSpec, store: Path, options, run_import, progress) -> Outcome:
    file_timestamp = None
    if spec.inbox.naming == "event_history":
        match = EVENT_HISTORY.match(name)
        if match is None:
            return Outcome(label, "failed", detail="not named event_history_YYYYMMDDHHMMSS.json (UTC): left unread")
        try:
            file_timestamp = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return Outcome(label, "failed", detail=f"{match.group(1)} is not a valid date and time: left unread")
    with sources.remote_errors(uri, options):
        digest = sources.file_sha256(fs, path)
    broken_zip = _zip_naming_problem(fs, path, name, uri, options) if name.lower().endswith(".zip") else None
    earlier = _imported_before(store, digest)
    if earlier is not None and broken_zip:  # stored, but the file is still failed: it stays, as CrossEngage's
        return Outcome(label, "failed", earlier, f"imported as import {earlier} ({MARKED_FAILED}), but {broken_zip}: "
                       "left in place, not imported again")  # fmt: skip
    if earlier is not None:
        return Outcome(
            label, "skipped", earlier, f"the same content (sha256 {digest[:12]}…) was imported as import {earlier}"
        )
    one = spec.model_copy(update={"source": [uri]})
    one._origin = spec.origin
    extra: dict[str, Any] = {"file_timestamp": file_timestamp}
    if broken_zip:  # the report's status: what `etl runs` and later inbox runs see
        extra |= {"status": MARKED_FAILED, "marked_failed": broken_zip}
    result = run_import(one, store, progress=progress, extra=extra)
    if broken_zip:
        return Outcome(label, "failed", result["import_id"], f"imported, but {broken_zip}: left in place")
    counts = f"{result['valid']:,} stored, {result['rejected']:,} rejected"
    return Outcome(label, "imported", result["import_id"], counts)


def _uri_of(folder: str, fs, path: str) -> str:
    """A listed path as a URI like the folder's (host-based ones keep user, host and port)."""
    if sources.is_local(fs):
        return path
    return sources.full_uri(folder, fs, path)


def _imported_before(store: Path, digest: str) -> int | None:
    """The completed or marked_failed (not dry-run) import that stored a file with this sha256, if any."""
    if not store.exists():
        return None
    with connect(store, read_only=True) as con:
        try:
            found = con.execute(
                """
                SELECT min(import_id)
                FROM imports
                WHERE status IN ('completed', $marked_failed) AND NOT dry_run
                  AND list_contains(json_extract_string(report, '$.files[*].sha256'), $digest)
                """,
                {"digest": digest, "marked_failed": MARKED_FAILED},
            ).fetchall()
        except duckdb.CatalogException:  # a store made before any import: no imports table yet
            return None
    return found[0][0]


def _zip_naming_problem(fs, path: str, name: str, uri: str, options: dict[str, Any]) -> str | None:
    """The event feed's rule: one file, named as the archive without .zip."""
    with sources.remote_errors(uri, options), fs.open(path, "rb") as handle:
        try:
            members = [m.filename for m in zipfile.ZipFile(handle).infolist() if not m.is_dir()]
        except zipfile.BadZipFile:
            return None  # the import says what is wrong with it
    expected = name[: -len(".zip")]
    if members != [expected]:
        return f"the archive must hold one file named {expected!r}; it holds {members}"
    return None
