"""What a worker runs: one file, or one part of one, read through fsspec, staged as the importing process would
stage it (etl.pipeline.staging.stage_file), and published to the import's folder in the staging location.

Two picklable functions over picklable tasks, the same for a local process pool and a Dask cluster:
- `survey_file`: where a large CSV or JSON-lines file splits (etl.pipeline.parts), its encoding and delimiter;
- `stage_part`: a whole file (opened as the importing process opens one: etl.sources.files.opened) or a part (its
  byte range, after the header's bytes) staged into a private folder, its outputs then moved (or uploaded) to
  `<staging>/<kind>-f<file>-p<part>-<n>.parquet`: deterministic names, so that a task run again (its worker
  killed) overwrites only its own. It returns what it staged and its counts; workers never open the store.

A task's repr names its file and part only: the connection's secrets travel inside it, and never show in a Dask
dashboard, a worker's log, a task's name or an error (errors are redacted as etl.sources.files does).
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from etl import formats
from etl.errors import EtlError, InputError
from etl.pipeline import parts, planning
from etl.pipeline.known import Known
from etl.pipeline.staging import stage_file
from etl.pipeline.views import OUTPUTS
from etl.readers import csv as csv_reader
from etl.sources import files as sources
from etl.sources.encodings import detect_encoding
from etl.spec import ImportSpec


@dataclass(frozen=True)
class Shared:
    """What every task of an import shares: the spec, its connection (secrets resolved), the import's staging
    folder (a local path or an fsspec URL) and its options, and the known hashes' file there (or None)."""

    spec: ImportSpec
    connection: dict[str, Any] = field(repr=False)
    folder: str
    folder_options: dict[str, Any] = field(repr=False)
    known: str | None = None
    part_bytes: int = parts.PART_BYTES

    def __repr__(self) -> str:
        return f"Shared(format={self.spec.format!r})"


@dataclass(frozen=True)
class Surveyed:
    split: parts.Split
    encoding: str
    how: dict[str, Any]  # detected, confidence, runner_up (encoding: auto)
    delimiter: str
    delimiter_detected: bool


@dataclass(frozen=True)
class PartTask:
    shared: Shared
    file: int
    uri: str
    part: int = 0
    start: int | None = None  # a part's byte range (None: the whole file)
    end: int | None = None
    surveyed: Surveyed | None = None

    def __repr__(self) -> str:
        return f"PartTask(file={self.file}, part={self.part})"


@dataclass(frozen=True)
class PartResult:
    file: int
    part: int
    header: list[str]
    reader: str
    info: dict[str, Any]  # the FileResult fields a worker knows: encoding, delimiter, sha256, ignored columns
    outputs: dict[str, list[str]]  # by name (OUTPUTS, and events), file names in the import's folder
    rows: int
    blank_rows: int
    records: int  # rows the part's numbering went through (blank lines included): the next part's start
    items: int  # its rows as numbered: events, for a file whose records are read into events
    seconds: float = 0.0  # the task's own time on its worker
    staged_bytes: int = 0  # of its outputs


def worker_name() -> str:
    try:
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except (ImportError, ValueError):
        return f"process {os.getpid()} on {socket.gethostname()}"


def _reachable(uri: str, connection: dict[str, Any]):
    """The source's file system and path, as this worker sees it: an error that says so when it cannot read it."""
    try:
        with sources.remote_errors(uri, connection):
            fs, path = sources.filesystem(uri, connection)
            fs.info(path)
    except (EtlError, OSError) as exc:
        raise InputError(
            f"{exc} (as seen from {worker_name()}: the importing process listed it, but on a cluster every "
            "source must be reachable from every worker: a folder shared at the same path, S3, SFTP or HTTP)"
        ) from None
    return fs, path


def survey_file(task: PartTask) -> Surveyed:
    """Where a whole file's parts start (etl.pipeline.parts), with the encoding and delimiter every part is read
    with: decided once, from the file's first bytes, as the importing process decides them (etl.sources.files)."""
    spec = task.shared.spec
    module = formats.load(spec.format)
    reader = planning.reader(module, task.uri)
    fs, path = _reachable(task.uri, task.shared.connection)
    with sources.remote_errors(task.uri, task.shared.connection):
        with fs.open(path, "rb") as handle:
            head = handle.read(sources.SAMPLE_BYTES + 1)  # the sample `encoding: auto` reads (files._sample)
        encoding, how = spec.encoding, {}
        if spec.compression not in ("auto", "none") or head.startswith((sources.GZIP_MAGIC, sources.ZIP_MAGIC)):
            return Surveyed(parts.Split(whole="compressed"), encoding, how, "", False)
        if encoding == "auto":
            found = detect_encoding(head[: sources.SAMPLE_BYTES], complete=len(head) <= sources.SAMPLE_BYTES)
            encoding = found.codec
            how = {"detected": found.reason, "confidence": found.confidence, "runner_up": found.runner_up}
        if not (sources._is_utf8(encoding) or encoding.lower() in ("ascii", "us-ascii")):
            return Surveyed(parts.Split(whole=f"encoded in {encoding}"), encoding, how, "", False)
        if not _ranges_served(fs, path):
            return Surveyed(parts.Split(whole="its server does not serve byte ranges"), encoding, how, "", False)
        if reader != "csv":
            split = parts.survey(fs, path, reader=reader, delimiter=",", part_bytes=task.shared.part_bytes)
            return Surveyed(split, encoding, how, "", False)
        with tempfile.NamedTemporaryFile(suffix=".csv") as first:  # the file's first bytes: its header is in them
            first.write(head)
            first.flush()
            source = sources.SourceFile(uri=sources.display_uri(task.uri), path=Path(first.name), size=len(head))
            csv_reader.choose_delimiter(source, spec.delimiter)
            split = parts.survey(fs, path, reader=reader, delimiter=source.delimiter,
                                 part_bytes=task.shared.part_bytes)  # fmt: skip
            if split.bounds:
                header, plan = planning.plan_file(module, spec.format_options(), source, spec, "csv")
                if plan.run_key is not None:
                    split = parts.after_runs(fs, path, split, source.uri, source.delimiter, spec, header,
                                             plan.run_key)  # fmt: skip
    return Surveyed(split, encoding, how, source.delimiter, source.delimiter_detected)


def _ranges_served(fs, path: str) -> bool:
    """Whether a part of the file can be read without reading what comes before it (an HTTP server may refuse)."""
    if sources.is_local(fs):
        return True
    try:
        with fs.open(path, "rb") as handle:
            handle.seek(1)
            handle.read(1)
    except ValueError:  # fsspec's HTTP file: "The HTTP server doesn't appear to support range requests"
        return False
    return True


def stage_part(task: PartTask) -> PartResult:
    started = time.monotonic()
    shared, spec = task.shared, task.shared.spec
    module = formats.load(spec.format)
    options = spec.format_options()
    reader = planning.reader(module, task.uri)
    local = _local_folder(shared)
    with tempfile.TemporaryDirectory(dir=local, prefix=f"task-f{task.file}-p{task.part}-") as private:
        work = Path(private)
        if task.start is None:
            _reachable(task.uri, shared.connection)  # an error that names the worker's view
            opened = sources.opened(
                task.uri, compression=spec.compression, encoding=spec.encoding, spool_dir=work,
                options=shared.connection, max_uncompressed=spec.max_uncompressed_bytes,
            )  # fmt: skip
            with opened as source:
                staged, header, plan, info, records = _stage(task, module, options, reader, source, work)
        else:
            source = _part_file(task, work)
            try:
                staged, header, plan, info, records = _stage(task, module, options, reader, source, work)
            except InputError:
                raise _as_whole_file_says(task) from None
        size = sum(path.stat().st_size for paths in staged.outputs.values() for path in paths)
        outputs = _publish(staged, task, shared)
    items = staged.numbered if plan.prepare is not None else records
    return PartResult(task.file, task.part, header, reader, info, outputs, staged.rows, staged.blank_rows, records,
                      items, round(time.monotonic() - started, 3), size)  # fmt: skip


def _as_whole_file_says(task: PartTask) -> InputError:
    """A part's input error, as the whole file's reading gives it (its line in the file, not in the part): the file
    staged whole here, once, to find it."""
    try:
        stage_part(PartTask(task.shared, task.file, task.uri))
    except InputError as whole:
        return whole
    return InputError(f"{sources.display_uri(task.uri)}: part {task.part + 1} could not be read, the whole file can")


def _stage(task: PartTask, module, options, reader: str, source: sources.SourceFile, work: Path):
    spec = task.shared.spec
    if task.surveyed is not None and task.start is not None:
        source.delimiter, source.delimiter_detected = task.surveyed.delimiter, task.surveyed.delimiter_detected
    elif reader == "csv":
        csv_reader.choose_delimiter(source, spec.delimiter)
    else:
        source.delimiter = ""
    header, plan = planning.plan_file(module, options, source, spec, reader)
    known = _known(task.shared.known, task.shared.folder_options)
    staged = stage_file(task.file, source, header, plan, spec, work, None, known)
    if task.start is None:
        records = staged.numbered
    elif reader == "csv":
        records = csv_reader.scan_csv_text(source).select(pl.len()).collect().item()
    else:
        from etl.readers import jsonl

        records = jsonl.lines(source.path).select(pl.len()).collect().item()
    info = {
        "encoding": source.encoding, "encoding_detected": source.detected, "encoding_confidence": source.confidence,
        "encoding_runner_up": source.runner_up, "delimiter": source.delimiter,
        "delimiter_detected": source.delimiter_detected, "ignored_columns": plan.ignored,
        "sha256": task.surveyed.split.sha256 if task.surveyed is not None and task.start is not None else source.sha256,
    }  # fmt: skip
    return staged, header, plan, info, records


def _part_file(task: PartTask, work: Path) -> sources.SourceFile:
    """The part's bytes (after its file's header, for a CSV) in a local file, as a source to stage."""
    assert task.surveyed is not None and task.start is not None and task.end is not None
    connection = task.shared.connection
    fs, path = _reachable(task.uri, connection)
    local = work / f"part-{task.file}-{task.part}"
    with sources.remote_errors(task.uri, connection), fs.open(path, "rb") as handle, open(local, "wb") as out:
        out.write(task.surveyed.split.header)
        handle.seek(task.start)
        left = task.end - task.start
        while left > 0 and (chunk := handle.read(min(sources.CHUNK, left))):
            out.write(chunk)
            left -= len(chunk)
    surveyed = task.surveyed
    return sources.SourceFile(uri=sources.display_uri(task.uri), path=local, size=local.stat().st_size,
                              encoding=surveyed.encoding, _sha256=surveyed.split.sha256, **surveyed.how)  # fmt: skip


def _local_folder(shared: Shared) -> str | None:
    """Where a task stages before publishing: inside the import's folder when it is local (a rename then
    publishes), else this machine's temporary folder."""
    fs, path = sources.filesystem(shared.folder, shared.folder_options)
    return path if sources.is_local(fs) else None


def _publish(staged, task: PartTask, shared: Shared) -> dict[str, list[str]]:
    fs, folder = sources.filesystem(shared.folder, shared.folder_options)
    local = sources.is_local(fs)
    named: dict[str, list[str]] = {}
    files = {name: staged.outputs[name] for name in OUTPUTS}
    if staged.events is not None:  # a prepared file's events: its late rejects are found in them
        files["events"] = [staged.events]
    for name, paths in files.items():
        named[name] = []
        for number, path in enumerate(paths):
            target = f"{name}-f{task.file}-p{task.part}-{number}.parquet"
            if local:
                os.replace(path, os.path.join(folder, target))
            else:
                fs.put_file(str(path), f"{folder.rstrip('/')}/{target}")
            named[name].append(target)
    return named


_KNOWN: dict[str, Known] = {}  # the last import's known hashes, in this worker process (its folder is its own)


def _known(location: str | None, options: dict[str, Any]) -> Known | None:
    """The known hashes the importing process wrote for the tasks (read once per worker process)."""
    if location is None:
        return None
    if location not in _KNOWN:
        fs, path = sources.filesystem(location, options)
        with fs.open(path, "rb") as handle:
            hashes = pl.read_parquet(handle)
        _KNOWN.clear()
        _KNOWN[location] = Known(hashes)
    return _KNOWN[location]
