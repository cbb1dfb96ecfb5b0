"""The `etl` command: import, inbox, runs, report, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperOption

from etl import report, tables
from etl.errors import EtlError, ImportCancelled, SpecError

# Polars, DuckDB, pydantic and YAML are imported inside the commands that use them, so that
# `etl --help` starts in a fraction of a second and `etl runs` loads DuckDB only.

# typer 0.29 shows a flag's type beside it ("--dry-run <bool>"), as if it took a value: flags
# are shown bare (tests/test_cli_contract.py checks the help).
_display_type = TyperOption.display_type_rich
TyperOption.display_type_rich = lambda self, ctx: "" if self.is_flag else _display_type(self, ctx)  # type: ignore[method-assign]

app = typer.Typer(
    help="Import a shop's history into a DuckDB customer store.\n\n"
    "Example: `etl import data/samples/kevel_orders.yaml --dry-run`, then `etl runs`.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        out.print(f"etl (cdp-etl) {version('cdp-etl')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool | None,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = None,
) -> None:
    """Import a shop's history into a DuckDB customer store.

    Example: `etl import data/samples/kevel_orders.yaml --dry-run`, then `etl runs`.
    """


export_app = typer.Typer(help="Export the store.", no_args_is_help=True)
app.add_typer(export_app, name="export")
schedule_app = typer.Typer(help="Scheduled imports: specs with a schedule:.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
segment_app = typer.Typer(help="Segments: SQL queries over the store (etl/sql/segments/).", no_args_is_help=True)
app.add_typer(segment_app, name="segment")
# Messages are plain text: a value in them (a file name, a parameter) is never read as markup.
console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)  # lines as written, not cut
out = Console(markup=False, highlight=False, soft_wrap=True)

StoreOption = Annotated[
    Path | None, typer.Option("--store", help="DuckDB store (default: $ETL_STORE, else data/cdp.duckdb).")
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        help="While another process holds the store (an import, a notebook's connection), wait for it "
        "this long before failing.",
    ),
]
WAIT_DEFAULT = 120.0  # etl.store.WAIT_S, written here so that --help need not import DuckDB
ExpectationsOption = Annotated[
    Path | None,
    typer.Option(
        "--expectations",
        help="Folder of expectation suites (default: $ETL_EXPECTATIONS, else ./expectations).",
    ),
]


def _store_path(store: Path | None, from_spec: str | None = None) -> Path:
    """--store, then $ETL_STORE, then the spec's store:, then data/cdp.duckdb."""
    from etl.store import store_path

    return store_path(str(store) if store else None, from_spec)


def _read_only(store: Path | None, wait: float):
    """The store for a command that only reads (never created, never locked for writing)."""
    from etl.store import connect

    return connect(_store_path(store), read_only=True, wait=wait)


def _fail(message: str, code: int = 2) -> None:
    console.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(code)


@app.command("import")
def import_(
    spec_file: Annotated[Path | None, typer.Argument(metavar="[SPEC.yaml]", help="Import spec (YAML).")] = None,
    format: Annotated[
        str | None, typer.Option("--format", metavar="FORMAT", help="Input format, e.g. kevel_orders.")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", metavar="URI", help="File URI or glob; repeatable.")
    ] = None,
    store: StoreOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Run everything but storing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    fail_on_rejects: Annotated[
        bool, typer.Option("--fail-on-rejects", help="Exit with status 3 when any row was rejected.")
    ] = False,
    encoding: Annotated[
        str | None, typer.Option("--encoding", metavar="CODEC", help="Codec of the files (utf-8, cp1251 ...) or auto.")
    ] = None,
    compression: Annotated[str | None, typer.Option("--compression", help="auto, gzip, zip or none.")] = None,
    connection: Annotated[
        list[str] | None,
        typer.Option(
            "--connection",
            metavar="KEY=VALUE",
            help="A connection option of the sources (e.g. endpoint_url=http://127.0.0.1:9000, "
            "password=${SFTP_PASSWORD}); repeatable; overrides the spec's connection:.",
        ),
    ] = None,
    expectations: ExpectationsOption = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Import files into the store and print the report.

    Example: `etl import --format kevel_orders --source data/samples/kevel_orders.csv --dry-run`
    or `etl import specs/kevel_orders.yaml --json`.
    """
    result = None
    try:
        from etl.importer import run_import  # Polars and DuckDB: imported only when importing
        from etl.spec import load_spec_data, validate_spec

        data = load_spec_data(spec_file) if spec_file else {}
        if format:
            data["format"] = format
        if source:
            data["source"] = source
        if encoding:
            data["encoding"] = encoding
        if compression:
            data["compression"] = compression
        _add_connection(data, connection)
        if not spec_file and not (format and source):
            _fail("without a spec file, --format and --source are required (see etl import --help)")
        spec = validate_spec(data, str(spec_file) if spec_file else "command line")
        path = _store_path(store, spec.store)
        with _progress(enabled=not as_json) as progress:
            result = run_import(spec, path, dry_run=dry_run, progress=progress, expectations=expectations, wait=wait)
    except ImportCancelled as exc:
        _failed_report(exc, as_json, "cancelled")
        _fail(str(exc), 130)
    except KeyboardInterrupt:
        if result is None:  # the import had not started its transaction: nothing was touched
            _fail("cancelled (Ctrl-C) before the import started: the store is unchanged.", 130)
        _fail(f"Ctrl-C after import {result['import_id']} completed: it is stored (etl report "
              f"{result['import_id']} shows it).", 130)  # fmt: skip
    except SpecError as exc:
        _failed_report(exc, as_json, "failed")
        _fail(str(exc), 2)
    except EtlError as exc:
        _failed_report(exc, as_json, "failed")
        _fail(str(exc), 1)
    if as_json:
        sys.stdout.write(report.to_json(result) + "\n")
    else:
        report.render(result, out)
    if fail_on_rejects and result["rejected"]:
        console.print(Text(f"{result['rejected']} row(s) rejected (--fail-on-rejects)", style="red"))
        raise typer.Exit(3)


def _failed_report(exc: EtlError, as_json: bool, status: str) -> None:
    """With --json, a failed run still prints one JSON object: its report, as `etl report N
    --json` gives it, or (when it failed before an import started, e.g. a bad spec) the status
    and the error with no import id."""
    if as_json:
        found = exc.report or {"import_id": None, "status": status, "error": str(exc), "files": []}
        sys.stdout.write(report.to_json(found) + "\n")


def _add_connection(data: dict[str, Any], pairs: list[str] | None) -> None:
    """--connection KEY=VALUE ... over the spec's connection: (the flags win)."""
    if pairs:
        data["connection"] = {**(data.get("connection") or {}), **_key_values(pairs)}


def _key_values(pairs: list[str]) -> dict[str, Any]:
    """--connection KEY=VALUE ... as a mapping; values are read as YAML scalars (port=2222 is a number)."""
    import yaml

    result: dict[str, Any] = {}
    for key, value in _pairs("--connection", pairs, "endpoint_url=http://127.0.0.1:9000").items():
        parsed = yaml.safe_load(value) if value else ""
        result[key] = parsed if isinstance(parsed, int | float | bool) else value
    return result


def _pairs(flag: str, pairs: list[str], example: str) -> dict[str, str]:
    """FLAG KEY=VALUE ... as {key: value text}. An error names the key only: a value may be a secret."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"{flag} {key!r}: expected KEY=VALUE, e.g. {example}")
        result[key.strip()] = value
    return result


class _progress:
    """A progress bar on stderr while reading, for inputs large enough to wait for."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and console.is_terminal
        self.bar: Progress | None = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if not self.enabled:
            return None
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.bar.__enter__()
        return self.update

    def update(self, uri: str, rows: int, estimate: int) -> None:
        if uri not in self.tasks:
            self.tasks[uri] = self.bar.add_task(f"reading {uri}", total=estimate)
        self.bar.update(self.tasks[uri], completed=rows, total=max(estimate, rows))

    def __exit__(self, *exc_info):
        if self.bar:
            self.bar.__exit__(*exc_info)


@app.command()
def inbox(
    folder: Annotated[str, typer.Argument(metavar="URI", help="The folder: a local path, s3://bucket/dir, sftp://...")],
    spec_file: Annotated[Path, typer.Option("--spec", help="Import spec (YAML); its source: is not used.")],
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON object.")] = False,
    connection: Annotated[
        list[str] | None,
        typer.Option("--connection", metavar="KEY=VALUE", help="A connection option; repeatable (see import)."),
    ] = None,
) -> None:
    """Import every file in the root of a folder, each as its own import, in name order.

    A file that imported is moved into processed/ beside it; a failed one stays. A file whose
    content was imported before is skipped (and moved). Exit status 1 when a file failed.

    Example: `etl inbox sftp://crm@files.example.com/ --spec specs/orders.yaml --connection password=${SFTP_PW}`
    """
    try:
        from etl.inbox import run_inbox
        from etl.spec import load_spec_data, validate_spec

        data = load_spec_data(spec_file)
        data.setdefault("source", folder)  # the spec's own source is not read: the inbox names the files
        _add_connection(data, connection)
        spec = validate_spec(data, str(spec_file))
        path = _store_path(store, spec.store)
        with _progress(enabled=not as_json) as progress:
            outcomes = run_inbox(folder, spec, path, progress=progress)
    except ImportCancelled as exc:
        _fail(str(exc), 130)
    except EtlError as exc:
        _fail(str(exc), 1)
    if as_json:
        sys.stdout.write(json.dumps({"folder": folder, "files": [o.__dict__ for o in outcomes]}) + "\n")
    else:
        table = tables.new(
            f"Inbox {folder}", ("file", "key"), ("status", "key"), ("import", "number"), ("detail", "prose"),
            ("moved to", "key"),
        )  # fmt: skip
        for o in outcomes:
            tables.add_row(table, o.uri, o.status, o.import_id, o.detail, o.moved_to)
        tables.show(out, table) if outcomes else out.print(f"Inbox {folder}: no files.")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


@app.command()
def runs(
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON lines.")] = False,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Show the runs of one schedule (by spec name), skipped ones too.")
    ] = None,
    specs: Annotated[
        Path, typer.Option("--specs", help="With --schedule: the folder of specs, to find the schedule's store.")
    ] = Path("specs"),
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """List past imports, newest first.

    Example: `etl runs --store data/cdp.duckdb`, or `etl runs --schedule nightly_orders`
    """
    if schedule is not None:
        from etl.schedule import store_of_schedule

        try:
            schedule_store = store_of_schedule(specs, schedule, str(store) if store else None)
        except EtlError as exc:
            _fail(str(exc), 1)
        _schedule_runs(schedule, schedule_store, as_json)
        return
    try:
        with _read_only(store, wait) as con:
            cursor = con.execute(
                "SELECT import_id, status, dry_run, format, started_at, items, valid, rejected, "
                "sources, error FROM imports ORDER BY import_id DESC"
            )
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    except EtlError as exc:
        _fail(str(exc), 1)
    if as_json:
        for row in rows:
            sys.stdout.write(report.to_json(dict(zip(names, row, strict=True))) + "\n")
        return
    table = tables.new(
        "Imports", ("id", "number"), ("status", "key"), ("dry run", "key"), ("format", "key"),
        ("started (UTC)", "key"), ("items", "number"), ("valid", "number"), ("rejected", "number"),
        ("sources", "key"), ("error", "prose"),
    )  # fmt: skip
    for row in rows:
        record = dict(zip(names, row, strict=True))
        tables.add_row(
            table, record["import_id"], record["status"], "yes" if record["dry_run"] else "",
            record["format"], record["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
            *(None if record[k] is None else f"{record[k]:,}" for k in ("items", "valid", "rejected")),
            "\n".join(record["sources"] or []), (record["error"] or "").splitlines()[0] if record["error"] else "",
        )  # fmt: skip
    tables.show(out, table)


def _schedule_runs(name: str, store: Path, as_json: bool) -> None:
    from etl.schedule import history

    entries = list(reversed(history(store, name)))
    if as_json:
        for entry in entries:
            sys.stdout.write(json.dumps(entry) + "\n")
        return
    table = tables.new(
        f"Runs of schedule {name}", ("due at (UTC)", "key"), ("status", "key"), ("import", "number"),
        ("ran at", "key"), ("detail", "prose"),
    )  # fmt: skip
    for e in entries:
        detail = "; ".join(x for x in (e.get("detail", ""), e.get("note", "")) if x)
        tables.add_row(table, e["due_at"], e["status"], e.get("import_id"), e["at"], detail)
    tables.show(out, table) if entries else out.print(f"No runs of schedule {name!r} yet.")


SpecsOption = Annotated[Path, typer.Option("--specs", help="The folder of import specs (*.yaml).")]


@schedule_app.command("list")
def schedule_list(
    specs: SpecsOption = Path("specs"),
    now: Annotated[str | None, typer.Option("--now", help="Count from this UTC time (ISO), not now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per schedule.")] = False,
) -> None:
    """List scheduled specs: the schedule, in words, and its next three runs (UTC).

    Example: `etl schedule list --specs specs/`
    """
    from etl.schedule import scheduled

    try:
        found = scheduled(specs)
    except EtlError as exc:
        _fail(str(exc), 1)
    start = _utc(now)
    rows = [
        {
            "name": s.name,
            "spec": str(s.path),
            "cron": s.cron,
            "years": list(s.years),
            "in_words": s.describe(),
            "next": [t.isoformat() for t in s.next_runs(start)],
        }
        for s, _ in found
    ]
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
        return
    table = tables.new(
        f"Schedules in {specs}", ("schedule", "key"), ("cron", "key"), ("in words", "prose"), ("next runs (UTC)", "key")
    )
    for row in rows:
        tables.add_row(table, row["name"], row["cron"], row["in_words"], "\n".join(row["next"]))
    tables.show(out, table) if rows else out.print(f"No spec in {specs} has a schedule.")


@schedule_app.command("run-due")
def schedule_run_due(
    specs: SpecsOption = Path("specs"),
    store: StoreOption = None,
    now: Annotated[str | None, typer.Option("--now", help="Act as if it were this UTC time (ISO).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per triggered run.")] = False,
) -> None:
    """Run the scheduled imports that are due; call it every few minutes from cron or CI.

    Example (crontab): `*/5 * * * * cd /srv/cdp && .venv/bin/etl schedule run-due --specs specs/`
    """
    from etl.schedule import run_due

    try:
        done = run_due(specs, str(store) if store else None, _utc(now))
    except ImportCancelled as exc:
        _fail(str(exc), 130)
    except EtlError as exc:
        _fail(str(exc), 1)
    if as_json:
        for entry in done:
            sys.stdout.write(json.dumps(entry) + "\n")
    else:
        for e in done:
            extra = f" import {e['import_id']}" if e.get("import_id") else ""
            line = f"{e['schedule']} (due {e['due_at']}): {e['status']}{extra} into {e['store']} {e.get('detail', '')}"
            out.print(line.rstrip(), markup=False, highlight=False)
        if not done:
            out.print("Nothing is due.")
    if any(e["status"] == "failed" for e in done):
        raise typer.Exit(1)


def _utc(text: str | None):
    from datetime import UTC, datetime

    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--now {text!r}: expected an ISO date and time, e.g. 2026-11-24T03:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("report")
def show_report(
    import_id: Annotated[int, typer.Argument(help="The import's id (see etl runs).")],
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Show the report of a past import again.

    Example: `etl report 3 --json`
    """
    try:
        with _read_only(store, wait) as con:
            row = con.execute("SELECT report FROM imports WHERE import_id = ?", [import_id]).fetchone()
    except EtlError as exc:
        _fail(str(exc), 1)
    if row is None:
        _fail(f"no import {import_id} in the store (see etl runs)", 1)
    result = json.loads(row[0])
    if as_json:
        sys.stdout.write(row[0] + "\n")
    else:
        report.render(result, out)


@app.command("rejects")
def show_rejects(
    import_id: Annotated[int, typer.Argument(help="The import's id (see etl runs).")],
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON lines.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the rows to FILE.csv or FILE.parquet.")] = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """List an import's rejected rows: file, line, every reason, and the values as read.

    Example: `etl rejects 3`, or `etl rejects 3 --out rejects.csv`
    """
    if out_file is not None and out_file.suffix.lower() not in {".csv", ".parquet"}:
        _fail(f"--out {out_file}: expected a .csv or .parquet file")
    try:
        with _read_only(store, wait) as con:
            known = con.execute("SELECT count(*) FROM imports WHERE import_id = $id", {"id": import_id}).fetchall()
            if not known[0][0]:
                _fail(f"no import {import_id} in the store (see etl runs)", 1)
            rows_of = "FROM rejects WHERE import_id = $id ORDER BY source, record"
            if out_file is not None:
                out_file.parent.mkdir(parents=True, exist_ok=True)
                # CSV has no lists: the reasons go as JSON text there
                reasons = "reasons" if out_file.suffix.lower() == ".parquet" else "to_json(reasons)::VARCHAR AS reasons"
                chosen = con.sql(
                    f"SELECT source, line, record, {reasons}, raw::VARCHAR AS raw {rows_of}",  # noqa: S608
                    params={"id": import_id},
                )
                chosen.write_parquet(str(out_file)) if out_file.suffix.lower() == ".parquet" else chosen.write_csv(
                    str(out_file)
                )
                count = con.execute("SELECT count(*) FROM rejects WHERE import_id = $id", {"id": import_id}).fetchall()
                console.print(f"{count[0][0]:,} rejected rows of import {import_id} written to {out_file}")
                return
            relation = con.sql(
                f"SELECT source, line, record, reasons, raw::VARCHAR AS raw {rows_of}",  # noqa: S608
                params={"id": import_id},
            )
            names = relation.columns
            rows = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
    except EtlError as exc:
        _fail(str(exc), 1)
    if as_json:
        for row in rows:
            row["raw"] = json.loads(row["raw"]) if row["raw"] is not None else None
            sys.stdout.write(report.to_json(row) + "\n")
        return
    table = tables.new(
        f"Rejected rows of import {import_id}: {len(rows):,}", ("file", "key"), ("line", "number"),
        ("reasons", "prose"), ("values as read", "prose"),
    )  # fmt: skip
    for row in rows:
        reasons = "\n".join(_reason_text(r) for r in row["reasons"])
        tables.add_row(table, row["source"], row["line"], reasons, row["raw"])
    tables.show(out, table) if rows else out.print(f"Import {import_id} rejected no rows.")


def _reason_text(reason: dict[str, Any]) -> str:
    got = "" if reason["value"] is None else f" (got {json.dumps(reason['value'], ensure_ascii=False)})"
    return f"{reason['column']}: {reason['hint']}{got}"


@app.command("validate")
def validate_(
    entity: Annotated[
        str | None, typer.Option("--entity", help="Validate one entity only: orders, line_items, events, users.")
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

    Exit status 1 when a critical expectation failed. Example: `etl validate --entity orders`
    """
    from datetime import UTC, datetime

    from etl import validate
    from etl.store import connect

    if engine not in ("gate", "ge"):
        _fail(f"--engine is gate or ge, not {engine!r}", 2)
    path = _store_path(store)
    now = datetime.now(UTC)
    run_name = "validate-" + now.strftime("%Y%m%dT%H%M%SZ")
    try:
        with connect(path, read_only=True, wait=wait) as con:
            suites = validate.load_suites(con, expectations, entity, now=now)
            result = validate.run(con, suites, scope="store", now=now, run_name=run_name, engine=engine)  # type: ignore[arg-type]
            if docs:
                from etl import data_docs

                data_docs.save_run(validate.docs_dir(path), result["suite_results"], run_name)
                result["data_docs"] = str(data_docs.build_for_store(con, validate.docs_dir(path))[0])
    except EtlError as exc:
        _fail(str(exc), 1)
    if as_json:
        sys.stdout.write(report.to_json(result) + "\n")
    else:
        report.render_validation(result, out)
    if not result["success"]:
        raise typer.Exit(1)


@app.command("docs")
def docs_(store: StoreOption = None, wait: WaitOption = WAIT_DEFAULT) -> None:
    """Build the Data Docs (GE's HTML) from the validation results every import stored, and the
    `etl validate` runs, one page per run and suite; prints the index's path.

    Example: `etl docs --store data/cdp.duckdb`
    """
    from etl import validate
    from etl.store import connect, require_existing

    path = _store_path(store)
    try:
        require_existing(path)
        with connect(path, read_only=True, wait=wait) as con:
            from etl import data_docs

            index, runs = data_docs.build_for_store(con, validate.docs_dir(path))
    except EtlError as exc:
        _fail(str(exc), 1)
    out.print(f"Data Docs of {runs} validation run(s) of suites: {index}", markup=False, highlight=False)


@app.command("refresh")
def refresh(store: StoreOption = None, wait: WaitOption = WAIT_DEFAULT) -> None:
    """Rebuild the tables derived from orders and line items (order_facts, customer_keys), which
    the segments read. Imports keep them current; run this after changing orders or line items
    in SQL yourself. Rows inserted or deleted are noticed (the segments then stop with an error
    until this runs); an UPDATE that keeps the row counts is not.

    Example: `etl refresh --store data/cdp.duckdb`
    """
    from etl.store import connect, refresh_order_facts, require_existing

    path = _store_path(store)
    try:
        require_existing(path)
        with connect(path, read_only=False, wait=wait) as con:
            refresh_order_facts(con, force=True)
            facts, customers = con.execute(
                "SELECT (SELECT count(*) FROM order_facts), (SELECT count(DISTINCT customer_key) FROM order_facts)"
            ).fetchall()[0]
    except EtlError as exc:
        _fail(str(exc), 1)
    console.print(f"order_facts rebuilt: {facts:,} orders of {customers:,} customers")


@segment_app.command("list")
def segment_list() -> None:
    """List the segments: name, grain and parameters.

    Example: `etl segment list`
    """
    from etl.segment import catalog

    table = tables.new("Segments", ("segment", "key"), ("what it is", "prose"), ("grain", "prose"),
                       ("parameters", "prose"))  # fmt: skip
    for s in catalog().values():
        params = ", ".join(p.name + ("" if p.required else f"={p.default!r}") for p in s.parameters)
        tables.add_row(table, s.name, s.summary, s.grain, params)
    tables.show(out, table)


@segment_app.command("show")
def segment_show(name: Annotated[str, typer.Argument(help="The segment (see etl segment list).")]) -> None:
    """Print a segment's SQL, its header saying its grain, parameters and an example.

    Example: `etl segment show rfm`
    """
    from etl.segment import get

    try:
        segment = get(name)
    except EtlError as exc:
        _fail(str(exc), 1)
    sys.stdout.write(segment.path.read_text(encoding="utf-8"))


@segment_app.command("run")
def segment_run(
    name: Annotated[str, typer.Argument(help="The segment (see etl segment list).")],
    param: Annotated[
        list[str] | None, typer.Option("--param", metavar="KEY=VALUE", help="A parameter; repeatable.")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the rows to FILE.csv or FILE.parquet.")] = None,
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON lines.")] = False,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Run a segment over the store (read-only). Parameters are bound, never pasted into SQL.

    Example: `etl segment run rfm --param observation_end=2024-12-31 --out rfm.parquet`
    """
    from etl.segment import run

    given = _pairs("--param", param or [], "observation_end=2024-12-31")
    if out_file is not None and out_file.suffix.lower() not in {".csv", ".parquet"}:
        _fail(f"--out {out_file}: expected a .csv or .parquet file")
    try:
        frame = run(name, given, store=store, wait=wait)
    except EtlError as exc:
        _fail(str(exc), 1)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(out_file) if out_file.suffix.lower() == ".parquet" else frame.write_csv(out_file)
        console.print(f"{frame.height:,} rows written to {out_file}")
    elif as_json:
        for row in frame.iter_rows(named=True):
            sys.stdout.write(report.to_json(row) + "\n")
    else:
        table = tables.new(f"{name}: {frame.height:,} rows", *((c, "key") for c in frame.columns))
        for row in frame.head(50).iter_rows():
            tables.add_row(table, *row)
        tables.show(out, table)
        if frame.height > 50:
            out.print(f"... {frame.height - 50:,} more rows (--out FILE.csv writes them all)")


@export_app.command("parquet")
def export_parquet(
    directory: Annotated[Path, typer.Argument(help="Folder for the Parquet files (created).")],
    store: StoreOption = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Write every table of the store as DIR/TABLE.parquet.

    Example: `etl export parquet exports/`
    """
    if directory.exists() and not directory.is_dir():
        _fail(f"{directory} is a file, not a folder: name a folder for the Parquet files, e.g. exports/")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot make the folder {directory}: {exc.strerror}", 1)
    try:
        with _read_only(store, wait) as con:
            from etl.store import TABLES

            for table in TABLES:
                target = directory / f"{table}.parquet"
                # table names come from TABLES; the path is bound as a parameter
                con.execute(
                    f"COPY (SELECT * FROM {table}) TO ? (FORMAT parquet)".replace("?", "$path"),  # noqa: S608
                    {"path": str(target)},
                )
                out.print(str(target))
    except EtlError as exc:
        _fail(str(exc), 1)


if __name__ == "__main__":
    from etl.entry import main

    main()
