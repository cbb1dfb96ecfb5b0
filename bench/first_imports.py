"""First imports of two checkouts side by side: is a change's first import slower than its parent's?

`make bench` measures one checkout against DuckDB's own parse. A change that must not slow first imports down
(issue 33: by more than 5%) needs its figures beside its parent's, measured in the same run, since this
machine's timings drift by 10-15% from one minute to the next. This script runs, for every bench input that
`make bench` made in WORKDIR, the first import of each checkout into a fresh store (the eSputnik events into a
store of their contacts, made by the same checkout), alternating the two checkouts round after round, and
prints each one's median wall time and peak RSS and the change in percent.

    .venv/bin/python bench/first_imports.py --base /path/to/parent/.venv/bin/etl --new .venv/bin/etl \
        --workdir bench/work [--rounds 3] [--only orders,users_csv]

The inputs are `make bench`'s (bench/run.py and its modules write them into the work directory and keep them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from esputnik_events import CONTACTS  # noqa: E402  (bench/, on the path above)
from run import remove_duckdb_file, run_measured  # noqa: E402

USERS_OPTIONS = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}


def specs(workdir: Path) -> dict[str, dict]:
    """The first imports `make bench` measures, by name: each spec's keys (sources in workdir)."""
    esputnik = workdir / "esputnik-5000000"
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


def contacts_store(etl: Path, workdir: Path, tag: str) -> Path:
    """The eSputnik bench's store of contacts, made once by this checkout (its own schema and upgrades)."""
    store = workdir / f"first-imports-contacts-{tag}.duckdb"
    if not store.exists():
        python = etl.with_name("python")
        made = run_measured([python, "-c", CONTACTS, store, workdir / "esputnik-5000000" / "users.jsonl"])
        if made.returncode != 0:
            raise SystemExit(f"contacts for {tag}: {made.stderr[-500:]}")
    return store


def first_import(etl: Path, spec: dict, workdir: Path, tag: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS bytes and items of one first import into a fresh store."""
    spec_path = workdir / f"first-imports-{tag}.yaml"
    spec_path.write_text(json.dumps(spec))
    store = workdir / f"first-imports-{tag}.duckdb"
    remove_duckdb_file(store)
    if spec["format"] == "esputnik_events":
        shutil.copy(contacts_store(etl, workdir, tag), store)
    run = run_measured([etl, "import", spec_path, "--store", store, "--json"])
    remove_duckdb_file(store)
    if run.returncode != 0:
        raise SystemExit(f"{tag} {spec['format']} failed: {run.stderr[-800:]}")
    return run.wall_s, run.peak_rss_bytes, json.loads(run.stdout)["items"]


def runs(walls: list[float]) -> str:
    """Each round's wall time, in the order run."""
    return ", ".join(f"{wall:.1f}" for wall in walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the parent checkout's etl command")
    parser.add_argument("--new", type=Path, required=True, help="the change's etl command")
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated name prefixes of the imports to run")
    args = parser.parse_args()
    wanted = [name for name in specs(args.workdir) if not args.only or name.startswith(tuple(args.only.split(",")))]
    print("| first import | base wall s | new wall s | change | base runs s | new runs s | base RSS GB | new RSS GB "
          "| items |")  # fmt: skip
    print("|---|---:|---:|---:|---|---|---:|---:|---:|")
    for name in wanted:
        spec = specs(args.workdir)[name]
        walls: dict[str, list[float]] = {"base": [], "new": []}
        rss: dict[str, float] = {"base": 0.0, "new": 0.0}
        items = {}
        for number in range(args.rounds):
            order = ("base", "new") if number % 2 == 0 else ("new", "base")  # who goes first alternates
            for tag in order:
                wall, peak, items[tag] = first_import(getattr(args, tag), spec, args.workdir, tag)
                walls[tag].append(wall)
                rss[tag] = max(rss[tag], peak)
        base, new = statistics.median(walls["base"]), statistics.median(walls["new"])
        print(
            f"| {name} | {base:.2f} | {new:.2f} | {new / base - 1:+.1%} | {runs(walls['base'])} | "
            f"{runs(walls['new'])} | {rss['base'] / 1e9:.2f} | {rss['new'] / 1e9:.2f} | {items['new']:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
