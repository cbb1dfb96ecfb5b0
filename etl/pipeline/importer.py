"""One import run: read -> transform -> validate -> stage -> assemble -> merge, in one transaction.

The flow, and where each step lives:
- read (etl.sources.files): list the sources, make each one scannable, parse CSV as text (a format whose source is an
  API, such as E-goi's, first reads its records into a file: etl.sources.egoi_api);
- transform (etl.formats.*): the format's Polars plan turns text into typed canonical rows
  and checks;
- validate (here): rows failing a check go to rejects with every reason; Polars streams the
  valid rows and the rejected ones into two Parquet files, which DuckDB reads as views;
- store (etl.entities.*): the entity's steps, the SQL files beside it reading canonical columns only:
  people resolved through the identity graph, records compared with the store and merged (orders: upserted
  with their events; customers: attributes patched);
- rejects, the quality gate (etl.quality.validate) and the report (etl.pipeline.report), the same for every entity.

Everything between BEGIN and COMMIT: a failure, a crash or Ctrl-C leaves the store as it
was. A failed or cancelled run is then recorded in a transaction of its own.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import duckdb

from etl import entities, formats
from etl.errors import EtlError, ImportCancelled, InputError
from etl.pipeline import distributed, executors, interrupts, planning, report
from etl.pipeline import known as known_records
from etl.pipeline.late_rejects import fill_raw_values, locate_late_rejects
from etl.pipeline.staging import FileResult, Progress, Staging, stage
from etl.quality import validate
from etl.quality.validate import ValidationFailed
from etl.readers import csv as csv_reader
from etl.sources import files as sources
from etl.sources import spools
from etl.sources.encodings import LOW_CONFIDENCE, low_confidence_warning
from etl.spec import ImportSpec
from etl.store import runs
from etl.store.connection import WAIT_S
from etl.store.sqlfiles import run_sql


def run_import(
    spec: ImportSpec,
    store: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    extra: dict[str, Any] | None = None,
    expectations: Path | None = None,
    wait: float = WAIT_S,
    use_known: bool = True,
) -> dict[str, Any]:
    """Import the spec's sources into the store and return the report (see etl.pipeline.report).

    `wait`: seconds to wait for another process that holds the store (a notebook's
    connection, another import) before failing.

    `extra`: keys added to the report as they are (the inbox gives a file's timestamp).
    `expectations`: the folder of expectation suites (default: etl.quality.suites.default_dir()).
    `use_known`: records the store applied before are staged as their keys and hash alone, not read again
    (etl.pipeline.known); False reads every record whole (the store and the counts are the same: tests compare).
    """
    existed = store.exists()
    try:
        return _import_into(spec, store, dry_run, progress, extra, expectations, wait, use_known)
    except BaseException:
        if dry_run and not existed:  # a dry run that failed leaves no store behind it
            for leftover in (store, store.with_name(store.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


def _import_into(spec, store, dry_run, progress, extra, expectations, wait, use_known) -> dict[str, Any]:
    state = Staging()
    failure: dict[str, Any] = {}  # the failed run's report, once recorded

    def work(con, run: runs.Run) -> dict[str, Any]:
        result = _run(con, spec, run.run_id, run.started_at, dry_run, state, progress, store, expectations,
                      use_known=use_known)  # fmt: skip
        result["duration_s"] = run.duration_s()
        result.update(extra or {})
        return result

    def failed(exc: BaseException, run: runs.Run) -> dict[str, Any]:
        cancelled = _is_cancellation(exc)
        message = "cancelled by the user (Ctrl-C)" if cancelled else runs.error_text(exc)
        if not state.files:  # failed before the sources were listed: name what the spec gave
            state.files = [FileResult(uri=sources.display_uri(uri)) for uri in spec.source]
            state.current = 0 if len(state.files) == 1 else None
        for index, file in enumerate(state.files):  # one file failed: none of them is stored
            failed_here = index == state.current and not cancelled
            file.status, file.error = ("failed", message) if failed_here else ("not stored", None)
        result = report.failed(
            import_id=run.run_id,
            status="cancelled" if cancelled else "failed",
            spec=spec,
            dry_run=dry_run,
            files=[f.__dict__ for f in state.files],
            error=message,
            duration_s=run.duration_s(),
        )
        if isinstance(exc, ValidationFailed):
            result["validation"] = exc.validation
        failure.update(result)
        return result

    def recorded(result: dict[str, Any]) -> runs.Recorded:
        return runs.Recorded([f["uri"] for f in result["files"]], result.get("items"), result.get("valid"),
                             result.get("rejected"))  # fmt: skip

    try:
        return runs.recorded_run(store, work=work, failed=failed, recorded=recorded, dry_run=dry_run, wait=wait)
    except BaseException as exc:
        if not failure:  # the store could not be opened: no run was made
            raise
        result = dict(failure)
        import_id = result["import_id"]
        if result["status"] == "cancelled":
            cancellation = ImportCancelled(f"Import {import_id} cancelled: the store is unchanged.")
            cancellation.report = result
            raise cancellation from None
        if isinstance(exc, EtlError):
            failure = type(exc)(f"Import {import_id} failed, the store is unchanged:\n{exc}")
            failure.report = result
            raise failure from None
        raise


def _is_cancellation(exc: BaseException) -> bool:
    """Ctrl-C. Inside a DuckDB query it interrupts the query instead of raising KeyboardInterrupt,
    and some of DuckDB's result paths report that as a plain RuntimeError("Query interrupted")."""
    if isinstance(exc, KeyboardInterrupt | duckdb.InterruptException) or interrupts.pressed():
        return True  # pressed(): Ctrl-C that surfaced as another error (a Polars error, an ImportError)
    return isinstance(exc, RuntimeError) and "query interrupted" in str(exc).lower()


def _run(
    con, spec, import_id, started_at, dry_run, state, progress, store, expectations, use_known=True
) -> dict[str, Any]:
    with state.timed("load_suites"):  # checked before anything is read
        suites = validate.load_suites(con, expectations, now=started_at)
    connection = spec.storage_options()
    module = formats.load(spec.format)
    options = spec.format_options()
    spool_dir = spools.folder_of(store)
    with ExitStack() as stack:
        dead_spools = spools.remove_dead(spool_dir)  # left by killed imports: their own cleanup never ran
        spool_dir.mkdir(parents=True, exist_ok=True)
        prefix = spools.work_prefix(import_id)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=spool_dir, prefix=prefix)))
        fetched = None
        if module.API is not None:  # an API: its records are read into a file first, then imported as files are
            with state.timed("fetch"):
                fetched, options = module.API.fetch(spec.source[0], connection, options, work, progress)
            uris, connection = [str(fetched.path)], {}
        else:
            uris = sources.list_sources(spec.source, connection)
        state.files = [FileResult(uri=fetched.uri if fetched else sources.display_uri(uri)) for uri in uris]
        setting = executors.chosen(spec.executor, spec.origin)  # the spec's (or --executor's), else the environment's
        if fetched is None and setting.kind != "local":  # staged by tasks, wherever the executor runs them
            open_files = distributed.LazySources(stack, uris, spec, connection, state.files, spool_dir)
            headers, plans = [[] for _ in uris], [None for _ in uris]
            place = distributed.location(spec, store)

            def stager(con, known, work: Path) -> None:
                distributed.stage(con, stack, spec=spec, setting=setting, staging=place, uris=uris,
                                  connection=connection, import_id=import_id, state=state, known=known, work=work,
                                  plans=plans, headers=headers, progress=progress)  # fmt: skip
                for file in state.files:
                    _check_confidence(file, spec)
        else:
            open_files, headers, plans = _opened(stack, spec, module, options, uris, connection, spool_dir, state)

            def stager(con, known, work: Path) -> None:
                stage(con, open_files, headers, plans, spec, state, work, progress, known)
                for result, source in zip(state.files, open_files, strict=True):
                    result.sha256 = source.sha256

        entity = entities.load(module.ENTITY)
        run = entities.Run(import_id, started_at, dry_run, options, plans, state, spec.format)
        try:
            stored = _stage_and_store(con, entity, run, stager, work, use_known=use_known)
        except known_records.KnownRecordsNeeded:  # rare: a record staged as known is needed whole
            con.rollback()  # what staging and the store step did (nothing before them writes)
            con.begin()
            # the files as they were opened, spooled or fetched, read again; the staged files in a folder of their own
            (work / "whole").mkdir()
            stored = _stage_and_store(con, entity, run, stager, work / "whole", use_known=False)
        with state.timed("rejects"):
            locate_late_rejects(con, open_files, plans, state, work)
            fill_raw_values(con, open_files, headers, state.files)
            _insert_rejects(con, import_id, state)
        validation = _gate(con, suites, import_id, started_at, state)
        for file in state.files:
            file.status = "checked (dry run)" if dry_run else "stored"
        with state.timed("report"):
            counts = entity.report(con, run, stored)
            result = report.build(con, import_id=import_id, spec=spec, dry_run=dry_run, files=state.files, **counts)
        if fetched is not None:
            result["api"] = module.API.report(fetched, options)
            result["notes"] += module.API.notes(result["api"])
        result["validation"] = validation
        if state.elsewhere is not None:
            result["staging"] = state.elsewhere
        result["timings_s"] = state.timings
        if dead_spools:
            result["spools_removed"] = dead_spools
        return result


def _opened(stack, spec, module, options, uris, connection, spool_dir, state):
    """Every file opened (spooled, decompressed, transcoded where it must be) and planned in this process, before
    any row is read: the sources, their headers and plans."""
    open_files, headers, plans = [], [], []
    for index, uri in enumerate(uris):
        state.current = index
        source = stack.enter_context(
            sources.opened(
                uri,
                compression=spec.compression,
                encoding=spec.encoding,
                spool_dir=spool_dir,
                options=connection,
                max_uncompressed=spec.max_uncompressed_bytes,
            )
        )
        reader = planning.reader(module, source.uri)
        if reader == "csv":
            csv_reader.choose_delimiter(source, spec.delimiter)
        else:
            source.delimiter = ""  # JSON lines and XML have none
        header, plan = planning.plan_file(module, options, source, spec, reader)
        file = state.files[index]
        file.encoding, file.encoding_detected, file.ignored_columns = source.encoding, source.detected, plan.ignored
        file.delimiter, file.delimiter_detected = source.delimiter, source.delimiter_detected
        file.encoding_confidence, file.encoding_runner_up = source.confidence, source.runner_up
        _check_confidence(file, spec)
        open_files.append(source)
        headers.append(header)
        plans.append(plan)
    return open_files, headers, plans


def _stage_and_store(con, entity, run, stager, work: Path, use_known: bool):
    """Stage the files (the records the entity applied before as their keys and hash alone, with `use_known`:
    etl.pipeline.known), then the entity's store step (inside the transaction; a dry run stores too, and is rolled
    back); what it returns. KnownRecordsNeeded when it needs a record staged as known whole."""
    state = run.state
    with state.timed("read_validate_stage"):
        known = known_records.Known.load(con, entity.KNOWN) if use_known else None
        stager(con, known, work)
    state.current = None  # from here on, errors concern the run, not one file
    run_sql(con, "pipeline/rejects")  # the format's rejects; the entity may add its own
    stored = entity.store(con, run)
    known_records.check(con)  # the entity stopped when its known SQL found records needed whole
    return stored


def _check_confidence(file: FileResult, spec: ImportSpec) -> None:
    """A detection with low confidence is said in the report, or fails the import (fail_on_low_confidence)."""
    if file.encoding_confidence is None or file.encoding_confidence >= LOW_CONFIDENCE:
        return
    file.encoding_warning = low_confidence_warning(file.uri, file.encoding, file.encoding_confidence,
                                                   file.encoding_runner_up)  # fmt: skip
    if spec.fail_on_low_confidence:
        raise InputError(f"{file.encoding_warning} (fail_on_low_confidence is set)")


def _insert_rejects(con, import_id: int, state) -> None:
    con.execute(
        """
        INSERT INTO rejects
        SELECT $import_id, $sources[r._file + 1], r._line, r._row + 1, r.raw, r.reasons
        FROM stg_rejects AS r
        ORDER BY r._file, r._row
        """,
        {"import_id": import_id, "sources": [f.uri for f in state.files]},
    )


def _gate(con, suites, import_id: int, started_at, state) -> dict[str, Any]:
    """The quality gate over what the import wrote; fails the import when a critical expectation fails."""
    if validate.nothing_written(con, import_id, suites.entities):
        validation = validate.nothing_to_check(suites)
    else:
        with state.timed("validate"):
            validation = validate.run(
                con, suites, scope="import", import_id=import_id, now=started_at, run_name=f"import-{import_id}"
            )
    if not validation["success"]:
        raise ValidationFailed(validate.failure_message(validation), validation)
    return validation
