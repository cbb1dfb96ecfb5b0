"""Ctrl-C on a running `etl import`: exit 130, status cancelled, the store as it was."""

from __future__ import annotations

import signal
import subprocess
import time

import duckdb

from bench.generate_kevel_orders import generate
from tests.conftest import ETL, REPO, kevel_row, write_csv


def test_ctrl_c_cancels_cleanly_at_any_moment(tmp_path, etl, store):
    base = write_csv(tmp_path / "base.csv", [kevel_row("o1")])
    assert etl("import", "--format", "kevel_orders", "--source", str(base)).code == 0
    big = tmp_path / "big.csv"
    frame = generate(orders=40_000, seed=7)
    frame.write_csv(big)
    complete = [1 + 40_000, 1 + frame.height, 1 + 40_000]  # base order + the file: orders, lines, events

    def snapshot():
        with duckdb.connect(str(store), read_only=True) as con:
            return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("orders", "line_items", "events")]  # noqa: S608

    def latest_run():
        with duckdb.connect(str(store), read_only=True) as con:
            return con.execute("SELECT import_id, status FROM imports ORDER BY import_id DESC LIMIT 1").fetchall()[0]

    before = snapshot()
    outcomes = []
    for delay in (0.3, 1.0, 1.6, 2.2, 2.4):  # during start-up, reading, merging, committing
        runs_before = latest_run()
        process = subprocess.Popen(
            [*ETL, "import", "--format", "kevel_orders", "--source", str(big), "--store", str(store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert "Traceback" not in err and "internal error" not in err, err
        outcomes.append(process.returncode)
        run = latest_run()
        if run == runs_before or run[1] == "cancelled":  # not started, or cancelled: nothing stored
            assert process.returncode == 130
            assert "store is unchanged" in err
            assert snapshot() == before
        else:  # it completed (the signal came too late): all of it is stored, and said so
            assert run[1] == "completed"
            assert process.returncode in (0, 130, -signal.SIGINT), err
            assert snapshot() == complete
            before = complete
    assert 130 in outcomes
