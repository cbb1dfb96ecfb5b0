"""Staging: every file of an import read, transformed and checked into Parquet files that DuckDB reads.

The same steps for every entity: the file is scanned as text (a CSV's columns, as file:<name>) or as
JSON lines, the spec's transforms and the format's plan run over it, and each record is kept or
rejected with every reason. Polars streams the kept records and the rejected ones into two Parquet
files per source, which `stage` shows as the views stg_rows and stg_row_rejects. What a run found
along the way (rows, blank lines, encodings ...) is kept per file in FileResult.

A plan with a hash salt has each record hashed as read (hash_hi, hash_lo); given the records the entity applied
before (etl.pipeline.known.Known), each is marked `_known` (one column, whichever way it was found: a streamed
scan's `is_in`, a batch's binary search, a prepared file's records), and the known ones are staged apart as
their keys and hash alone (a third output, known-<n>*.parquet, which stg_rows holds too). Staging reads only the
opened files (etl.sources.files: local files or spools), so it can run again over them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from etl.errors import InputError
from etl.formats.plan import Plan
from etl.formats.rows import RAW, Check, record_hash, row_hashes, run_hashes, with_runs
from etl.pipeline import prepared, views
from etl.pipeline.known import Known
from etl.readers import csv as csv_reader
from etl.sources import files as sources
from etl.spec import ImportSpec
from etl.transforms import compile as transforms

Progress = Callable[[str, int, int], None]  # (file, rows so far, estimated rows)

ROW_KEYS = ["_file", "_row", "_seq"]
FILE = "file:"  # the values as read, under the file's column names: rejects keep these as `raw`


@dataclass
class FileResult:
    uri: str
    encoding: str = ""
    encoding_detected: str | None = None  # with encoding: auto, how it was chosen
    encoding_confidence: float | None = None  # and how sure it is, 0..1
    encoding_runner_up: str | None = None  # the best other codec
    encoding_warning: str | None = None  # said when the confidence is low
    delimiter: str = ","
    delimiter_detected: bool = False  # with delimiter: auto (the default)
    sha256: str = ""
    rows: int = 0
    blank_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    status: str = "pending"  # stored, checked (dry run), failed, not stored
    error: str | None = None  # why this file failed the run


@dataclass
class Staging:
    """What a run found out along the way: per-file results and per-step timings."""

    files: list[FileResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    current: int | None = None  # the file being opened or read, to say which one failed
    # a prepared file's events (their raw text by _row: plan.prepare), for the rejects an entity makes later: the
    # name of a view of them (stg_events_<file>), made with the others (staged_views)
    events_files: dict[int, str] = field(default_factory=dict)
    # staged by an executor other than local (etl.pipeline.distributed): where, in how many parts, what it moved
    elsewhere: dict[str, Any] | None = None

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.timings[step] = round(time.monotonic() - start, 3)


def stage(
    con,
    sources: list[sources.SourceFile],
    headers: list[list[str]],
    plans: list[Plan],
    spec: ImportSpec,
    state: Staging,
    work: Path,
    progress,
    known: Known | None = None,
) -> None:
    """Parse and validate every file, streaming, into Parquet files that DuckDB reads as views.

    stg_rows: every valid row, with the order fields (used from a run's first row) and
    the line-item fields; stg_row_rejects: rows that failed a check, with their reasons
    and raw text (only rejected rows are turned into JSON). Polars writes both in one
    streaming pass per file, so memory stays flat whatever the file's size; DuckDB then
    scans them in parallel, and nothing is copied into its memory.

    `known`: the records the entity applied before (etl.pipeline.known): such records are staged as their keys
    and hash alone, into known-<n>*.parquet, which stg_rows holds too (their other columns null).
    """
    staged: dict[str, list[Path]] = {name: [] for name in OUTPUTS}
    events: dict[int, Path] = {}
    for index, (source, header, plan) in enumerate(zip(sources, headers, plans, strict=True)):
        state.current = index
        file = stage_file(index, source, header, plan, spec, work, progress, known)
        if file.events is not None:
            events[index] = file.events
        for name in OUTPUTS:
            staged[name] += file.outputs[name]
        result = state.files[index]
        result.rows, result.blank_rows = file.rows, file.blank_rows
    state.events_files.update(views.staged_views(con, staged, {i: [p] for i, p in events.items()}))


@dataclass
class StagedFile:
    """One file's (or one part's) staged outputs: `outputs` by name (OUTPUTS), the prepared events of a plan that
    prepares them (`events`: their raw text by _row, for the rejects an entity makes later), and its counts."""

    outputs: dict[str, list[Path]]
    rows: int  # records staged (valid, rejected or known)
    blank_rows: int  # blank lines between them
    numbered: int  # rows the file's numbering went through (_row of its last one + 1): where a next part's starts
    events: Path | None = None


def stage_file(index: int, source, header, plan: Plan, spec: ImportSpec, work: Path, progress, known) -> StagedFile:
    """One file read, transformed and checked into Parquet files in `work` (rows, rejects, known; see `stage`):
    the function every executor runs, here or on a worker (etl.pipeline.tasks)."""
    rows, outputs, batches = _input(index, source, header, plan, spec, progress, known, work)
    try:
        if plan.row_wise:
            size = batch_rows(source, plan.reader, rows)
            written = _stage_in_batches(rows, outputs, work, index, batches(size))
        else:
            written = _stage_streaming(rows, outputs, work, index)
    except pl.exceptions.PolarsError as exc:
        raise csv_reader.translate_parse_error(source, exc, len(header)) from None
    if plan.reader == "json":
        _locate_json_rejects(source, written["rejects"], work, index)
    events = None
    if plan.prepare is not None:
        events = work / f"events-{index}.parquet"
        written["known"].append(work / f"known-events-{index}.parquet")  # etl.pipeline.prepared's
    counted = written["rows"] + written["known"]  # every row once: the rejected ones are in rows too, flagged
    counts = (
        pl.concat([pl.scan_parquet(p).select(pl.col("_row").cast(pl.Int64)) for p in counted])
        .select(n=pl.len(), last=pl.col("_row").max())
        .collect()
        .row(0)
        if counted
        else (0, None)
    )
    numbered = counts[1] + 1 if counts[1] is not None else 0
    return StagedFile(written, counts[0], numbered - counts[0], numbered, events)


OUTPUTS = views.OUTPUTS
BATCH_ROWS = 250_000  # at most, in a batch of a row-wise plan
# the input text of a batch: a record's parsing holds about ten times its text at once (1M JSON lines of
# products, 600 bytes each: batches of 250,000 took an import to 2.5 GB, of 50,000 to 1.2 GB, no slower; each
# batch costs a few ms more, which a re-import of known records feels: 32 MB, 56,000 of them, 1.36 GB)
BATCH_BYTES = 32 << 20


XML_BATCH_ROWS = 25_000  # an XML feed's lines are not its records: its items, read into JSON, are batched so
PREPARED_GROUP_BYTES = 8 << 20  # of JSON lines' text in a row group, for a plan that prepares them


def batch_rows(source: sources.SourceFile, reader: str, records: pl.LazyFrame | None = None) -> int:
    """The records of a batch of this file: BATCH_BYTES of its text, by the mean length of its first lines (of
    a JSON array, by the file's size over its elements: its lines are not its records)."""
    if reader == "xml":
        return XML_BATCH_ROWS
    if reader in ("json", "jsonl") and records is not None and "_record" in records.collect_schema().names():
        count = records.select(pl.len()).collect().item()  # prepared events: the file's size over them
        mean = source.size / max(count, 1) * 4  # each with its prepared columns beside it
    elif reader == "json" and records is not None:
        count = records.select(pl.len()).collect().item()  # the split's Parquet metadata
        mean = source.size / max(count, 1) * 2  # half: a first import's parse held 1.53 GB with whole ones
    else:
        mean = mean_line_bytes(source)
    return max(10_000, min(BATCH_ROWS, int(BATCH_BYTES // max(1.0, mean))))


def _stage_streaming(rows: pl.LazyFrame, outputs, work: Path, index: int) -> dict[str, list[Path]]:
    """Every row, flagged `_reject` when a check failed, streamed by Polars into one Parquet file; then, only when
    some row was rejected, the rejected rows with their reasons and raw values into another. Each sink reads the
    file again (Polars does not share a scan between sinks), and most files have no rejects: they are read once.
    Known records, when the plan hashes, are a third output of the first pass."""
    rows_flagged, rejected, known = outputs(rows)
    frames = {"rows": rows_flagged, "known": known}
    files = {name: work / f"{name}-{index}.parquet" for name, frame in frames.items() if frame is not None}
    pl.collect_all(
        [frames[n].sink_parquet(path, compression="lz4", statistics=False, lazy=True) for n, path in files.items()],
        engine="streaming",
    )
    any_rejected = pl.scan_parquet(files["rows"]).filter(pl.col("_reject")).head(1).collect().height > 0
    files["rejects"] = work / f"rejects-{index}.parquet"
    if any_rejected:
        rejected.sink_parquet(files["rejects"], compression="lz4", statistics=False, engine="streaming")
    else:  # none: an empty file with the rejects' columns, for the view
        rejected.clear().collect().write_parquet(files["rejects"])
    return {name: [files[name]] if name in files else [] for name in OUTPUTS}


def _stage_in_batches(rows: pl.LazyFrame, outputs, work: Path, index: int, batches: Iterator[pl.LazyFrame]) -> dict:
    """A plan whose rows do not depend on each other (Plan.row_wise): the file read once, in batches,
    each batch's three outputs made in memory and written to Parquet files of their own. Streaming sinks would
    read the file once per output; known records make the outputs cheap and the reading the cost."""
    written: dict[str, list[Path]] = {name: [] for name in OUTPUTS}
    for number, batch in enumerate(batches):
        frames = pl.collect_all([f for f in outputs(batch) if f is not None])
        for name, frame in zip(OUTPUTS, frames, strict=False):
            if frame.height or number == 0:  # the first batch's, empty or not, gives every output its columns
                path = work / f"{name}-{index}-{number}.parquet"
                frame.write_parquet(path, compression="lz4", statistics=False)
                written[name].append(path)
    if not written["rows"]:  # an empty file: no batch at all
        rows_flagged, rejected, _ = outputs(rows.clear())
        for name, frame in (("rows", rows_flagged), ("rejects", rejected)):
            path = work / f"{name}-{index}-0.parquet"
            frame.collect().write_parquet(path)
            written[name].append(path)
    return written


def _input(index, source, header, plan, spec, progress, known, work: Path):
    """The file's records as read (after the spec's transforms; hashed and marked `_known`, see `_hashed`), the
    function that makes the valid, rejected and known rows of any frame of them (of the whole scan, or of one
    batch of it), and the function that gives them in batches of a size. An XML feed is first read into JSON
    objects, one per item (etl.readers.xml), in `work`, and a JSON array's elements split apart: those Parquet
    files are read a batch at a time by pyarrow (Polars' batches of a scan read ahead: 5M events' batches held
    1 GB at once)."""
    if plan.reader in ("jsonl", "xml", "json"):
        lines, records = _json_records(index, source, plan.reader, work)
        if plan.prepare is not None:  # records into events first (esputnik_events' bodies)
            if records is None:  # JSON lines, as the records of a JSON array are
                records = work / f"lines-{index}.parquet"
                lines = lines.with_columns(_offset=pl.lit(None, pl.UInt64))
                # row groups of a few MB: DuckDB reads a group whole for each part it reads (bodies of 130 KB in
                # one group of 1,000 took a part's reading to 0.9 GB, in groups of 64 to 0.6 GB)
                group = max(16, int(PREPARED_GROUP_BYTES // max(1.0, mean_line_bytes(source))))
                lines.select("_line", "_row", "_offset", "raw").sink_parquet(records, row_group_size=group)
            events, _ = prepared.stage_records(index, plan, known, records, work)  # hashed; the known ones apart
            rows = pl.scan_parquet(events).drop("_offset")
            return rows, lambda lf: _json_lines_outputs(index, lf, plan), _parquet_batches(events, plan, None, False)
        rows = _hashed(lines, [pl.col("raw")], plan, known)
        batches = _batches_of(rows) if records is None else _parquet_batches(records, plan, known)
        return rows, lambda lf: _json_lines_outputs(index, lf, plan), batches
    raw, failures = transformed(source, header, spec, progress)
    raw = _hashed(raw, [pl.col(RAW + h) for h in plan.header], plan, known)
    return raw, lambda lf: _csv_outputs(index, lf, header, plan, failures), _batches_of(raw)


def transformed(source, header: list[str], spec: ImportSpec, progress=None):
    """A CSV file's rows, blank lines left out, after the spec's transforms (the raw values as RAW + field), and
    the transforms' failures."""
    raw = raw_scan(source, header, progress)
    raw = raw.filter(~pl.all_horizontal(pl.col(FILE + h).is_null() for h in header))  # blank lines
    raw = raw.with_columns(pl.col(FILE + h).alias(RAW + h) for h in header)
    return transforms.apply(raw, spec.transforms, RAW)


def _parquet_batches(records: Path, plan, known: Known | None, hash_them: bool = True):
    """Batches of a Parquet file of records, hashed (unless they are: a prepared file's), the known ones marked."""
    known = known if plan.hash_salt is not None else None

    def batches(size: int) -> Iterator[pl.LazyFrame]:
        file = pq.ParquetFile(records)
        columns = [name for name in file.schema_arrow.names if name != "_offset"]  # a prepared file's columns too
        for part in file.iter_batches(batch_size=size, columns=columns):
            batch = pl.from_arrow(part).lazy()
            batch = _hashed(batch, [pl.col("raw")], plan, None) if hash_them else batch
            yield batch if known is None else known.marked_batch(batch.collect()).lazy()

    return batches


def _batches_of(rows: pl.LazyFrame):
    def batches(size: int) -> Iterator[pl.LazyFrame]:
        for batch in rows.collect_batches(chunk_size=size, engine="streaming"):
            yield batch.lazy()

    return batches


def _json_records(index: int, source, reader: str, work: Path) -> tuple[pl.LazyFrame, Path | None]:
    """A file's records as JSON text, one a row (_line, _row, raw): JSON lines as they are, an XML feed's items
    read into JSON objects first, a JSON array's elements split apart (their lines found for rejects alone);
    and the Parquet file those two were written to."""
    if reader == "xml":
        from etl.readers import xml

        records = xml.to_records(source, work / f"xml-{index}.parquet")
        return pl.scan_parquet(records), records
    if reader == "json":
        from etl.readers import json_array

        records = json_array.to_records(source, work / f"json-{index}.parquet")
        return pl.scan_parquet(records).select("_line", "_row", "raw"), records
    from etl.readers import jsonl

    return jsonl.lines(source.path).with_columns(_row=(pl.col("_line") - 1).cast(pl.UInt32)), None


def _locate_json_rejects(source, paths: list[Path], work: Path, index: int) -> None:
    """An element of a JSON array that is not valid JSON fails the file, naming its line and column (see
    etl.readers.json_array); the lines of the other rejects are found once the entity has made its own
    (etl.pipeline.late_rejects)."""
    from etl.readers import json_array, jsonl

    rejects = pl.read_parquet(paths) if paths else pl.DataFrame()
    if rejects.height == 0:
        return
    invalid = rejects.filter(
        pl.col("reasons").list.eval(pl.element().struct.field("hint").str.starts_with(jsonl.NOT_JSON)).list.any()
    )
    if invalid.height == 0:
        return
    record = "_record" if "_record" in rejects.columns else "_row"  # a prepared file's events: their record's
    located = pl.read_parquet(
        json_array.scan(source, work / f"json-lines-{index}.parquet"), columns=["_row", "_offset"]
    )
    offset = located.filter(pl.col("_row") == invalid[record].min())["_offset"][0]
    raise InputError(f"{source.uri}: {json_array.locate(source, offset)}")


def _csv_outputs(index: int, raw: pl.LazyFrame, header: list[str], plan, failures):
    raw, known_rows = _known_apart(index, raw)
    typed, checks = plan.transform(raw)
    if "_row_h1" in typed.collect_schema().names():  # hashed rows of runs the format numbered (see _hashed)
        typed = run_hashes(typed)
    # A value a transform could not handle is rejected for that reason alone, not again
    # by the format's rule for the field it was meant to fill.
    failed_into: dict[str, list[pl.Expr]] = {}
    for failure in failures:
        failed_into.setdefault(failure.target, []).append(failure.failed)
    checks = [
        Check(c.column, c.hint, c.failed & ~pl.any_horizontal(failed_into[c.column]), c.value)
        if c.column in failed_into
        else c
        for c in checks
    ] + [Check(f.column, f.hint, f.failed, f.value) for f in failures]
    # The format hands over cheap checks (its parsing is done in the transform), so they are
    # used as they are, not materialised again.
    return (*_split(index, typed, checks, plan, raw=raw_json(header), line=pl.lit(None, pl.UInt64)), known_rows)


def _hashed(rows: pl.LazyFrame, record: list[pl.Expr], plan, known: Known | None) -> pl.LazyFrame:
    """The record hash (hash_hi, hash_lo) of each row, of the record as read, when the plan has one
    (Plan.hash_salt); and given `known`, `_known`: whether the store has applied it before (etl.pipeline.known)."""
    salt = plan.hash_salt
    if salt is None:
        return rows
    if plan.run_key is not None:
        rows = rows.with_columns(**row_hashes(record, salt))
        if known is None:  # the runs' hashes once the format has numbered them where it likes (_csv_outputs)
            return rows
        # numbered before the known rows go apart, so that a run's rows are known together
        rows = run_hashes(with_runs(rows, pl.col(RAW + plan.run_key)))
    else:
        rows = rows.with_columns(**record_hash(record, salt))
    return rows if known is None else known.marked(rows)  # (none known: one output less)


def _known_apart(index: int, rows: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """The rows not known, and the known ones' keys and hash (None when nothing was marked). A known record is
    not parsed nor checked again: it passed when it was applied, and the same record under the same fields
    and options passes the same checks."""
    if "_known" not in rows.collect_schema().names():
        return rows, None
    runs = "_run" in rows.collect_schema().names()  # a run of rows is one record (its rows are known together)
    known_rows = rows.filter(pl.col("_known")).select(
        _file=pl.lit(index, pl.UInt32), _row=pl.col("_row"), _seq=_seq(index, "_run" if runs else "_row"),
        hash_hi="hash_hi", hash_lo="hash_lo",
    )  # fmt: skip
    return rows.filter(~pl.col("_known")).drop("_known"), known_rows


def _json_lines_outputs(index: int, lines: pl.LazyFrame, plan):
    """JSON lines: blank lines left out, a line the reader rejects (not JSON, not an object, a key given
    twice) rejected for that reason alone, the others checked by the format's plan."""
    from etl.readers import jsonl

    lines, known_rows = _known_apart(index, lines)
    lines = jsonl.parse(lines)
    lines = lines.filter(pl.col("value").is_not_null() | pl.col("reason").is_not_null())
    typed, checks = plan.transform(lines)
    unreadable = pl.col("reason").is_not_null()
    line_reason = (
        pl.when(pl.col("reason") == jsonl.NOT_JSON)
        .then(
            pl.col("raw").map_elements(jsonl.parser_message, return_dtype=pl.String)  # evaluated for rejects only
        )
        .when(pl.col("reason") == jsonl.DUPLICATE_KEY)
        .then(pl.col("raw").map_elements(jsonl.duplicate_message, return_dtype=pl.String))  # names the key
        .otherwise(pl.col("reason"))
    )
    checks = [Check("(line)", line_reason, unreadable, pl.col("raw").str.slice(0, 200))] + [
        Check(c.column, c.hint, c.failed & ~unreadable, c.value) for c in checks
    ]
    raw = pl.struct(line=pl.col("raw")).struct.json_encode()
    return (*_split(index, typed, checks, plan, raw=raw, line=pl.col("_line").cast(pl.UInt64)), known_rows)


def _seq(index: int, record: str) -> pl.Expr:
    """A record's number in the import: its file's index, then its record number in the file."""
    return pl.lit(index << 32, pl.UInt64) + pl.col(record).cast(pl.UInt64)


def _split(index: int, typed: pl.LazyFrame, checks: list[Check], plan, *, raw: pl.Expr, line: pl.Expr):
    """Every row, flagged `_reject` when a check failed (stg_rows leaves those out), and the rejected ones (with
    every failed check's reason, the raw values and the line: a CSV's is counted later (etl.pipeline.late_rejects), for
    the rejected rows only). All rows in one output: a streamed file is then read once when none is rejected
    (see _stage_streaming)."""
    failed = [c.failed.fill_null(False) for c in checks]
    fields = set(typed.collect_schema().names())
    typed = typed.with_columns(
        _reject=pl.any_horizontal(failed) if checks else pl.lit(False),
        _file=pl.lit(index, pl.UInt32),
        # runs of an order's rows are its records; else every row is one
        _seq=_seq(index, "_run" if "_run" in fields else "_row"),
    )
    flagged = typed.select([*ROW_KEYS, *plan.kept_columns, "_reject"])
    rejected = typed.filter(pl.col("_reject")).select(
        [*ROW_KEYS, *plan.reject_keys], reasons=_reasons(checks, failed, fields), raw=raw, _line=line
    )
    return flagged, rejected


def _reasons(checks: list[Check], failed: list[pl.Expr], fields: set[str]) -> pl.Expr:
    """Every failed check of a row as {column, hint, value}."""

    def shown(check: Check) -> pl.Expr:  # the value the rule was about, as text
        if check.value is not None:
            return check.value.cast(pl.String)
        return pl.col(RAW + check.column) if RAW + check.column in fields else pl.lit(None, pl.String)

    return (
        pl.concat_list(
            pl.when(f).then(
                pl.struct(
                    column=pl.lit(c.column),
                    hint=c.hint if isinstance(c.hint, pl.Expr) else pl.lit(c.hint),
                    value=shown(c),
                )
            )
            for f, c in zip(failed, checks, strict=True)
        ).list.drop_nulls()
        if checks
        else pl.lit([], pl.List(pl.Struct({"column": pl.String, "hint": pl.String, "value": pl.String})))
    )


def raw_scan(source: sources.SourceFile, header: list[str], progress: Progress | None = None) -> pl.LazyFrame:
    """The file as text, its columns named file:<name>."""
    raw = csv_reader.scan_csv_text(source)
    if progress:
        estimate = estimate_rows(source)
        seen = [0]

        def count(batch: pl.DataFrame) -> pl.DataFrame:  # once per batch of rows, not per row
            seen[0] += batch.height
            progress(source.uri, seen[0], estimate)
            return batch

        raw = raw.map_batches(count, streamable=True, schema=raw.collect_schema())
    return raw.rename({h: FILE + h for h in header})


def raw_json(header: list[str]) -> pl.Expr:
    """The row's values as read, {column: text}, under their names in the file."""
    return pl.struct(pl.col(FILE + h).alias(h) for h in header).struct.json_encode()


def mean_line_bytes(source: sources.SourceFile) -> float:
    """The mean length of the file's first lines (of its first MB); 0 for an empty file."""
    with open(source.path, "rb") as handle:
        head = handle.read(1 << 20)
    return len(head) / max(head.count(b"\n"), 1)


def estimate_rows(source: sources.SourceFile) -> int:
    mean = mean_line_bytes(source)
    return max(int(source.size / mean) - 1, 1) if mean else 1
