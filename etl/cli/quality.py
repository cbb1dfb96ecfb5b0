"""`etl validate`, `etl docs` and `etl refresh`: the suites, their Data Docs, the derived tables."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from etl.cli.common import (
    WAIT_DEFAULT,
    ExpectationsOption,
    StoreOption,
    WaitOption,
    app,
    console,
    fail,
    out,
    store_of,
)
from etl.display import layouts, terminal
from etl.errors import EtlError
from etl.store.runs import to_json


@app.command("validate")
def validate_(
    entity: Annotated[
        str | None,
        typer.Option(
            "--entity",
            help="Validate one table's suite only: orders, line_items, events, event_items, customers, identities, "
            "products.",
        ),
    ] = None,
    store: StoreOption = None,
    expectations: ExpectationsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="gate: the suites evaluated in DuckDB, as imports do (default); ge: Great Expectations "
            "itself evaluates every expectation (the reference; slower).",
        ),
    ] = "gate",
    docs: Annotated[
        bool, typer.Option("--docs/--no-docs", help="Build the Data Docs with this run (default: yes).")
    ] = True,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Run the expectation suites against the whole store and build Data Docs (GE's HTML).

    Also checks the store's invariants (etl/quality/store_invariants.py: every order and event on the customer its id
    resolves to, every id on one customer, items with their parent ...) and lists each broken one with examples.
    Exit status 1 when a critical expectation failed or an invariant is broken. Example: `etl validate --entity orders`
    """
    from etl.api.store import Store

    if engine not in ("gate", "ge"):
        fail(f"--engine is gate or ge, not {engine!r}", 2)
    try:
        result = Store(store, wait=wait, expectations=expectations).validate(entity=entity, engine=engine, docs=docs)
    except EtlError as exc:
        fail(str(exc), 1)
    if as_json:
        sys.stdout.write(to_json(result.to_dict()) + "\n")
    else:
        terminal.show(out, layouts.validation(result.to_dict()))
    if not result.success:
        raise typer.Exit(1)


@app.command("docs")
def docs_(store: StoreOption = None, wait: WaitOption = WAIT_DEFAULT) -> None:
    """Build the Data Docs (GE's HTML) from the validation results every import stored, and the
    `etl validate` runs, one page per run and suite; prints the index's path.

    Example: `etl docs --store data/cdp.duckdb`
    """
    from etl.quality import validate
    from etl.store.connection import connect, require_existing

    path = store_of(store)
    try:
        require_existing(path)
        with connect(path, read_only=True, wait=wait) as con:
            from etl.quality import data_docs

            index, runs = data_docs.build_for_store(con, validate.docs_dir(path))
    except EtlError as exc:
        fail(str(exc), 1)
    out.print(f"Data Docs of {runs} validation run(s) of suites: {index}", markup=False, highlight=False)


@app.command("refresh")
def refresh(store: StoreOption = None, wait: WaitOption = WAIT_DEFAULT) -> None:
    """Rebuild the tables derived from orders and line items (order_facts, customer_keys), which
    the segments read. Imports keep them current; run this after changing orders or line items
    in SQL yourself. Rows inserted or deleted are noticed (the segments then stop with an error
    until this runs); an UPDATE that keeps the row counts is not.

    Example: `etl refresh --store data/cdp.duckdb`
    """
    from etl.api.store import Store

    try:
        counted = Store(store, wait=wait).refresh()
    except EtlError as exc:
        fail(str(exc), 1)
    console.print(f"order_facts rebuilt: {counted['orders']:,} orders of {counted['customers']:,} customers")
