"""The `etl` command. Each module registers its commands on the one Typer app (etl.cli.common),
in the order `etl --help` lists them: importing (import, inbox), formats, history (runs, report,
rejects), schedules, quality (validate, docs, refresh), segments, events (delete, restore), export, samples.
The commands are built on the public API (etl.api: etl.Store) and print the reports etl.display lays out.

Polars, DuckDB, pydantic and YAML are imported inside the commands that use them, so that
`etl --help` starts in a fraction of a second and `etl runs` loads DuckDB only.
"""

# isort: off
from etl.cli import importing, formats, history, schedules, quality, segments, events, export, samples  # noqa: F401 (they register commands)

# isort: on
from etl.cli.common import app

__all__ = ["app"]
