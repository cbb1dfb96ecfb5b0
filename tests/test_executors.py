"""Executors (issue 36): the same specs staged in this process (`local`), in a pool of processes and on a Dask cluster
give the same store, every table and every row, and the same reports but for timings; large files split into parts
at record boundaries (an order's rows in one part) as if read whole."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from etl.errors import InputError, SpecError
from etl.pipeline import executors
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import REPO, SHARED_DATA, kevel_row, line_row, write_csv

SAMPLES = REPO / "etl" / "samples" / "files"
# how long it took, when it ran, where it was staged; and the surrogate customer numbers a sample shows (see LABELS)
NOT_COMPARED = {"timings_s", "duration_s", "run_time", "validation_time", "customer_id", "staging"}


# A store's surrogate numbers (customers', events', identity nodes') are handed out in whatever order DuckDB's
# threads meet the rows, even by two local imports of one file: the dump names each by what it stands for instead.
LABELS = """
CREATE TEMP TABLE c AS SELECT customer_id AS id,
    string_agg(id_type || ':' || id_value, ' ' ORDER BY id_type, id_value) AS label FROM identities GROUP BY 1;
CREATE TEMP TABLE n AS SELECT node AS id, id_type || ':' || id_value AS label FROM identities;
CREATE TEMP TABLE e AS SELECT event_id AS id, concat_ws('|', format, event_type, order_id, occurred_at, event_key,
    record_hash, user_id) AS label
    FROM (SELECT * FROM events UNION ALL SELECT * EXCLUDE (deleted_by) FROM deleted_events);
"""
CANONICAL = {
    "customers": "SELECT c.label, t.* EXCLUDE (customer_id) FROM customers t LEFT JOIN c ON c.id = t.customer_id",
    "customer_attribute_times": "SELECT c.label, t.* EXCLUDE (customer_id) FROM customer_attribute_times t "
                                "LEFT JOIN c ON c.id = t.customer_id",
    "customer_keys": "SELECT c.label FROM customer_keys t LEFT JOIN c ON c.id = t.customer_id",
    "customer_merges": "SELECT t.import_id, c.label FROM customer_merges t LEFT JOIN c ON c.id = t.into_id",
    "identities": "SELECT t.* EXCLUDE (customer_id, node, cluster), c.label FROM identities t "
                  "LEFT JOIN c ON c.id = t.customer_id",
    "identity_links": "SELECT a.label, b.label, t.external, t.first_import_id FROM identity_links t "
                      "LEFT JOIN n a ON a.id = t.a LEFT JOIN n b ON b.id = t.b",
    "events": "SELECT t.* EXCLUDE (event_id, customer_id), c.label FROM events t LEFT JOIN c ON c.id = t.customer_id",
    "orders": "SELECT t.* EXCLUDE (customer_id), c.label FROM orders t LEFT JOIN c ON c.id = t.customer_id",
    "deleted_events": "SELECT t.* EXCLUDE (event_id, customer_id), c.label FROM deleted_events t "
                      "LEFT JOIN c ON c.id = t.customer_id",
    "event_items": "SELECT e.label, t.* EXCLUDE (event_id) FROM event_items t LEFT JOIN e ON e.id = t.event_id",
    "deleted_event_items": "SELECT e.label, t.* EXCLUDE (event_id) FROM deleted_event_items t "
                           "LEFT JOIN e ON e.id = t.event_id",
    "order_facts": "SELECT t.* EXCLUDE (customer_key), c.label FROM order_facts t "
                   "LEFT JOIN customer_keys k USING (customer_key) LEFT JOIN c ON c.id = k.customer_id",
    "imports": "SELECT * EXCLUDE (started_at, finished_at, report) FROM imports",  # when it ran; reports: apart
}  # fmt: skip


def dump(store: Path) -> dict[str, list[str]]:
    """Every table of the store, every row, sorted, each surrogate number named by what it stands for."""
    with duckdb.connect(str(store), read_only=True) as con:
        con.execute(LABELS)
        tables = [t for (t,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE NOT internal "
                                        "AND NOT temporary").fetchall()]  # fmt: skip
        return {t: sorted(map(repr, con.sql(CANONICAL.get(t, f"SELECT * FROM {t}")).fetchall()))  # noqa: S608
                for t in tables}  # fmt: skip


def report_of(result: dict) -> dict:
    """The report as JSON gives it, without its times (and surrogate numbers) at any depth."""

    def timeless(value):
        if isinstance(value, dict):
            return {k: timeless(v) for k, v in value.items() if k not in NOT_COMPARED}
        return [timeless(v) for v in value] if isinstance(value, list) else value

    return timeless(json.loads(json.dumps(result, default=str)))


def orders_file(path: Path) -> Path:
    """Kevel orders of one to four rows each, some rejected (a bad status, a bad total), a quoted value with a line
    break, and blank lines: small parts split them everywhere."""
    rows = []
    for number in range(30):
        order = f"o{number}"
        rows.append(kevel_row(order, total="x" if number % 11 == 5 else "10",
                              lineItem_sku=f"s{number}\nsecond line" if number % 7 == 3 else f"s{number}"))  # fmt: skip
        for line in range(number % 4):
            rows.append(line_row(order, lineItem_sku=f"s{number}-{line}",
                                 lineItem_status="lost" if (number, line) == (9, 1) else "paid"))  # fmt: skip
    rows.append(kevel_row("o3", lineItem_sku="again"))  # an order again later in the file: the later one wins
    write_csv(path, rows)
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    text[10:10] = ["\n", "\n"]  # blank lines inside the file
    path.write_text("".join(text) + "\n", encoding="utf-8")
    return path


def users_lines(path: Path) -> Path:
    records = [{"customerNumber": f"c{n % 17}", "mail": f"u{n}@example.com", "city": f"city {n}"} for n in range(40)]
    lines = [json.dumps(r) for r in records]
    lines[7] = "{not json"
    path.write_text("\n".join(lines[:20]) + "\n\n" + "\n".join(lines[20:]) + "\n", encoding="utf-8")
    return path


def users_csv(path: Path, encoding: str = "utf-8") -> Path:
    rows = [{"customerNumber": f"c{n % 13}", "mail": f"u{n}@example.com" if n != 4 else "not an email",
             "city": f"Zürich, {n}" if n % 3 else f"city, {n}"} for n in range(40)]  # fmt: skip
    return write_csv(path, rows, encoding=encoding)


def esputnik_lines(path: Path) -> Path:
    """Bodies of past events, one a line, some with several events, of people the store does not know."""
    bodies = []
    for number in range(12):
        events = [
            {
                "eventTypeKey": "pageViewed",
                "keyValue": f"p{number}@example.com",
                "occurred": f"2024-01-{number % 28 + 1:02d}T10:00:00",
                "params": [{"name": "email", "value": f"p{number}@example.com"}],
            }  # fmt: skip
            for _ in range(number % 3 + 1)
        ]
        bodies.append(json.dumps({"events": events}))
    path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
    return path


def gzipped(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    return target


USERS_OPTIONS = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail"}}


def imports(folder: Path) -> list[dict]:
    """Every format's fixtures, several files to an import where they can be (their records numbered file by file);
    the imports of files split into parts twice (the second time their records are known, and staged apart as keys
    and hashes)."""
    users = {"format": "kevel_users", "options": USERS_OPTIONS, "encoding": "auto"}
    twice = [
        {"format": "kevel_orders",
         "source": [str(orders_file(folder / "orders.csv")), str(SAMPLES / "kevel_orders.csv")]},
        {**users, "source": [str(users_csv(folder / "users.csv")),  # split, its encoding detected once, as the whole's
                             str(users_csv(folder / "users-1252.csv", "cp1252")),  # staged whole: a code page
                             str(gzipped(users_csv(folder / "users-auto.csv")))]},  # staged whole: compressed
        {**users, "source": str(users_lines(folder / "users.jsonl"))},
        {"format": "esputnik_events", "source": [str(SAMPLES / "esputnik_events.json"),  # a JSON array: one task
                                                 str(esputnik_lines(folder / "bodies.jsonl"))]},
    ]  # fmt: skip
    once = [
        {"format": "shopify_orders", "source": str(SHARED_DATA / "shopify" / "devstore_orders_export.csv")},
        {"format": "kevel_users", "source": str(SAMPLES / "kevel_users.jsonl"),
         "options": {"id": {"field": "customerNumber", "type": "external_id"}}},
        {"format": "google_merchant", "source": str(SAMPLES / "google_merchant.xml")},
        {"format": "crossengage_events", "source": str(SAMPLES / "event_history_20240315120000.json")},
    ]  # fmt: skip
    return [*twice[:1], *twice[:1], *once, *[spec for spec in twice[1:] for _ in range(2)]]


def run_all(store: Path, specs: list[dict], executor, part_bytes: int = 300) -> list[dict]:
    reports = []
    for spec in specs:
        given = dict(spec)
        if executor is not None:
            given["executor"] = executor
            given["staging"] = {"part_bytes": part_bytes}
        reports.append(report_of(run_import(validate_spec(given, "test"), store)))
    return reports


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[dict]:
    return imports(tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def no_suites(monkeypatch, tmp_path_factory) -> None:
    """For the tests of splitting alone: the gate reads the store after the merge, the same whichever executor
    staged, and the differential test compares its verdicts."""
    monkeypatch.setenv("ETL_EXPECTATIONS", str(tmp_path_factory.mktemp("no-suites")))


@pytest.fixture(scope="module")
def threaded_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        yield c


def test_processes_and_a_dask_cluster_give_the_store_and_reports_of_local_staging(inputs, tmp_path, threaded_cluster):
    expected = run_all(tmp_path / "local.duckdb", inputs, None), dump(tmp_path / "local.duckdb")
    for name, executor in [
        ("processes", "processes:2"),
        ("dask", {"dask": {"address": threaded_cluster.scheduler_address}}),
    ]:
        store = tmp_path / f"{name}.duckdb"
        assert (run_all(store, inputs, executor), dump(store)) == expected, name


def test_parts_of_every_size_give_what_the_whole_file_gives(inputs, tmp_path, threaded_cluster, no_suites):
    """Bounds everywhere: inside quoted line breaks, inside orders, next to blank lines."""
    orders = [{"format": "kevel_orders", "source": inputs[0]["source"][0]}]
    whole = tmp_path / "whole.duckdb"
    expected = run_all(whole, orders, None)
    for size in (40, 211, 1024):
        store = tmp_path / f"parts-{size}.duckdb"
        assert run_all(store, orders, {"dask": {"address": threaded_cluster.scheduler_address}}, size) == expected
        assert dump(store) == dump(whole)


def test_the_executor_setting_is_read_and_its_mistakes_named(monkeypatch):
    assert executors.parse("processes:3") == executors.Setting("processes", workers=3)
    assert executors.parse("dask://sched:8786") == executors.Setting("dask", "tcp://sched:8786")
    assert executors.parse({"dask": {"address": "tls://sched:8786"}}) == executors.Setting("dask", "tls://sched:8786")
    monkeypatch.setenv("ETL_EXECUTOR", "processes")
    assert executors.chosen(None, "spec").kind == "processes"
    assert executors.chosen("local", "spec").kind == "local"  # the spec's (or the command line's) first
    with pytest.raises(SpecError, match=r"executor: expected local, processes.*got 'threads'"):
        validate_spec({"format": "kevel_orders", "source": "x.csv", "executor": "threads"}, "spec.yaml")


@pytest.mark.parametrize("fmt", ["kevel_orders", "kevel_users"])  # found by the survey / by its part's task
def test_a_bad_record_in_a_part_is_named_by_its_line_in_the_file(tmp_path, threaded_cluster, fmt, no_suites):
    if fmt == "kevel_orders":
        path, options = write_csv(tmp_path / "orders.csv", [kevel_row(f"o{n}") for n in range(40)]), {}
    else:
        path, options = users_csv(tmp_path / "users.csv"), USERS_OPTIONS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[31] = lines[31].rstrip("\n") + ",one,field,too,many\n"  # line 32 of the file, in a later part
    path.write_text("".join(lines), encoding="utf-8")
    messages = []
    for executor in (None, {"dask": {"address": threaded_cluster.scheduler_address}}):
        with pytest.raises(InputError) as failed:
            run_all(tmp_path / "cdp.duckdb", [{"format": fmt, "source": str(path), "options": options}], executor,
                    200)  # fmt: skip
        messages.append(str(failed.value).split("\n", 1)[1])  # after "Import N failed ..."
    assert "line 32" in messages[0]
    assert messages[1] == messages[0]


def test_files_as_other_tools_write_them_split_as_they_read_whole(tmp_path, threaded_cluster, no_suites):
    """Line breaks of Windows, a byte-order mark, no final line break, blank lines at the end, line breaks inside
    quoted values: each file of an import, in parts of 97 bytes; and a quote inside a value (staged whole), which
    fails the import with the same error either way."""
    rows = [kevel_row(f"o{n}", lineItem_sku=f"s{n}") for n in range(12)] + [line_row("o11", lineItem_sku="x")]
    text = write_csv(tmp_path / "base.csv", rows).read_bytes()
    quoted = write_csv(tmp_path / "q.csv", [kevel_row(f"q{n}", lineItem_sku=f"a\nb{n}") for n in range(10)])
    users, bodies = users_lines(tmp_path / "u.jsonl").read_bytes(), esputnik_lines(tmp_path / "b.jsonl").read_bytes()
    variants = {
        "crlf.csv": text.replace(b"\n", b"\r\n"), "bom.csv": b"\xef\xbb\xbf" + text, "last.csv": text.rstrip(b"\n"),
        "blanks.csv": text + b"\n\n\n",
        "quoted.csv": quoted.read_bytes().replace(b"\n", b"\r\n"),
        "u-crlf.jsonl": users.replace(b"\n", b"\r\n"), "u-bom.jsonl": b"\xef\xbb\xbf" + users,
        "u-last.jsonl": users.rstrip(b"\n"), "b-crlf.jsonl": bodies.replace(b"\n", b"\r\n"),
        "b-blank.jsonl": bodies.replace(b"\n", b"\n\n", 3),
    }  # fmt: skip
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)

    def files(prefix: str, suffix: str) -> list[str]:
        return [str(tmp_path / n) for n in variants if n.startswith(prefix) and n.endswith(suffix)]

    specs = [
        {"format": "kevel_orders", "source": files("", ".csv")},
        {"format": "kevel_users", "source": files("u-", ".jsonl"), "options": USERS_OPTIONS},
        {"format": "esputnik_events", "source": files("b-", ".jsonl")},
    ]
    expected = run_all(tmp_path / "local.duckdb", specs, None), dump(tmp_path / "local.duckdb")
    executor = {"dask": {"address": threaded_cluster.scheduler_address}}
    assert (run_all(tmp_path / "dask.duckdb", specs, executor, 97), dump(tmp_path / "dask.duckdb")) == expected
    stray = tmp_path / "stray.csv"
    stray.write_bytes(text.replace(b"s3,", b's3 5" tv,'))
    errors = []
    for given in (None, executor):
        with pytest.raises(InputError) as failed:
            run_all(tmp_path / "stray.duckdb", [{"format": "kevel_orders", "source": str(stray)}], given, 97)
        errors.append(str(failed.value).split("\n", 1)[1])
    assert errors[0] == errors[1]
