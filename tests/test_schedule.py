"""Scheduled imports: `etl schedule list`, `etl schedule run-due`, skipped and stale runs, history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import kevel_row, write_csv

from etl.errors import SpecError
from etl.spec import validate_spec


def scheduled_spec(folder: Path, name: str, schedule, source: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"format": "kevel_orders", "source": str(source), "schedule": schedule}))
    return path


def lines(run) -> list[dict]:
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def test_list_shows_each_schedule_in_words_with_its_next_three_runs(tmp_path, etl):
    specs = tmp_path / "specs"
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])
    scheduled_spec(specs, "nightly", "0 3 * * *", source)
    scheduled_spec(specs, "twice_a_year", {"months": [7, 1], "days": 1, "hours": 3}, source)
    (specs / "adhoc.yaml").write_text(f"format: kevel_orders\nsource: {source}\n")  # no schedule: not listed

    run = etl("schedule", "list", "--specs", str(specs), "--now", "2026-11-24T12:00:00Z", "--json", use_store=False)

    assert run.code == 0, run.stderr
    assert [(r["name"], r["cron"], r["in_words"], r["next"]) for r in lines(run)] == [
        (
            "nightly",
            "0 3 * * *",
            "At 03:00 AM (UTC)",
            ["2026-11-25T03:00:00+00:00", "2026-11-26T03:00:00+00:00", "2026-11-27T03:00:00+00:00"],
        ),
        (
            "twice_a_year",
            "0 3 1 1,7 *",
            "At 03:00 AM, on day 1 of the month, only in January and July (UTC)",
            ["2027-01-01T03:00:00+00:00", "2027-07-01T03:00:00+00:00", "2028-01-01T03:00:00+00:00"],
        ),
    ]


def test_a_years_filter_limits_the_runs(tmp_path, etl):
    specs = tmp_path / "specs"
    scheduled_spec(specs, "once", {"years": 2028, "months": 2, "days": 29, "hours": 0}, tmp_path / "x.csv")
    run = etl("schedule", "list", "--specs", str(specs), "--now", "2026-11-24T00:00:00Z", "--json", use_store=False)
    assert lines(run)[0]["next"] == ["2028-02-29T00:00:00+00:00"]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("61 * * * *", "schedule: not a cron expression"),
        ({"hours": 24}, "schedule.ScheduleForm.hours: expected a whole number from 0 to 23"),
        ({"weeks": 2}, "schedule.ScheduleForm.weeks: unknown key"),
    ],
)
def test_a_bad_schedule_is_a_spec_error(schedule, message):
    with pytest.raises(SpecError) as caught:
        validate_spec({"format": "kevel_orders", "source": "a.csv", "schedule": schedule}, "nightly.yaml")
    assert message in str(caught.value)


def run_due(etl, specs: Path, store: Path, now: str):
    return etl("schedule", "run-due", "--specs", str(specs), "--store", str(store), "--now", now, "--json",
               use_store=False)  # fmt: skip


def test_run_due_runs_what_is_due_once(tmp_path, etl, store, query):
    specs = tmp_path / "specs"
    scheduled_spec(specs, "nightly", "0 3 * * *", write_csv(tmp_path / "orders.csv", [kevel_row("o1")]))

    first = run_due(etl, specs, store, "2026-11-24T03:02:00Z")
    again = run_due(etl, specs, store, "2026-11-24T03:07:00Z")  # five minutes later: already done
    next_day = run_due(etl, specs, store, "2026-11-25T03:01:00Z")

    assert first.code == 0, first.stderr
    assert [(e["schedule"], e["due_at"], e["status"], e["import_id"]) for e in lines(first)] == [
        ("nightly", "2026-11-24T03:00:00+00:00", "completed", 1)
    ]
    assert lines(again) == []
    assert [(e["due_at"], e["import_id"]) for e in lines(next_day)] == [("2026-11-25T03:00:00+00:00", 2)]
    assert query("SELECT import_id, report->>'schedule' AS schedule FROM imports ORDER BY 1") == [
        {"import_id": 1, "schedule": "nightly"},
        {"import_id": 2, "schedule": "nightly"},
    ]
    history = etl("runs", "--schedule", "nightly", "--json")
    assert [(e["due_at"], e["status"]) for e in lines(history)] == [
        ("2026-11-25T03:00:00+00:00", "completed"),
        ("2026-11-24T03:00:00+00:00", "completed"),
    ]


def lock_of(store: Path, name: str) -> Path:
    path = store.with_name(store.name + ".locks") / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_run_triggered_while_the_previous_one_runs_is_skipped(tmp_path, etl, store, query):
    specs = tmp_path / "specs"
    scheduled_spec(specs, "hourly", "0 * * * *", write_csv(tmp_path / "orders.csv", [kevel_row("o1")]))
    store.parent.mkdir(parents=True)
    still_running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        lock_of(store, "hourly").write_text(json.dumps({"pid": still_running.pid, "host": socket.gethostname()}))
        run = run_due(etl, specs, store, "2026-11-24T10:00:30Z")
    finally:
        still_running.kill()
        still_running.wait()

    assert run.code == 0, run.stderr
    [entry] = lines(run)
    assert entry["status"] == "skipped"
    assert f"the previous run is still running (process {still_running.pid}" in entry["detail"]
    assert not store.exists() or query("SELECT count(*) AS n FROM imports") == [{"n": 0}]
    assert lines(etl("runs", "--schedule", "hourly", "--json"))[0]["status"] == "skipped"


def test_a_lock_left_by_a_crashed_run_is_cleared(tmp_path, etl, store, query):
    specs = tmp_path / "specs"
    scheduled_spec(specs, "hourly", "0 * * * *", write_csv(tmp_path / "orders.csv", [kevel_row("o1")]))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed_pid = int(gone.stdout)
    import socket

    lock_of(store, "hourly").write_text(json.dumps({"pid": crashed_pid, "host": socket.gethostname()}))

    run = run_due(etl, specs, store, "2026-11-24T10:00:30Z")

    assert run.code == 0, run.stderr
    [entry] = lines(run)
    assert (entry["status"], entry["import_id"]) == ("completed", 1)
    assert f"cleared a stale lock left by process {crashed_pid}" in entry["note"]
    assert not lock_of(store, "hourly").exists()


def test_each_scheduled_spec_is_imported_into_its_own_store(tmp_path, etl):
    specs = tmp_path / "specs"
    crm = tmp_path / "srv" / "crm.duckdb"
    path = scheduled_spec(specs, "nightly", "0 3 * * *", write_csv(tmp_path / "orders.csv", [kevel_row("o1")]))
    path.write_text(path.read_text() + f"store: {crm}\n")

    run = etl("schedule", "run-due", "--specs", str(specs), "--now", "2026-11-24T03:02:00Z", "--json", use_store=False)

    assert run.code == 0, run.stderr
    assert [(e["status"], e["store"]) for e in lines(run)] == [("completed", str(crm))]
    with duckdb.connect(str(crm), read_only=True) as con:
        assert con.execute("SELECT order_id FROM orders").fetchall() == [("o1",)]
    assert crm.with_name("crm.duckdb.schedules.jsonl").exists()  # its history beside its store
    history = etl("runs", "--schedule", "nightly", "--specs", str(specs), "--json", use_store=False)
    assert [e["status"] for e in lines(history)] == ["completed"]


def test_store_flag_overrides_every_spec_store(tmp_path, etl, store, query):
    specs = tmp_path / "specs"
    crm = tmp_path / "srv" / "crm.duckdb"
    path = scheduled_spec(specs, "nightly", "0 3 * * *", write_csv(tmp_path / "orders.csv", [kevel_row("o1")]))
    path.write_text(path.read_text() + f"store: {crm}\n")

    run = run_due(etl, specs, store, "2026-11-24T03:02:00Z")

    assert [(e["status"], e["store"]) for e in lines(run)] == [("completed", str(store))]
    assert query("SELECT order_id FROM orders") == [{"order_id": "o1"}]
    assert not crm.exists()


def test_an_invalid_spec_is_reported_and_the_valid_schedules_still_list_and_run(tmp_path, etl, store, query):
    """One bad spec used to stop both commands (exit 1, no schedule at all): now each valid schedule is listed
    and run, each invalid spec named on stderr with its key and what was expected, and the exit status is 1."""
    specs = tmp_path / "specs"
    scheduled_spec(specs, "a_bad_cron", "0 3 * *", tmp_path / "none.csv")
    scheduled_spec(specs, "nightly", "0 3 * * *", write_csv(tmp_path / "orders.csv", [kevel_row("o1")]))
    (specs / "b_bad_key.yaml").write_text('format: kevel_orders\nsource: x.csv\nschedule: "0 3 * * *"\nencoding: 7\n')

    listed = etl("schedule", "list", "--specs", str(specs), "--now", "2026-11-24T00:00:00Z", "--json")
    ran = run_due(etl, specs, store, "2026-11-24T03:02:00Z")

    for run in (listed, ran):
        assert run.code == 1
        errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        assert errors == [
            f"error: invalid spec, not scheduled: {specs / 'a_bad_cron.yaml'}: invalid import spec",
            f"error: invalid spec, not scheduled: {specs / 'b_bad_key.yaml'}: invalid import spec",
        ]
        assert "  schedule: not a cron expression (minute hour day month weekday, UTC)" in run.stderr
        assert "  encoding: Input should be a valid string (got 7)" in run.stderr
    assert [row["name"] for row in lines(listed)] == ["nightly"]
    assert [(e["schedule"], e["status"], e["import_id"]) for e in lines(ran)] == [("nightly", "completed", 1)]
    assert query("SELECT order_id, last_import_id FROM orders") == [{"order_id": "o1", "last_import_id": 1}]
