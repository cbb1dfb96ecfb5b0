"""etl.Store: a customer store (a DuckDB file) and everything a notebook or a job does with it.

    import etl
    store = etl.Store("data/cdp.duckdb")          # or etl.Store(): $ETL_STORE, else data/cdp.duckdb
    report = store.import_("data/samples/kevel_orders.yaml", dry_run=True)
    store.sql("SELECT count(*) AS orders FROM orders WHERE currency = $c", c="EUR")

Every call opens the store for its own length and closes it: a notebook holds no lock between cells, so an import
from elsewhere (a CI job, `make import`) is never blocked by a kernel left open. Errors are the `EtlError`s the
command reports (etl.errors): a file, a line, a column and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.api.results import ImportReport, SegmentRun, ValidationResult
from etl.errors import SpecError

if TYPE_CHECKING:
    import polars as pl

    from etl.spec import ImportSpec

WAIT_S = 120.0  # etl.store.connection.WAIT_S, written here so that `import etl` loads no DuckDB
RUNS = ("SELECT import_id, status, dry_run, format, started_at, items, valid, rejected, sources, error "
        "FROM imports ORDER BY import_id DESC")  # fmt: skip
Progress = Callable[[str, int, int], None]  # (uri, rows read, rows estimated)


class Store:
    """A customer store: a DuckDB file of orders, customers, products and events (its tables: docs' store page).

    `path`: the DuckDB file (default: $ETL_STORE, else data/cdp.duckdb; an import spec's `store:` when neither is
    given, as on the command line). `wait`: seconds a call waits for another process holding the store (an
    import) before failing. `expectations`: the folder of expectation suites (default: $ETL_EXPECTATIONS, else
    ./expectations, else the bundled ones).
    """

    def __init__(self, path: str | Path | None = None, *, wait: float = WAIT_S,
                 expectations: str | Path | None = None) -> None:  # fmt: skip
        self._given = str(path) if path is not None else None
        self.wait = wait
        self.expectations = Path(expectations) if expectations is not None else None

    @property
    def path(self) -> Path:
        """The store's file."""
        from etl.store.connection import store_path

        return store_path(self._given)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def events(self) -> Events:
        """Events removed by time range, and put back: `store.events.delete(...)`, `store.events.restore(...)`."""
        return Events(self)

    # --- importing ------------------------------------------------------------------------

    def import_(
        self,
        spec: str | Path | dict[str, Any] | None = None,
        *,
        format: str | None = None,
        source: str | list[str] | None = None,
        options: dict[str, Any] | None = None,
        encoding: str | None = None,
        compression: str | None = None,
        delimiter: str | None = None,
        connection: dict[str, Any] | None = None,
        fail_on_low_confidence: bool = False,
        dry_run: bool = False,
        progress: bool | Progress | None = None,
        executor: str | None = None,
        staging: str | None = None,
    ) -> ImportReport:
        """Import files (or an API's records) into the store, in one transaction, and return the report.

        `spec`: an import spec, as a YAML file's path or a mapping of its keys (etl/import-spec.schema.json); the
        keywords override its keys, as the command's options do (`options` and `connection` are merged into the
        spec's). Without a spec, `format` and `source` are needed. `dry_run`: everything but storing.
        `progress`: True, False, a callable (uri, rows, estimate), or None (the default): bars in a notebook or
        on a terminal, none in a job's log. `executor`: where the files are staged (local, processes, or a Dask
        scheduler's dask://host:8786; docs/cluster.md), `staging`: the folder or URL they are staged in.

            store.import_(format="kevel_orders", source="data/samples/kevel_orders.csv", dry_run=True)

        A failed import raises an EtlError (SpecError for a bad spec) and leaves the store as it was; the failed
        run is recorded (`store.runs()`), and the exception's `report` holds its report.
        """
        from etl.api import progress as bars
        from etl.pipeline.importer import run_import
        from etl.store.connection import store_path

        checked = self._spec(spec, format=format, source=source, options=options, encoding=encoding,
                             compression=compression, delimiter=delimiter, connection=connection,
                             fail_on_low_confidence=fail_on_low_confidence, executor=executor,
                             staging=staging)  # fmt: skip
        shown = bars.Bars() if progress is True else bars.automatic() if progress is None else None
        callback = shown or (progress if callable(progress) else None)
        try:
            result = run_import(checked, store_path(self._given, checked.store), dry_run=dry_run, progress=callback,
                                expectations=self.expectations, wait=self.wait)  # fmt: skip
        finally:
            if shown:
                shown.close()
        return ImportReport(_as_json(result), self.rejects)

    @staticmethod
    def _spec(spec: str | Path | dict[str, Any] | None, *, connection: dict[str, Any] | None,
              options: dict[str, Any] | None, **given: Any) -> ImportSpec:  # fmt: skip
        """The spec (a file, a mapping or none) with the keywords over it, checked."""
        from etl.spec import load_spec_data, validate_spec

        if isinstance(spec, dict):
            data, origin = dict(spec), "the spec given"
        elif spec is not None:
            data, origin = load_spec_data(Path(spec)), str(spec)
        else:
            data, origin = {}, "the arguments"
        if spec is None and not (given.get("format") and given.get("source")):
            raise SpecError("without a spec, give format= and source= (e.g. format='kevel_orders', "
                            "source='data/samples/kevel_orders.csv')")  # fmt: skip
        data.update({key: value for key, value in given.items() if value})
        for key, extra in (("options", options), ("connection", connection)):
            if extra:
                data[key] = {**(data.get(key) or {}), **extra}
        return validate_spec(data, origin)

    # --- reading --------------------------------------------------------------------------

    def sql(self, query: str, **params: Any) -> pl.DataFrame:
        """The rows of one query as a Polars DataFrame; `$name` parameters are bound from the keywords, never pasted
        into the SQL. The store is open (read-only) only while the query runs.

            store.sql("SELECT order_id, total FROM orders WHERE currency = $c ORDER BY order_id", c="EUR")
        """
        with self._reading() as con:
            return con.sql(query, params=params or None).pl()

    def runs(self) -> pl.DataFrame:
        """Past imports and event runs, newest first: import_id, status, dry_run, format, started_at, items, valid,
        rejected, sources, error (as `etl runs --json`)."""
        return self.sql(RUNS)

    def _records(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """The rows of one query as dicts, with no Polars loaded (`etl runs` starts faster)."""
        with self._reading() as con:
            cursor = con.execute(query, params or None)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def report(self, import_id: int | None = None) -> ImportReport:
        """A past import's report (the newest one when `import_id` is None), as the import returned it."""
        import json

        from etl.errors import EtlError

        with self._reading() as con:
            if import_id is None:
                row = con.execute("SELECT report FROM imports ORDER BY import_id DESC LIMIT 1").fetchone()
            else:
                row = con.execute("SELECT report FROM imports WHERE import_id = $id", {"id": import_id}).fetchone()
        if row is None:
            raise EtlError(f"no import {import_id} in the store {self.path} (see store.runs())" if import_id
                           is not None else f"no import in the store {self.path} yet")  # fmt: skip
        return ImportReport(json.loads(row[0]), self.rejects)

    def rejects(self, import_id: int) -> pl.DataFrame:
        """An import's rejected rows, in file order: source, line, record, reasons [{column, hint, value}], raw (the
        values as read, JSON text)."""
        from etl.errors import EtlError

        with self._reading() as con:
            if not con.execute("SELECT count(*) FROM imports WHERE import_id = $id", {"id": import_id}).fetchall()[0][
                0
            ]:
                raise EtlError(f"no import {import_id} in the store {self.path} (see store.runs())")
            return con.sql(
                "SELECT source, line, record, reasons, raw::VARCHAR AS raw FROM rejects WHERE import_id = $id "
                "ORDER BY source, record",
                params={"id": import_id},
            ).pl()

    def segment(self, name: str, **params: Any) -> SegmentRun:
        """Run a segment (`etl.list_segments()` lists them) with its parameters as keywords, checked against its header;
        a date may be a `date` or text. Parameters left out take their defaults (`observation_end`: the store's
        last purchase day), and the run says which.

            store.segment("rfm", observation_end=date(2024, 12, 31)).frame
        """
        import time

        from etl.segments import run as segments

        started = time.monotonic()
        with self._reading() as con:
            frame, values = segments.run_with_parameters(name, params, con=con)
        defaults = {  # where each value not given came from
            p.name: p.store_default.label if p.store_default else "default"
            for p in segments.get(name).parameters
            if p.name not in params
        }
        return SegmentRun(name, frame, values, defaults, round(time.monotonic() - started, 3))

    # --- checking and keeping -------------------------------------------------------------

    def validate(self, *, entity: str | None = None, engine: str = "gate", docs: bool = True) -> ValidationResult:
        """Run the expectation suites against the whole store, check its invariants and (with `docs`) build the
        Data Docs beside it. `entity`: one of orders, line_items, events, users. `engine`: "gate" (the suites
        evaluated in DuckDB, as imports do) or "ge" (Great Expectations evaluates every expectation; slower)."""
        from etl.errors import EtlError
        from etl.quality import store_invariants, validate

        if engine not in ("gate", "ge"):
            raise EtlError(f"engine is gate or ge, not {engine!r}")
        now = datetime.now(UTC)
        run_name = "validate-" + now.strftime("%Y%m%dT%H%M%SZ")
        path = self.path
        with self._reading() as con:
            suites = validate.load_suites(con, self.expectations, entity, now=now)
            result = validate.run(con, suites, scope="store", now=now, run_name=run_name, engine=engine)  # type: ignore[arg-type]
            result["invariants"] = store_invariants.violations(con)
            if docs:
                from etl.quality import data_docs

                data_docs.save_run(validate.docs_dir(path), result["suite_results"], run_name)
                result["data_docs"] = str(data_docs.build_for_store(con, validate.docs_dir(path))[0])
        return ValidationResult(result)

    def refresh(self) -> dict[str, int]:
        """Rebuild the tables derived from orders and line items (order_facts, customer_keys), which the segments
        read, after orders or line items were changed in SQL by hand. Returns {orders, customers} counted."""
        from etl.store.connection import connect, refresh_order_facts, require_existing

        require_existing(self.path)
        with connect(self.path, read_only=False, wait=self.wait) as con:
            refresh_order_facts(con, force=True)
            orders, customers = con.execute(
                "SELECT (SELECT count(*) FROM order_facts), (SELECT count(DISTINCT customer_key) FROM order_facts)"
            ).fetchall()[0]
        return {"orders": orders, "customers": customers}

    def _reading(self):
        from etl.store.connection import connect

        return connect(self.path, read_only=True, wait=self.wait)


class Events:
    """The store's events: removed by time range (as eSputnik's Remove events), and put back."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def delete(self, start: str | date | datetime, end: str | date | datetime, *, types: list[str] | None = None,
               dry_run: bool = False) -> ImportReport:  # fmt: skip
        """Delete the events that occurred from `start` to `end` (days included, UTC; or a date and time), in one
        transaction; `types`: only events of these types. The deleted events are kept for `restore`."""
        from etl.entities.events import deletes

        report = deletes.delete(self._store.path, _text(start), _text(end), types, dry_run=dry_run,
                                wait=self._store.wait)  # fmt: skip
        return ImportReport(_as_json(report), self._store.rejects)

    def restore(self, run_id: int, *, dry_run: bool = False) -> ImportReport:
        """Put back the events that delete run `run_id` removed, exactly as they were."""
        from etl.entities.events import deletes

        report = deletes.restore(self._store.path, run_id, dry_run=dry_run, wait=self._store.wait)
        return ImportReport(_as_json(report), self._store.rejects)


def _as_json(report: dict[str, Any]) -> dict[str, Any]:
    """A report as `etl report N --json` gives it back (datetimes as ISO 8601 text): the same from an import as
    from the store."""
    import json

    from etl.store.runs import to_json

    return json.loads(to_json(report))


def _text(moment: str | date | datetime) -> str:
    return moment.isoformat() if isinstance(moment, date) else moment
