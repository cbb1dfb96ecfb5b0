"""A Page as HTML, for a notebook's `_repr_html_`: the same lines and tables as the terminal shows, every value
escaped (a value is text, never markup), styled by one small stylesheet scoped to the report."""

from __future__ import annotations

from html import escape

from etl.display.page import Line, Page, Table

CSS = """
.etl-report { font-family: var(--jp-content-font-family, system-ui, sans-serif); font-size: 13px; }
.etl-report p { margin: 0.3em 0; }
.etl-report table { border-collapse: collapse; margin: 0.4em 0 0.8em 0; }
.etl-report caption { text-align: left; font-weight: 600; padding: 0.2em 0; }
.etl-report th, .etl-report td { border: 1px solid #d0d7de; padding: 2px 8px; text-align: left; vertical-align: top; }
.etl-report td.key { white-space: nowrap; font-family: var(--jp-code-font-family, monospace); }
.etl-report td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.etl-report td.prose { white-space: pre-wrap; max-width: 48em; }
.etl-report .strong { font-weight: 600; } .etl-report .ok { color: #1a7f37; } .etl-report .bad { color: #cf222e; }
.etl-report .warn { color: #9a6700; }
.etl-report .banner { display: block; font-weight: 600; background: #fff8c5; border: 1px solid #d4a72c;
                      padding: 0.3em 0.6em; }
"""


def render(page: Page, title: str = "") -> str:
    """The page as one <div class="etl-report">, with its stylesheet."""
    parts = [f'<div class="etl-report"><style>{CSS}</style>']
    if title:
        parts.append(f'<p class="strong">{escape(title)}</p>')
    for block in page.blocks:
        parts.append(_table(block) if isinstance(block, Table) else _line(block))
    parts.append("</div>")
    return "".join(parts)


def _line(line: Line) -> str:
    pieces = "".join(f'<span class="{style}">{escape(text)}</span>' if style else escape(text)
                     for text, style in line.pieces)  # fmt: skip
    return f"<p>{pieces}</p>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header, _ in table.columns)
    kinds = [kind for _, kind in table.columns]
    body = "".join(
        "<tr>" + "".join(f'<td class="{kind}">{escape(value)}</td>' for kind, value in zip(kinds, row, strict=True))
        + "</tr>"
        for row in table.rows
    )  # fmt: skip
    return f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
