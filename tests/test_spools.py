"""Spools left by a killed import (`.etl-spool/` beside the store) are removed by the next import; those of a
running process are not (issue 33: a kill -9 left up to 55 MB there for good)."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys

from conftest import REPO, kevel_row, rows_of, write_csv

from etl.pipeline.importer import run_import
from etl.sources import spools
from etl.spec import validate_spec

# What an import holds while it runs: its work folder and a source's spooled copy (a gzip is spooled), made by
# the importer's own helpers; the process then waits on its stdin until it is killed.
HOLDER = """
import sys, tempfile
from pathlib import Path
from etl.sources import files as sources, spools
spool_dir = Path(sys.argv[1])
spool_dir.mkdir(parents=True, exist_ok=True)
with tempfile.TemporaryDirectory(dir=spool_dir, prefix=spools.work_prefix(7)) as work:
    (Path(work) / "part.parquet").write_bytes(b"x" * 1000)
    with sources.opened(sys.argv[2], compression="auto", encoding="utf-8", spool_dir=spool_dir) as source:
        print(Path(work).name, Path(source.path).name, flush=True)
        sys.stdin.read()
"""


def test_a_killed_imports_spools_are_removed_and_a_running_ones_are_kept(tmp_path, store):
    spool_dir = spools.folder_of(store)
    source = tmp_path / "orders.csv.gz"
    source.write_bytes(gzip.compress(write_csv(tmp_path / "plain.csv", [kevel_row("o1")]).read_bytes()))
    spec = validate_spec({"format": "kevel_orders", "source": str(write_csv(tmp_path / "o2.csv", [kevel_row("o2")]))},
                         "spec")  # fmt: skip
    untagged = spool_dir / ".spool-abc.csv"  # written before spools had tags: whose it is cannot be told
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(spool_dir), str(source)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        held = holder.stdout.readline().split()  # the holder's spools exist once it says their names
        assert len(held) == 2 and held[0].startswith("import-7-p") and held[1].startswith(".spool-p")
        untagged.write_bytes(b"old")

        running = run_import(spec, store)  # the holder is running: its spools are its own

        assert "spools_removed" not in running
        assert {*held, untagged.name} <= {p.name for p in spool_dir.iterdir()}
    finally:
        holder.send_signal(signal.SIGKILL)  # kill -9: its own cleanup never runs
        holder.wait()
    assert {*held} <= {p.name for p in spool_dir.iterdir()}  # left behind by the killed process

    after = run_import(spec, store)

    assert after["spools_removed"] == sorted(held)
    assert sorted(p.name for p in spool_dir.iterdir()) == [untagged.name]  # the import's own removed as it ended
    assert rows_of(store, "SELECT import_id, status FROM imports ORDER BY 1") == [
        {"import_id": 1, "status": "completed"},
        {"import_id": 2, "status": "completed"},
    ]
