"""What every `etl` command shares: the Typer apps, the consoles, the common options and helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperOption

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
events_app = typer.Typer(help="Events: delete by time range, restore.", no_args_is_help=True)
app.add_typer(events_app, name="events")
segment_app = typer.Typer(help="Segments: SQL queries over the store (etl/segments/sql/).", no_args_is_help=True)
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
WAIT_DEFAULT = 120.0  # etl.store.connection.WAIT_S, written here so that --help need not import DuckDB
ExpectationsOption = Annotated[
    Path | None,
    typer.Option(
        "--expectations",
        help="Folder of expectation suites (default: $ETL_EXPECTATIONS, else ./expectations, else the bundled suites).",
    ),
]


def store_of(store: Path | None, from_spec: str | None = None) -> Path:
    """--store, then $ETL_STORE, then the spec's store:, then data/cdp.duckdb."""
    from etl.store.connection import store_path

    return store_path(str(store) if store else None, from_spec)


def read_only_store(store: Path | None, wait: float):
    """The store for a command that only reads (never created, never locked for writing)."""
    from etl.store.connection import connect

    return connect(store_of(store), read_only=True, wait=wait)


def fail(message: str, code: int = 2) -> None:
    if code == 130:
        from etl.pipeline import interrupts

        interrupts.mark_reported()
    console.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(code)


def key_value_pairs(flag: str, pairs: list[str], example: str) -> dict[str, str]:
    """FLAG KEY=VALUE ... as {key: value text}. An error names the key only: a value may be a secret."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"{flag} {key!r}: expected KEY=VALUE, e.g. {example}")
        result[key.strip()] = value
    return result
