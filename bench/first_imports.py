"""First imports of two checkouts side by side: is a change's first import slower than its parent's?

`make bench` measures one checkout against DuckDB's own parse. A change that must not slow first imports down
(issue 33: by more than 5%) needs its figures beside its parent's, measured in the same run, since this
machine's timings drift by 10-15% from one minute to the next. This script runs, for every bench input that
`make bench` made in WORKDIR, the first import of each checkout into a fresh store (the eSputnik events into a
store of their contacts, made by the same checkout), alternating the two checkouts round after round, and
prints each one's median wall time and peak RSS and the change in percent. With --again, the timed import is
each file's re-import (into the store its first import made): records applied before are skipped.

    .venv/bin/python bench/first_imports.py --base /path/to/parent/.venv/bin/etl --new .venv/bin/etl \
        --workdir bench/work [--rounds 3] [--only kevel_orders,shopify] [--esputnik-events 5000000] [--again]

The inputs are `make bench`'s (bench/run.py and its modules write them into the work directory and keep them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from esputnik_events import contacts_spec  # noqa: E402  (bench/, on the path above)
from harness import Series, Step, StepFailed, checked, etl_import, exit_failed, interleave, remove_duckdb_file  # noqa: E402

USERS_OPTIONS = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}


def specs(workdir: Path, esputnik_events: int = 5_000_000) -> dict[str, dict]:
    """The first imports `make bench` measures, by name: each spec's keys (sources in workdir)."""
    esputnik = workdir / f"esputnik-{esputnik_events}"
    return {
        "kevel_orders 1M": {"format": "kevel_orders", "source": str(workdir / "orders.csv")},
        "shopify_orders 1M": {"format": "shopify_orders", "source": str(workdir / "shopify-orders.csv")},
        "kevel_users CSV 1M": {"format": "kevel_users", "source": str(workdir / "users.csv"), "options": USERS_OPTIONS},
        "kevel_users JSONL 1M": {
            "format": "kevel_users",
            "source": str(workdir / "users.jsonl"),
            "options": USERS_OPTIONS,
        },
        "kevel_products JSONL 1M": {"format": "kevel_products", "source": str(workdir / "products.jsonl")},
        "google_merchant XML 1 GB": {"format": "google_merchant", "source": str(workdir / "products.xml")},
        "crossengage_events 5M": {
            "format": "crossengage_events",
            "source": str(workdir / "event_history_20240101000000.json"),
        },
        "esputnik_events 5M": {"format": "esputnik_events", "source": str(esputnik / "past_events_*.jsonl")},
    }


def contacts_store(etl: Path, users: Path, workdir: Path, tag: str) -> Path:
    """The eSputnik bench's store of contacts (`users`), made once by this checkout's `etl` (its own schema)."""
    store = workdir / f"first-imports-contacts-{tag}.duckdb"
    if not store.exists():
        spec = contacts_spec(workdir / f"first-imports-contacts-{tag}.yaml", users)
        checked(f"contacts for {tag}", etl_import(spec, store, etl))
    return store


def first_import(etl: Path, spec: dict, workdir: Path, tag: str, again: bool = False) -> Step:
    """One first import of `spec` by the checkout of `etl` into a fresh store (StepFailed), named `tag`; with
    `again`, the import is made once untimed and the timed one is the re-import of the same files."""
    spec_path = workdir / f"first-imports-{tag}.yaml"
    store = workdir / f"first-imports-{tag}.duckdb"

    def measure():
        spec_path.write_text(json.dumps(spec))
        remove_duckdb_file(store)
        if spec["format"] == "esputnik_events":
            users = Path(spec["source"]).parent / "users.jsonl"  # beside the bodies: bench/esputnik_events.py's
            shutil.copy(contacts_store(etl, users, workdir, tag), store)
        try:
            if again:
                checked(f"{tag} {spec['format']} (first)", etl_import(spec_path, store, etl))
            return checked(f"{tag} {spec['format']}", etl_import(spec_path, store, etl))
        finally:
            remove_duckdb_file(store)

    return Step(tag, measure)


def runs(series: Series) -> str:
    """Each round's wall time, in the order run."""
    return ", ".join(f"{wall:.1f}" for wall in series.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the parent checkout's etl command")
    parser.add_argument("--new", type=Path, required=True, help="the change's etl command")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated name prefixes of the imports to run")
    parser.add_argument("--again", action="store_true", help="time the re-import of each file, not its first import")
    parser.add_argument("--esputnik-events", type=int, default=5_000_000, help="the eSputnik bench's size (its folder)")
    args = parser.parse_args()
    imports = specs(args.workdir, args.esputnik_events)
    wanted = [name for name in imports if not args.only or name.startswith(tuple(args.only.split(",")))]
    what = "re-import" if args.again else "first import"
    print(f"| {what} | base wall s | new wall s | change | base runs s | new runs s | base CPU s | new CPU s "
          "| CPU change | base RSS GB | new RSS GB | items |")  # fmt: skip
    print("|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for name in wanted:
        spec = imports[name]
        steps = [first_import(getattr(args, tag), spec, args.workdir, tag, args.again) for tag in ("base", "new")]
        try:  # who goes first alternates, round after round
            base, new = interleave(steps, args.rounds, alternate=True).values()
        except StepFailed as failed:
            exit_failed(failed)
        print(
            f"| {name} | {base.median_s:.2f} | {new.median_s:.2f} | {new.median_s / base.median_s - 1:+.1%} | "
            f"{runs(base)} | {runs(new)} | {base.median_cpu_s:.1f} | {new.median_cpu_s:.1f} | "
            f"{new.median_cpu_s / base.median_cpu_s - 1:+.1%} | {base.peak_rss_bytes / 1e9:.2f} | "
            f"{new.peak_rss_bytes / 1e9:.2f} | "
            f"{new.last.json()['items']:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
