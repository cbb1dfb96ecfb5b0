"""One import run: read -> transform -> validate -> stage -> assemble -> merge, in one transaction.

The flow, and where each step lives:
- read (etl.read): list the sources, make each one scannable, parse CSV as text;
- transform (etl.formats.*): the format's Polars plan turns text into typed canonical rows
  and checks;
- validate (here): rows failing a check go to rejects with every reason; Polars streams the
  valid rows and the rejected ones into two Parquet files, which DuckDB reads as views;
- assemble and merge (etl/sql/*.sql): orders and line items from the rows, compared with
  the store, upserted, events generated.

Everything between BEGIN and COMMIT: a failure, a crash or Ctrl-C leaves the store as it
was. A failed or cancelled run is then recorded in a transaction of its own.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from etl import formats, interrupts, read, report, validate
from etl.encodings import LOW_CONFIDENCE, low_confidence_warning
from etl.errors import EtlError, ImportCancelled, InputError, SpecError
from etl.formats.rows import RAW, Check, FormatPlan
from etl.spec import ImportSpec
from etl.store import WAIT_S, connect, run_sql
from etl.transforms import compile as transforms
from etl.transforms.steps import fields_after
from etl.validate import ValidationFailed

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

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.timings[step] = round(time.monotonic() - start, 3)


def run_import(
    spec: ImportSpec,
    store: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    extra: dict[str, Any] | None = None,
    expectations: Path | None = None,
    wait: float = WAIT_S,
) -> dict[str, Any]:
    """Import the spec's sources into the store and return the report (see etl.report).

    `wait`: seconds to wait for another process that holds the store (a notebook's
    connection, another import) before failing.

    `extra`: keys added to the report as they are (the inbox gives a file's timestamp).
    `expectations`: the folder of expectation suites (default: etl.suites.default_dir()).
    """
    existed = store.exists()
    try:
        return _import_into(spec, store, dry_run, progress, extra, expectations, wait)
    except BaseException:
        if dry_run and not existed:  # a dry run that failed leaves no store behind it
            for leftover in (store, store.with_name(store.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _import_into(spec, store, dry_run, progress, extra, expectations, wait) -> dict[str, Any]:
    with connect(store, read_only=False, wait=wait) as con:
        started = time.monotonic()  # from the moment the store is ours: a wait is not the import's time
        started_at = datetime.now(UTC)
        import_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0]
        state = Staging()
        con.begin()
        try:
            result = _run(con, spec, import_id, started_at, dry_run, state, progress, store, expectations)
            result["duration_s"] = round(time.monotonic() - started, 3)
            result.update(extra or {})
            if dry_run:  # everything ran; storing is what a dry run leaves out
                con.rollback()
                con.begin()
            _record(con, result, started_at)
            with _ctrl_c_deferred():  # an interrupted COMMIT may still have committed
                con.commit()
        except BaseException as exc:
            _rollback(con)
            cancelled = _is_cancellation(exc)
            message = "cancelled by the user (Ctrl-C)" if cancelled else _error_text(exc)
            if not state.files:  # failed before the sources were listed: name what the spec gave
                state.files = [FileResult(uri=read.display_uri(uri)) for uri in spec.source]
                state.current = 0 if len(state.files) == 1 else None
            for index, file in enumerate(state.files):  # one file failed: none of them is stored
                failed_here = index == state.current and not cancelled
                file.status, file.error = ("failed", message) if failed_here else ("not stored", None)
            result = report.failed(
                import_id=import_id,
                status="cancelled" if cancelled else "failed",
                spec=spec,
                dry_run=dry_run,
                files=[f.__dict__ for f in state.files],
                error=message,
                duration_s=round(time.monotonic() - started, 3),
            )
            if isinstance(exc, ValidationFailed):
                result["validation"] = exc.validation
            con.begin()
            _record(con, result, started_at)
            con.commit()
            if cancelled:
                cancellation = ImportCancelled(f"Import {import_id} cancelled: the store is unchanged.")
                cancellation.report = result
                raise cancellation from None
            if isinstance(exc, EtlError):
                failure = type(exc)(f"Import {import_id} failed, the store is unchanged:\n{exc}")
                failure.report = result
                raise failure from None
            raise
        return result


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the import (a failed COMMIT leaves no transaction to undo)."""
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
    and the import is reported as what it is, completed.
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
        print("Ctrl-C came while the import was committing: too late to cancel, it completed.", file=sys.stderr)


def _is_cancellation(exc: BaseException) -> bool:
    """Ctrl-C. Inside a DuckDB query it interrupts the query instead of raising KeyboardInterrupt,
    and some of DuckDB's result paths report that as a plain RuntimeError("Query interrupted")."""
    if isinstance(exc, KeyboardInterrupt | duckdb.InterruptException) or interrupts.pressed():
        return True  # pressed(): Ctrl-C that surfaced as another error (a Polars error, an ImportError)
    return isinstance(exc, RuntimeError) and "query interrupted" in str(exc).lower()


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, EtlError) else f"{type(exc).__name__}: {exc}"


def _run(con, spec, import_id, started_at, dry_run, state, progress, store, expectations) -> dict[str, Any]:
    with state.timed("load_suites"):  # checked before anything is read
        suites = validate.load_suites(con, expectations, now=started_at)
    connection = spec.storage_options()
    uris = read.list_sources(spec.source, connection)
    module = formats.load(spec.format)
    options = spec.format_options()
    spool_dir = store.parent / ".etl-spool"
    with ExitStack() as stack:
        spool_dir.mkdir(parents=True, exist_ok=True)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=spool_dir, prefix=f"import-{import_id}-")))
        state.files = [FileResult(uri=read.display_uri(uri)) for uri in uris]
        sources, headers, plans = [], [], []
        for index, uri in enumerate(uris):  # open and plan every file before reading rows
            state.current = index
            source = stack.enter_context(
                read.opened(
                    uri,
                    compression=spec.compression,
                    encoding=spec.encoding,
                    spool_dir=spool_dir,
                    options=connection,
                    max_uncompressed=spec.max_uncompressed_bytes,
                )
            )
            read.choose_delimiter(source, spec.delimiter)
            header, plan = _plan_file(module, options, source, spec)
            file = state.files[index]
            file.encoding, file.encoding_detected, file.ignored_columns = source.encoding, source.detected, plan.ignored
            file.delimiter, file.delimiter_detected = source.delimiter, source.delimiter_detected
            _check_confidence(source, file, spec)
            sources.append(source)
            headers.append(header)
            plans.append(plan)
        with state.timed("read_validate_stage"):
            _stage(con, sources, headers, plans, spec, state, work, progress)
        for result, source in zip(state.files, sources, strict=True):
            result.sha256 = source.sha256
        state.current = None  # from here on, errors concern the run, not one file
        with state.timed("assemble"):
            run_sql(con, "assemble_orders")
        with state.timed("reread_rejected_rows"):
            _fill_raw_values(con, sources, headers, state.files)
        with state.timed("compare"):
            _ensure_current_hashes(con)
            run_sql(con, "merge_orders")
        # a dry run applies too, so that the suites see what an import would store; it is rolled back
        with state.timed("apply"):
            run_sql(con, "merge_apply", import_id=import_id, started_at=started_at)
            _check_applied(con, import_id)
            run_sql(con, "refresh_order_facts", import_id=import_id)  # what the segments read
            con.execute(
                """
                INSERT INTO rejects
                SELECT $import_id, $sources[r._file + 1], r._line, r._row + 1, r.raw, r.reasons
                FROM stg_rejects AS r
                ORDER BY r._file, r._row
                """,
                {"import_id": import_id, "sources": [f.uri for f in state.files]},
            )
        if validate.nothing_written(con, import_id, suites.entities):
            validation = validate.nothing_to_check(suites)
        else:
            with state.timed("validate"):
                validation = validate.run(
                    con, suites, scope="import", import_id=import_id, now=started_at, run_name=f"import-{import_id}"
                )
        if not validation["success"]:
            raise ValidationFailed(validate.failure_message(validation), validation)
        for file in state.files:
            file.status = "checked (dry run)" if dry_run else "stored"
        with state.timed("report"):
            result = report.build(con, import_id=import_id, spec=spec, dry_run=dry_run, files=state.files)
        result["validation"] = validation
        result["timings_s"] = state.timings
        return result


def _check_confidence(source: read.SourceFile, file: FileResult, spec: ImportSpec) -> None:
    """A detection with low confidence is said in the report, or fails the import (fail_on_low_confidence)."""
    file.encoding_confidence, file.encoding_runner_up = source.confidence, source.runner_up
    if source.confidence is None or source.confidence >= LOW_CONFIDENCE:
        return
    file.encoding_warning = low_confidence_warning(source.uri, source.encoding, source.confidence, source.runner_up)
    if spec.fail_on_low_confidence:
        raise InputError(f"{file.encoding_warning} (fail_on_low_confidence is set)")


def _plan_file(module, options, source: read.SourceFile, spec: ImportSpec) -> tuple[list[str], FormatPlan]:
    """The file's header, and the format's plan for its fields after the spec's transforms."""
    header = read.read_header(source)
    fields, problems = fields_after(spec.transforms, header)
    if problems:
        raise SpecError(
            f"{spec.origin}: the transforms do not fit {source.uri} (its columns: {', '.join(header)}):\n"
            + "\n".join(f"  {p}" for p in problems)
        )
    plan = module.plan(fields, options)
    if plan.missing:
        hints = []
        for name in plan.missing:
            near = [h for h in fields if h.lower() == name.lower()]
            hints.append(f"{name!r}" + (f" (the header has {near[0]!r}: names are case sensitive)" if near else ""))
        after = " after the spec's transforms" if spec.transforms else ""
        raise InputError(
            f"{source.uri}: line 1: missing required column{'s' if len(hints) > 1 else ''} "
            f"{', '.join(hints)}{after}; expected a header with every required column of the format"
            + read.delimiter_hint(source)
        )
    return header, plan


def _stage(
    con,
    sources: list[read.SourceFile],
    headers: list[list[str]],
    plans: list[FormatPlan],
    spec: ImportSpec,
    state: Staging,
    work: Path,
    progress,
) -> None:
    """Parse and validate every file, streaming, into Parquet files that DuckDB reads as views.

    stg_rows: every valid row, with the order fields (used from a run's first row) and
    the line-item fields; stg_row_rejects: rows that failed a check, with their reasons
    and raw text (only rejected rows are turned into JSON). Polars writes both in one
    streaming pass per file, so memory stays flat whatever the file's size; DuckDB then
    scans them in parallel, and nothing is copied into its memory.
    """
    for index, (source, header, plan) in enumerate(zip(sources, headers, plans, strict=True)):
        state.current = index
        rows_file, rejects_file = work / f"rows-{index}.parquet", work / f"rejects-{index}.parquet"
        valid, rejected = _validated(index, source, header, plan, spec, progress)
        try:
            pl.collect_all(
                [
                    valid.sink_parquet(rows_file, compression="lz4", statistics=False, lazy=True),
                    rejected.sink_parquet(rejects_file, compression="lz4", statistics=False, lazy=True),
                ],
                engine="streaming",
            )
        except pl.exceptions.PolarsError as exc:
            raise read.translate_parse_error(source, exc, len(header)) from None
        counts = con.execute(
            "SELECT (SELECT count(*) FROM read_parquet($rows)), (SELECT count(*) FROM read_parquet($rejects)), "
            "greatest((SELECT max(_row) FROM read_parquet($rows)), (SELECT max(_row) FROM read_parquet($rejects)))",
            {"rows": str(rows_file), "rejects": str(rejects_file)},
        ).fetchall()[0]
        result = state.files[index]
        result.rows = counts[0] + counts[1]
        result.blank_rows = (counts[2] + 1 - result.rows) if counts[2] is not None else 0
    rows = [str(work / f"rows-{i}.parquet") for i in range(len(sources))]
    rejects = [str(work / f"rejects-{i}.parquet") for i in range(len(sources))]
    # The relational API takes the paths as values: no SQL text is built from them.
    con.read_parquet(rows).create_view("stg_rows", replace=True)
    con.read_parquet(rejects).create_view("stg_row_rejects", replace=True)


def _validated(
    index: int,
    source: read.SourceFile,
    header: list[str],
    plan: FormatPlan,
    spec: ImportSpec,
    progress: Progress | None,
):
    """The file's valid rows and its rejected rows, as two lazy frames over one scan.

    The file's columns are read as text under file:<name>; the format reads raw:<name>,
    which are the same columns after the spec's transforms.
    """
    raw = _raw_scan(source, header, progress)
    raw = raw.filter(~pl.all_horizontal(pl.col(FILE + h).is_null() for h in header))  # blank lines
    raw = raw.with_columns(pl.col(FILE + h).alias(RAW + h) for h in header)
    raw, failures = transforms.apply(raw, spec.transforms, RAW)
    typed, checks = plan.transform(raw)
    # A value a transform could not handle is rejected for that reason alone, not again
    # by the format's rule for the field it was meant to fill.
    failed_into: dict[str, list[pl.Expr]] = {}
    for failure in failures:
        failed_into.setdefault(failure.target, []).append(failure.failed)
    fields = set(typed.collect_schema().names())
    checks = [
        Check(c.column, c.hint, c.failed & ~pl.any_horizontal(failed_into[c.column]), c.value)
        if c.column in failed_into
        else c
        for c in checks
    ] + [Check(f.column, f.hint, f.failed, f.value) for f in failures]
    # The format hands over cheap checks (its parsing is done in the transform), so they are
    # used as they are, not materialised again.
    failed = [c.failed.fill_null(False) for c in checks]
    typed = typed.with_columns(
        _reject=pl.any_horizontal(failed) if checks else pl.lit(False),
        _file=pl.lit(index, pl.UInt32),
        _seq=pl.lit(index << 32, pl.UInt64) + pl.col("_run").cast(pl.UInt64),
    )

    def shown(check: Check) -> pl.Expr:  # the value the rule was about, as text
        if check.value is not None:
            return check.value.cast(pl.String)
        return pl.col(RAW + check.column) if RAW + check.column in fields else pl.lit(None, pl.String)

    reasons = (
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
    columns = ROW_KEYS + ["_first", "_line_no"] + plan.order_columns
    columns += [c for c in plan.line_columns if c not in plan.order_columns]
    valid = typed.filter(~pl.col("_reject")).select(columns)
    rejected = typed.filter(pl.col("_reject")).select(ROW_KEYS + ["order_id"], reasons=reasons, raw=_raw_json(header))
    return valid, rejected


def _raw_scan(source: read.SourceFile, header: list[str], progress: Progress | None = None) -> pl.LazyFrame:
    """The file as text, its columns named file:<name>."""
    raw = read.scan_csv_text(source)
    if progress:
        estimate = _estimate_rows(source)
        seen = [0]

        def count(batch: pl.DataFrame) -> pl.DataFrame:  # once per batch of rows, not per row
            seen[0] += batch.height
            progress(source.uri, seen[0], estimate)
            return batch

        raw = raw.map_batches(count, streamable=True, schema=raw.collect_schema())
    return raw.rename({h: FILE + h for h in header})


def _raw_json(header: list[str]) -> pl.Expr:
    """The row's values as read, {column: text}, under their names in the file."""
    return pl.struct(pl.col(FILE + h).alias(h) for h in header).struct.json_encode()


def _estimate_rows(source: read.SourceFile) -> int:
    with open(source.path, "rb") as handle:
        head = handle.read(1 << 20)
    lines = max(head.count(b"\n"), 1)
    return max(int(source.size / (len(head) / lines)) - 1, 1) if head else 1


def _fill_raw_values(
    con: duckdb.DuckDBPyConnection, sources: list[read.SourceFile], headers: list[list[str]], files: list[FileResult]
) -> None:
    """Give every reject its line; and its raw text when it was rejected for its order's sake.

    Lines are records + 1 unless a quoted value holds a newline; only then are they
    counted, in a second pass over the file, for the rejected rows alone.
    """
    con.execute("ALTER TABLE stg_rejects ADD COLUMN _line BIGINT")
    rows_by_file = con.execute(
        "SELECT _file, list(_row ORDER BY _row), bool_or(raw IS NULL) FROM stg_rejects GROUP BY _file"
    ).fetchall()
    for file_index, rows, needs_raw in rows_by_file:
        source = sources[file_index]
        records = files[file_index].rows + files[file_index].blank_rows
        multiline = source.newlines > records + 1  # header + one line per record, or more
        if not (multiline or needs_raw):
            con.execute("UPDATE stg_rejects SET _line = _row + 2 WHERE _file = $file", {"file": file_index})
            continue
        header = headers[file_index]
        raw = _raw_scan(source, header)
        if multiline:
            raw = read.with_line_numbers(raw)
        else:
            raw = raw.with_columns(_line=pl.col("_row").cast(pl.UInt64) + 2)
        found = raw.filter(pl.col("_row").is_in(rows)).select("_row", "_line", raw_json=_raw_json(header)).collect()
        con.register("found", found)
        con.execute(
            "UPDATE stg_rejects SET _line = found._line, raw = coalesce(stg_rejects.raw, found.raw_json::JSON) "
            "FROM found WHERE stg_rejects._file = $file AND stg_rejects._row = found._row",
            {"file": file_index},
        )
        con.unregister("found")


def _ensure_current_hashes(con: duckdb.DuckDBPyConnection) -> None:
    """orders.content_hash comes from DuckDB's hash(), which may change between versions:
    recompute the stored hashes once when the version that wrote them is not this one."""
    version = f"duckdb {duckdb.__version__}"
    stored = con.execute("SELECT max(value) FROM store_meta WHERE key = 'content_hash_version'").fetchall()[0][0]
    if stored != version:
        run_sql(con, "rehash_orders", version=version)


def _check_applied(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Nothing lost: what the merge meant to write is what the store now holds for this run."""
    staged_orders, staged_lines, stored_orders, stored_lines = con.execute(
        """
        SELECT
            (SELECT count(*) FROM changed_orders),
            (SELECT count(*) FROM stg_line_items_keyed SEMI JOIN changed_orders USING (_seq)),
            (SELECT count(*) FROM orders WHERE last_import_id = $import_id),
            (SELECT count(*) FROM line_items WHERE last_import_id = $import_id)
        """,
        {"import_id": import_id},
    ).fetchall()[0]
    if (staged_orders, staged_lines) != (stored_orders, stored_lines):
        raise EtlError(
            f"consistency check failed: meant to store {staged_orders} orders and {staged_lines} line items, "
            f"the store holds {stored_orders} and {stored_lines}; nothing was stored"
        )


def _record(con: duckdb.DuckDBPyConnection, result: dict[str, Any], started_at: datetime) -> None:
    con.execute(
        """
        INSERT INTO imports
        SELECT $import_id, $status, $dry_run, $format, $sources, $started_at, now(),
               $items, $valid, $rejected, $error, $report::JSON
        """,
        {
            "import_id": result["import_id"],
            "status": result["status"],
            "dry_run": result["dry_run"],
            "format": result["format"],
            "sources": [f["uri"] for f in result["files"]],
            "started_at": started_at,
            "items": result.get("items"),
            "valid": result.get("valid"),
            "rejected": result.get("rejected"),
            "error": result.get("error"),
            "report": report.to_json(result),
        },
    )
