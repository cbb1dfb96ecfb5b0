"""The lines and raw text of the rejects that staging could not give them (etl.pipeline.staging): a CSV's lines are
counted, and a JSON array's rejected records found in the file, only when something was rejected, after the
entity has made its own rejects (stg_rejects)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from etl.pipeline.staging import FileResult, Staging, raw_json, raw_scan
from etl.readers import csv as csv_reader
from etl.sources import files as sources


def locate_late_rejects(con, sources, plans, state: Staging, work: Path) -> None:
    """The lines of a JSON array's rejected records (the fast split does not know them: the file is scanned again,
    once, only when something was rejected), the format's and the entity's (an event of an unknown contact)
    alike."""
    from etl.readers import json_array

    for index, plan in enumerate(plans):  # sources[index]: opened only when asked for (etl.pipeline.distributed)
        if plan.reader != "json":
            continue
        prepared = index in state.events_files  # its events' lines are found in their record (a body)
        rows = con.sql(
            "SELECT DISTINCT _row FROM stg_rejects WHERE _file = $file AND (_line IS NULL OR $prepared)",
            params={"file": index, "prepared": prepared},
        ).pl()
        if rows.height == 0:
            continue
        if prepared:  # a prepared file's events are found by their record, and their place in it
            view = state.events_files[index]  # a view's name (stg_events_<n>), not data
            events = con.sql(f"SELECT _row, _record FROM {view}").pl()  # noqa: S608
            events = events.with_columns(_element=pl.col("_row") - pl.col("_row").min().over("_record"))
            rows = rows.with_columns(pl.col("_row").cast(pl.UInt32)).join(events, on="_row")
        else:
            rows = rows.with_columns(_record=pl.col("_row"))
        source = sources[index]
        scanned = json_array.scan(source, work / f"json-late-{index}.parquet")
        # the rejected records' places alone (a record's text is only measured, never read into memory whole)
        located = pl.scan_parquet(scanned).select(
            "_line", "_offset", _record="_row", _bytes=pl.col("raw").str.len_bytes()
        )
        lines = rows.lazy().join(located, on="_record").collect()
        if prepared:
            lines = lines.with_columns(_line=plan.prepare.event_lines(source.path, lines))
        lines = lines.select("_row", "_line")
        con.register("stg_late_lines", lines.to_arrow())
        try:
            con.execute(
                "UPDATE stg_rejects SET _line = l._line FROM stg_late_lines AS l WHERE stg_rejects._file = $file "
                "AND stg_rejects._row = l._row",
                {"file": index},
            )
        finally:
            con.unregister("stg_late_lines")


def fill_raw_values(
    con: duckdb.DuckDBPyConnection, sources: list[sources.SourceFile], headers: list[list[str]], files: list[FileResult]
) -> None:
    """Give every reject its line; and its raw text when it was rejected for its order's sake.

    Lines are records + 1 unless a quoted value holds a newline; only then are they
    counted, in a second pass over the file, for the rejected rows alone.
    """
    con.execute("ALTER TABLE stg_rejects ADD COLUMN IF NOT EXISTS _line BIGINT")
    rows_by_file = con.execute(
        "SELECT _file, list(_row ORDER BY _row), bool_or(raw IS NULL) FROM stg_rejects WHERE _line IS NULL "
        "GROUP BY _file"
    ).fetchall()  # JSON lines come with their lines
    for file_index, rows, needs_raw in rows_by_file:
        source = sources[file_index]
        records = files[file_index].rows + files[file_index].blank_rows
        multiline = source.newlines > records + 1  # header + one line per record, or more
        if not (multiline or needs_raw):
            con.execute("UPDATE stg_rejects SET _line = _row + 2 WHERE _file = $file", {"file": file_index})
            continue
        header = headers[file_index]
        raw = raw_scan(source, header)
        if multiline:
            raw = csv_reader.with_line_numbers(raw)
        else:
            raw = raw.with_columns(_line=pl.col("_row").cast(pl.UInt64) + 2)
        found = raw.filter(pl.col("_row").is_in(rows)).select("_row", "_line", raw_json=raw_json(header)).collect()
        con.register("found", found)
        con.execute(
            "UPDATE stg_rejects SET _line = found._line, raw = coalesce(stg_rejects.raw, found.raw_json::JSON) "
            "FROM found WHERE stg_rejects._file = $file AND stg_rejects._row = found._row",
            {"file": file_index},
        )
        con.unregister("found")
