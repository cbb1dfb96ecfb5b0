"""`etl import` and `etl inbox`: the commands that import, with their progress bar."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from etl.cli.common import (
    WAIT_DEFAULT,
    ExpectationsOption,
    StoreOption,
    WaitOption,
    app,
    console,
    fail,
    key_value_pairs,
    out,
    store_of,
)
from etl.display import layouts, terminal
from etl.display.page import Page
from etl.errors import EtlError, ImportCancelled, SpecError
from etl.store.runs import to_json


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
    fail_on_low_confidence: Annotated[
        bool,
        typer.Option(
            "--fail-on-low-confidence",
            help="With --encoding auto, fail when the detected encoding is uncertain (instead of warning).",
        ),
    ] = False,
    compression: Annotated[str | None, typer.Option("--compression", help="auto, gzip, zip or none.")] = None,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", metavar="CHAR", help="Field separator: ',', ';', tab, '|' or auto (the default)."),
    ] = None,
    connection: Annotated[
        list[str] | None,
        typer.Option(
            "--connection",
            metavar="KEY=VALUE",
            help="A connection option of the sources (e.g. endpoint_url=http://127.0.0.1:9000, "
            "password=${SFTP_PASSWORD}); repeatable; overrides the spec's connection:.",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            metavar="WHERE",
            help="Where the files are staged: local (the default), processes[:N] or a Dask scheduler "
            "(dask://host:8786); overrides the spec's executor: and $ETL_EXECUTOR.",
        ),
    ] = None,
    staging: Annotated[
        str | None,
        typer.Option(
            "--staging",
            metavar="FOLDER",
            help="Where processes or Dask workers stage the files: a folder they all reach, or a URL "
            "(s3://bucket/prefix); overrides the spec's staging: and $ETL_STAGING.",
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
    if not spec_file and not (format and source):
        fail("without a spec file, --format and --source are required (see etl import --help)")
    try:
        from etl.api.store import Store  # Polars and DuckDB: imported only when importing

        with _progress(enabled=not as_json) as progress:
            result = Store(store, wait=wait, expectations=expectations).import_(
                spec_file, format=format, source=source, encoding=encoding, compression=compression,
                delimiter=delimiter, connection=_key_values(connection) if connection else None,
                fail_on_low_confidence=fail_on_low_confidence, dry_run=dry_run, progress=progress or False,
                executor=executor, staging=staging,
            ).to_dict()  # fmt: skip
    except ImportCancelled as exc:
        _failed_report(exc, as_json, "cancelled")
        fail(str(exc), 130)
    except KeyboardInterrupt:
        if result is None:  # the import had not started its transaction: nothing was touched
            fail("cancelled (Ctrl-C) before the import started: the store is unchanged.", 130)
        fail(f"Ctrl-C after import {result['import_id']} completed: it is stored (etl report "
              f"{result['import_id']} shows it).", 130)  # fmt: skip
    except SpecError as exc:
        _failed_report(exc, as_json, "failed")
        fail(str(exc), 2)
    except EtlError as exc:
        _failed_report(exc, as_json, "failed")
        fail(str(exc), 1)
    if as_json:
        sys.stdout.write(to_json(result) + "\n")
        for file in result["files"]:  # the JSON has them too; a CI log shows stderr
            if file.get("encoding_warning"):
                console.print(Text(f"Warning: {file['encoding_warning']}", style="yellow"))
    else:
        terminal.show(out, layouts.import_report(result))
    if fail_on_rejects and result["rejected"]:
        console.print(Text(f"{result['rejected']} row(s) rejected (--fail-on-rejects)", style="red"))
        raise typer.Exit(3)


def _failed_report(exc: EtlError, as_json: bool, status: str) -> None:
    """With --json, a failed run still prints one JSON object: its report, as `etl report N
    --json` gives it, or (when it failed before an import started, e.g. a bad spec) the status
    and the error with no import id."""
    if as_json:
        found = exc.report or {"import_id": None, "status": status, "error": str(exc), "files": []}
        sys.stdout.write(to_json(found) + "\n")


def _key_values(pairs: list[str]) -> dict[str, Any]:
    """--connection KEY=VALUE ... as a mapping; values are read as YAML scalars (port=2222 is a number)."""
    import yaml

    result: dict[str, Any] = {}
    for key, value in key_value_pairs("--connection", pairs, "endpoint_url=http://127.0.0.1:9000").items():
        parsed = yaml.safe_load(value) if value else ""
        result[key] = parsed if isinstance(parsed, int | float | bool) else value
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
        from etl.ops.inbox import run_inbox
        from etl.spec import load_spec_data, validate_spec

        data = load_spec_data(spec_file)
        from etl.formats import API_SOURCES

        if data.get("format") in API_SOURCES:
            fail(f"{spec_file}: {data['format']} reads an API, not files: import it with etl import {spec_file}", 2)
        data.setdefault("source", folder)  # the spec's own source is not read: the inbox names the files
        if connection:  # --connection KEY=VALUE ... over the spec's connection: (the flags win)
            data["connection"] = {**(data.get("connection") or {}), **_key_values(connection)}
        spec = validate_spec(data, str(spec_file))
        path = store_of(store, spec.store)
        with _progress(enabled=not as_json) as progress:
            outcomes = run_inbox(folder, spec, path, progress=progress)
    except ImportCancelled as exc:
        fail(str(exc), 130)
    except EtlError as exc:
        fail(str(exc), 1)
    if as_json:
        sys.stdout.write(json.dumps({"folder": folder, "files": [o.__dict__ for o in outcomes]}) + "\n")
    else:
        page = Page()
        table = page.table(f"Inbox {folder}", ("file", "key"), ("status", "key"), ("import", "number"),
                           ("detail", "prose"), ("moved to", "key"))  # fmt: skip
        for o in outcomes:
            table.add(o.uri, o.status, o.import_id, o.detail, o.moved_to)
        terminal.show(out, page) if outcomes else out.print(f"Inbox {folder}: no files.")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)
