"""What can be imported and queried: `etl.list_formats()` and `etl.list_segments()`, as Polars DataFrames."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


def list_formats() -> pl.DataFrame:
    """The input formats an import's `format` can name: name, entity, readers, summary, and options (name, type,
    required, default as JSON text, description), as `etl formats --json` lists them."""
    import polars as pl

    from etl.formats import describe

    option = pl.Struct({"name": pl.String, "type": pl.String, "required": pl.Boolean, "default": pl.String,
                        "description": pl.String})  # fmt: skip
    rows = [
        {**f, "options": [{**o, "default": json.dumps(o["default"], default=str)} for o in f["options"]]}
        for f in describe()
    ]
    schema = {"name": pl.String, "entity": pl.String, "readers": pl.List(pl.String), "summary": pl.String,
              "options": pl.List(option)}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def list_segments() -> pl.DataFrame:
    """The segments `Store.segment()` runs: name, summary, grain, and parameters (name, type, required, default
    as text, help), as `etl segment list` shows them."""
    import polars as pl

    from etl.segments.catalog import catalog

    parameter = pl.Struct({"name": pl.String, "type": pl.String, "required": pl.Boolean, "default": pl.String,
                           "help": pl.String})  # fmt: skip
    rows = [
        {
            "name": s.name,
            "summary": s.summary,
            "grain": s.grain,
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type,
                    "required": p.required,
                    "default": None if p.required else json.dumps(p.default, default=str),
                    "help": p.help,
                }
                for p in s.parameters
            ],
        }  # fmt: skip
        for s in catalog().values()
    ]
    schema = {"name": pl.String, "summary": pl.String, "grain": pl.String, "parameters": pl.List(parameter)}
    return pl.DataFrame(rows, schema=schema)
