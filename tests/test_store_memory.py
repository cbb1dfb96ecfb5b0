"""DuckDB's memory limit: the fixed share while Polars stages rows, widened afterwards."""

from __future__ import annotations

import psutil
import pytest

from etl import store

UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def limit_bytes(con) -> float:
    """DuckDB shows the limit as text, such as '667.5 MiB'."""
    number, unit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].split()
    return float(number) * UNITS[unit]


@pytest.fixture
def connection(tmp_path, monkeypatch):
    monkeypatch.delenv("ETL_MEMORY_LIMIT", raising=False)
    with store.connect(tmp_path / "store.duckdb", read_only=False) as con:
        yield con


def test_the_limit_is_widened_to_what_the_run_budget_leaves(connection):
    held = psutil.Process().memory_info().rss
    assert store.RUN_MEMORY_BUDGET_BYTES - held > store.MEMORY_LIMIT_MIN_BYTES, f"this process holds {held:,} bytes"
    before = limit_bytes(connection)

    store.widen_memory_limit(connection)

    after = limit_bytes(connection)
    assert before < store.MEMORY_LIMIT_MIN_BYTES * 1.01 < after
    assert after <= store.RUN_MEMORY_BUDGET_BYTES - held * 0.9  # what this process holds is left out


def test_a_limit_the_user_set_stays_as_set(connection, monkeypatch):
    monkeypatch.setenv("ETL_MEMORY_LIMIT", "700MB")
    before = limit_bytes(connection)

    store.widen_memory_limit(connection)

    assert limit_bytes(connection) == before
