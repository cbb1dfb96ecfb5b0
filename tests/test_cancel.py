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
    generate(orders=40_000, seed=7).write_csv(big)

    def snapshot():
        with duckdb.connect(str(store), read_only=True) as con:
            return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("orders", "line_items", "events")]  # noqa: S608

    before = snapshot()
    outcomes = []
    for delay in (0.3, 1.0, 1.6, 2.2):  # during start-up, reading, merging
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
        if process.returncode == 130:
            assert "cancelled" in err and "store is unchanged" in err
            assert snapshot() == before
        else:  # it finished before the signal: a completed import, nothing half-done
            assert process.returncode == 0
            before = snapshot()
    assert 130 in outcomes
    with duckdb.connect(str(store), read_only=True) as con:
        statuses = {s for (s,) in con.execute("SELECT status FROM imports").fetchall()}
    assert statuses <= {"completed", "cancelled"}
