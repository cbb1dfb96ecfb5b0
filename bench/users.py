"""Benchmark `etl import` of users (issue 15, item 9): 1,000,000 users with 20 attributes, as CSV and as
JSON lines, against DuckDB's own read_csv / read_json of the same file into a table.

Steps, each in its own subprocess (bench/harness.py: wall time, peak RSS): the floor, the first import into a
fresh store, the re-import of the same file, and a file with 1% of the users changed. Targets: first
import <= 2.0x the floor, re-imports <= 1.5x, peak RSS <= 1.5 GB. Three rounds by default, interleaved, each step's
median against the floor's median, as the orders benchmark (bench/run.py) does: this machine's timings vary.

    .venv/bin/python bench/users.py [--users 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/, put on the path above)
    Floor,
    Row,
    Run,
    StepFailed,
    Target,
    failed_row,
    floor_and_imports,
    import_step,
    made_once,
    ratio_rows,
    table,
)

if TYPE_CHECKING:
    import polars as pl

ATTRIBUTES = 18  # with customerNumber and mail: 20 fields
MAX_RSS = 1.5e9
TARGETS = {"first import": Target(2.0, MAX_RSS), "re-import": Target(1.5, MAX_RSS), "1% changed": Target(1.5, MAX_RSS)}


def users(n: int, changed: float = 0.0) -> pl.DataFrame:
    import polars as pl  # only in the child that writes the file: the bench's own process stays small

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
    code = f"import users; from pathlib import Path; users.write(Path({str(path)!r}), {n}, {changed})"
    return made_once(path, f"{n} {changed}", code)


def spec(workdir: Path, source: Path) -> Path:
    path = workdir / f"users-{source.name}.yaml"
    options = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}
    path.write_text(json.dumps({"format": "kevel_users", "source": str(source), "options": options}))
    return path


def measure_file(plain: Path, changed: Path, workdir: Path, rounds: int) -> list[Row]:
    """Rounds of floor, first import into a fresh store, re-import and 1% changed of one file; StepFailed."""
    store = workdir / "users-bench.duckdb"
    floor = Floor(plain, "read_csv(?)" if plain.suffix == ".csv" else "read_json(?)")
    more = [import_step("1% changed", spec(workdir, changed), store)]
    series = floor_and_imports(
        floor.step(workdir / "users-floor.duckdb"), spec(workdir, plain), store, rounds, more=more
    )

    def label(name: str, run: Run) -> str:
        if name == "floor":
            return f"{plain.name}: floor"
        c = run.json()["entities"]["customers"]
        return f"{plain.name}: {name} ({c['added']:,} added, {c['updated']:,} updated, {c['unchanged']:,} unchanged)"

    return ratio_rows(series, TARGETS, label)


def measure(n: int, workdir: Path, rounds: int = 3) -> str:
    """Per file (CSV, JSON lines), rounds of floor, first import, re-import and 1% changed; each step's median wall
    time against the floor's median (the min-max beside it), and its highest peak RSS."""
    rows, failures = [], []
    for suffix in (".csv", ".jsonl"):
        plain = ensure(workdir / f"users{suffix}", n, 0.0)
        changed = ensure(workdir / f"users-changed{suffix}", n, 0.01)
        try:
            rows += measure_file(plain, changed, workdir, rounds)
        except StepFailed as failed:
            failures.append(failed_row(plain.name, failed))
    return "\n".join([f"{n:,} users of 20 fields, median of {rounds} rounds", "", table(rows), *failures])


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
