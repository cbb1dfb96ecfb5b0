"""Run the expectation suites inside DuckDB, through Great Expectations' SQL data source.

Two scopes:
- "import": the rows an import is about to store, inside its transaction and before COMMIT.
  Each entity's name then resolves, through DuckDB's search_path, to a view of the rows this
  import wrote (orders and line items it added or replaced, its events, its new users), so a
  suite, and any SQL inside it (unexpected_rows_expectation), reads the same names in both
  scopes. Entities the import wrote nothing to are not checked.
- "store": the whole tables (`etl validate`).

The result is a plain dict for the report: every expectation with its severity, outcome,
unexpected count and a few unexpected values. Data Docs (GE's HTML) of the run are written
to a folder the result names.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb

from etl import suites as suites_module
from etl.errors import EtlError
from etl.suites import ENTITIES, Suite, SuiteText

EXAMPLES = 5
BATCH_SCHEMA = "etl_batch"

Scope = Literal["import", "store"]


class ValidationFailed(EtlError):
    """A critical expectation failed (or could not run): the import stores nothing."""

    def __init__(self, message: str, validation: dict[str, Any] | None = None):
        super().__init__(message)
        self.validation = validation


def docs_dir(store: Path) -> Path:
    """Where a store's Data Docs go: beside it, data/cdp.duckdb.validation/ (index.html inside)."""
    return store.resolve().with_name(store.name + ".validation")  # GE wants an absolute path


def store_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND table_name IN (SELECT unnest($names)) GROUP BY table_name",
        {"names": list(ENTITIES)},
    ).fetchall()
    return dict(rows)


def suites_folder(expectations: Path | None) -> Path:
    return expectations or suites_module.default_dir()


def load_suites(con: duckdb.DuckDBPyConnection, folder: Path | None, only: str | None = None) -> list[Suite]:
    return suites_module.build(read_suites(con, folder, only))


def read_suites(con: duckdb.DuckDBPyConnection, folder: Path | None, only: str | None = None) -> list[SuiteText]:
    return suites_module.read(suites_folder(folder), store_columns(con), only)


class SuitesInBackground:
    """GE's suites built in a thread: importing Great Expectations takes seconds of Python,
    which can run while Polars and DuckDB read the files (they release the GIL).

    `needed_soon`, when given, runs first in that thread and may say the suites will most
    likely not be needed (all the files were imported before, so the import will probably
    write nothing and check nothing): the thread then leaves GE alone, since on two cores its
    import would slow the read, and result() builds the suites after all if they are needed.
    """

    def __init__(self, texts: list[SuiteText], needed_soon: Callable[[], bool] | None = None) -> None:
        self._texts = texts
        self._suites: list[Suite] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, args=(needed_soon,), name="load-suites", daemon=True)
        if texts:
            self._thread.start()

    def _build(self, needed_soon: Callable[[], bool] | None) -> None:
        try:
            if needed_soon is None or needed_soon():
                self._suites = suites_module.build(self._texts)
        except BaseException as exc:  # handed to the import's thread by result()
            self._error = exc

    def result(self) -> list[Suite]:
        if self._thread.ident is not None:  # started (there were suites to build)
            self._thread.join()
        if self._error is not None:
            raise self._error
        if self._suites is None:  # deferred, or no suites
            self._suites = suites_module.build(self._texts)
        return self._suites


@contextmanager
def _import_scope(con: duckdb.DuckDBPyConnection, import_id: int) -> Iterator[None]:
    """Entity names resolve to this import's rows until the block ends (inside the import's transaction)."""
    con.execute(f"CREATE SCHEMA {BATCH_SCHEMA}")
    con.execute("SET VARIABLE etl_import_id = $id", {"id": import_id})
    for entity, import_column in ENTITIES.items():  # names from our own constant, not input
        con.execute(
            f"CREATE VIEW {BATCH_SCHEMA}.{entity} AS "  # noqa: S608
            f"SELECT * FROM main.{entity} WHERE {import_column} = getvariable('etl_import_id')"
        )
    con.execute(f"SET search_path = '{BATCH_SCHEMA},main'")
    try:
        yield
    except BaseException:
        if _aborted(con):  # a failed query aborted the import's transaction: only ROLLBACK is left
            con.rollback()
        _leave_import_scope(con)
        raise
    _leave_import_scope(con)


def _aborted(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1")
    except duckdb.TransactionException:
        return True
    return False


def _leave_import_scope(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("RESET search_path")  # a setting of the connection: a rollback would not undo it
    con.execute(f"DROP SCHEMA IF EXISTS {BATCH_SCHEMA} CASCADE")
    con.execute("RESET VARIABLE etl_import_id")


def nothing_written(con: duckdb.DuckDBPyConnection, import_id: int, entities: list[str]) -> bool:
    """True when the import wrote no row to any of the entities (an unchanged re-import)."""
    checks = " OR ".join(
        f"EXISTS (FROM main.{e} WHERE {ENTITIES[e]} = $id)"  # noqa: S608 (names from ENTITIES)
        for e in entities
    )
    return not checks or not con.execute(f"SELECT {checks}", {"id": import_id}).fetchall()[0][0]


def nothing_to_check(folder: Path, texts: list[SuiteText]) -> dict[str, Any]:
    """The result when the import wrote nothing (or there are no suites): nothing was checked."""
    return _summary("import", folder, [t.entity for t in texts], [], None, 0.0)


def _summary(
    scope: Scope,
    folder: Path | None,
    suites: list[str],
    results: list[dict[str, Any]],
    docs: str | None,
    duration_s: float,
) -> dict[str, Any]:
    """The result of a run, for the report (see the module's docstring)."""
    failed = {severity: 0 for severity in ("critical", "warning", "info")}
    for r in results:
        if not r["success"]:
            failed[r["severity"]] += 1
    return {
        "scope": scope,
        "suites_dir": str(folder) if folder else None,
        "suites": suites,
        "success": not failed["critical"] and not any(r.get("error") for r in results),
        "checked": len(results),
        "failed": failed,
        "expectations": results,
        "data_docs": docs,
        "duration_s": duration_s,
    }


def run(
    con: duckdb.DuckDBPyConnection,
    suites: list[Suite],
    *,
    scope: Scope,
    import_id: int | None = None,
    docs_dir: Path | None = None,
    now: datetime,
) -> dict[str, Any]:
    """Validate and return the result (see the module's docstring); raises nothing for failures.

    `now`: the suites' $PARAMETER now_plus_one_day is a day after it (no timestamp from the future).
    """
    started = time.monotonic()
    parameters = {"now_plus_one_day": (now + timedelta(days=1)).isoformat()}
    if not suites:
        results, docs = [], None
    elif scope == "import":
        assert import_id is not None
        with _import_scope(con, import_id):
            results, docs = _validate(con, suites, docs_dir, parameters, skip_empty=True)
    else:
        results, docs = _validate(con, suites, docs_dir, parameters, skip_empty=False)
    folder = suites[0].path.parent if suites else None
    duration_s = round(time.monotonic() - started, 3)
    return _summary(scope, folder, [s.entity for s in suites], results, docs, duration_s)


def failure_message(validation: dict[str, Any]) -> str:
    """Why the validation stops an import, one line per critical failure."""
    lines = ["the data breaks the expectation suites (critical expectations):"]
    for r in validation["expectations"]:
        if r["success"] or (r["severity"] != "critical" and not r.get("error")):
            continue
        lines.append("  " + describe(r))
    if validation.get("data_docs"):
        lines.append(f"Data Docs: {validation['data_docs']}")
    return "\n".join(lines)


def describe(r: dict[str, Any]) -> str:
    where = f"{r['suite']}: {r['expectation']}"
    if r.get("column"):
        where += f" on {r['column']}"
    if r.get("error"):
        return f"{where} could not run: {r['error']}"
    if r.get("unexpected_count") is not None:
        examples = ", ".join(repr(v) for v in r.get("examples") or [])
        return f"{where}: {r['unexpected_count']:,} unexpected ({r.get('unexpected_percent') or 0:.2f}%)" + (
            f", e.g. {examples}" if examples else ""
        )
    return f"{where}: observed {r.get('observed_value')!r}"


def _context(docs_dir: Path | None):
    from etl import gx_duckdb  # before GE: it makes GE's import lighter

    # isort: split
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    gx_duckdb.install()
    # GE logs a failed metric with its traceback; the result says it in one line instead
    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    sites = {}
    if docs_dir is not None:
        sites["local"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )
    return gx, gx.get_context(project_config=config, mode="ephemeral")


def _validate(con, suites: list[Suite], docs_dir: Path | None, parameters: dict[str, Any], *, skip_empty: bool):
    from etl import gx_duckdb

    gx, context = _context(docs_dir)
    failures: list[tuple[str, str]] = []
    source = context.data_sources.add_sql(
        "store", connection_string="duckdb:///:memory:", kwargs=gx_duckdb.engine_kwargs(con, failures)
    )
    results: list[dict[str, Any]] = []
    for suite in suites:
        if skip_empty and not con.execute(f"SELECT EXISTS (FROM {suite.entity})").fetchall()[0][0]:  # noqa: S608
            continue
        asset = source.add_query_asset(suite.entity, query=f"SELECT * FROM {suite.entity}")  # noqa: S608
        batch = asset.add_batch_definition_whole_table("rows")
        stored_suite = context.suites.add(suite.suite)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.entity, data=batch, suite=stored_suite)
        )
        # each expectation's own result_format (GE's BASIC: counts and up to 20 unexpected values)
        outcome = definition.run(expectation_parameters=parameters)
        position = {e.id: i for i, e in enumerate(stored_suite.expectations)}  # GE returns them reordered
        for r in sorted(outcome.results, key=lambda r: position.get(r.expectation_config.id, 0)):
            results.append(_result(suite.entity, r))
            if r.expectation_config.type == "unexpected_rows_expectation" and not r.success and not failures:
                results[-1]["examples"] = _unexpected_rows(con, suite.entity, r.expectation_config.kwargs)
        if failures:  # the transaction is aborted: nothing after this can run
            statement, error = failures[0]
            raise EtlError(
                f"{suite.path}: an expectation's query failed, so the suites could not run: {error}\n"
                f"  query: {statement}"
            )
    docs = None
    if docs_dir is not None:
        for owned in ("validations", "expectations"):  # the site shows this run only
            shutil.rmtree(docs_dir / owned, ignore_errors=True)
        docs = str(Path(context.build_data_docs()["local"].removeprefix("file://")))
    return results, docs


def _result(entity: str, r) -> dict[str, Any]:
    config = r.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    result = r.result or {}
    errors = [v.get("exception_message") for v in (r.exception_info or {}).values() if isinstance(v, dict)]
    if r.exception_info and r.exception_info.get("raised_exception"):
        errors.append(r.exception_info.get("exception_message"))
    errors = [e for e in errors if e]
    column = kwargs.get("column") or ", ".join(kwargs.get("column_list") or []) or None
    examples = []
    unexpected_count = result.get("unexpected_count")
    if config.type == "unexpected_rows_expectation":
        unexpected_count = result.get("observed_value")
    for value in result.get("partial_unexpected_list") or []:
        if value not in examples:
            examples.append(value)
    return {
        "suite": entity,
        "expectation": config.type,
        "column": column,
        "severity": str(getattr(config.severity, "value", config.severity)),
        "success": bool(r.success) and not errors,
        "unexpected_count": unexpected_count,
        "unexpected_percent": result.get("unexpected_percent"),
        "examples": [_plain(v) for v in examples[:EXAMPLES]],
        "observed_value": _plain(result.get("observed_value")),
        "error": _first_error(errors[0]) if errors else None,
        "description": config.description or (config.meta or {}).get("why"),
    }


def _unexpected_rows(con, entity: str, kwargs: dict[str, Any]) -> list[Any]:
    """A few rows an unexpected_rows_expectation's query returned (GE keeps them only in its
    COMPLETE result format, which would also keep every unexpected value of every other expectation).
    The query is the suite's own SQL, as GE runs it; {batch} is the entity, as in GE's query asset."""
    query = str(kwargs["unexpected_rows_query"]).replace("{batch}", f"(SELECT * FROM {entity})")  # noqa: S608
    cursor = con.execute(f"SELECT * FROM ({query}) LIMIT {EXAMPLES}")  # noqa: S608
    names = [d[0] for d in cursor.description]
    return [_plain(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return text[:300]


def _plain(value: Any) -> Any:
    """Values as JSON can hold them (dates become text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
