"""A Page on the terminal, and in pipes, with rich: tables that never cut what a user has to type.

Names, ids and paths ("key" columns) are shown whole: they are never shortened with "…" nor folded. Prose columns
(descriptions, errors, details) wrap to the width left. When the keys alone are wider than the terminal (or than the
80 columns rich assumes in a pipe), the table is printed wider than that rather than cut. Every value is plain text,
never rich markup.
"""

from __future__ import annotations

from io import StringIO

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from etl.display.page import Line, Page, Table

COLOURS = {"": "", "strong": "bold", "ok": "green", "bad": "red", "warn": "yellow", "banner": "bold"}


def show(console: Console, page: Page) -> None:
    """Print the page's lines and tables, in order."""
    for block in page.blocks:
        if isinstance(block, Table):
            _show_table(console, block)
        elif any(style == "banner" for _, style in block.pieces):
            console.print(Panel(_text(block), style="bold yellow"))
        else:
            console.print(_text(block))


def text(page: Page, width: int = 110) -> str:
    """The page as plain text (no colours), as the terminal shows it `width` columns wide: a report's __repr__."""
    buffer = StringIO()
    show(Console(file=buffer, width=width, color_system=None, markup=False, highlight=False, soft_wrap=True), page)
    return buffer.getvalue().rstrip("\n")


def _text(line: Line) -> Text:
    return Text.assemble(*((piece, COLOURS[style]) for piece, style in line.pieces))


def _show_table(console: Console, table: Table) -> None:
    drawn = RichTable(title=table.title, title_justify="left")
    for header, kind in table.columns:
        if kind == "key":
            drawn.add_column(header, no_wrap=True, overflow="ignore")
        elif kind == "number":
            drawn.add_column(header, no_wrap=True, overflow="ignore", justify="right")
        else:
            drawn.add_column(header, overflow="fold", min_width=min(len(header), 12))
    for row in table.rows:
        drawn.add_row(*(Text(value) for value in row))
    for index, column in enumerate(drawn.columns):
        cells = [row[index] for row in table.rows]
        pieces = [p for c in cells for p in (c.splitlines() if column.no_wrap else c.split())]
        longest = max((cell_len(p) for p in pieces), default=0)
        if column.no_wrap:  # a key: its longest line, whole
            column.min_width = max(longest, cell_len(str(column.header)))
        else:  # prose: wrapped between words, a word cut only when it is longer than 40 cells
            column.min_width = max(column.min_width or 0, min(longest, 40))
    needed = Measurement.get(console, console.options.update_width(10_000), drawn).minimum
    if needed <= console.width:
        console.print(drawn)
        return
    narrow = console.width  # print(width=) cannot exceed the console's width: widen it for this table
    console.width = needed
    try:
        console.print(drawn, crop=False)
    finally:
        console.width = narrow
