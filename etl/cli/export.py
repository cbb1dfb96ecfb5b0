"""`etl export parquet`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from etl.cli.common import (
    WAIT_DEFAULT,
    StoreOption,
    WaitOption,
    export_app,
    fail,
    out,
    read_only_store,
)
from etl.errors import EtlError


@export_app.command("parquet")
def export_parquet(
    directory: Annotated[Path, typer.Argument(help="Folder for the Parquet files (created).")],
    store: StoreOption = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Write every table of the store as DIR/TABLE.parquet.

    Example: `etl export parquet exports/`
    """
    _folder(directory, "the Parquet files", "exports/")
    try:
        with read_only_store(store, wait) as con:
            from etl.store.connection import TABLES

            present = {
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
                ).fetchall()
            }
            for table in [t for t in TABLES if t in present]:  # a store no import has opened since lacks the newest
                target = directory / f"{table}.parquet"
                # table names come from TABLES; the path is bound as a parameter
                con.execute(
                    f"COPY (SELECT * FROM {table}) TO ? (FORMAT parquet)".replace("?", "$path"),  # noqa: S608
                    {"path": str(target)},
                )
                out.print(str(target))
    except EtlError as exc:
        fail(str(exc), 1)


@export_app.command("esputnik-events")
def export_esputnik_events(
    directory: Annotated[Path, typer.Argument(help="Folder for the files (created).")],
    store: StoreOption = None,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Write the store's events as eSputnik's past events: DIR/past_events_NNNNN.jsonl, each line one body
    {"events": [...]} of at most 500 events (Generate past events), for a move to eSputnik.

    Importing the files with the esputnik_events format gives the same events again.

    Example: `etl export esputnik-events exports/esputnik/`
    """
    from etl.ops import export_esputnik

    _folder(directory, "the files", "exports/esputnik/")
    try:
        with read_only_store(store, wait) as con:
            written = export_esputnik.export(con, directory)
    except EtlError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"cannot write into {directory}: {exc.strerror}", 1)
    for path in written["files"]:
        out.print(path)
    out.print(f"{written['events']:,} events in {written['bodies']:,} bodies")
    if written["seconds_dropped"]:  # 003's form, YYYY-MM-DDTHH:mm, is to the minute
        out.print(f"{written['seconds_dropped']:,} events' times written to the minute (eSputnik takes no seconds)")


def _folder(directory: Path, what: str, example: str) -> None:
    """The export's folder, made when missing; a message when it is a file or cannot be made."""
    if directory.exists() and not directory.is_dir():
        fail(f"{directory} is a file, not a folder: name a folder for {what}, e.g. {example}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot make the folder {directory}: {exc.strerror}", 1)
