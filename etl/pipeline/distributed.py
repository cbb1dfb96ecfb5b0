"""Staging elsewhere: the importing process's side of an executor other than `local` (etl.pipeline.executors).

The importing process holds the store's write lock throughout, and is the one writer. It lists the sources, writes
the known hashes (etl.pipeline.known) into the import's folder in the staging location, and has the files
surveyed (large CSV and JSON-lines files split into parts) and staged by tasks (etl.pipeline.tasks) wherever the
executor runs them. It then checks each part's staged rows against the count its worker gave, reads the staged
files (in place when the staging location is a local folder, else fetched through fsspec first: DuckDB's own
readers reach no object store here), numbers each part's rows on from the part before it (a part's rows are
numbered from 0: see staging.staged_views), and hands the same views to the entity as local staging does. The
rest of the import (the merge, the gate, the rejects, the report) runs as always, in one transaction.

The import's folder is `<staging>/import-<id>-p<pid>-<start>-<random>/`: removed when the import ends, and, when the
importing process was killed, by the next import that finds it (etl.sources.spools: its process is gone).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl import formats
from etl.errors import EtlError
from etl.pipeline import executors, planning, tasks
from etl.pipeline.known import Known
from etl.pipeline.staging import FileResult, Staging
from etl.pipeline.views import OUTPUTS, part_folder, staged_views
from etl.sources import files as sources
from etl.sources import spools
from etl.spec import ImportSpec

ENVIRONMENT = "ETL_STAGING"


@dataclass(frozen=True)
class Location:
    """The staging location: a folder every worker and this process reach (a local or shared path, or an fsspec
    URL such as s3://bucket/prefix), and its storage options."""

    base: str
    options: dict[str, Any]

    @property
    def local(self) -> bool:
        return sources.is_local(sources.filesystem(self.base, self.options)[0])


def location(spec: ImportSpec, store: Path) -> Location:
    """The spec's `staging:` (or the command line's --staging), else $ETL_STAGING, else the store's spool folder."""
    if spec.staging_path():
        return Location(spec.staging_path(), spec.staging_options())
    if os.environ.get(ENVIRONMENT):
        return Location(os.environ[ENVIRONMENT], {})
    return Location(str(spools.folder_of(store).resolve()), {})


class LazySources:
    """The files as this process opens them, opened only when asked for (a reject's line or raw values are found
    in its file: etl.pipeline.late_rejects)."""

    def __init__(self, stack: ExitStack, uris: list[str], spec: ImportSpec, connection, files: list[FileResult],
                 spool_dir: Path) -> None:  # fmt: skip
        self._stack, self._uris, self._spec, self._connection = stack, uris, spec, connection
        self._files, self._spool_dir = files, spool_dir
        self._opened: dict[int, sources.SourceFile] = {}

    def __len__(self) -> int:
        return len(self._uris)

    def __getitem__(self, index: int) -> sources.SourceFile:
        if index not in self._opened:
            file = self._files[index]
            source = self._stack.enter_context(sources.opened(
                self._uris[index], compression=self._spec.compression, encoding=file.encoding,
                spool_dir=self._spool_dir, options=self._connection, max_uncompressed=self._spec.max_uncompressed_bytes,
            ))  # fmt: skip
            source.delimiter = file.delimiter
            self._opened[index] = source
        return self._opened[index]


def stage(con, stack: ExitStack, *, spec: ImportSpec, setting: executors.Setting, staging: Location, uris: list[str],
          connection: dict[str, Any], import_id: int, state: Staging, known: Known | None, work: Path,
          plans: list, headers: list, progress=None) -> None:  # fmt: skip
    """Stage the files on the executor; fill `state.files`, `plans` and `headers` (the coordinator plans from the
    headers its workers read) and make the views stg_rows and stg_row_rejects. The import's folder in the staging
    location is removed when `stack` (the import's) closes."""
    module = formats.load(spec.format)
    options = spec.format_options()
    token = secrets.token_hex(4)
    fs, base = sources.filesystem(staging.base, staging.options)
    folder = f"{base.rstrip('/')}/{spools.work_prefix(import_id)}{token}"
    removed = _remove_dead(fs, base)
    if removed:
        state.timings["staging_orphans_removed"] = len(removed)
    fs.makedirs(folder, exist_ok=True)
    stack.callback(_remove, fs, folder)
    known_at = None
    if known is not None:
        known_at = f"{folder}/known.parquet"
        with fs.open(known_at, "wb") as out:
            known.hashes.write_parquet(out)
    part_bytes = spec.part_bytes()
    shared = tasks.Shared(spec, connection, _uri(staging.base, fs, folder), staging.options,
                          _uri(staging.base, fs, known_at) if known_at else None, part_bytes)  # fmt: skip
    started = time.monotonic()
    executor = executors.start(setting)
    ready = time.monotonic()
    failed = True
    try:
        staged = _run_tasks(executor, shared, module, uris, token, part_bytes, progress)
        failed = False
    finally:
        executor.close(wait=not failed)
    results = [r for parts_of_file in staged.values() for r in parts_of_file]
    state.elsewhere = {
        "executor": str(setting), "staging": _uri(staging.base, fs, base), "files": len(staged),
        "parts": len(results), "staged_bytes": sum(r.staged_bytes for r in results),
        "start_s": round(ready - started, 3), "tasks_s": round(time.monotonic() - ready, 3),
        "task_seconds": round(sum(r.seconds for r in results), 3),
    }  # fmt: skip
    local_dir = Path(folder) if staging.local else work / "staged"
    if not staging.local:
        local_dir.mkdir(exist_ok=True)
    outputs: dict[str, list[Path]] = {name: [] for name in OUTPUTS}
    events: dict[int, list[Path]] = {}
    for index, results in sorted(staged.items()):
        results.sort(key=lambda r: r.part)
        file = state.files[index]
        first = results[0]
        for key, value in first.info.items():
            setattr(file, key, value)
        file.rows = sum(r.rows for r in results)
        file.blank_rows = sum(r.items - r.rows for r in results[:-1]) + results[-1].blank_rows
        headers[index] = first.header
        plans[index] = _plan(module, options, spec, first, file)
        items = records = 0
        for result in results:
            shifted = local_dir / part_folder(items, records)  # the numbers its rows come after
            shifted.mkdir(parents=True, exist_ok=True)
            paths = {name: [_fetched(fs, folder, given, shifted, staging.local) for given in names]
                     for name, names in result.outputs.items()}  # fmt: skip
            _check_counts(con, paths, result, file.uri)
            events.setdefault(index, []).extend(paths.get("events", []))
            for name in OUTPUTS:
                outputs[name] += paths.get(name, [])
            items += result.items
            records += result.records
    events = {index: paths for index, paths in events.items() if paths}
    state.events_files.update(staged_views(con, outputs, events, shifted=True))
    if not staging.local:  # the fetched files are in `work`: the folder in the staging location goes now
        _remove(fs, folder)


def _run_tasks(executor, shared, module, uris, token, part_bytes, progress) -> dict[int, list[tasks.PartResult]]:
    surveys, whole = [], []
    for index, uri in enumerate(uris):
        reader = planning.reader(module, uri)
        if module.API is None and reader in ("csv", "jsonl") and _size(uri, shared.connection) > part_bytes:
            surveys.append((f"etl-survey-{token}-f{index}", tasks.survey_file, tasks.PartTask(shared, index, uri)))
        else:
            whole.append(tasks.PartTask(shared, index, uri))
    jobs = list(whole)
    for name, surveyed in executor.run(surveys):
        index = int(name.rsplit("-f", 1)[1])
        bounds = surveyed.split.bounds
        if not bounds:
            jobs.append(tasks.PartTask(shared, index, uris[index]))
            continue
        for part, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
            jobs.append(tasks.PartTask(shared, index, uris[index], part, start, end, surveyed))
    staged: dict[int, list[tasks.PartResult]] = {}
    named = [(f"etl-stage-{token}-f{job.file}-p{job.part}", tasks.stage_part, job) for job in jobs]
    for _, result in executor.run(named):
        staged.setdefault(result.file, []).append(result)
        if progress is not None:
            done = sum(r.rows for r in staged[result.file])
            progress(sources.display_uri(uris[result.file]), done, done)
    return staged


def _size(uri: str, connection) -> int:
    with sources.remote_errors(uri, connection):
        fs, path = sources.filesystem(uri, connection)
        return int(fs.info(path).get("size") or 0)


def _plan(module, options, spec: ImportSpec, result: tasks.PartResult, file: FileResult):
    """The plan the workers made of the file, made again here from the header they read (a plan holds Polars
    expressions and the format's functions: made where it is used, not shipped)."""
    if result.reader != "csv":
        return module.plan([], options, result.reader)
    source = sources.SourceFile(uri=file.uri, path=Path(os.devnull), size=0, delimiter=file.delimiter)
    return planning.header_plan(module, options, source, spec, result.header)[1]


def _check_counts(con, paths: dict[str, list[Path]], result: tasks.PartResult, uri: str) -> None:
    """Every record the worker staged is in the files this process reads: nothing lost in between."""
    counted = [str(p) for p in paths.get("rows", []) + paths.get("known", [])]
    query = "SELECT count(*) FROM read_parquet($files, union_by_name = true)"
    held = con.execute(query, {"files": counted}).fetchall()[0][0] if counted else 0
    if held != result.rows:
        raise EtlError(
            f"{uri}: part {result.part + 1}: its worker staged {result.rows} rows, but the staged files hold {held}"
        )


def _fetched(fs, folder: str, name: str, shifted: Path, local: bool) -> Path:
    """A staged file in its part's folder (moved there, or fetched from an object store)."""
    target = shifted / name
    if local:
        os.replace(Path(folder) / name, target)
    else:
        fs.get_file(f"{folder}/{name}", str(target))
    return target


def _uri(base: str, fs, path: str) -> str:
    """A path of the staging file system as a URI the workers open (a local path as it is)."""
    return path if sources.is_local(fs) else fs.unstrip_protocol(path)


def _remove(fs, folder: str) -> None:
    if sources.is_local(fs):
        shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        fs.rm(folder, recursive=True)
    except FileNotFoundError:
        pass


def _remove_dead(fs, base: str) -> list[str]:
    """The folders of imports whose process is gone (killed: their own cleanup never ran)."""
    if sources.is_local(fs):
        return spools.remove_dead(Path(base))
    try:
        entries = fs.ls(base, detail=False)
    except FileNotFoundError:
        return []
    removed = []
    for entry in entries:
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        if spools.is_dead(name):
            _remove(fs, entry)
            removed.append(name)
    return removed
