"""The benchmarks' one harness: measured child runs, interleaved rounds, the floor, targets and the table.

Every step runs in a child process of its own (`run`): its wall time, the peak RSS of its process tree, its
exit status, and its stdout and stderr (kept for the report and for errors). A benchmark compares steps
(DuckDB's bare load of a file, the import of the same file, its re-import ...) in rounds, interleaved
(`interleave`: A, B, A, B ...), since this machine's timings drift by 10-15% from one minute to the next: a
slow spell then hits every step alike. A step's figure is its median over the rounds, its range shown beside
it (`Series`). The floor (`Floor`) is DuckDB's own `CREATE TABLE t AS SELECT * FROM read_...` of the same
input: nothing that reads and stores that input can be much faster, so an import is judged as a multiple of
it (`Row`, against a `Target`), not in seconds, which would depend on the machine. `table` prints the rows.

Keep the bench's own process small: Linux hands a parent's peak RSS down to the children it starts (the
child's ru_maxrss starts at the parent's high-water mark), so an input generated in the bench's process would
show in every step's figure. `generate_in_child` makes inputs in a child instead.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

BENCH_DIR = Path(__file__).resolve().parent
ETL = Path(sys.executable).parent / "etl"  # the checkout's own command: bench steps run `etl`, not its modules
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY_S = 0.1  # how often the tree's summed RSS is read while a child runs

Command = Sequence[str | Path]


# --- one measured child -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished child process."""

    command: tuple[str, ...]
    wall_s: float  # from the start of the process to its end
    peak_rss_bytes: int  # of its process tree: see `run`
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # user + system time of the child and every descendant it waited for
    own_peak_rss_bytes: int = 0  # the child's own resident set at its highest, sampled (its descendants apart)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def json(self) -> Any:
        """stdout as JSON (`etl ... --json` prints one object)."""
        return json.loads(self.stdout)


class StepFailed(RuntimeError):
    """A measured step exited with an error: its name, exit status and the end of its stderr."""

    def __init__(self, name: str, run: Run, tail: int = 300) -> None:
        super().__init__(f"{name} failed with exit code {run.returncode}: {run.stderr.strip()[-tail:]}")
        self.name, self.run = name, run


def run(command: Command) -> Run:
    """Run `command` to its end in a child process, measured; never raises on its exit status.

    Peak RSS is the larger of two figures: the kernel's high-water mark of the child and of every descendant it
    waited for (`os.wait4`: each process's own peak, however short), and the highest sum of the resident sets of
    the child's live process tree, read every SAMPLE_EVERY_S (descendants running side by side add up).
    """
    argv = tuple(str(part) for part in command)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        sampler = _TreeSampler(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - start
        tree_peak, own_peak = sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        peak = max(usage.ru_maxrss * 1024, tree_peak)  # ru_maxrss is in KiB on Linux
        cpu_s = usage.ru_utime + usage.ru_stime  # less moved than wall time by other work on the machine
        return Run(argv, wall_s, peak, process.returncode, out.read(), err.read(), cpu_s, own_peak)


def checked(name: str, command: Command, ok: Sequence[int] = (0,)) -> Run:
    """`run`, raising StepFailed unless the command exits with one of `ok`."""
    done = run(command)
    if done.returncode not in ok:
        raise StepFailed(name, done)
    return done


def exit_failed(failed: StepFailed) -> NoReturn:
    """End the bench with exit status 1, the failed step's whole stderr on ours."""
    print(f"\n{failed.name} failed with exit code {failed.run.returncode}", file=sys.stderr)
    print(failed.run.stderr, file=sys.stderr)
    sys.exit(1)


def python(code: str, *args: str | Path) -> list[str | Path]:
    """A command running Python `code` with `args` (sys.argv[1:]) in this interpreter."""
    return [sys.executable, "-c", code, *args]


def etl_import(spec: Path, store: Path, etl: Path = ETL) -> list[str | Path]:
    """`etl import SPEC --store STORE --json`: the command every import step measures."""
    return [etl, "import", spec, "--store", store, "--json"]


class _TreeSampler:
    """Reads the summed RSS of a process and its descendants until stopped, in a thread of the bench."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.own = pid, 0, 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> tuple[int, int]:
        """The tree's peak and the root process's own."""
        self._stopped.set()
        self._thread.join()
        return self.peak, self.own

    def _sample(self) -> None:
        while not self._stopped.is_set():
            self.peak = max(self.peak, sum(_resident_bytes(pid) for pid in _tree(self.pid)))
            self.own = max(self.own, _resident_bytes(self.pid))
            self._stopped.wait(SAMPLE_EVERY_S)


def _tree(pid: int) -> Iterator[int]:
    """pid and its live descendants (/proc's children lists, one per thread)."""
    yield pid
    try:
        children = [c for task in os.listdir(f"/proc/{pid}/task") for c in _read(f"/proc/{pid}/task/{task}/children")]
    except OSError:  # gone, or not Linux
        return
    for child in children:
        yield from _tree(int(child))


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_text().split()
    except OSError:  # the process or thread ended between the listing and this read
        return []


def _resident_bytes(pid: int) -> int:
    statm = _read(f"/proc/{pid}/statm")  # size, resident, ... in pages
    return int(statm[1]) * PAGE_BYTES if len(statm) > 1 else 0


# --- rounds -------------------------------------------------------------------------------------------


@dataclass
class Series:
    """One step's figures over the rounds: its median decides, its range is shown beside it."""

    name: str
    seconds: list[float] = field(default_factory=list)
    rss_bytes: list[int] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, *runs: Run) -> Series:
        """The series of runs measured outside `interleave` (one each, mostly)."""
        series = cls(name)
        for done in runs:
            series.add(done)
        return series

    def add(self, done: Run, seconds: float | None = None) -> Run:
        """One round's run; `seconds` when the figure is not its wall time (a query timed inside the child)."""
        self.runs.append(done)
        self.seconds.append(done.wall_s if seconds is None else seconds)
        self.rss_bytes.append(done.peak_rss_bytes)
        return done

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        """The median of the rounds' CPU seconds (user + system), beside the wall time's."""
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def spread(self) -> str:
        return f"{min(self.seconds):.2f}-{max(self.seconds):.2f}"

    @property
    def peak_rss_bytes(self) -> int:
        """The highest of the rounds: a limit holds only if every round kept it."""
        return max(self.rss_bytes)

    @property
    def last(self) -> Run:
        return self.runs[-1]


@dataclass(frozen=True)
class Step:
    """A thing compared: `measure` runs it once (setting up what it needs first, e.g. a fresh store)."""

    name: str
    measure: Callable[[], Run]


def import_step(name: str, spec: Path, store: Path, prepare: Callable[[], object] | None = None) -> Step:
    """`etl import SPEC --store STORE --json` as a step, StepFailed unless it exits 0; `prepare` runs first, not
    measured (e.g. `lambda: remove_duckdb_file(store)`: a first import into a fresh store)."""

    def measure() -> Run:
        if prepare:
            prepare()
        return checked(name, etl_import(spec, store))

    return Step(name, measure)


def floor_and_imports(
    floor: Step,
    spec: Path,
    store: Path,
    rounds: int,
    fresh: Callable[[], object] | None = None,
    more: Sequence[Step] = (),
) -> dict[str, Series]:
    """Rounds of `floor`, the "first import" of `spec` into a fresh `store` (made by `fresh`, else removed), its
    "re-import", then `more` steps; the store removed at the end. StepFailed propagates."""
    first = import_step("first import", spec, store, fresh or (lambda: remove_duckdb_file(store)))
    try:
        return interleave([floor, first, import_step("re-import", spec, store), *more], rounds)
    finally:
        remove_duckdb_file(store)


def schedule(names: Sequence[str], rounds: int, alternate: bool = False) -> list[str]:
    """The order steps run in: every step once a round (A, B, A, B ...), so that a slow spell of the machine hits
    them all; `alternate`: every other round backwards (A, B, B, A ...), for steps that are independent, so that
    neither always runs right after the other."""
    order: list[str] = []
    for number in range(rounds):
        order += list(reversed(names)) if alternate and number % 2 else list(names)
    return order


def interleave(
    steps: Sequence[Step],
    rounds: int,
    alternate: bool = False,
    before_round: Callable[[int], None] | None = None,
) -> dict[str, Series]:
    """Run `steps` in `rounds` as `schedule` orders them; each step's Series, by name, in the steps' order.

    A StepFailed of a step ends the rounds (it propagates)."""
    by_name = {step.name: step for step in steps}
    series = {step.name: Series(step.name) for step in steps}
    for position, name in enumerate(schedule(list(by_name), rounds, alternate)):
        if before_round and position % len(steps) == 0:
            before_round(position // len(steps) + 1)
        series[name].add(by_name[name].measure())
    return series


# --- the floor, targets, verdicts ---------------------------------------------------------------------

FLOOR_SCRIPT = """
import json, sys, duckdb
db, reader, count, sources = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}", [sources])
print(con.execute(f"SELECT {count} FROM t").fetchone()[0])
con.close()
"""


@dataclass(frozen=True)
class Floor:
    """DuckDB's bare load of an input into a fresh file: CREATE TABLE t AS SELECT * FROM `reader`, its one
    parameter the source (a path, or a list of paths); prints SELECT `count` FROM t (the rows read)."""

    source: Path | Sequence[Path]
    reader: str = "read_csv(?)"  # e.g. "read_json(?, format = 'array')"
    count: str = "count(*)"

    def measure(self, db: Path) -> Run:
        """One floor run into `db`, removed before and after; StepFailed when DuckDB fails."""
        source = str(self.source) if isinstance(self.source, Path) else [str(path) for path in self.source]
        remove_duckdb_file(db)
        try:
            return checked("floor", python(FLOOR_SCRIPT, db, self.reader, self.count, json.dumps(source)))
        finally:
            remove_duckdb_file(db)

    def step(self, db: Path, name: str = "floor") -> Step:
        return Step(name, lambda: self.measure(db))


@dataclass(frozen=True)
class Target:
    """What a row must meet; a limit left None is not judged."""

    max_ratio: float | None = None  # its median / its reference's median (the floor's, mostly)
    max_rss_bytes: float | None = None  # the highest peak RSS of its rounds
    max_s: float | None = None  # its median, in seconds

    def text(self) -> str:
        parts = [f"<= {self.max_ratio:.1f}x"] if self.max_ratio is not None else []
        parts += [f"<= {self.max_s:.1f} s"] if self.max_s is not None else []
        parts += [f"<= {self.max_rss_bytes / 1e9:.1f} GB"] if self.max_rss_bytes is not None else []
        return ", ".join(parts)


NO_TARGET = Target()


@dataclass
class Row:
    """A Series against its Target; `reference` is what its ratio divides by (the floor; None: no ratio)."""

    series: Series
    target: Target = NO_TARGET
    reference: Series | None = None
    label: str | None = None  # the step's name in the table, when not the series' own (with counts, say)
    problems: list[str] = field(default_factory=list)  # e.g. failed count checks: each misses the target
    cells: dict[str, str] = field(default_factory=dict)  # figures of the table's extra columns, by header

    @property
    def ratio(self) -> float | None:
        return None if self.reference is None else self.series.median_s / self.reference.median_s

    @property
    def missed(self) -> list[str]:
        """What missed its limit: time, RSS, counts (its problems)."""
        t, ratio = self.target, self.ratio
        time_missed = (t.max_ratio is not None and ratio is not None and ratio > t.max_ratio) or (
            t.max_s is not None and self.series.median_s > t.max_s
        )
        rss_missed = t.max_rss_bytes is not None and self.series.peak_rss_bytes > t.max_rss_bytes
        return [what for what, bad in (("time", time_missed), ("RSS", rss_missed), ("counts", self.problems)) if bad]

    @property
    def verdict(self) -> str:
        if self.target == NO_TARGET and not self.problems:
            return ""
        missed = self.missed
        return f"NOT met ({', '.join(missed)})" if missed else "met"


def ratio_rows(
    series: Mapping[str, Series], targets: Mapping[str, Target], label: Callable[[str, Run], str], floor: str = "floor"
) -> list[Row]:
    """The floor's row, then one per step of `targets`: its median against the floor's, its Target; `label` names
    a row in the table from its step's name and last run (its counts, say)."""
    base = series[floor]
    rows = [Row(base, reference=base, label=label(floor, base.last))]
    return rows + [Row(series[name], target, base, label(name, series[name].last)) for name, target in targets.items()]


def counted(what: str, floor: str, entity: str) -> Callable[[str, Run], str]:
    """A `label` for ratio_rows: the floor's row `what: floor`, an import's `what: step (N added, N unchanged)` from
    its report's counts of `entity`."""

    def label(name: str, run: Run) -> str:
        if name == "floor":
            return f"{what}: {floor}"
        c = run.json()["entities"][entity]
        return f"{what}: {name} ({c['added']:,} added, {c['unchanged']:,} unchanged)"

    return label


def table(rows: Sequence[Row], extra: Sequence[str] = (), seconds: str = "wall s") -> str:
    """The rows as one Markdown table: step, median seconds (headed `seconds`), min-max, x floor, peak RSS (GB),
    the `extra` columns (from each row's cells), target and verdict. A column that no row fills is left out
    (min-max when every step ran once; x floor, target and verdict when nothing is judged)."""
    columns: list[tuple[str, str, Callable[[Row], str]]] = [
        ("step", "---", lambda r: r.label or r.series.name),
        (seconds, "---:", lambda r: f"{r.series.median_s:.2f}"),
        ("min-max", "---:", lambda r: r.series.spread if len(r.series.seconds) > 1 else ""),
        ("x floor", "---:", lambda r: "" if r.ratio is None else f"{r.ratio:.2f}"),
        ("peak RSS GB", "---:", lambda r: f"{r.series.peak_rss_bytes / 1e9:.2f}"),
        *[(name, "---:", lambda r, name=name: r.cells.get(name, "")) for name in extra],
        ("target", "---", lambda r: r.target.text()),
        ("verdict", "---", lambda r: r.verdict),
    ]
    cells = [[cell(row) for _, _, cell in columns] for row in rows]
    kept = [i for i in range(len(columns)) if i == 0 or any(line[i] for line in cells)]
    lines = ["| " + " | ".join(columns[i][0] for i in kept) + " |", "|" + "|".join(columns[i][1] for i in kept) + "|"]
    lines += ["| " + " | ".join(line[i] for i in kept) + " |" for line in cells]
    return "\n".join(lines)


def failed_row(name: str, error: Exception) -> str:
    """A table line for a step that failed, so the benchmarks after it still run (what the table would show)."""
    return f"| {name}: {error} |"


# --- inputs -------------------------------------------------------------------------------------------


def remove_duckdb_file(path: Path) -> None:
    """A DuckDB file and its WAL, so the next step starts from a fresh store."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def generate_in_child(code: str) -> None:
    """Run Python `code` (bench/ on its path) in a child process: where inputs are made (see the module's doc)."""
    subprocess.run(python(f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); {code}"), check=True)


def stamp_of(path: Path) -> Path:
    """The file beside an input that holds the parameters it was made with."""
    return path.with_name(path.name + ".stamp")


def made_once(path: Path, key: str, code: str) -> Path:
    """`path`, made by `generate_in_child(code)` unless its stamp says `key`: inputs are kept between runs (they
    take minutes to make), and made again when their parameters change."""
    stamp = stamp_of(path)
    if path.exists() and stamp.exists() and stamp.read_text() == key:
        print(f"reusing {path} ({path.stat().st_size / 1e6:,.0f} MB)", flush=True)
        return path
    stamp.unlink(missing_ok=True)  # a run stopped while making it leaves no stamp that matches
    generate_in_child(code)
    stamp.write_text(key)
    return path
