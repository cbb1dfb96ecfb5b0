"""Where staging runs: `local` (in the importing process, as always), `processes` (a pool of local processes)
or a Dask cluster (`dask://host:8786`).

The setting comes from the spec (`executor:`; the command line's `--executor` and the API's `executor=` set it),
else `$ETL_EXECUTOR`, else `local`. Every executor runs the same picklable function (etl.pipeline.tasks.stage_part)
over the same tasks; only `local` keeps today's path (the files opened and staged in this process, nothing pickled).
Tasks are named by the import's token and their file and part (`etl-stage-<token>-f3-p0`), never by their
arguments: a connection's secrets travel inside the pickled task, whose repr leaves them out (the Dask dashboard and
worker logs show names and reprs).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from etl.errors import EtlError, SpecError

ENVIRONMENT = "ETL_EXECUTOR"
DASK = "dask://"
RETRIES = 2  # a task that failed on a worker (its worker killed, a lost connection) runs again, this many times
CONNECT_S = 10.0  # to reach a Dask scheduler
PARENT_CHECK_S = 0.5  # how often a pool's process checks that the importing process is alive


@dataclass(frozen=True)
class Setting:
    """An executor setting, parsed: kind local, processes or dask (with the scheduler's address)."""

    kind: str
    address: str | None = None
    workers: int | None = None  # processes: how many (default: the machine's cores)

    def __str__(self) -> str:
        return self.address if self.kind == "dask" else self.kind


def parse(value: Any, origin: str = "the executor setting") -> Setting:
    """`local`, `processes`, `processes:N`, `dask://host:port` or {dask: {address: ...}}."""
    if value is None or value == "local":
        return Setting("local")
    if isinstance(value, dict) and set(value) == {"dask"} and isinstance(value["dask"], dict):
        address = value["dask"].get("address")
        unknown = set(value["dask"]) - {"address"}
        if unknown or not isinstance(address, str):
            raise SpecError(f"{origin}: executor.dask: expected {{address: tcp://host:8786}}; got {value['dask']!r}")
        return Setting("dask", _scheduler(address, origin))
    if isinstance(value, str):
        if value == "processes":
            return Setting("processes")
        if value.startswith("processes:") and value.removeprefix("processes:").isdigit():
            return Setting("processes", workers=max(1, int(value.removeprefix("processes:"))))
        if value.startswith(DASK):
            return Setting("dask", _scheduler(value, origin))
    raise SpecError(
        f"{origin}: executor: expected local, processes, processes:N, dask://host:8786 or "
        f"{{dask: {{address: tcp://host:8786}}}}; got {value!r}"
    )


def _scheduler(address: str, origin: str) -> str:
    """The scheduler's address as Dask takes it (tcp://host:port)."""
    rest = address.removeprefix(DASK)
    if "://" not in rest:
        rest = "tcp://" + rest
    if not rest.split("://", 1)[1]:
        raise SpecError(f"{origin}: executor: a Dask scheduler's address has a host and port; got {address!r}")
    return rest


def chosen(spec_value: Any, origin: str) -> Setting:
    """The setting in force: the spec's (where the command line's --executor and the API's `executor=` go), else
    $ETL_EXECUTOR's, else local."""
    if spec_value is not None:
        return parse(spec_value, origin)
    return parse(os.environ.get(ENVIRONMENT) or None, f"${ENVIRONMENT}")


class Executor(Protocol):
    """Runs named tasks, yielding (name, result) as each finishes; the first failure is raised."""

    where: str  # what the import report says: processes, or the scheduler's address

    def run(self, tasks: list[tuple[str, Callable[[Any], Any], Any]]) -> Iterator[tuple[str, Any]]: ...

    def close(self, wait: bool = True) -> None: ...


class Processes:
    """A pool of local processes (spawned: Polars' threads do not survive a fork), kept for the next import of this
    process (a notebook's imports, a test's: starting one costs a second or two); stopped when a task failed."""

    _pools: dict[int, ProcessPoolExecutor] = {}

    def __init__(self, workers: int | None) -> None:
        import multiprocessing

        self.where = "processes"
        self._count = workers or os.cpu_count() or 1
        pool = self._pools.get(self._count)
        if pool is None or pool._broken:  # a worker died: the pool takes no more tasks
            pool = ProcessPoolExecutor(self._count, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_exit_with, initargs=(os.getpid(),))  # fmt: skip
            with _without_main():  # every process started now, while the script's main module is out of sight
                wait([pool.submit(os.getpid) for _ in range(self._count)])
            self._pools[self._count] = pool
        self._pool = pool

    def run(self, tasks):
        futures = {self._pool.submit(function, argument): name for name, function, argument in tasks}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield futures[future], future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self, wait: bool = True) -> None:
        """Kept for the next import; after a failure or Ctrl-C, stopped without waiting for the tasks that run."""
        if wait:
            return
        self._pools.pop(self._count, None)
        for process in list((self._pool._processes or {}).values()):  # 3.14's terminate_workers(), by hand
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _exit_with(parent: int) -> None:
    """In a pool's process: end when the importing process is gone (killed: its pool would live on, idle)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="etl-parent-watch").start()


@contextmanager
def _without_main() -> Iterator[None]:
    """A spawned process runs the starting script's main module again, and a script without an
    `if __name__ == "__main__":` guard then starts the import again in it, and fails. The tasks need nothing of
    that module: the processes are started with an empty one in its place."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class Dask:
    """A Dask cluster's scheduler: tasks submitted by name, retried when a worker fails."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise EtlError(
                f"executor {address}: Dask's `distributed` is not installed: pip install 'cdp-etl[dask]' "
                "(on this machine and on every worker)"
            ) from None
        self.where = address
        try:
            self._client = Client(address, timeout=CONNECT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EtlError(f"executor {address}: cannot reach the Dask scheduler: {_first_line(exc)}") from None

    def run(self, tasks):
        from distributed import as_completed

        if not tasks:  # as_completed of nothing looks for a default client
            return
        futures = {
            self._client.submit(function, argument, key=name, pure=False, retries=RETRIES): name
            for name, function, argument in tasks
        }
        try:
            for future in as_completed(futures, loop=self._client.loop):
                try:
                    yield futures[future], future.result()
                except EtlError:
                    raise
                except (OSError, TimeoutError) as exc:
                    raise self._gone(exc) from None
                except Exception as exc:  # a cancelled future: the scheduler went away
                    if type(exc).__name__ in ("CancelledError", "FutureCancelledError"):
                        raise self._gone(exc) from None
                    raise
        finally:
            for future in futures:
                future.release()

    def _gone(self, exc: BaseException) -> EtlError:
        return EtlError(
            f"executor {self.where}: the Dask scheduler is gone or stopped answering while the import ran "
            f"({_first_line(exc) or type(exc).__name__}); nothing was stored"
        )

    def close(self, wait: bool = True) -> None:
        try:
            self._client.close(timeout=CONNECT_S)
        except (OSError, TimeoutError):  # the scheduler gone: nothing to close
            pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def start(setting: Setting) -> Executor:
    """The executor of a setting (not `local`: that one runs in the import's own path)."""
    if setting.kind == "processes":
        return Processes(setting.workers)
    if setting.kind == "dask":
        assert setting.address is not None
        return Dask(setting.address)
    raise ValueError(f"no pool for {setting}")
