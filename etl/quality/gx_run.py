"""Great Expectations itself, run on DuckDB tables: for the expectations the gate does not
evaluate, for `etl validate --engine ge`, and as the reference of the differential tests.

Importing this module imports GE (seconds of Python): only import it when one of those is
needed. GE reads the table through its SQL data source, on the caller's own connection
(etl.quality.gx_duckdb), so it sees an import's uncommitted rows.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb

from etl.quality import gx_duckdb  # before GE: it makes GE's import lighter

# isort: split
import great_expectations as gx
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.expectations.registry import get_expectation_impl, list_registered_expectation_implementations

from etl.errors import EtlError

gx_duckdb.install()
# GE logs a failed metric with its traceback; the result says it in one line instead
logging.getLogger("great_expectations").setLevel(logging.CRITICAL)


def known_types() -> list[str]:
    return list_registered_expectation_implementations()


def is_known(type_name: str) -> bool:
    try:
        get_expectation_impl(type_name)
    except Exception:  # GE's ExpectationNotFoundError
        return False
    return True


def expectation(entry: Any) -> Any:
    """GE's expectation object for a suite entry (etl.quality.suites.ExpectationEntry); GE checks its kwargs."""
    config = ExpectationConfiguration(
        type=entry.type,
        kwargs=entry.kwargs,
        meta=entry.meta,
        severity=entry.severity,
        notes=entry.notes,
        description=entry.description,
    )
    return config.to_domain_obj()


def _context():
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def validate_table(
    con: duckdb.DuckDBPyConnection, table: str, entries: list[Any], parameters: dict[str, Any], origin: str
) -> list[dict[str, Any]]:
    """GE's results (to_json_dict) of `entries` on the rows `SELECT * FROM table` gives, in the
    entries' order. `origin` names the suite in errors. A query that fails aborts DuckDB's
    transaction: then this raises EtlError with the first failed statement."""
    context = _context()
    failures: list[tuple[str, str]] = []
    source = context.data_sources.add_sql(
        "store", connection_string="duckdb:///:memory:", kwargs=gx_duckdb.engine_kwargs(con, failures)
    )
    asset = source.add_query_asset(table, query=f"SELECT * FROM {table}")  # noqa: S608 (an entity's name)
    batch = asset.add_batch_definition_whole_table("rows")
    suite = context.suites.add(ExpectationSuite(name=table, expectations=[expectation(e) for e in entries]))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))
    outcome = definition.run(expectation_parameters=parameters)
    if failures:  # the transaction is aborted: nothing after this can run
        statement, error = failures[0]
        raise EtlError(
            f"{origin}: an expectation's query failed, so the suites could not run: {error}\n  query: {statement}"
        )
    position = {e.id: i for i, e in enumerate(suite.expectations)}  # GE returns them reordered
    ordered = sorted(outcome.results, key=lambda r: position.get(r.expectation_config.id, 0))
    out = []
    for r in ordered:
        result = r.to_json_dict()
        result["expectation_config"]["kwargs"].pop("batch_id", None)
        out.append(result)
    return out
