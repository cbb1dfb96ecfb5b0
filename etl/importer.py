"""One import run: read -> transform -> validate -> stage -> assemble -> merge, in one transaction.

The flow, and where each step lives:
- read (etl.read): list the sources, make each one scannable, parse CSV as text;
- transform (etl.formats.*): the format's Polars plan turns text into typed canonical rows
  and checks;
- validate (here): rows failing a check go to rejects with every reason; the rest are
  streamed, batch by batch, from Polars into a DuckDB staging table through Arrow;
- assemble and merge (etl/sql/*.sql): orders and line items from the rows, compared with
  the store, upserted, events generated.

Everything between BEGIN and COMMIT: a failure, a crash or Ctrl-C leaves the store as it
was. A failed or cancelled run is then recorded in a transaction of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from etl import read, report
from etl.errors import EtlError, ImportCancelled, InputError
from etl.formats import FORMATS
from etl.formats.rows import RAW, FormatPlan
from etl.spec import ImportSpec
from etl.store import connect, run_sql

Progress = Callable[[str, int, int], None]  # (file, rows so far, estimated rows)

ROW_COLUMNS = ["_file", "_row", "_line", "_seq", "_first"]


@dataclass
class FileResult:
    uri: str
    sha256: str = ""
    rows: int = 0
    blank_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class Staging:
    """What the validate step found, besides the rows it streamed into stg_rows."""

    files: list[FileResult] = field(default_factory=list)
    rejects: list[pl.DataFrame] = field(default_factory=list)
    error: BaseException | None = None  # raised inside the Arrow stream that DuckDB reads


def run_import(
    spec: ImportSpec, store: Path, *, dry_run: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """Import the spec's sources into the store and return the report (see etl.report)."""
    started = time.monotonic()
    started_at = datetime.now(UTC)
    with connect(store, read_only=False) as con:
        import_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
        state = Staging()
        con.begin()
        try:
            result = _run(con, spec, import_id, started_at, dry_run, state, progress, store)
            result["duration_s"] = round(time.monotonic() - started, 3)
            if dry_run:  # everything ran; storing is what a dry run leaves out
                con.rollback()
                con.begin()
            _record(con, result, started_at)
            con.commit()
            return result
        except BaseException as exc:
            con.rollback()
            cancelled = isinstance(exc, KeyboardInterrupt)
            message = "cancelled by the user (Ctrl-C)" if cancelled else _error_text(exc)
            result = report.failed(
                import_id=import_id,
                status="cancelled" if cancelled else "failed",
                spec=spec,
                dry_run=dry_run,
                files=[f.__dict__ for f in state.files],
                error=message,
                duration_s=round(time.monotonic() - started, 3),
            )
            con.begin()
            _record(con, result, started_at)
            con.commit()
            if cancelled:
                raise ImportCancelled(f"Import {import_id} cancelled: the store is unchanged.") from None
            if isinstance(exc, EtlError):
                raise type(exc)(f"Import {import_id} failed, the store is unchanged:\n{exc}") from None
            raise


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, EtlError) else f"{type(exc).__name__}: {exc}"


def _run(con, spec, import_id, started_at, dry_run, state, progress, store) -> dict[str, Any]:
    uris = read.list_sources(spec.source)
    module = FORMATS[spec.format]
    options = spec.format_options()
    spool_dir = store.parent / ".etl-spool"
    with ExitStack() as stack:
        sources = [
            stack.enter_context(
                read.opened(uri, compression=spec.compression, encoding=spec.encoding, spool_dir=spool_dir)
            )
            for uri in uris
        ]
        plans = [_plan_file(module, options, source) for source in sources]
        state.files = [FileResult(uri=s.uri, ignored_columns=p.ignored) for s, p in zip(sources, plans, strict=True)]
        batches = _validated_batches(sources, plans, state, progress)
        first = next(batches)
        reader = pa.RecordBatchReader.from_batches(first.schema, _chain(first, batches, state))
        con.register("validated_rows", reader)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE stg_rows AS SELECT * FROM validated_rows")
        except duckdb.Error:
            if state.error is not None:  # DuckDB wraps what the stream raised: raise the original
                raise state.error from None
            raise
        for result, source in zip(state.files, sources, strict=True):
            result.sha256 = source.sha256
        row_rejects = pl.concat(state.rejects, how="vertical") if state.rejects else _empty_rejects()
        con.register("row_rejects_frame", row_rejects)
        con.execute("CREATE OR REPLACE TEMP TABLE stg_row_rejects AS SELECT * FROM row_rejects_frame")
        con.unregister("row_rejects_frame")
        run_sql(con, "assemble_orders")
        _fill_raw_values(con, sources, plans)
    run_sql(con, "merge_orders")
    if not dry_run:
        run_sql(con, "merge_apply", import_id=import_id, started_at=started_at)
        con.execute(
            """
            INSERT INTO rejects
            SELECT $import_id, $sources[r._file + 1], r._line, r._row + 1, r.raw, r.reasons
            FROM stg_rejects AS r
            ORDER BY r._file, r._row
            """,
            {"import_id": import_id, "sources": [f.uri for f in state.files]},
        )
    return report.build(con, import_id=import_id, spec=spec, dry_run=dry_run, files=state.files)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch], state: Staging) -> Iterator[pa.RecordBatch]:
    yield first
    try:
        yield from rest
    except BaseException as exc:
        state.error = exc
        raise


def _plan_file(module, options, source: read.SourceFile) -> FormatPlan:
    header = read.read_header(source)
    plan = module.plan(header, options)
    if plan.missing:
        hints = []
        for name in plan.missing:
            near = [h for h in header if h.lower() == name.lower()]
            hints.append(f"{name!r}" + (f" (the header has {near[0]!r}: names are case sensitive)" if near else ""))
        raise InputError(
            f"{source.uri}: line 1: missing required column{'s' if len(hints) > 1 else ''} "
            f"{', '.join(hints)}; expected a header with every required column of the format"
        )
    return plan


def _validated_batches(
    sources: list[read.SourceFile], plans: list[FormatPlan], state: Staging, progress: Progress | None
) -> Iterator[pa.RecordBatch]:
    """Stream each file's valid rows as Arrow batches; keep the invalid ones in state.rejects."""
    for index, (source, plan) in enumerate(zip(sources, plans, strict=True)):
        raw = read.scan_csv_text(source)
        header = [n for n in raw.collect_schema().names() if not n.startswith("_")]
        raw = raw.rename({h: RAW + h for h in header})
        typed, checks = plan.transform(raw)
        flags = [c.failed.fill_null(False).alias(f"_check{i}") for i, c in enumerate(checks)]
        typed = typed.with_columns(flags).with_columns(
            _reject=pl.any_horizontal(pl.col(f"_check{i}") for i in range(len(checks))) if checks else pl.lit(False),
            _blank=pl.all_horizontal(pl.col(RAW + h).is_null() for h in header),
            _file=pl.lit(index, pl.UInt32),
            _seq=pl.lit(index << 32, pl.UInt64) + pl.col("_run").cast(pl.UInt64),
        )
        reasons = pl.concat_list(
            pl.when(pl.col(f"_check{i}")).then(pl.struct(column=pl.lit(c.column), hint=pl.lit(c.hint)))
            for i, c in enumerate(checks)
        ).list.drop_nulls()
        stage_columns = ROW_COLUMNS + _canonical_columns(typed, header)
        if index == 0:  # the staging table's schema, even when no file has a data row
            empty = pl.DataFrame(schema=typed.select(stage_columns).collect_schema())
            yield pa.RecordBatch.from_pylist([], schema=empty.to_arrow(compat_level=pl.CompatLevel.oldest()).schema)
        result = state.files[index]
        estimate = _estimate_rows(source)
        try:
            for batch in typed.collect_batches():
                blank = batch["_blank"]
                result.blank_rows += int(blank.sum())
                batch = batch.filter(~blank)
                result.rows += batch.height
                bad = batch.filter(pl.col("_reject"))
                if bad.height:
                    state.rejects.append(
                        bad.select(
                            "_file", "_row", "_line", "_seq", "order_id",
                            reasons=reasons,
                            raw=_raw_json(header),
                        )
                    )
                good = batch.filter(~pl.col("_reject")).select(stage_columns)
                if progress:
                    progress(source.uri, result.rows, estimate)
                yield from good.to_arrow(compat_level=pl.CompatLevel.oldest()).to_batches()
        except pl.exceptions.PolarsError as exc:
            raise read.translate_parse_error(source, exc, len(header)) from None


def _canonical_columns(typed: pl.LazyFrame, header: list[str]) -> list[str]:
    return [n for n in typed.collect_schema().names() if not n.startswith(("_", RAW))]


def _raw_json(header: list[str]) -> pl.Expr:
    """The row's values as read, {column: text}, under their names in the file."""
    return pl.struct(pl.col(RAW + h).alias(h) for h in header).struct.json_encode()


def _estimate_rows(source: read.SourceFile) -> int:
    with open(source.path, "rb") as handle:
        head = handle.read(1 << 20)
    lines = max(head.count(b"\n"), 1)
    return max(int(source.size / (len(head) / lines)) - 1, 1) if head else 1


def _empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "_file": pl.UInt32, "_row": pl.UInt32, "_line": pl.UInt64, "_seq": pl.UInt64,
            "order_id": pl.String,
            "reasons": pl.List(pl.Struct({"column": pl.String, "hint": pl.String})),
            "raw": pl.String,
        }
    )


def _fill_raw_values(con: duckdb.DuckDBPyConnection, sources, plans) -> None:
    """Rows rejected for their order's sake were valid: read their raw values again."""
    missing = con.execute("SELECT _file, list(_row) FROM stg_rejects WHERE raw IS NULL GROUP BY _file").fetchall()
    for file_index, rows in missing:
        source = sources[file_index]
        raw = read.scan_csv_text(source)
        header = [n for n in raw.collect_schema().names() if not n.startswith("_")]
        found = raw.rename({h: RAW + h for h in header}).filter(pl.col("_row").is_in(rows)).select(
            "_row", raw_json=_raw_json(header)
        ).collect()
        con.register("found", found)
        con.execute(
            "UPDATE stg_rejects SET raw = found.raw_json FROM found "
            "WHERE stg_rejects._file = $file AND stg_rejects._row = found._row",
            {"file": file_index},
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
