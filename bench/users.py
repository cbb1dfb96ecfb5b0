"""Benchmark `etl import` of users (issue 15, item 9): 1,000,000 users with 20 attributes, as CSV and as
JSON lines, against DuckDB's own read_csv / read_json of the same file into a table.

Steps, each in its own subprocess (wall time and its own peak RSS): the floor, the first import into a
fresh store, the re-import of the same file, and a file with 1% of the users changed. Targets: first
import <= 2.0x the floor, re-imports <= 1.5x, peak RSS <= 1.5 GB. One round (the orders benchmark in
bench/run.py runs three).

    .venv/bin/python bench/users.py [--users 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import ETL, remove_duckdb_file, run_measured  # noqa: E402  (bench/, put on the path above)

FLOOR = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
reader = "read_csv" if sys.argv[2].endswith(".csv") else "read_json"
con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [sys.argv[2]])
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
"""
ATTRIBUTES = 18  # with customerNumber and mail: 20 fields
MAX_RSS = 1.5e9


def users(n: int, changed: float = 0.0) -> pl.DataFrame:
    i = pl.int_range(0, n, eager=True)
    bump = (i % int(1 / changed) == 0) if changed else pl.Series([False] * n)
    columns = {"customerNumber": "c" + i.cast(pl.String), "mail": "u" + i.cast(pl.String) + "@example.com"}
    for k in range(ATTRIBUTES):
        value = ("v" + (i % (97 + k)).cast(pl.String)) if k % 3 else (i % 1000 + k)
        columns[f"attr{k}"] = value
    frame = pl.DataFrame(columns)
    return frame.with_columns(attr1=pl.when(bump).then(pl.lit("changed")).otherwise(pl.col("attr1")))


def ensure(path: Path, n: int, changed: float) -> Path:
    stamp = path.with_suffix(path.suffix + ".stamp")
    key = f"{n} {changed}"
    if not (path.exists() and stamp.exists() and stamp.read_text() == key):
        frame = users(n, changed)
        frame.write_csv(path) if path.suffix == ".csv" else frame.write_ndjson(path)
        stamp.write_text(key)
    return path


def spec(workdir: Path, source: Path) -> Path:
    path = workdir / f"users-{source.suffix[1:]}.yaml"
    options = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}
    path.write_text(json.dumps({"format": "kevel_users", "source": str(source), "options": options}))
    return path


def measure(n: int, workdir: Path) -> str:
    lines = [f"{n:,} users of 20 fields, one round", ""]
    lines += ["| file | step | s | x floor | peak RSS GB | target | verdict |", "|---|---|---:|---:|---:|---|---|"]
    for suffix in (".csv", ".jsonl"):
        plain = ensure(workdir / f"users{suffix}", n, 0.0)
        changed = ensure(workdir / f"users-changed{suffix}", n, 0.01)
        floor_db = workdir / "users-floor.duckdb"
        remove_duckdb_file(floor_db)
        floor = run_measured([sys.executable, "-c", FLOOR, floor_db, plain])
        remove_duckdb_file(floor_db)
        store = workdir / "users-bench.duckdb"
        remove_duckdb_file(store)
        lines.append(f"| {plain.name} | floor | {floor.wall_s:.2f} | 1.00 | {floor.peak_rss_bytes / 1e9:.2f} | | |")
        for step, source, target in (("first import", plain, 2.0), ("re-import", plain, 1.5),
                                     ("1% changed", changed, 1.5)):  # fmt: skip
            run = run_measured([ETL, "import", spec(workdir, source), "--store", store, "--json"])
            if run.returncode != 0:
                lines.append(f"| {plain.name} | {step} | failed: {run.stderr.strip()[-200:]} | | | | |")
                break
            report = json.loads(run.stdout)
            ratio = run.wall_s / floor.wall_s
            ok = ratio <= target and run.peak_rss_bytes <= MAX_RSS
            counts = report["entities"]["customers"]
            lines.append(
                f"| {plain.name} | {step} ({counts['added']:,} added, {counts['updated']:,} updated) | "
                f"{run.wall_s:.2f} | {ratio:.2f} | {run.peak_rss_bytes / 1e9:.2f} | <= {target}x, <= 1.5 GB | "
                f"{'pass' if ok else 'FAIL'} |"
            )
        remove_duckdb_file(store)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    text = measure(args.users, args.workdir.resolve())
    print(text)
    (args.workdir / "users-results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
