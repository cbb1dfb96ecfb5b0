"""The `etl` console entry point: user errors and bugs alike end in a message, not a traceback.

Kept apart from etl.cli so that Ctrl-C while Polars and DuckDB are still being imported
is handled too.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    # A shell that starts us in the background may have set SIGINT to "ignore": Ctrl-C
    # (or `kill -INT`) must still cancel an import cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from etl.cli import app

        app()
    except KeyboardInterrupt:
        # Reached only while the modules load (inside a command typer turns Ctrl-C into exit
        # 130, and `etl import` reports itself): no command has touched the store yet.
        print("cancelled (Ctrl-C): the store is unchanged.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly; ETL_DEBUG=1 shows the traceback
        if os.environ.get("ETL_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in etl; run again with ETL_DEBUG=1 to see where, and report it.",
            file=sys.stderr,
        )
        sys.exit(70)
