"""Tables on the terminal, and in pipes, that never cut what a user has to type.

Names, ids and paths ("key" columns) are shown whole: they are never shortened with "…"
nor folded. Prose columns (descriptions, errors, details) wrap to the width left. When the
keys alone are wider than the terminal (or than the 80 columns rich assumes in a pipe), the
table is printed wider than that rather than cut. Every value is plain text, never rich
markup: a value such as "[red]" is shown as it is.
"""

from __future__ import annotations

from typing import Literal

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Kind = Literal["key", "prose", "number"]


def new(title: str, *columns: tuple[str, Kind], title_justify: str = "left") -> Table:
    """A table of columns given as (header, kind)."""
    table = Table(title=title, title_justify=title_justify)  # type: ignore[arg-type]
    for header, kind in columns:
        if kind == "key":
            table.add_column(header, no_wrap=True, overflow="ignore")
        elif kind == "number":
            table.add_column(header, no_wrap=True, overflow="ignore", justify="right")
        else:
            table.add_column(header, overflow="fold", min_width=min(len(header), 12))
    return table


def add_row(table: Table, *values: object) -> None:
    """One row; None shows as empty, everything else as its plain text."""
    table.add_row(*(Text("" if v is None else str(v)) for v in values))


def show(console: Console, table: Table) -> None:
    """Print the table with its key columns whole."""
    for column in table.columns:
        cells = [c.plain if isinstance(c, Text) else str(c) for c in column.cells]
        pieces = [p for c in cells for p in (c.splitlines() if column.no_wrap else c.split())]
        longest = max((cell_len(p) for p in pieces), default=0)
        if column.no_wrap:  # a key: its longest line, whole
            column.min_width = max(longest, cell_len(str(column.header)))
        else:  # prose: wrapped between words, a word cut only when it is longer than 40 cells
            column.min_width = max(column.min_width or 0, min(longest, 40))
    needed = Measurement.get(console, console.options.update_width(10_000), table).minimum
    if needed <= console.width:
        console.print(table)
        return
    narrow = console.width  # print(width=) cannot exceed the console's width: widen it for this table
    console.width = needed
    try:
        console.print(table, crop=False)
    finally:
        console.width = narrow
