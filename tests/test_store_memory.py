"""DuckDB's memory limit: the fixed share while Polars stages rows, widened afterwards to
what the run's budget leaves. In a fresh process, as an import runs: the test process itself
holds whatever the tests before it left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO

from etl import store

WIDEN = """
import json, sys
from pathlib import Path
import psutil
from etl import store
UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
def limit(con):
    number, unit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].split()
    return float(number) * UNITS[unit]
with store.connect(Path(sys.argv[1]), read_only=False) as con:
    before = limit(con)
    held = psutil.Process().memory_info().rss
    store.widen_memory_limit(con)
    print(json.dumps({"before": before, "after": limit(con), "held": held}))
"""


def widened(tmp_path, **env: str) -> dict[str, float]:
    environment = {k: v for k, v in os.environ.items() if k != "ETL_MEMORY_LIMIT"} | env
    command = [sys.executable, "-c", WIDEN, str(tmp_path / "store.duckdb")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=environment, check=True)
    return json.loads(done.stdout)


def test_the_limit_is_widened_to_what_the_run_budget_leaves(tmp_path):
    seen = widened(tmp_path)

    assert seen["before"] < store.MEMORY_LIMIT_MIN_BYTES * 1.01 < seen["after"]
    assert seen["after"] <= store.RUN_MEMORY_BUDGET_BYTES - seen["held"] * 0.9  # what the process holds is left out


def test_a_limit_the_user_set_stays_as_set(tmp_path):
    seen = widened(tmp_path, ETL_MEMORY_LIMIT="700MB")

    assert seen["after"] == seen["before"]
