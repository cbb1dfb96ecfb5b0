"""Notebooks and imports at the same time: an import waits for a reader to let go of the
store, a reader waits for an import, and etl.store.connection.reading() holds the store only while used.
Two real processes each time: DuckDB's lock is a file lock between processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ETL, REPO, kevel_row, write_csv

from etl.store import connection as store_module

HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
print("ready", flush=True)
sys.stdin.readline()  # held until the test says so
con.close()
"""


def holding(store: Path, mode: str) -> subprocess.Popen[str]:
    """A process holding the store, as a notebook's kernel (mode "read") or an import ("write") does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def let_go(holder: subprocess.Popen[str]) -> None:
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=30)


def started(*args: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if k != "ETL_STORE"}
    return subprocess.Popen(
        [*ETL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=environment
    )


def first_store(tmp_path: Path, etl) -> Path:
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])
    assert etl("import", "--format", "kevel_orders", "--source", str(source)).code == 0
    return write_csv(tmp_path / "more.csv", [kevel_row("o2")])


def waited_for(holder: subprocess.Popen[str], *command: str) -> tuple[str, str, str]:
    """Run an etl command while `holder` holds the store; once the command says it is waiting,
    the holder lets go. (what it said first on stderr, its stdout, the rest of its stderr)"""
    try:
        run = started(*command)
        said = run.stderr.readline()  # it has found the store busy and says so
        let_go(holder)
        out, err = run.communicate(timeout=120)
    finally:
        holder.kill()
    assert run.returncode == 0, said + err
    return said, out, err


def test_an_import_waits_for_a_notebook_to_close_its_connection(tmp_path, etl, store):
    more = first_store(tmp_path, etl)
    notebook = holding(store, "read")

    said, out, _ = waited_for(
        notebook, "import", "--format", "kevel_orders", "--source", str(more), "--store", str(store), "--json"
    )

    assert f"in use by process {notebook.pid}" in said and "waiting for it, up to 120 s" in said
    assert '"status": "completed"' in out


def test_a_reading_command_waits_for_an_import_to_finish(tmp_path, etl, store):
    first_store(tmp_path, etl)
    importing = holding(store, "write")

    said, out, _ = waited_for(importing, "runs", "--store", str(store), "--json", "--wait", "60")

    assert f"in use by process {importing.pid}" in said and "waiting for it, up to 60 s" in said
    assert '"import_id": 1' in out


def test_without_waiting_the_holder_is_named(tmp_path, etl, store):
    more = first_store(tmp_path, etl)
    notebook = holding(store, "read")
    try:
        run = etl("import", "--format", "kevel_orders", "--source", str(more), "--wait", "0")
    finally:
        let_go(notebook)
    assert run.code == 1
    assert f"is in use by process {notebook.pid}" in run.stderr
    assert "etl.store.connection.reading()" in run.stderr


def test_reading_holds_the_store_only_inside_its_block(tmp_path, etl, etl_process, store):
    more = first_store(tmp_path, etl)

    with store_module.reading(store) as con:  # the imports in processes of their own, as a notebook's user runs them
        inside = etl_process("import", "--format", "kevel_orders", "--source", str(more), "--wait", "0")
        orders = con.sql("SELECT order_id FROM orders ORDER BY order_id").fetchall()
    after = etl_process("import", "--format", "kevel_orders", "--source", str(more), "--wait", "0")

    assert orders == [("o1",)]
    assert inside.code == 1 and f"process {os.getpid()}" in inside.stderr
    assert after.code == 0, after.stderr
    frame = store_module.query("SELECT order_id FROM orders WHERE order_id = $id", {"id": "o2"}, path=store)
    assert frame.to_dicts() == [{"order_id": "o2"}]
