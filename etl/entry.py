"""The `etl` console entry point: user errors and bugs alike end in a message, not a traceback.

Kept apart from etl.cli so that Ctrl-C while Polars and DuckDB are still being imported
is handled too.
"""

from __future__ import annotations

import os
import sys

from etl.pipeline import interrupts


def main() -> None:
    interrupts.install()
    try:
        from etl.cli import app

        app()
    except SystemExit as exc:  # typer ends a Ctrl-C it caught with a silent exit 130
        if exc.code == 130 and not interrupts.reported():
            print(interrupts.CANCELLED, file=sys.stderr)
        raise
    except KeyboardInterrupt:
        # Reached only while the modules load (inside a command typer turns Ctrl-C into exit
        # 130, and `etl import` reports itself): no command has touched the store yet.
        print(interrupts.CANCELLED, file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly; ETL_DEBUG=1 shows the traceback
        if interrupts.pressed():  # cut short by Ctrl-C (an import cancels inside its own transaction)
            print(interrupts.CANCELLED, file=sys.stderr)
            sys.exit(130)
        if os.environ.get("ETL_DEBUG"):
            raise
        if type(exc).__name__ == "OutOfMemoryException":  # DuckDB's: not a bug, a limit (duckdb not imported here)
            limit = os.environ.get("ETL_MEMORY_LIMIT", "700MB")
            print(
                f"error: DuckDB needed more than the memory it may use (ETL_MEMORY_LIMIT={limit}): {exc}\n"
                "An import cut short by it is rolled back: the store is as it was. Set ETL_MEMORY_LIMIT higher "
                "(e.g. 2GB) and run it again.",
                file=sys.stderr,
            )
            sys.exit(1)
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in etl; run again with ETL_DEBUG=1 to see where, and report it.",
            file=sys.stderr,
        )
        sys.exit(70)
