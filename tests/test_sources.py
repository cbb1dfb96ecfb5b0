"""Several files in one run, per-run flags (encoding, compression, connection), limits and secrets.

Remote sources (S3, SFTP, HTTP) against real loopback servers are in test_remote_sources.py.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from conftest import kevel_row, write_csv, write_spec

from etl.sources.files import redact, secrets_of

UKRAINIAN = "Іван Петренко, Київ, ґанок, Євгенія"


def test_every_file_of_a_run_is_reported_with_its_status_rows_and_sha256(tmp_path, etl):
    first = write_csv(tmp_path / "a.csv", [kevel_row("o1"), kevel_row("o2")])
    second = write_csv(tmp_path / "b.csv", [kevel_row("o3")])
    run = etl("import", "--format", "kevel_orders", "--source", str(tmp_path / "*.csv"), "--json")
    assert run.code == 0, run.stderr
    files = [{k: f[k] for k in ("uri", "status", "rows", "sha256", "encoding", "error")} for f in run.json["files"]]
    assert files == [
        {
            "uri": str(path),
            "status": "stored",
            "rows": rows,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "encoding": "utf-8",
            "error": None,
        }
        for path, rows in ((first, 2), (second, 1))
    ]


def test_one_bad_file_fails_the_run_names_itself_and_nothing_is_stored(tmp_path, etl, query):
    write_csv(tmp_path / "a.csv", [kevel_row("o1")])
    bad = write_csv(tmp_path / "b.csv", [kevel_row("o2", lineItem_name="café")])
    bad.write_bytes(bad.read_bytes().replace("café".encode(), b"caf\xe9"))  # latin-1 bytes in a utf-8 run

    run = etl("import", "--format", "kevel_orders", "--source", str(tmp_path / "*.csv"))

    assert run.code == 1
    assert f"{bad}: line 2" in run.stderr
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]
    report = etl("report", "1", "--json").json
    assert report["status"] == "failed"
    assert [(f["uri"], f["status"]) for f in report["files"]] == [
        (str(tmp_path / "a.csv"), "not stored"),
        (str(bad), "failed"),
    ]
    assert f"{bad}: line 2" in report["files"][1]["error"]


def test_encoding_and_compression_flags_override_the_spec(tmp_path, etl, query):
    source = write_csv(tmp_path / "orders.dat", [kevel_row("o1", lineItem_name=UKRAINIAN)], encoding="cp1251")
    packed = tmp_path / "orders.dat.bin"  # gzip without the .gz extension
    packed.write_bytes(gzip.compress(source.read_bytes()))
    spec = write_spec(tmp_path, packed, encoding="utf-8", compression="none")

    failing = etl("import", str(spec))
    assert failing.code == 1  # read as plain UTF-8 it is neither

    run = etl("import", str(spec), "--encoding", "cp1251", "--compression", "gzip", "--json")
    assert run.code == 0, run.stderr
    assert run.json["files"][0]["encoding"] == "cp1251"
    assert query("SELECT name FROM line_items") == [{"name": UKRAINIAN}]


def test_a_gzip_bomb_stops_at_the_limit(tmp_path, etl, query):
    header = write_csv(tmp_path / "h.csv", [kevel_row("o1")]).read_bytes()
    bomb = tmp_path / "orders.csv.gz"
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as packed:
        packed.write(header)
        for _ in range(64):
            packed.write(b"\n" * (1 << 20))  # 64 MiB of blank lines, about 64 KB packed
    bomb.write_bytes(buffer.getvalue())
    spec = write_spec(tmp_path, bomb, max_uncompressed_bytes=10_000_000)

    run = etl("import", str(spec))

    assert run.code == 1
    assert f"{bomb}: the gzip file unpacks to more than 10,000,000 bytes (max_uncompressed_bytes)" in run.stderr
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]


def test_a_zip_member_declaring_more_than_the_limit_is_refused_before_unpacking(tmp_path, etl):
    archive = tmp_path / "orders.csv.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as packed:
        packed.writestr("orders.csv", write_csv(tmp_path / "o.csv", [kevel_row("o1")] * 2000).read_bytes())
    spec = write_spec(tmp_path, archive, max_uncompressed_bytes=1000)

    run = etl("import", str(spec))

    assert run.code == 1
    assert "the zip file unpacks to more than 1,000 bytes" in run.stderr


def test_connection_values_from_the_environment_must_be_set(tmp_path, etl):
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])
    spec = write_spec(tmp_path, source, connection={"password": "${ETL_TEST_UNSET_PASSWORD}"})
    run = etl("import", str(spec))
    assert run.code == 2  # a spec error
    assert f"{spec}: connection.password: the environment variable ETL_TEST_UNSET_PASSWORD is not set" in run.stderr

    ok = etl("import", str(spec), "--json", env={"ETL_TEST_UNSET_PASSWORD": "s3cr3t-value"})
    assert ok.code == 0, ok.stderr  # a local file ignores connection options
    assert "s3cr3t-value" not in ok.stdout + ok.stderr


def test_connection_flags_are_key_value_pairs(tmp_path, etl):
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])
    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--connection", "endpoint_url")
    assert run.code == 2
    assert "--connection 'endpoint_url': expected KEY=VALUE" in run.stdout + run.stderr


def test_secrets_are_found_in_connection_options_and_redacted() -> None:
    options = {
        "key": "AKIAEXAMPLE",
        "secret": "wJalrXUtnFEMI",
        "password": "hunter2",
        "key_filename": "/home/me/.ssh/id_ed25519",
        "endpoint_url": "http://127.0.0.1:9000",
        "client_kwargs": {"aws_session_token": "tok-123"},
    }
    assert sorted(secrets_of(options)) == sorted(["AKIAEXAMPLE", "wJalrXUtnFEMI", "hunter2", "tok-123"])
    message = "denied for sftp://me:hunter2@host/x with secret wJalrXUtnFEMI and token tok-123"
    assert redact(message, secrets_of(options)) == "denied for sftp://host/x with secret *** and token ***"


def test_every_source_must_exist(tmp_path: Path, etl):
    run = etl("import", "--format", "kevel_orders", "--source", str(tmp_path / "nothing-*.csv"))
    assert run.code == 1
    assert f"{tmp_path / 'nothing-*.csv'}: no file matches this pattern" in run.stderr


@pytest.mark.parametrize(
    ("encoding", "expected", "reason"),
    [
        ("cp1251", "cp1251", "chardet: cp1251"),
        ("utf-16", "utf-16", "byte-order mark"),
        ("utf-8-sig", "utf-8-sig", "byte-order mark"),
        ("utf-8", "utf-8", "UTF-8"),
    ],
)
def test_encoding_auto_detects_and_reports_the_encoding(tmp_path, etl, query, encoding, expected, reason):
    rows = [kevel_row(f"o{i}", lineItem_name=UKRAINIAN if i % 50 == 0 else f"item {i}") for i in range(200)]
    source = write_csv(tmp_path / "orders.csv", rows, encoding=encoding)

    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto", "--json")

    assert run.code == 0, run.stderr
    (file,) = run.json["files"]
    assert file["encoding"] == expected
    assert reason in file["encoding_detected"]
    assert query("SELECT DISTINCT name FROM line_items WHERE name NOT LIKE 'item %'") == [{"name": UKRAINIAN}]


def test_encoding_auto_refuses_what_it_cannot_tell(tmp_path, etl):
    source = tmp_path / "orders.csv"
    source.write_bytes(bytes(range(256)) * 64)
    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto")
    assert run.code == 1
    assert f"{source}: " in run.stderr
    assert "encoding" in run.stderr and "Traceback" not in run.stderr
