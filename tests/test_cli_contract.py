"""What CI jobs and people read from the `etl` command: JSON on failure, exit codes, plain
text (never rich markup), tables that never cut names, ids or paths, and the rejects.

Most run the command in this process (the etl fixture); the contract is also checked end to end, through the
installed console command in processes of their own (etl_process): a failed import's JSON and exit code, the
help and version, a narrow terminal's tables, and what a fresh process loads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import REPO, kevel_row, line_row, write_csv, write_spec

NARROW = {"COLUMNS": "80"}  # what a pipe, or a small terminal, gives


def test_a_failed_import_prints_its_report_as_json(tmp_path, etl, etl_process):
    missing = tmp_path / "exports" / ".." / "orders.csv"

    run = etl_process("import", "--format", "kevel_orders", "--source", str(missing), "--json")

    assert run.code == 1
    result = run.json
    assert (result["status"], result["import_id"]) == ("failed", 1)
    assert f"{tmp_path / 'orders.csv'}: no such file" in result["error"]
    assert result["files"][0]["uri"] == str(tmp_path / "orders.csv")  # normalised
    assert result["files"][0]["status"] == "failed"
    assert json.loads(etl("report", "1", "--json").stdout)["status"] == "failed"
    [record] = [json.loads(line) for line in etl("runs", "--json").stdout.splitlines()]
    assert record["sources"] == [str(tmp_path / "orders.csv")]  # a list, filled for a failed run too


def test_a_relative_path_not_found_names_the_directory_it_was_looked_in(etl):
    run = etl("import", "--format", "kevel_orders", "--source", "no/such/orders.csv")

    assert run.code == 1
    assert "no such file" in run.stderr
    assert f"looked in {REPO}" in " ".join(run.stderr.split())


@pytest.mark.parametrize(
    ("spec_text", "message"),
    [
        ("format: kevel_order\nsource: a.csv\n", "format"),
        ("format: kevel_orders\nsource: a.csv\nencodng: utf-8\n", "did you mean encoding?"),
        ("format: kevel_orders\nsource: a.csv\nsource: b.csv\n", "the key 'source' is given twice"),
        ("format: kevel_orders\nsource: a.csv\ninbox: {procesed: done}\n", "inbox.procesed: unknown key"),
    ],
)
def test_a_bad_spec_exits_2_and_still_prints_json(tmp_path, etl, store, spec_text, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text)

    run = etl("import", str(spec), "--json")

    assert run.code == 2, run.stderr
    assert message in " ".join(run.stderr.split())
    assert (run.json["status"], run.json["import_id"]) == ("failed", None)
    assert message in " ".join(run.json["error"].split())
    assert not store.exists()


def test_a_data_file_given_as_the_spec_is_refused_at_once(tmp_path, etl):
    source = write_csv(tmp_path / "orders.csv", [kevel_row()])
    big = tmp_path / "orders.yaml"
    big.write_bytes(b"# a comment\n" * 200_000)  # 2.4 MB: not a spec

    run = etl("import", str(source))
    large = etl("import", str(big))

    assert run.code == 2 and large.code == 2
    said = " ".join(run.stderr.split())
    assert "looks like a data file, not an import spec" in said
    assert f"--source {source}" in said
    assert "looks like a data file" in " ".join(large.stderr.split())


def test_a_missing_spec_file_exits_2(tmp_path, etl):
    run = etl("import", str(tmp_path / "nightly.yaml"))
    assert run.code == 2
    assert "nightly.yaml: cannot read the spec" in run.stderr


def test_export_into_a_file_is_a_clear_error(tmp_path, etl):
    write = etl("import", "--format", "kevel_orders", "--source", str(write_csv(tmp_path / "o.csv", [kevel_row()])))
    assert write.code == 0, write.stderr
    taken = tmp_path / "README.md"
    taken.write_text("not a folder")

    run = etl("export", "parquet", str(taken))

    assert run.code == 2
    assert "is a file, not a folder" in run.stderr
    assert "internal error" not in run.stderr


def test_messages_are_text_never_markup(tmp_path, etl):
    source = write_csv(tmp_path / "orders.csv", [kevel_row()])
    assert etl("import", "--format", "kevel_orders", "--source", str(source)).code == 0

    segment = etl("segment", "run", "average_order_value", "--store", str(tmp_path / "store" / "cdp.duckdb"),
                  "--param", "observation_end=2024-12-31", "--param", "statuses=shipped")  # fmt: skip
    failed = etl("import", "--format", "kevel_orders", "--source", str(tmp_path / "[bold]gone[/bold].csv"))
    shown = etl("report", "2")

    assert segment.code == 1
    assert "shipped" in segment.stderr
    assert "[bold]gone[/bold].csv" in failed.stderr
    assert "[bold]gone[/bold].csv" in shown.stdout
    assert "[red]" not in shown.stdout


def test_help_short_option_and_version(etl_process):
    short = etl_process("import", "-h", use_store=False)
    version = etl_process("--version", use_store=False)

    assert short.code == 0
    assert "--dry-run" in short.stdout
    assert "<bool>" not in short.stdout  # flags take no value
    assert "--store" in short.stdout and "<path>" in short.stdout
    assert version.code == 0
    assert version.stdout.startswith("etl (cdp-etl) ")


def test_narrow_tables_keep_names_ids_and_paths_whole(tmp_path, etl, etl_process, store):
    deep = tmp_path / "exports" / "from-the-crm-system" / "nightly-orders-2026-11-30.csv"
    deep.parent.mkdir(parents=True)
    write_csv(deep, [kevel_row()])
    assert etl("import", "--format", "kevel_orders", "--source", str(deep)).code == 0

    runs = etl_process("runs", "--store", str(store), env=NARROW)  # $COLUMNS as a process starts with it
    segments = etl("segment", "list", env=NARROW)
    report = etl("report", "1", "--store", str(store), env=NARROW)

    assert runs.code == 0, runs.stderr
    for text in (runs.stdout, segments.stdout, report.stdout):
        assert "…" not in text
    for word in ("completed", "kevel_orders", str(deep)):
        assert word in runs.stdout
    assert str(deep) in report.stdout
    from etl.segments.run import catalog

    flat = " ".join(segments.stdout.split())
    for segment in catalog().values():
        assert segment.name in segments.stdout
        words = [w for w in segment.summary.split() if len(w) > 3]
        assert all(w in flat for w in words), segment.name  # the description, wrapped but whole


def test_rejects_lists_the_rejected_rows_with_lines_reasons_and_values(tmp_path, etl, store):
    source = write_csv(
        tmp_path / "orders.csv",
        [kevel_row("o1"), kevel_row("o2", total="12,5"), line_row("o2"), kevel_row("o3", currency="euro")],
    )
    imported = etl("import", "--format", "kevel_orders", "--source", str(source))
    assert "etl rejects 1" in imported.stdout

    listed = etl("rejects", "1", "--store", str(store), env=NARROW)
    as_json = [json.loads(line) for line in etl("rejects", "1", "--store", str(store), "--json").stdout.splitlines()]
    out_csv = tmp_path / "rejects.csv"
    written = etl("rejects", "1", "--store", str(store), "--out", str(out_csv))

    assert listed.code == 0, listed.stderr
    assert str(source) in listed.stdout
    assert "a comma in a number" in listed.stdout
    assert [(r["line"], r["raw"]["orderId"], [x["column"] for x in r["reasons"]]) for r in as_json] == [
        (3, "o2", ["total"]),
        (4, "o2", ["orderId"]),
        (5, "o3", ["currency"]),
    ]
    assert written.code == 0
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], json.loads(r["reasons"])[0]["column"]) for r in rows] == [
        ("3", "total"), ("4", "orderId"), ("5", "currency"),
    ]  # fmt: skip
    assert etl("rejects", "9", "--store", str(store)).code == 1


def test_a_failed_dry_run_leaves_no_store(tmp_path, etl, store):
    run = etl("import", "--format", "kevel_orders", "--source", str(tmp_path / "gone.csv"), "--dry-run")

    assert run.code == 1
    assert not store.exists()


def test_inbox_json_gives_the_failed_import_id(tmp_path, etl, store):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "a.csv", [kevel_row("o1", total="x")])
    spec = write_spec(tmp_path, None, format="kevel_orders")
    policy = tmp_path / "expectations"
    policy.mkdir()  # no suites; a row rejected is not a failure, so make the file unreadable instead
    (inbox / "b.csv").write_bytes(b'orderId,userIdType\n"o1,email\n')

    run = etl("inbox", str(inbox), "--spec", str(spec), "--json")

    files = {Path(f["uri"]).name: f for f in run.json["files"]}
    assert files["b.csv"]["status"] == "failed"
    assert isinstance(files["b.csv"]["import_id"], int)


LOADED = """
import sys
from etl.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
heavy = ("polars", "duckdb", "pydantic", "yaml", "great_expectations")
print("LOADED:" + ",".join(m for m in heavy if m in sys.modules))
"""


def _modules_loaded_by(*args: str) -> set[str]:
    import subprocess
    import sys

    command = [sys.executable, "-c", LOADED, *args]
    run = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=60)
    [line] = [line for line in run.stdout.splitlines() if line.startswith("LOADED:")]
    return set(filter(None, line.removeprefix("LOADED:").split(",")))


def test_commands_that_do_not_import_load_no_import_stack(tmp_path, etl, store):
    assert (
        etl("import", "--format", "kevel_orders", "--source", str(write_csv(tmp_path / "o.csv", [kevel_row()]))).code
        == 0
    )

    import_stack = {"polars", "yaml", "great_expectations"}  # typer itself loads pydantic for a command
    assert _modules_loaded_by("--help") == set()
    assert _modules_loaded_by("runs", "--store", str(store)) & import_stack == set()
    assert _modules_loaded_by("report", "1", "--store", str(store)) & import_stack == set()
    assert _modules_loaded_by("segment", "list") & import_stack == set()


def test_make_notebooks_starts_as_root_too():
    import subprocess

    recipe = subprocess.run(["make", "-n", "notebooks"], cwd=REPO, capture_output=True, text=True).stdout
    shell = [line for line in recipe.splitlines() if "jupyter lab" in line][-1]
    as_root = subprocess.run(["bash", "-c", f"id() {{ echo 0; }}; echo {shell.split('notebooks/', 1)[1]}"],
                             capture_output=True, text=True)  # fmt: skip
    assert as_root.stdout.strip() == "--allow-root"


def test_the_readme_example_folders_are_ignored_by_git():
    import subprocess

    for path in ("exports/orders.parquet", "data/exports/orders.parquet"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0, path
