"""Benchmark staging elsewhere (issue 36): 1M Kevel orders and 5M eSputnik events imported with `local`, `processes`
and a local Dask cluster, in one run, rounds interleaved.

Each step is a first import into a fresh store (eSputnik's: a copy of its store of contacts), `etl import --json`
in a process of its own (bench/harness.py). The Dask cluster is started as a user would start one by hand
(`dask scheduler`, `dask worker` with one worker process a core), before the rounds: its start is timed and
reported apart, not in the imports. On this 2-core machine the executors cannot be faster than local (Polars already
uses both cores): what is measured is their cost.

Targets: each executor's median wall time at most 1.3x local's; the importing process's own peak RSS (its
workers' apart: sampled, bench/harness.py) at most local's. Printed beside them, the figures of the scale model in
docs/cluster.md: per million records, the tasks' worker-seconds (staging, summed over the parts), the staged bytes
(what the workers hand over) and the importing process's own time after staging (the merge, the gate, the report:
one writer).

    .venv/bin/python bench/executors.py --workdir bench/work [--orders 1000000] [--events 5000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from esputnik_events import BODIES_PER_FILE, BODY, contacts_spec  # noqa: E402  (bench/, on the path above)
from harness import (  # noqa: E402
    Run,
    Series,
    Step,
    StepFailed,
    checked,
    etl_import,
    exit_failed,
    interleave,
    made_once,
    remove_duckdb_file,
)

MAX_RATIO = 1.3
START_DEADLINE_S = 120


@contextmanager
def dask_cluster(folder: Path, workers: int) -> Iterator[tuple[str, float]]:
    """`dask scheduler` and `dask worker --nworkers N --nthreads 1`, as a user starts them; the scheduler's address
    and the seconds from their launch to every worker being ready."""
    info = folder / "dask-scheduler.json"
    info.unlink(missing_ok=True)
    started = time.perf_counter()
    python = [sys.executable, "-m"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([*python, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info)], **quiet)  # fmt: skip
    worker = subprocess.Popen([*python, "distributed.cli.dask_worker", "--scheduler-file", str(info), "--nworkers",
                               str(workers), "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"],
                              cwd=folder, **quiet)  # fmt: skip
    try:
        from distributed import Client

        deadline = time.monotonic() + START_DEADLINE_S
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        address = json.loads(info.read_text())["address"]
        with Client(address, timeout=START_DEADLINE_S) as client:
            client.wait_for_workers(workers, timeout=START_DEADLINE_S)
        yield address, time.perf_counter() - started
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait()


def spec_file(path: Path, keys: dict) -> Path:
    path.write_text(json.dumps(keys))
    return path


def steps(name: str, keys: dict, workdir: Path, executors: dict[str, str], fresh) -> list[Step]:
    """One first-import step per executor, each into its own fresh store."""
    made = []
    for label, executor in executors.items():
        spec = spec_file(workdir / f"executors-{name}-{label}.yaml", {**keys, "executor": executor,
                                                                      "staging": str(workdir / "staging")})  # fmt: skip
        store = workdir / f"executors-{name}-{label}.duckdb"

        def measure(spec=spec, store=store, label=label) -> Run:
            fresh(store)
            return checked(f"{name} {label}", etl_import(spec, store))

        made.append(Step(label, measure))
    return made


def rows(name: str, records: int, series: dict[str, Series]) -> list[str]:
    local = series["local"]
    lines = []
    for label, runs in series.items():
        report = runs.last.json()
        staging = report.get("staging") or {}
        stage_s = report["timings_s"].get("read_validate_stage", 0.0)
        after_s = report["duration_s"] - stage_s
        ratio = runs.median_s / local.median_s
        own = max(r.own_peak_rss_bytes for r in runs.runs) / 1e9
        own_local = max(r.own_peak_rss_bytes for r in local.runs) / 1e9
        verdict = "" if label == "local" else (
            "ok" if ratio <= MAX_RATIO and own <= own_local * 1.02 else "MISSED")  # fmt: skip
        per_million = 1e6 / records
        lines.append(
            f"| {name} | {label} | {runs.median_s:.1f} ({runs.spread}) | {ratio:.2f}x | {own:.2f} | "
            f"{runs.peak_rss_bytes / 1e9:.2f} | {runs.median_cpu_s:.0f} | {staging.get('parts', '')} | "
            f"{staging.get('task_seconds', stage_s) * per_million:.1f} | "
            f"{staging.get('staged_bytes', 0) / 1e6 * per_million:.0f} | {after_s * per_million:.1f} | {verdict} |"
        )
    return lines


HEADER = (
    "| input | executor | wall s, median (range) | x local | own peak RSS GB | tree peak RSS GB | CPU s | parts | "
    "staging worker-s / 1M | staged MB / 1M | after staging s / 1M | target |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def measure(orders: Path, events: int, workdir: Path, rounds: int, workers: int, order_count: int = 1_000_000) -> str:
    staging = workdir / "staging"
    staging.mkdir(exist_ok=True)
    folder = workdir / f"esputnik-{events}"
    code = f"import esputnik_events as e; from pathlib import Path; e.write_bodies(Path({str(folder)!r}), {events})"
    made_once(folder / "users.jsonl", f"{events}-{BODY}-{BODIES_PER_FILE}-unique", code)
    contacts = workdir / "esputnik-contacts.duckdb"
    if not contacts.exists():
        checked("contacts", etl_import(contacts_spec(workdir / "esputnik-contacts.yaml", folder / "users.jsonl"),
                                       contacts))  # fmt: skip

    def empty(store: Path) -> None:
        remove_duckdb_file(store)

    def with_contacts(store: Path) -> None:
        remove_duckdb_file(store)
        shutil.copy(contacts, store)

    with dask_cluster(workdir, workers) as (address, start_s):
        executors = {"local": "local", "processes": f"processes:{workers}", "dask": f"dask://{address.split('://')[1]}"}
        inputs = [
            (f"kevel_orders {order_count / 1e6:g}M", order_count, {"format": "kevel_orders", "source": str(orders)},
             empty),
            (f"esputnik_events {events / 1e6:.0f}M", events,
             {"format": "esputnik_events", "source": str(folder / "past_events_*.jsonl")}, with_contacts),
        ]  # fmt: skip
        lines = []
        for name, records, keys, fresh in inputs:
            series = interleave(steps(name.split()[0], keys, workdir, executors, fresh), rounds, alternate=True)
            lines += rows(name, records, series)
            for label in executors:
                remove_duckdb_file(workdir / f"executors-{name.split()[0]}-{label}.duckdb")
    return (f"Executors, {rounds} rounds interleaved, {workers} workers; the Dask cluster started in {start_s:.1f} s "
            f"(apart)\n\n{HEADER}\n" + "\n".join(lines))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--orders", type=Path, help="the Kevel orders CSV (default: WORKDIR/orders.csv)")
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    try:
        print(measure(args.orders or workdir / "orders.csv", args.events, workdir, args.rounds, args.workers))
    except StepFailed as failed:
        exit_failed(failed)


if __name__ == "__main__":
    main()
