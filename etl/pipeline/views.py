"""The views over staged files that the entities read: stg_rows, stg_row_rejects and each prepared file's events
(stg_events_<file>), over the Parquet files that staging wrote (etl.pipeline.staging), here or on workers
(etl.pipeline.distributed: parts of a file, their rows numbered on from the part before)."""

from __future__ import annotations

from pathlib import Path

OUTPUTS = ("rows", "rejects", "known")  # a file's staged outputs (etl.pipeline.staging writes them)


def staged_views(con, outputs: dict[str, list[Path]], events: dict[int, list[Path]], shifted: bool = False):
    """The views stg_rows (every staged row but the rejected ones) and stg_row_rejects over the staged files
    (`outputs`, by name: OUTPUTS), and a view of each prepared file's events (`events`, by file), stg_events_<file>,
    whose names it returns by file. `shifted`: the files are parts of files split apart, each numbering its rows
    from 0, in folders that say what to add to their numbers (`_items=<n>/_records=<m>/`: see `part_folder`)."""
    rows = _scanned(con, [str(p) for p in outputs["rows"] + outputs["known"]], shifted)
    rejects = _scanned(con, [str(p) for p in outputs["rejects"]], shifted)
    # the rejected rows are in rows too, flagged (see _split)
    rows.filter("_reject IS NOT TRUE").project("* EXCLUDE (_reject)").create_view("stg_rows", replace=True)
    rejects.create_view("stg_row_rejects", replace=True)
    views = {}
    for index, paths in events.items():
        views[index] = f"stg_events_{int(index)}"
        _scanned(con, [str(p) for p in paths], shifted).create_view(views[index], replace=True)
    return views


# the numbers a part's rows carry, by what counts them: its rows (items: events, for a prepared file) or its records
SHIFTED = {"_row": "_items", "_seq": "_items", "_record": "_records", "_line": "_records"}


def part_folder(items: int, records: int) -> str:
    """The folder of a part's staged files, whose rows come after `items` rows (events) and `records` records of
    the parts before it: DuckDB reads the two numbers as columns of every row (hive partitioning), so that no join
    is needed and the rows keep their order."""
    return f"_items={int(items)}/_records={int(records)}"


def _scanned(con, files: list[str], shifted: bool):
    """The files as one relation (the relational API takes the paths as values: no SQL text is built from them);
    `shifted`: each row's numbers moved on by its part's (see part_folder)."""
    if not shifted:
        return con.read_parquet(files, union_by_name=True)
    scanned = con.read_parquet(files, union_by_name=True, hive_partitioning=True)  # the numbers: integers
    types = dict(zip(scanned.columns, scanned.types, strict=True))
    moved = ", ".join(
        f"CAST({name} + {by} AS {types[name]}) AS {name}" for name, by in SHIFTED.items() if name in types
    )
    return scanned.project(f"* EXCLUDE (_items, _records) REPLACE ({moved})")
