"""Check the rows against the expectation suites: the gate (etl.quality.gate) evaluates them in
DuckDB, and Great Expectations itself only what the gate does not know.

Two scopes:
- "import": the rows an import is about to store, inside its transaction and before COMMIT.
  Each entity's name then resolves, through DuckDB's search_path, to a view of the rows this
  import wrote (orders and line items it added or replaced, its events, its new users), so a
  suite, and any SQL inside it (unexpected_rows_expectation), reads the same names in both
  scopes. Entities the import wrote nothing to are not checked.
- "store": the whole tables (`etl validate`).

The result is a plain dict for the report: every expectation with its severity, outcome,
unexpected count and a few unexpected values ("expectations"), and the same results in
Great Expectations' own shape, one ExpectationSuiteValidationResult per suite
("suite_results"), from which GE builds Data Docs (etl.quality.data_docs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb

from etl.errors import EtlError
from etl.quality import suites as suites_module
from etl.quality.gate import results as ge_shape
from etl.quality.gate.evaluate import evaluate
from etl.quality.gate.plan import SuitePlan, plan_suite
from etl.quality.gate.results import describe
from etl.quality.gate.scratch import check_on_empty_tables
from etl.quality.suites import ENTITIES, SuiteError, SuiteText

EXAMPLES = 5
BATCH_SCHEMA = "etl_batch"
ENGINE = "etl gate (DuckDB)"

Scope = Literal["import", "store"]
Engine = Literal["gate", "ge"]


class ValidationFailed(EtlError):
    """A critical expectation failed (or could not run): the import stores nothing."""

    def __init__(self, message: str, validation: dict[str, Any] | None = None):
        super().__init__(message)
        self.validation = validation


def docs_dir(store: Path) -> Path:
    """Where a store's Data Docs go: beside it, data/cdp.duckdb.validation/ (index.html inside)."""
    return store.resolve().with_name(store.name + ".validation")  # GE wants an absolute path


def store_columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """{table: {column: DuckDB type}} of the entities."""
    rows = con.execute(
        "SELECT table_name, map(list(column_name ORDER BY column_index), list(data_type ORDER BY column_index)) "
        "FROM duckdb_columns() WHERE schema_name = 'main' AND table_name IN (SELECT unnest($names)) "
        "GROUP BY table_name",
        {"names": list(ENTITIES)},
    ).fetchall()
    return {table: dict(types) for table, types in rows}


def suites_folder(expectations: Path | None) -> Path:
    return expectations or suites_module.default_dir()


def parameters_for(now: datetime) -> dict[str, Any]:
    """The suites' $PARAMETERs: now_plus_one_day is a day after `now` (no timestamp from the future)."""
    return {"now_plus_one_day": (now + timedelta(days=1)).isoformat()}


@dataclass
class Suites:
    """The suite files, read and checked, and compiled for the gate."""

    folder: Path
    texts: list[SuiteText]
    plans: list[SuitePlan]

    @property
    def entities(self) -> list[str]:
        return [t.entity for t in self.texts]

    def needs_ge(self) -> list[str]:
        """The expectations Great Expectations has to check, each with why."""
        return [
            f"{plan.entity}: expectations[{position}] {text.model.expectations[position].type} ({why})"
            for text, plan in zip(self.texts, self.plans, strict=True)
            for position, why in plan.for_ge
        ]


def load_suites(
    con: duckdb.DuckDBPyConnection, folder: Path | None, only: str | None = None, *, now: datetime
) -> Suites:
    """Every suite file read strictly, compiled for the gate and tried on empty tables of the
    store's schema, so that a mistake is reported before any row is read. Great Expectations
    is imported only when an expectation needs it (a type or kwargs the gate does not know)."""
    folder = suites_folder(folder)
    columns = store_columns(con)
    texts = suites_module.read(folder, {table: list(types) for table, types in columns.items()}, only)
    parameters = parameters_for(now)
    plans = [plan_suite(t.entity, t.model.expectations, parameters, columns[t.entity]) for t in texts]
    problems = check_on_empty_tables(columns, plans)
    for text, plan in zip(texts, plans, strict=True):
        if plan.for_ge:
            _check_with_ge(text, [position for position, _ in plan.for_ge])
        if problems.get(plan.entity):
            raise SuiteError(f"{text.path}: invalid expectation suite\n" + "\n".join(problems[plan.entity]))
    return Suites(folder, texts, plans)


def _check_with_ge(text: SuiteText, positions: list[int]) -> None:
    """GE's own checks of what it will evaluate: a type it knows (it would drop an unknown one
    silently), and kwargs it accepts."""
    from etl.names import nearest
    from etl.quality import gx_run

    problems = []
    for position in positions:
        entry = text.model.expectations[position]
        where = f"expectations[{position}]"
        if not gx_run.is_known(entry.type):
            near = nearest(entry.type, gx_run.known_types())
            hint = f" (did you mean {near!r}?)" if near else ""
            problems.append(f"  {where}.type: {entry.type!r} is not an expectation type Great Expectations knows{hint}")
            continue
        try:
            gx_run.expectation(entry)
        except Exception as exc:  # GE's own check of the kwargs (pydantic or its own errors)
            problems.append(f"  {where}.kwargs: {_first_line(exc)}")
    if problems:
        raise SuiteError(f"{text.path}: invalid expectation suite\n" + "\n".join(problems))


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


def nothing_to_check(suites: Suites) -> dict[str, Any]:
    """The result when the import wrote nothing (or there are no suites): nothing was checked."""
    return _summary("import", suites, [], [], 0.0, [])


def passed(records: list[dict[str, Any]]) -> bool:
    """The gate's verdict on expectations' outcomes (records as the report has them): no critical one failed and
    none could not be checked. A failed warning or info passes (GE's own verdict fails on any)."""
    return not any(r.get("error") or (not r["success"] and r["severity"] == "critical") for r in records)


def suite_verdict(suite_result: dict[str, Any]) -> tuple[bool, int]:
    """Of a GE-shaped suite result: whether it passed as the report says (`passed`), and how many of its
    expectations failed at warning or info level (Data Docs show "passed with warnings")."""
    records = [_record(suite_result["suite_name"], r) for r in suite_result["results"]]
    return passed(records), sum(1 for r in records if not r["success"] and r["severity"] != "critical")


def _summary(
    scope: Scope,
    suites: Suites,
    records: list[dict[str, Any]],
    suite_results: list[dict[str, Any]],
    duration_s: float,
    ge_loaded_for: list[str],
    engine: Engine = "gate",
) -> dict[str, Any]:
    """The result of a run, for the report (see the module's docstring)."""
    failed = {severity: 0 for severity in ("critical", "warning", "info")}
    for r in records:
        if not r["success"]:
            failed[r["severity"]] += 1
    return {
        "scope": scope,
        "suites_dir": str(suites.folder),
        "suites": suites.entities,
        "engine": engine,
        "success": passed(records),
        "checked": len(records),
        "failed": failed,
        "expectations": records,
        "great_expectations_for": ge_loaded_for,
        "suite_results": suite_results,
        "duration_s": duration_s,
    }


def run(
    con: duckdb.DuckDBPyConnection,
    suites: Suites,
    *,
    scope: Scope,
    import_id: int | None = None,
    now: datetime,
    run_name: str,
    engine: Engine = "gate",
) -> dict[str, Any]:
    """Validate and return the result (see the module's docstring); raises nothing for failures.

    engine "ge": Great Expectations checks every expectation (the reference; slow)."""
    started = time.monotonic()
    parameters = parameters_for(now)
    records: list[dict[str, Any]] = []
    suite_results: list[dict[str, Any]] = []
    if scope == "import":
        assert import_id is not None
        scoped, only = _import_scope(con, import_id), {"etl_import_id": import_id}
    else:
        scoped, only = nullcontext(), None
    with scoped:
        for text, plan in zip(suites.texts, suites.plans, strict=True):
            where = f"{ENTITIES[text.entity]} = $etl_import_id" if only else None
            found = _check_suite(con, text, plan, parameters, engine, where, only)
            if found is None:  # the import wrote nothing to this entity
                continue
            shaped, checked_by = found
            examples = {i: _unexpected_rows(con, text.entity, r) for i, r in enumerate(shaped) if _failed_query(r)}
            records += _records(text.entity, shaped, examples)
            suite_results.append(
                ge_shape.suite_result(
                    text.entity, shaped, run_name=run_name, run_time=now.isoformat(), engine=checked_by
                )
            )
    ge_for = suites.needs_ge() if engine == "gate" and records else []
    duration_s = round(time.monotonic() - started, 3)
    return _summary(scope, suites, records, suite_results, duration_s, ge_for, engine)


def _check_suite(con, text: SuiteText, plan: SuitePlan, parameters, engine: Engine, where, where_params):
    """(GE-shaped results in the suite's order, who checked them) of one suite, or None when
    it has no rows to check (`where` given: an import's rows)."""
    entries = text.model.expectations
    if engine == "ge":
        if where is not None and not _has_rows(con, text.entity):
            return None
        from etl.quality import gx_run

        return gx_run.validate_table(con, text.entity, entries, parameters, str(text.path)), "great_expectations"
    by_position = evaluate(con, plan, where=where, where_params=where_params, skip_empty=where is not None)
    if by_position is None:
        return None
    if plan.for_ge:
        from etl.quality import gx_run

        positions = [position for position, _ in plan.for_ge]
        shaped = gx_run.validate_table(con, text.entity, [entries[i] for i in positions], parameters, str(text.path))
        by_position.update(zip(positions, shaped, strict=True))
    return [by_position[i] for i in range(len(entries))], ENGINE


def _has_rows(con, entity: str) -> bool:
    return con.execute(f"SELECT EXISTS (FROM {entity})").fetchall()[0][0]  # noqa: S608 (an entity's name)


def _failed_query(result: dict[str, Any]) -> bool:
    return result["expectation_config"]["type"] == "unexpected_rows_expectation" and not result["success"]


def _records(entity: str, shaped: list[dict[str, Any]], examples: dict[int, list[Any]]) -> list[dict[str, Any]]:
    records = [_record(entity, r) for r in shaped]
    for position, rows in examples.items():
        records[position]["examples"] = rows
    return records


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


def _record(entity: str, r: dict[str, Any]) -> dict[str, Any]:
    """One expectation's outcome for the report, from its GE-shaped result."""
    config = r["expectation_config"]
    kwargs = config.get("kwargs") or {}
    result = r.get("result") or {}
    info = r.get("exception_info") or {}
    errors = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
    if info.get("raised_exception"):
        errors.append(info.get("exception_message"))
    errors = [e for e in errors if e]
    column = kwargs.get("column") or ", ".join(kwargs.get("column_list") or []) or None
    if not column and kwargs.get("column_A"):
        column = f"{kwargs['column_A']}, {kwargs['column_B']}"
    unexpected_count = result.get("unexpected_count")
    if config["type"] == "unexpected_rows_expectation":
        unexpected_count = result.get("observed_value")
    examples: list[Any] = []
    for value in result.get("partial_unexpected_list") or []:
        if value not in examples:
            examples.append(value)
    return {
        "suite": entity,
        "expectation": config["type"],
        "column": column,
        "severity": str(config.get("severity") or "critical"),
        "success": bool(r["success"]) and not errors,
        "unexpected_count": unexpected_count,
        "unexpected_percent": result.get("unexpected_percent"),
        "examples": examples[:EXAMPLES],  # already JSON: GE's shape
        "observed_value": result.get("observed_value"),
        "error": _first_error(errors[0]) if errors else None,
        "description": config.get("description") or (config.get("meta") or {}).get("why"),
    }


def _unexpected_rows(con, entity: str, result: dict[str, Any]) -> list[Any]:
    """A few rows an unexpected_rows_expectation's query returned (GE keeps them only in its
    COMPLETE result format, which would also keep every unexpected value of every other expectation).
    The query is the suite's own SQL, as GE runs it; {batch} is the entity, as in GE's query asset."""
    from etl.quality.gate.evaluate import unexpected_rows_sql

    query = unexpected_rows_sql(entity, result["expectation_config"]["kwargs"]["unexpected_rows_query"])
    cursor = con.execute(f"SELECT * FROM ({query}) LIMIT {EXAMPLES}")  # noqa: S608
    names = [d[0] for d in cursor.description]
    return [ge_shape.json_value(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return text[:300]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split("\n")[:3])[:300]
