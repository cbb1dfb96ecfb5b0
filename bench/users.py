"""Benchmark `etl import` of users (issue 15, item 9): 1,000,000 users with 20 attributes, as CSV and as
JSON lines, against DuckDB's own read_csv / read_json of the same file into a table.

Steps, each in its own subprocess (wall time and its own peak RSS): the floor, the first import into a
fresh store, the re-import of the same file, and a file with 1% of the users changed. Targets: first
import <= 2.0x the floor, re-imports <= 1.5x, peak RSS <= 1.5 GB. Three rounds by default, interleaved, each step's
median against the floor's median, as the orders benchmark (bench/run.py) does: this machine's timings vary.

    .venv/bin/python bench/users.py [--users 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import polars as pl

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import ETL, generate_in_child, remove_duckdb_file, run_measured  # noqa: E402  (bench/, put on the path above)

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


def write(path: Path, n: int, changed: float) -> None:
    frame = users(n, changed)
    frame.write_csv(path) if path.suffix == ".csv" else frame.write_ndjson(path)


def ensure(path: Path, n: int, changed: float) -> Path:
    stamp = path.with_suffix(path.suffix + ".stamp")
    key = f"{n} {changed}"
    if not (path.exists() and stamp.exists() and stamp.read_text() == key):
        generate_in_child(f"import users; from pathlib import Path; users.write(Path({str(path)!r}), {n}, {changed})")
        stamp.write_text(key)
    return path


def spec(workdir: Path, source: Path) -> Path:
    path = workdir / f"users-{source.suffix[1:]}.yaml"
    options = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}
    path.write_text(json.dumps({"format": "kevel_users", "source": str(source), "options": options}))
    return path


STEPS = (("first import", False, 2.0), ("re-import", False, 1.5), ("1% changed", True, 1.5))


def measure(n: int, workdir: Path, rounds: int = 3) -> str:
    """Rounds of floor, first import, re-import and 1% changed, per file; each step's median wall time against the
    floor's median (the min-max beside it), and its highest peak RSS: a slow spell hits every step alike."""
    lines = [f"{n:,} users of 20 fields, median of {rounds} rounds", ""]
    lines += ["| file | step | s (median) | min-max | x floor | peak RSS GB | target | verdict |",
              "|---|---|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for suffix in (".csv", ".jsonl"):
        plain = ensure(workdir / f"users{suffix}", n, 0.0)
        changed = ensure(workdir / f"users-changed{suffix}", n, 0.01)
        times: dict[str, list[float]] = {}
        rss: dict[str, float] = {}
        counts: dict[str, dict] = {}
        failed = None
        for _ in range(rounds):
            floor_db = workdir / "users-floor.duckdb"
            remove_duckdb_file(floor_db)
            floor = run_measured([sys.executable, "-c", FLOOR, floor_db, plain])
            remove_duckdb_file(floor_db)
            times.setdefault("floor", []).append(floor.wall_s)
            rss["floor"] = max(rss.get("floor", 0.0), floor.peak_rss_bytes)
            store = workdir / "users-bench.duckdb"
            remove_duckdb_file(store)
            for step, is_changed, _target in STEPS:
                run = run_measured([ETL, "import", spec(workdir, changed if is_changed else plain), "--store", store,
                                    "--json"])  # fmt: skip
                if run.returncode != 0:
                    failed = f"{step}: {run.stderr.strip()[-200:]}"
                    break
                times.setdefault(step, []).append(run.wall_s)
                rss[step] = max(rss.get(step, 0.0), run.peak_rss_bytes)
                counts[step] = json.loads(run.stdout)["entities"]["customers"]
            remove_duckdb_file(store)
            if failed:
                break
        if failed:
            lines.append(f"| {plain.name} | failed: {failed} | | | | | | |")
            continue
        floor_s = statistics.median(times["floor"])
        lines.append(f"| {plain.name} | floor | {floor_s:.2f} | {min(times['floor']):.2f}-{max(times['floor']):.2f} "
                     f"| 1.00 | {rss['floor'] / 1e9:.2f} | | |")  # fmt: skip
        for step, _, target in STEPS:
            wall = statistics.median(times[step])
            ratio = wall / floor_s
            ok = ratio <= target and rss[step] <= MAX_RSS
            c = counts[step]
            lines.append(
                f"| {plain.name} | {step} ({c['added']:,} added, {c['updated']:,} updated, "
                f"{c['unchanged']:,} unchanged) "
                f"| {wall:.2f} | {min(times[step]):.2f}-{max(times[step]):.2f} | {ratio:.2f} | {rss[step] / 1e9:.2f} "
                f"| <= {target}x, <= 1.5 GB | {'pass' if ok else 'FAIL'} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four steps; the median counts")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    text = measure(args.users, args.workdir.resolve(), args.rounds)
    print(text)
    (args.workdir / "users-results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
