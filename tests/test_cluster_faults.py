"""Staging on a cluster when things go wrong (issue 36): a worker killed mid-task, the scheduler gone, the importing
process killed, a source the workers cannot reach; and the object-store staging path, with secrets kept out of
every name, log and error."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import psutil
import pytest

from etl.errors import EtlError, InputError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec
from tests.conftest import ETL, environment, kevel_row, write_csv
from tests.test_executors import dump, orders_file, report_of

distributed = pytest.importorskip("distributed")
DEADLINE_S = 120  # a wait that only a hang reaches


class _Gate:
    """A source server that holds the first download of a file until the test lets it go: the moment a worker is
    inside its task, for the test to act on."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.go = threading.Event()


@contextmanager
def gated_http(root: Path, name: str) -> Iterator[tuple[str, _Gate]]:
    gate = _Gate()

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.endswith(name) and not gate.go.is_set():
                gate.asked.set()
                gate.go.wait(DEADLINE_S)
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{name}", gate
    finally:
        gate.go.set()
        server.shutdown()
        server.server_close()


def importing(spec: dict, store: Path) -> tuple[threading.Thread, dict]:
    """The import in a thread of its own: its report, or the error it raised, in the dict returned."""
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["report"] = run_import(validate_spec(spec, "test"), store)
        except BaseException as exc:  # noqa: BLE001 (handed to the test)
            outcome["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    return thread, outcome


@pytest.fixture(autouse=True)
def no_suites(monkeypatch, tmp_path_factory) -> None:
    """These tests are about staging's faults: the quality gate reads the store after the merge, the same whichever
    executor staged (tests/test_executors.py compares its verdicts across executors), so they check no suite."""
    monkeypatch.setenv("ETL_EXPECTATIONS", str(tmp_path_factory.mktemp("no-suites")))


@pytest.fixture(scope="module")
def process_cluster():
    """Dask workers in processes of their own: tasks are pickled to reach them."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        with distributed.Client(c) as client:
            yield c, client


def local_import(source: Path | str, store: Path) -> tuple[dict, dict]:
    report = run_import(validate_spec({"format": "kevel_orders", "source": str(source)}, "test"), store)
    return report_of(report), dump(store)


def test_a_worker_killed_in_its_task_is_replaced_and_the_store_is_the_same(process_cluster, tmp_path):
    cluster, client = process_cluster
    orders_file(tmp_path / "orders.csv")
    with gated_http(tmp_path, "orders.csv") as (url, gate):
        spec = {"format": "kevel_orders", "source": url, "executor": {"dask": {"address": cluster.scheduler_address}}}
        thread, outcome = importing(spec, tmp_path / "cdp.duckdb")
        assert gate.asked.wait(DEADLINE_S), "no worker asked for the file"
        busy = [w for w, keys in client.processing().items() if any(str(k).startswith("etl-stage-") for k in keys)]
        assert busy, client.processing()  # the task runs on a worker, blocked reading its source
        pids = client.run(os.getpid, workers=busy)
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)  # mid-task: it is reading the source
        gate.go.set()
        thread.join(DEADLINE_S)
        assert "error" not in outcome, outcome.get("error")
        assert (report_of(outcome["report"]), dump(tmp_path / "cdp.duckdb")) == local_import(url, tmp_path / "l.duckdb")


def test_staging_on_an_object_store_with_secrets_kept_out_of_names_logs_and_errors(process_cluster, s3_server,
                                                                                  tmp_path):  # fmt: skip
    cluster, client = process_cluster
    orders = orders_file(tmp_path / "orders.csv")
    bucket = "cluster-staging"
    uri = s3_server.put(bucket, f"{tmp_path.name}/orders.csv", orders.read_bytes())
    local = {"format": "kevel_orders", "source": uri, "connection": s3_server.storage_options}
    expected = report_of(run_import(validate_spec(local, "test"), tmp_path / "l.duckdb")), dump(tmp_path / "l.duckdb")
    staging = f"s3://{bucket}/{tmp_path.name}/staging"
    spec = {"format": "kevel_orders", "source": uri, "connection": s3_server.storage_options,
            "executor": {"dask": {"address": cluster.scheduler_address}},
            "staging": {"path": staging, "connection": s3_server.storage_options, "part_bytes": 500}}  # fmt: skip
    store = tmp_path / "cdp.duckdb"
    report = run_import(validate_spec(spec, "test"), store)
    assert (report_of(report), dump(store)) == expected
    # the staged parts are gone, and only the import's folder was ever there
    fs = s3_server_fs(s3_server)
    assert fs.find(staging) == []
    # a failing task (a file without the required columns): its error, the workers' logs, the task names
    bad = s3_server.put(bucket, f"{tmp_path.name}/bad.csv", b"a,b\n1,2\n")
    with pytest.raises(InputError) as failed:
        run_import(validate_spec({**spec, "source": bad}, "test"), store)
    assert "missing required column" in str(failed.value)
    logs = json.dumps([client.get_worker_logs(), client.get_scheduler_logs()])
    names = json.dumps(client.run_on_scheduler(lambda dask_scheduler: list(map(str, dask_scheduler.tasks))))
    for secret in (s3_server.secret, s3_server.key):
        assert secret not in str(failed.value)
        assert secret not in logs
        assert secret not in names
        assert secret not in json.dumps(report, default=str)
    assert "Compute Failed" in logs  # the workers did log the failed task: without its connection


def s3_server_fs(s3_server):
    import fsspec

    return fsspec.filesystem("s3", skip_instance_cache=True, **s3_server.storage_options)


@contextmanager
def scheduler_and_worker(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A Dask scheduler and one worker as a user starts them by hand (`dask scheduler`, `dask worker`)."""
    info = tmp_path / "scheduler.json"
    python = [sys.executable, "-m"]
    scheduler = subprocess.Popen([*python, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        worker = subprocess.Popen([*python, "distributed.cli.dask_worker", "--scheduler-file", str(info),
                                   "--nthreads", "1", "--no-dashboard", "--no-nanny"],
                                  cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=environment({"PYTHONPATH": os.pathsep.join(sys.path)}))  # fmt: skip
        address = json.loads(info.read_text())["address"]
        with distributed.Client(address, timeout=DEADLINE_S) as client:
            client.wait_for_workers(1, timeout=DEADLINE_S)
        yield address, scheduler
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.kill()
                process.wait()


def test_the_scheduler_gone_fails_the_import_clearly_and_leaves_the_store_as_it_was(tmp_path):
    store = tmp_path / "cdp.duckdb"
    first = write_csv(tmp_path / "first.csv", [kevel_row("a1")])
    run_import(validate_spec({"format": "kevel_orders", "source": str(first)}, "test"), store)
    before = dump(store)
    orders = orders_file(tmp_path / "orders.csv")
    import dask

    with scheduler_and_worker(tmp_path) as (address, scheduler), gated_http(tmp_path, "orders.csv") as (url, gate):
        spec = {"format": "kevel_orders", "source": url, "executor": f"dask://{address.split('://')[1]}"}
        with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
            thread, outcome = importing(spec, store)
            assert gate.asked.wait(DEADLINE_S)
            scheduler.kill()
            scheduler.wait()
            gate.go.set()
            thread.join(DEADLINE_S)
    error = outcome.get("error")
    assert isinstance(error, EtlError), error
    assert "the Dask scheduler is gone" in str(error) and "the store is unchanged" in str(error)
    assert dump(store) | {"imports": None} == before | {"imports": None}
    assert [r[1] for r in map(eval, dump(store)["imports"])] == ["completed", "failed"]  # noqa: S307 (reprs)
    assert orders.exists()


def test_a_source_the_workers_cannot_reach_is_named_as_the_worker_sees_it(tmp_path):
    """A file in this process's own memory (fsspec's memory file system): the importing process lists and reads it,
    a worker in another process cannot, as a cluster's workers cannot read a laptop's files."""
    import fsspec

    fs = fsspec.filesystem("memory")
    source = f"memory://{tmp_path.name}/orders.csv"
    fs.pipe(source, write_csv(tmp_path / "orders.csv", [kevel_row("a1")]).read_bytes())
    store = tmp_path / "cdp.duckdb"
    assert run_import(validate_spec({"format": "kevel_orders", "source": source}, "t"), store)["status"] == "completed"
    with scheduler_and_worker(tmp_path) as (address, _):
        spec = {"format": "kevel_orders", "source": source, "executor": {"dask": {"address": address}}}
        with pytest.raises(InputError) as failed:
            run_import(validate_spec(spec, "test"), store)
    message = str(failed.value)
    assert f"{source}: no such file" in message
    assert "as seen from Dask worker tcp://127.0.0.1:" in message
    assert "every source must be reachable from every worker" in message
    fs.rm(source)


def test_the_importing_process_killed_anywhere_leaves_the_store_before_or_after_and_the_next_cleans_up(tmp_path):
    """kill -9 of an import staged by a pool of processes, at random moments and once while a worker reads its
    source: the store is as it was or as the import makes it, never between; the staging folders the killed
    imports left are removed by the next import."""
    orders_file(tmp_path / "orders.csv")
    template, store, staging = tmp_path / "template.duckdb", tmp_path / "cdp.duckdb", tmp_path / "staging"
    first = write_csv(tmp_path / "first.csv", [kevel_row("a1")])
    run_import(validate_spec({"format": "kevel_orders", "source": str(first)}, "t"), template)

    def fresh() -> None:
        store.with_name(store.name + ".wal").unlink(missing_ok=True)
        shutil.copyfile(template, store)

    def content() -> dict:
        duckdb.connect(str(store)).close()  # a killed writer's log replayed, as the next import would
        return dump(store) | {"imports": None}  # (the killed run's own row aside)

    with gated_http(tmp_path, "orders.csv") as (url, gate):
        gate.go.set()
        spec = tmp_path / "spec.yaml"
        spec.write_text(json.dumps({"format": "kevel_orders", "source": url, "executor": "processes:1",
                                    "staging": {"path": str(staging), "part_bytes": 300}}))  # fmt: skip
        command = [*ETL, "import", str(spec), "--store", str(store), "--json"]
        fresh()
        before = content()
        started = time.monotonic()
        subprocess.run(command, check=True, capture_output=True, env=environment())
        whole = time.monotonic() - started
        after = content()
        assert after != before
        rng = random.Random(36)
        for moment in [*(rng.uniform(0.1, 1.0) for _ in range(2)), "while staging"]:  # (each import removes the
            # folders of the imports killed before it: the last one's is left)
            fresh()
            if moment == "while staging":
                gate.go.clear(), gate.asked.clear()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       env=environment())  # fmt: skip
            pool = []
            if moment == "while staging":
                assert gate.asked.wait(DEADLINE_S)  # a worker is reading the source: the staging folder is there
                assert any(staging.iterdir())
                pool = psutil.Process(process.pid).children(recursive=True)
                assert pool
            else:
                time.sleep(moment * whole)  # a moment within an import's length, drawn
            process.kill()
            process.wait()
            gone, alive = psutil.wait_procs(pool, timeout=DEADLINE_S)  # the pool's processes end with it
            assert not alive
            gate.go.set()
            assert content() in (before, after)
        left = sorted(p.name for p in staging.iterdir())
        assert left  # the one killed while staging
        fresh()
        report = run_import(validate_spec(json.loads(spec.read_text()), "spec"), store)  # the next import, here
    assert report["status"] == "completed"
    assert sorted(p.name for p in staging.iterdir()) == []  # the killed imports' folders too
    assert report["timings_s"]["staging_orphans_removed"] == len(left)


def test_workers_read_an_sftp_source_in_parts_with_the_password_the_spec_names(process_cluster, sftp_server, tmp_path,
                                                                               monkeypatch):  # fmt: skip
    """The password is read from the environment by the importing process and reaches the workers in their tasks."""
    cluster, _ = process_cluster
    folder = sftp_server.root / f"cluster-{tmp_path.name}"
    folder.mkdir()
    orders_file(folder / "orders.csv")
    uri = sftp_server.url(f"{folder.name}/orders.csv")
    monkeypatch.setenv("ETL_TEST_SFTP_PASSWORD", sftp_server.password)
    local = {"format": "kevel_orders", "source": uri, "connection": {"password": "${ETL_TEST_SFTP_PASSWORD}"}}
    expected = report_of(run_import(validate_spec(local, "test"), tmp_path / "l.duckdb")), dump(tmp_path / "l.duckdb")
    spec = {**local, "executor": {"dask": {"address": cluster.scheduler_address}}, "staging": {"part_bytes": 700}}
    report = run_import(validate_spec(spec, "test"), tmp_path / "cdp.duckdb")
    assert report["staging"]["parts"] > 1
    assert (report_of(report), dump(tmp_path / "cdp.duckdb")) == expected
