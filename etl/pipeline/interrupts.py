"""Ctrl-C during a run of `etl`, noted when pressed.

What Ctrl-C cuts short does not always surface as KeyboardInterrupt: typer turns it into a
silent exit 130, a compiled module (Polars, DuckDB) that was initialising raises ImportError,
Polars may wrap it in its own error. The handler notes the press, so that the command and the
importer report a cancellation, whatever it surfaced as. Only the `etl` command installs it:
a notebook keeps its own.
"""

from __future__ import annotations

import signal

CANCELLED = "cancelled (Ctrl-C): the store is unchanged."

_pressed: list[int] = []
_reported: list[bool] = []


def _handler(number: int, frame: object) -> None:
    _pressed.append(number)
    raise KeyboardInterrupt


def install() -> None:
    """Ctrl-C raises KeyboardInterrupt, as by default, and is noted. (A shell that starts us in
    the background may have set SIGINT to "ignore": Ctrl-C or `kill -INT` must still cancel.)"""
    signal.signal(signal.SIGINT, _handler)


def pressed() -> bool:
    return bool(_pressed)


def mark_reported() -> None:
    """The command has told the user about the cancellation itself."""
    _reported.append(True)


def reported() -> bool:
    return bool(_reported)
