"""`etl formats`: the formats an import spec's `format:` can name."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from etl.cli.common import app, out
from etl.display import terminal
from etl.display.page import Page


@app.command("formats")
def formats_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the formats as one JSON array.")] = False,
) -> None:
    """List the input formats: the entity each feeds, its reader and its options.

    Example: `etl formats --json`
    """
    from etl.formats import describe

    found = describe()
    if as_json:
        sys.stdout.write(json.dumps(found, default=str) + "\n")
        return
    page = Page()
    table = page.table("Formats", ("format", "key"), ("entity", "key"), ("readers", "key"), ("what it is", "prose"),
                       ("options", "prose"))  # fmt: skip
    for f in found:
        options = "; ".join(f"{o['name']} ({_default(o)}): {o['description']}" for o in f["options"])
        table.add(f["name"], f["entity"], ", ".join(f["readers"]), f["summary"], options)
    terminal.show(out, page)


def _default(option: dict) -> str:
    return "required" if option.get("required") else f"default {option['default']!r}"
