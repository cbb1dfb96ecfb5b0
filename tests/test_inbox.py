"""`etl inbox`: every file in a folder's root, each its own import, moved to processed/ when done."""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import kevel_row, write_csv, write_spec
from test_remote_sources import isolated_env


def orders(path: Path, *order_ids: str, **values) -> Path:
    return write_csv(path, [kevel_row(order_id, **values) for order_id in order_ids])


def outcome(run) -> list[tuple[str, str, int | None]]:
    return [(Path(f["uri"]).name, f["status"], f["import_id"]) for f in run.json["files"]]


def test_files_are_imported_in_name_order_and_moved_to_processed(tmp_path, etl, query):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    orders(inbox / "b.csv", "o2")
    orders(inbox / "a.csv", "o1")
    orders(inbox / ".uploading.csv", "o9")  # dot files are uploads in progress: left alone
    (inbox / "archive").mkdir()  # only the root counts
    orders(inbox / "archive" / "old.csv", "o8")

    run = etl("inbox", str(inbox), "--spec", str(write_spec(tmp_path)), "--json")

    assert run.code == 0, run.stderr
    assert outcome(run) == [("a.csv", "imported", 1), ("b.csv", "imported", 2)]
    assert run.json["files"][0]["moved_to"] == str(inbox / "processed" / "a.csv")
    assert sorted(p.name for p in inbox.iterdir()) == [".uploading.csv", "archive", "processed"]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a.csv", "b.csv"]
    assert query("SELECT order_id, last_import_id FROM orders ORDER BY 1") == [
        {"order_id": "o1", "last_import_id": 1},
        {"order_id": "o2", "last_import_id": 2},
    ]


def test_a_failed_file_stays_and_the_others_go_on(tmp_path, etl, query):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    orders(inbox / "a.csv", "o1")
    write_csv(inbox / "b.csv", [{"orderId": "o2"}])  # misses required columns
    orders(inbox / "c.csv", "o3")

    run = etl("inbox", str(inbox), "--spec", str(write_spec(tmp_path)), "--json")

    assert run.code == 1
    assert outcome(run) == [
        ("a.csv", "imported", 1),
        ("b.csv", "failed", 2),
        ("c.csv", "imported", 3),
    ]  # the failed import has its id
    assert "missing required columns" in run.json["files"][1]["detail"]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["b.csv"]
    assert query("SELECT order_id FROM orders ORDER BY 1") == [{"order_id": "o1"}, {"order_id": "o3"}]


def test_running_again_never_imports_a_file_twice(tmp_path, etl, query):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = orders(inbox / "a.csv", "o1")
    content = first.read_bytes()
    assert etl("inbox", str(inbox), "--spec", str(write_spec(tmp_path))).code == 0
    (inbox / "a-again.csv").write_bytes(content)  # the same export, dropped again under another name

    run = etl("inbox", str(inbox), "--spec", str(write_spec(tmp_path)), "--json")

    assert run.code == 0, run.stderr
    assert outcome(run) == [("a-again.csv", "skipped", 1)]
    assert "was imported as import 1" in run.json["files"][0]["detail"]
    assert query("SELECT count(*) AS n FROM imports") == [{"n": 1}]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a-again.csv", "a.csv"]


def test_the_event_feed_naming_convention_gives_the_run_its_timestamp(tmp_path, etl):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    orders(inbox / "event_history_20191118170500.json", "o1")
    orders(inbox / "events.json", "o2")
    orders(inbox / "event_history_20191318170500.json", "o3")  # month 13
    spec = write_spec(tmp_path, inbox={"naming": "event_history"})

    run = etl("inbox", str(inbox), "--spec", str(spec), "--json")

    assert run.code == 1
    assert outcome(run) == [
        ("event_history_20191118170500.json", "imported", 1),
        ("event_history_20191318170500.json", "failed", None),
        ("events.json", "failed", None),
    ]
    assert "not named event_history_YYYYMMDDHHMMSS.json" in run.json["files"][2]["detail"]
    assert etl("report", "1", "--json").json["file_timestamp"] == "2019-11-18T17:05:00Z"


def test_a_zip_breaking_the_naming_rule_is_imported_but_failed_and_left(tmp_path, etl, query):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = orders(tmp_path / "x.csv", "o1").read_bytes()
    with zipfile.ZipFile(inbox / "event_history_20191118170500.json.zip", "w") as archive:
        archive.writestr("something_else.json", data)
    with zipfile.ZipFile(inbox / "event_history_20191118180000.json.zip", "w") as archive:
        archive.writestr("event_history_20191118180000.json", orders(tmp_path / "y.csv", "o2").read_bytes())
    spec = write_spec(tmp_path, inbox={"naming": "event_history"})

    run = etl("inbox", str(inbox), "--spec", str(spec), "--json")

    assert run.code == 1
    assert outcome(run) == [
        ("event_history_20191118170500.json.zip", "failed", 1),
        ("event_history_20191118180000.json.zip", "imported", 2),
    ]
    assert "imported, but the archive must hold one file named" in run.json["files"][0]["detail"]
    assert query("SELECT order_id FROM orders ORDER BY 1") == [{"order_id": "o1"}, {"order_id": "o2"}]
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["event_history_20191118170500.json.zip"]
    assert query("SELECT import_id, status, report->>'$.marked_failed' AS why FROM imports ORDER BY 1") == [
        {"import_id": 1, "status": "marked_failed",
         "why": "the archive must hold one file named 'event_history_20191118170500.json'; it holds "
                "['something_else.json']"},
        {"import_id": 2, "status": "completed", "why": None},
    ]  # fmt: skip

    again = etl("inbox", str(inbox), "--spec", str(spec), "--json")  # the file is still marked failed: it stays

    assert again.code == 1
    assert outcome(again) == [("event_history_20191118170500.json.zip", "failed", 1)]
    assert "imported as import 1 (marked_failed)" in again.json["files"][0]["detail"]
    assert again.json["files"][0]["moved_to"] is None
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["event_history_20191118170500.json.zip"]
    assert query("SELECT count(*) AS n FROM imports") == [{"n": 2}]  # not imported again
    assert query("SELECT order_id FROM orders ORDER BY 1") == [{"order_id": "o1"}, {"order_id": "o2"}]


def test_an_inbox_on_s3(s3_server, etl, query, tmp_path):
    bucket = "inbox-test"
    for name, order_id in (("drop/b.csv", "s3-b"), ("drop/a.csv", "s3-a"), ("other/c.csv", "s3-c")):
        s3_server.put(bucket, name, orders(tmp_path / "tmp.csv", order_id).read_bytes())
    spec = write_spec(tmp_path, connection=s3_server.storage_options)

    run = etl("inbox", f"s3://{bucket}/drop", "--spec", str(spec), "--json", env=isolated_env(tmp_path))

    assert run.code == 0, run.stderr
    assert [(f["uri"], f["status"], f["moved_to"]) for f in run.json["files"]] == [
        (f"s3://{bucket}/drop/a.csv", "imported", f"s3://{bucket}/drop/processed/a.csv"),
        (f"s3://{bucket}/drop/b.csv", "imported", f"s3://{bucket}/drop/processed/b.csv"),
    ]
    assert query("SELECT order_id FROM orders ORDER BY 1") == [{"order_id": "s3-a"}, {"order_id": "s3-b"}]
    again = etl("inbox", f"s3://{bucket}/drop", "--spec", str(spec), "--json", env=isolated_env(tmp_path))
    assert again.json["files"] == []


def test_an_inbox_on_sftp(sftp_server, etl, query, tmp_path):
    folder = sftp_server.root / f"inbox-{tmp_path.name}"
    folder.mkdir()
    orders(folder / "b.csv", "ftp-b")
    orders(folder / "a.csv", "ftp-a")
    spec = write_spec(tmp_path, connection={"password": "${ETL_TEST_SFTP_PASSWORD}"})
    env = isolated_env(tmp_path, ETL_TEST_SFTP_PASSWORD=sftp_server.password)

    run = etl("inbox", sftp_server.url(folder.name), "--spec", str(spec), "--json", env=env)

    assert run.code == 0, run.stderr
    assert [(Path(f["uri"]).name, f["status"]) for f in run.json["files"]] == [
        ("a.csv", "imported"),
        ("b.csv", "imported"),
    ]
    assert sorted(p.name for p in (folder / "processed").iterdir()) == ["a.csv", "b.csv"]
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    assert query("SELECT order_id FROM orders ORDER BY 1") == [{"order_id": "ftp-a"}, {"order_id": "ftp-b"}]
    assert sftp_server.password not in run.stdout + run.stderr
