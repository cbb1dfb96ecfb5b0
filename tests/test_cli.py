"""The `etl` command as a user runs it: help, import reports, dry runs, runs/report, export, the store."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import REPO, SAMPLE_CSV, EtlRun, environment, kevel_row, run_in_process, write_csv

SAMPLE_SPEC = REPO / "data" / "samples" / "kevel_orders.yaml"
TABLES = [
    "orders", "line_items", "order_row_hashes", "events", "imports", "rejects", "store_meta", "customer_keys",
    "order_facts", "customers", "identities", "identity_links", "customer_merges", "customer_attribute_times", "users",
    "products", "order_lines_enriched", "event_items", "deleted_events", "deleted_event_items",
]  # fmt: skip


def sample_rows() -> list[dict[str, str]]:
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def obviously_bad(row: dict[str, str]) -> list[str]:
    """The columns of a sample row that break a rule anyone can see (the sample's two bad rows)."""
    bad = []
    if row["userIdType"] == "email" and "@" not in row["userId"]:
        bad.append("userId")
    try:
        float(row["lineItem_quantity"])
    except ValueError:
        bad.append("lineItem_quantity")
    return bad


def count(store: Path, table: str) -> int:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def no_traceback(run) -> None:
    assert "Traceback" not in run.stderr + run.stdout


# --- one import of the sample, shared by the tests that only read it --------------------------


class SharedStore:
    def __init__(self, store: Path, report: dict[str, Any], failed_stderr: str) -> None:
        self.store, self.report, self.failed_stderr = store, report, failed_stderr


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> SharedStore:
    """A store with two imports: 1 = the sample spec (completed), 2 = a file missing columns (failed)."""
    folder = tmp_path_factory.mktemp("sample")
    store = folder / "cdp.duckdb"

    def run(*args: str) -> EtlRun:
        return run_in_process([*args, "--store", str(store)], environment())

    imported = run("import", str(SAMPLE_SPEC), "--json")
    assert imported.code == 0, imported.stderr
    broken = folder / "broken.csv"
    broken.write_text("orderId,something\no1,x\n", encoding="utf-8")
    failed = run("import", "--format", "kevel_orders", "--source", str(broken))
    assert failed.code == 1, failed.stderr
    return SharedStore(store, json.loads(imported.stdout), failed.stderr)


# --- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["import"], ["runs"], ["report"], ["export", "parquet"]], ids=lambda c: " ".join(c) or "etl"
)
def test_help_exits_0_and_shows_an_example(etl, command: list[str]) -> None:
    run = etl(*command, "--help", use_store=False)
    assert run.code == 0, run.stderr
    assert "Usage" in run.stdout
    assert "Example" in run.stdout


# --- the import report ---------------------------------------------------------------------------


def test_import_json_report_matches_the_sample_file(sample_store: SharedStore) -> None:
    report, rows = sample_store.report, sample_rows()
    expected_keys = {
        "import_id",
        "status",
        "dry_run",
        "format",
        "files",
        "items",
        "valid",
        "rejected",
        "entities",
        "events",
        "issues",
        "sample",
        "duration_s",
    }
    assert expected_keys <= report.keys()
    assert (report["import_id"], report["status"], report["dry_run"], report["format"]) == (
        1,
        "completed",
        False,
        "kevel_orders",
    )

    [file] = report["files"]
    assert file["uri"].endswith("data/samples/kevel_orders.csv")
    assert file["sha256"] == hashlib.sha256(SAMPLE_CSV.read_bytes()).hexdigest()
    assert file["rows"] == len(rows)

    bad = [row for row in rows if obviously_bad(row)]
    assert report["items"] == len(rows)
    assert report["rejected"] == len(bad)
    assert report["items"] == report["valid"] + report["rejected"]

    # every order of the file whose rows all passed is new; each valid row is one new line item
    bad_orders = {row["orderId"] for row in bad}
    good_orders = list(dict.fromkeys(row["orderId"] for row in rows if row["orderId"] not in bad_orders))
    assert report["entities"]["orders"] == {"added": len(good_orders), "updated": 0, "unchanged": 0}
    assert report["entities"]["line_items"]["added"] == report["valid"]
    assert {k: report["entities"]["line_items"][k] for k in ("added", "updated", "unchanged")} == {
        "added": report["valid"],
        "updated": 0,
        "unchanged": 0,
    }
    assert report["events"] == {"orderPlace": len(good_orders), "orderUpdate": 0}

    issues = {(i["column"], i["count"], i["percent"]) for i in report["issues"]}
    expected_issues = {}
    for row in bad:
        for column in obviously_bad(row):
            expected_issues[column] = expected_issues.get(column, 0) + 1
    assert issues == {(c, n, round(100 * n / len(rows), 2)) for c, n in expected_issues.items()}
    assert all(isinstance(i["hint"], str) and i["hint"] for i in report["issues"])

    first, last = report["sample"]["first"], report["sample"]["last"]
    assert [r["order_id"] for r in first] == good_orders[:5]
    assert sorted(r["order_id"] for r in last) == sorted(good_orders[-5:])
    assert isinstance(report["duration_s"], float) and report["duration_s"] >= 0

    # the store holds what the report says
    assert count(sample_store.store, "orders") == len(good_orders)
    assert count(sample_store.store, "line_items") == report["valid"]
    assert count(sample_store.store, "rejects") == report["rejected"]
    assert count(sample_store.store, "events") == len(good_orders)


def test_failed_import_message_has_no_traceback(sample_store: SharedStore) -> None:
    assert "Import 2 failed, the store is unchanged" in sample_store.failed_stderr
    assert "missing required column" in sample_store.failed_stderr
    assert "Traceback" not in sample_store.failed_stderr


def test_sample_holds_at_most_five_orders_each(etl, tmp_path: Path) -> None:
    """A clean file of 12 orders: first five and last five; --fail-on-rejects exits 0 with no rejects."""
    orders = [f"o{i:02}" for i in range(1, 13)]
    path = write_csv(tmp_path / "twelve.csv", [kevel_row(o) for o in orders])
    run = etl("import", "--format", "kevel_orders", "--source", str(path), "--json", "--fail-on-rejects")
    assert run.code == 0, run.stderr
    report = run.json
    assert report["rejected"] == 0
    assert [r["order_id"] for r in report["sample"]["first"]] == orders[:5]
    assert sorted(r["order_id"] for r in report["sample"]["last"]) == orders[-5:]


def test_terminal_report_and_fail_on_rejects(etl) -> None:
    """Without --json: the import id, the counts, the issues; --fail-on-rejects then exits 3."""
    rows = sample_rows()
    run = etl("import", str(SAMPLE_SPEC), "--fail-on-rejects")
    rejected = sum(1 for row in rows if obviously_bad(row))
    assert rejected > 0
    assert run.code == 3, run.stderr
    assert "Import 1 (kevel_orders): completed" in run.stdout
    assert f"Items read: {len(rows)}   valid: {len(rows) - rejected}   rejected: {rejected}" in run.stdout
    assert "Issues (rows rejected)" in run.stdout
    assert "userId" in run.stdout and "lineItem_quantity" in run.stdout
    assert "DRY RUN" not in run.stdout
    assert f"{rejected} row(s) rejected (--fail-on-rejects)" in run.stderr
    no_traceback(run)


# --- dry run -----------------------------------------------------------------------------------


def test_dry_run_stores_nothing_but_counts_against_the_store(etl, query, tmp_path: Path) -> None:
    original = write_csv(tmp_path / "v1.csv", [kevel_row("o1", total="10")])
    assert etl("import", "--format", "kevel_orders", "--source", str(original)).code == 0

    changed = write_csv(
        tmp_path / "v2.csv",
        [
            kevel_row("o1", total="12"),  # updated
            kevel_row("o2"),  # added
            kevel_row("o3", lineItem_quantity="one"),  # rejected
        ],
    )
    run = etl("import", "--format", "kevel_orders", "--source", str(changed), "--dry-run")
    assert run.code == 0, run.stderr
    assert "DRY RUN" in run.stdout
    assert "Import 2" in run.stdout

    assert query("SELECT order_id, total FROM orders") == [{"order_id": "o1", "total": 10.0}]
    assert query("SELECT count(*) AS n FROM line_items") == [{"n": 1}]
    assert query("SELECT event_type, order_id FROM events") == [{"event_type": "orderPlace", "order_id": "o1"}]
    assert query("SELECT count(*) AS n FROM rejects") == [{"n": 0}]
    assert query("SELECT import_id, status, dry_run FROM imports ORDER BY import_id") == [
        {"import_id": 1, "status": "completed", "dry_run": False},
        {"import_id": 2, "status": "completed", "dry_run": True},
    ]

    report = etl("report", "2", "--json").json
    assert report["dry_run"] is True
    assert report["entities"]["orders"] == {"added": 1, "updated": 1, "unchanged": 0}
    assert report["events"] == {"orderPlace": 1, "orderUpdate": 1}
    assert report["rejected"] == 1


# --- runs and report -----------------------------------------------------------------------------


def test_runs_lists_past_imports(etl, sample_store: SharedStore) -> None:
    run = etl("runs", "--store", str(sample_store.store))
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any("completed" in line and line.split("│")[1].strip() == "1" for line in lines if "│" in line)
    assert any("failed" in line and line.split("│")[1].strip() == "2" for line in lines if "│" in line)


def test_runs_json_gives_one_object_per_line(etl, sample_store: SharedStore) -> None:
    run = etl("runs", "--store", str(sample_store.store), "--json")
    assert run.code == 0, run.stderr
    runs = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["import_id"], r["status"], r["dry_run"]) for r in runs] == [
        (2, "failed", False),
        (1, "completed", False),
    ]  # newest first
    assert runs[1]["items"] == sample_store.report["items"]
    assert "missing required column" in runs[0]["error"]


def test_report_shows_a_past_import_again(etl, sample_store: SharedStore) -> None:
    as_json = etl("report", "1", "--store", str(sample_store.store), "--json")
    assert as_json.code == 0, as_json.stderr
    assert as_json.json == sample_store.report

    shown = etl("report", "1", "--store", str(sample_store.store))
    assert shown.code == 0, shown.stderr
    assert "Import 1 (kevel_orders): completed" in shown.stdout
    assert f"Items read: {sample_store.report['items']}" in shown.stdout


def test_report_of_an_unknown_id_is_a_clear_error(etl, sample_store: SharedStore) -> None:
    run = etl("report", "99", "--store", str(sample_store.store))
    assert run.code != 0
    assert "no import 99" in run.stderr
    no_traceback(run)


# --- the store: $ETL_STORE, export, read-only, lock ------------------------------------------------


def spec_with_store(tmp_path: Path, store: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"format: kevel_orders\nsource: {SAMPLE_CSV}\nstore: {store}\n", encoding="utf-8")
    return spec


def test_etl_store_is_used_when_store_is_not_given(etl, tmp_path: Path) -> None:
    """$ETL_STORE wins over the spec's store: and serves runs and report too."""
    store, spec_store = tmp_path / "env" / "cdp.duckdb", tmp_path / "spec.duckdb"
    env = {"ETL_STORE": str(store)}
    imported = etl("import", str(spec_with_store(tmp_path, spec_store)), "--json", env=env, use_store=False)
    assert imported.code == 0, imported.stderr
    assert count(store, "imports") == 1
    assert not spec_store.exists()

    runs = etl("runs", "--json", env=env, use_store=False)
    assert runs.code == 0, runs.stderr
    assert [json.loads(line)["import_id"] for line in runs.stdout.splitlines()] == [1]
    report = etl("report", "1", "--json", env=env, use_store=False)
    assert report.code == 0, report.stderr
    assert report.json == imported.json


def test_store_option_wins_over_etl_store(etl, tmp_path: Path) -> None:
    option_store, env_store, spec_store = (tmp_path / f"{n}.duckdb" for n in ("option", "env", "spec"))
    spec = spec_with_store(tmp_path, spec_store)
    run = etl("import", str(spec), "--store", str(option_store), env={"ETL_STORE": str(env_store)})
    assert run.code == 0, run.stderr
    assert count(option_store, "imports") == 1
    assert not env_store.exists() and not spec_store.exists()


def test_export_parquet_writes_every_table(etl, sample_store: SharedStore, tmp_path: Path) -> None:
    target = tmp_path / "exports"
    run = etl("export", "parquet", str(target), "--store", str(sample_store.store))
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    with duckdb.connect() as con:
        for table in TABLES:
            exported = con.execute("SELECT count(*) FROM read_parquet(?)", [str(target / f"{table}.parquet")])
            assert exported.fetchone()[0] == count(sample_store.store, table), table
    assert count(sample_store.store, "orders") > 0


@pytest.mark.parametrize("command", [["runs"], ["report", "1"]], ids=["runs", "report"])
def test_reading_a_missing_store_is_a_clear_error_and_creates_nothing(etl, store: Path, command) -> None:
    run = etl(*command)
    assert run.code != 0
    assert f"The store {store} does not exist" in run.stderr
    no_traceback(run)
    assert not store.exists()
    assert not store.parent.exists()


def test_import_into_a_locked_store_names_the_holder(etl, store: Path) -> None:
    store.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,time,sys; c=duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(30)",
            str(store),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        run = etl("import", str(SAMPLE_SPEC), "--wait", "0")
        assert run.code != 0
        assert f"process {holder.pid}" in run.stderr
        assert "is in use by" in run.stderr
        assert "run this command again" in run.stderr
        no_traceback(run)
    finally:
        holder.kill()
        holder.wait()


def test_duckdb_out_of_its_memory_limit_is_a_message_naming_the_limit_not_a_bug(tmp_path, etl_process, store):
    """A process of its own: the limit is read from the environment when the command starts."""
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])

    run = etl_process("import", "--format", "kevel_orders", "--source", str(source), env={"ETL_MEMORY_LIMIT": "2MB"})

    assert run.code == 1, run.stderr
    assert "ETL_MEMORY_LIMIT=2MB" in run.stderr and "Set ETL_MEMORY_LIMIT higher" in run.stderr
    assert "bug" not in run.stderr and "Traceback" not in run.stderr
    if store.exists():  # the store is as it was: no order
        with duckdb.connect(str(store), read_only=True) as con:
            tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            assert "orders" not in tables or con.execute("SELECT count(*) FROM orders").fetchone() == (0,)
