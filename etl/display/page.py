"""A page of a report: lines of text and tables of plain values, with meanings (not colours) for their styles.

Every value is plain text: a value such as "[red]" or "<b>" is shown as it is, on the terminal and in HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# how a column is drawn: a key (a name, an id, a path) is never cut nor folded; prose wraps; a number aligns right
Kind = Literal["key", "prose", "number"]
# what a piece of a line means: the terminal colours it, HTML gives it a class
Style = Literal["", "strong", "ok", "bad", "warn", "banner"]


@dataclass(frozen=True)
class Line:
    """A line of text, in pieces that each have a style (a line's colour, or one word's)."""

    pieces: tuple[tuple[str, Style], ...]

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.pieces)


@dataclass
class Table:
    title: str
    columns: tuple[tuple[str, Kind], ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, *values: object) -> None:
        """One row; None shows as empty, everything else as its plain text."""
        self.rows.append(tuple("" if v is None else str(v) for v in values))


@dataclass
class Page:
    blocks: list[Line | Table] = field(default_factory=list)

    def line(self, *pieces: str | tuple[str, Style], style: Style = "") -> Line:
        """A line of pieces: text (in the line's `style`) or (text, style)."""
        line = Line(tuple(p if isinstance(p, tuple) else (p, style) for p in pieces))
        self.blocks.append(line)
        return line

    def table(self, title: str, *columns: tuple[str, Kind]) -> Table:
        table = Table(title, columns)
        self.blocks.append(table)
        return table

    def extend(self, other: Page) -> None:
        self.blocks.extend(other.blocks)
