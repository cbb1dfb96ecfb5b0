"""A store written by an earlier version keeps working: its tables are brought up to date."""

from __future__ import annotations

import duckdb
from conftest import kevel_row, write_csv

OLD_REJECTS = """
CREATE TABLE rejects (
    import_id BIGINT, source VARCHAR, line BIGINT, record BIGINT, raw JSON,
    reasons STRUCT("column" VARCHAR, hint VARCHAR)[]
)
"""


def test_rejects_from_before_reasons_had_a_value_are_kept_with_value_null(tmp_path, store, etl, query):
    store.parent.mkdir(parents=True)
    with duckdb.connect(str(store)) as con:
        con.execute(OLD_REJECTS)
        con.execute(
            "INSERT INTO rejects VALUES (1, 'old.csv', 2, 1, ?, [{'column': 'total', 'hint': 'old'}])",
            ['{"total": "x"}'],
        )
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1", total="abc")])

    run = etl("import", "--format", "kevel_orders", "--source", str(source))

    assert run.code == 0, run.stderr
    assert query("SELECT source, reasons FROM rejects ORDER BY import_id, line") == [
        {"source": "old.csv", "reasons": [{"column": "total", "hint": "old", "value": None}]},
        {
            "source": str(source),
            "reasons": [{"column": "total", "hint": "not a number (Double, e.g. 102.5)", "value": "abc"}],
        },
    ]
