"""Shared fixtures: run the `etl` command (in the test's process, or in a process of its own), write small CSVs,
open the store."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_CSV = REPO / "data" / "samples" / "kevel_orders.csv"
ETL = [str(Path(sys.executable).with_name("etl"))]  # the installed console command

# The Kevel order columns in the spec's order (a header with all of them).
KEVEL_HEADER = SAMPLE_CSV.read_text(encoding="utf-8").splitlines()[0].split(",")


def kevel_row(order_id: str = "o1", **values: Any) -> dict[str, Any]:
    """A valid Kevel order row (first row of its order); keyword arguments override columns."""
    row = {
        "orderId": order_id,
        "userIdType": "email",
        "userId": f"{order_id}@example.com",
        "currency": "EUR",
        "total": "10",
        "subtotal": "8",
        "tax": "2",
        "shipping": "0",
        "discount": "0",
        "refund": "0",
        "createdAt": "2024-01-02T03:04:05Z",
        "lineItem_productId": "p1",
        "lineItem_sku": "p1-1",
        "lineItem_currency": "EUR",
        "lineItem_total": "10",
        "lineItem_subtotal": "8",
        "lineItem_tax": "2",
        "lineItem_shipping": "0",
        "lineItem_discount": "0",
        "lineItem_refund": "0",
        "lineItem_quantity": "1",
        "lineItem_status": "paid",
    }
    row.update(values)
    return row


def line_row(order_id: str = "o1", **values: Any) -> dict[str, Any]:
    """A further line item of an order: only the orderId and line-item columns."""
    row = kevel_row(order_id, **values)
    for key in (
        "userIdType",
        "userId",
        "currency",
        "total",
        "subtotal",
        "tax",
        "shipping",
        "discount",
        "refund",
        "createdAt",
    ):
        if key not in values:
            row[key] = ""
    return row


def write_csv(
    path: Path,
    rows: Sequence[dict[str, Any]],
    header: Sequence[str] | None = None,
    newline: str = "\n",
    encoding: str = "utf-8",
) -> Path:
    """Write rows as CSV (quoted as needed); header defaults to the union of keys in order."""
    if header is None:
        header = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator=newline, extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_spec(folder: Path, source: str | Path | list[str] | None = None, **keys: Any) -> Path:
    """An import spec for kevel_orders at folder/spec.yaml; keyword arguments are its other keys (None: left out)."""
    spec: dict[str, Any] = {"format": "kevel_orders"}
    if source is not None:
        spec["source"] = str(source) if isinstance(source, Path) else source
    spec.update({key: value for key, value in keys.items() if value is not None})
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# The tests' temporary folders (tmp_path, tmp_path_factory) in memory where the machine has a tmpfs: DuckDB syncs
# its file at every commit, and a store is committed to about a hundred times as it is created (its schema), each
# sync some 5 ms on this machine's disk and nothing in memory. The stores are real DuckDB files all the same; no
# test is about what a power loss leaves. --basetemp, $PYTEST_DEBUG_TEMPROOT or $TMPDIR still choose; a passing
# test's folder is removed when it ends (pyproject: tmp_path_retention_policy), so the memory held stays small.
MEMORY = Path("/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    chosen = config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT") or os.environ.get("TMPDIR")
    if not chosen and MEMORY.is_dir() and os.access(MEMORY, os.W_OK | os.X_OK):
        tempfile.tempdir = str(MEMORY)  # read by pytest's tmp_path_factory (the workers get their folder from here)


# The modules holding the longest tests run first: pytest-xdist hands the tests out in the collected order, and a
# long test handed out last keeps one worker busy while the other has nothing left. Their order only; the order
# within each module stays (module-scoped stores are built once per worker).
LONGEST_FIRST = (
    "test_package.py",  # a wheel built, installed into a venv of its own, run there: some 40 s
    "test_executors.py",  # every format staged three ways
    "test_cluster_faults.py",  # Dask clusters and killed imports
    "conformance/test_invariants.py",
    "test_people_across_entities.py",
    "test_encoding_corpus.py",
    "test_cancel.py",
    "test_known_records.py",
    "test_validate.py",
    "test_identity.py",
    "test_notebooks.py",
    "test_gate_differential.py",
)
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}

    def module_rank(item: pytest.Item) -> int:
        path = item.path.resolve()
        return rank.get(path.relative_to(TESTS).as_posix(), len(rank)) if path.is_relative_to(TESTS) else len(rank)

    items.sort(key=module_rank)  # a stable sort


class EtlRun:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


EXPECTATIONS = REPO / "etl" / "quality" / "expectations"  # the bundled suites (etl.quality.suites.BUNDLED)


@pytest.fixture(autouse=True)
def project_suites(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every import checks the project's own suites, as a user's would: the gate costs a few
    milliseconds on test-sized data (a test that edits them points ETL_EXPECTATIONS at a copy)."""
    monkeypatch.setenv("ETL_EXPECTATIONS", str(EXPECTATIONS))
    return EXPECTATIONS


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store" / "cdp.duckdb"


STORE_COMMANDS = {"import", "inbox", "runs", "report", "rejects", "export", "events"}  # --store added when not given


def _command_line(args: Sequence[str], store: Path, use_store: bool) -> list[str]:
    if use_store and args and args[0] in STORE_COMMANDS and "--store" not in args:
        return [*args, "--store", str(store)]
    return list(args)


def environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The variables a run sees beside the test's own: a wide terminal, no $ETL_STORE unless given."""
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    if not env or "ETL_STORE" not in env:
        environment.pop("ETL_STORE", None)
    return environment


def run_in_process(args: Sequence[str], env: dict[str, str], cwd: Path = REPO) -> EtlRun:
    """`etl ARGS` through its console entry point (etl.entry.main: the same exit codes and messages as the
    installed command), in this process: argv, the environment and the working directory as the command would
    have them, stdout and stderr captured, all put back after. Process-level behaviour (signals, a lock held by
    another process, what a fresh process imports) is tested with real processes (the etl_process fixture)."""
    from etl import entry
    from etl.cli import common
    from etl.pipeline import interrupts

    out, err = io.StringIO(), io.StringIO()
    sigint = signal.getsignal(signal.SIGINT)  # entry.main installs its own handler, as the command does
    with pytest.MonkeyPatch.context() as patch:
        for name in set(os.environ) - set(env):
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        patch.setattr(sys, "argv", ["etl", *args])
        patch.setattr(interrupts, "_pressed", [])  # a fresh process's notes of Ctrl-C
        patch.setattr(interrupts, "_reported", [])
        for console in (common.console, common.out):  # the width from $COLUMNS, read at each print
            patch.setattr(console, "_width", None)
        for filesystem in list(fsspec.registry.values()):  # no connection, no credential of an earlier run
            filesystem.clear_instance_cache()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                entry.main()
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:  # sys.exit("message"): printed on stderr, exit 1, as Python does
                err.write(f"{exc.code}\n")
                code = 1
        finally:
            signal.signal(signal.SIGINT, sigint)
    return EtlRun(code, out.getvalue(), err.getvalue())


@pytest.fixture
def etl(store: Path) -> Callable[..., EtlRun]:
    """Run the etl command as a user would, in this process (run_in_process): etl("import", "--format", ...);
    commands that take --store get the test's store unless given one (use_store=False: none)."""

    def run(*args: str, env: dict[str, str] | None = None, use_store: bool = True) -> EtlRun:
        return run_in_process(_command_line(args, store, use_store), environment(env))

    return run


@pytest.fixture
def etl_process(store: Path) -> Callable[..., EtlRun]:
    """Run the installed etl command in a process of its own, for what only a process shows (its start-up,
    the environment it starts with, its exit through the console script); otherwise as the etl fixture."""

    def run(*args: str, env: dict[str, str] | None = None, use_store: bool = True, timeout: float = 120) -> EtlRun:
        command = [*ETL, *_command_line(args, store, use_store)]
        result = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO, env=environment(env), timeout=timeout
        )
        return EtlRun(result.returncode, result.stdout, result.stderr)

    return run


# a condition on identities AS i: not an email's own sha256, which the identity graph adds beside each email (tests of
# other things leave those out; tests/test_identity.py and test_egoi_contacts.py show them)
NOT_AN_EMAILS_HASH = (
    "NOT (i.id_type = 'email_sha256' AND EXISTS (SELECT 1 FROM identities AS e WHERE e.id_type = 'email' "
    "AND sha256(e.id_value) = i.id_value AND e.customer_id = i.customer_id))"
)


def rows_of(store: Path, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a query on a store, as dicts (read-only, as an analyst would open it)."""
    with duckdb.connect(str(store), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def query(store: Path) -> Callable[..., list[dict[str, Any]]]:
    """Rows of a query on the test's store (rows_of)."""
    return lambda sql, params=None: rows_of(store, sql, params)


# Real servers on loopback (S3, SFTP, HTTP) for tests of remote sources: see tests/servers.py.
from egoi_server import egoi_api  # noqa: E402, F401  (E-goi's API v3 on loopback: tests/egoi_server.py)
from servers import http_server, https_server, s3_server, sftp_server  # noqa: E402, F401
