"""MkDocs hooks (mkdocs.yml `hooks:`): tables written from the code at build time, so that they never drift.

- `<!-- formats -->`: every registered format, its entity, readers and summary (etl.formats.describe()).
- `<!-- format-options: NAME -->`: the options of format NAME, as `etl formats --json` lists them, with the
  choices of an option that takes one of a few values.
- `<!-- kevel-orders-columns -->`: the columns of Kevel's order CSV, in the spec's order, and the store's columns
  they fill (etl/formats/kevel_orders.py COLUMNS).

The store's tables are generated too, but into docs/store.md (`make docs`, etl/store/docs.py), so that the page
reads in the repository as well; tests/test_site.py fails when it is not current.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

MARKER = re.compile(r"<!-- (formats|kevel-orders-columns|format-options: (\w+)) -->")


def on_page_markdown(markdown: str, **_: Any) -> str:
    def table(match: re.Match[str]) -> str:
        if match.group(2):
            return options_table(match.group(2))
        return formats_table() if match.group(1) == "formats" else kevel_orders_columns()

    return MARKER.sub(table, markdown)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def formats_table() -> str:
    from etl.formats import describe

    rows = [
        f"| [`{f['name']}`]({f['name']}.md) | {f['entity']} | {', '.join(f['readers'])} | {_cell(f['summary'])} |"
        for f in describe()
    ]
    return "\n".join(["| format | entity | readers | what it reads |", "|---|---|---|---|", *rows])


def _kind(annotation: Any) -> str:
    """The option's type as a reader writes it in a spec: `merge | replace` for a Literal."""
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    text = getattr(annotation, "__name__", None) or str(annotation)
    return _cell(re.sub(r"\b(?:[a-z_]+\.)+([A-Z]\w*)", r"\1", text.replace("typing.", "")))


def options_table(name: str) -> str:
    from etl.formats import describe, load

    described = {f["name"]: f for f in describe()}
    if name not in described:
        raise ValueError(f"<!-- format-options: {name} -->: no such format (etl formats lists them)")
    fields = load(name).Options.model_fields
    rows = []
    for option in described[name]["options"]:
        default = "required" if option["required"] else f"`{json.dumps(option['default'], default=str)}`"
        kind = _kind(fields[option["name"]].annotation)
        rows.append(f"| `{option['name']}` | {kind} | {default} | {_cell(option['description'])} |")
    if not rows:
        return "This format has no options."
    return "\n".join(["| option | type | default | what it does |", "|---|---|---|---|", *rows])


def kevel_orders_columns() -> str:
    from etl.formats.kevel_orders import COLUMNS, LINE

    rows = []
    for column in COLUMNS:
        table, name = ("line_items", column.target) if column.level == LINE else ("orders", column.target)
        if column.level == LINE and column.target != "line_item_id":
            name = column.target.removeprefix("line_")  # line_total is line_items.total
        required = "yes" if column.required else ""
        rows.append(f"| `{column.source}` | {column.kind.value} | {required} | `{table}.{name}` |")
    rows.append("| `custom_<name>` | String |  | `orders.custom_fields`, as `{name: value}` |")
    return "\n".join(["| Kevel column | type | required | stored in |", "|---|---|---|---|", *rows])
