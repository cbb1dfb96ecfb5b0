"""bench/harness.py: medians and ranges, the order of interleaved rounds, ratio verdicts, the table, and real
child runs measured (wall time, exit status, output, peak RSS of the child and of its process tree)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import Row, Run, Series, Step, StepFailed, Target, checked, interleave, schedule, table

REPO = Path(__file__).resolve().parents[1]
MB = 10**6


def fake_run(wall_s: float, rss_bytes: int = 100 * MB) -> Run:
    return Run(("true",), wall_s, rss_bytes, 0, "", "")


def series(name: str, walls: list[float], rss_bytes: int = 100 * MB) -> Series:
    return Series.of(name, *(fake_run(wall, rss_bytes) for wall in walls))


def test_series_median_range_and_highest_rss():
    s = Series.of("step", fake_run(3.0, 5 * MB), fake_run(1.0, 9 * MB), fake_run(2.5, 7 * MB), fake_run(9.0, 1 * MB))
    assert s.median_s == pytest.approx(2.75)  # of an even count: the middle two's mean
    assert s.spread == "1.00-9.00"
    assert s.peak_rss_bytes == 9 * MB
    timed = Series("query")
    timed.add(fake_run(5.0), seconds=0.4)  # a figure timed inside the child stands for its wall time
    assert timed.median_s == pytest.approx(0.4)


def test_rounds_interleave_the_steps_and_alternate_on_request():
    assert schedule(["A", "B", "C"], 2) == ["A", "B", "C", "A", "B", "C"]
    assert schedule(["A", "B"], 3, alternate=True) == ["A", "B", "B", "A", "A", "B"]
    ran: list[str] = []
    rounds: list[int] = []

    def step(name: str, wall_s: float) -> Step:
        return Step(name, lambda: ran.append(name) or fake_run(wall_s + len(ran)))

    got = interleave([step("floor", 1.0), step("import", 2.0)], 3, before_round=rounds.append)
    assert ran == ["floor", "import"] * 3
    assert rounds == [1, 2, 3]
    assert list(got) == ["floor", "import"]
    assert got["import"].seconds == [4.0, 6.0, 8.0]


def test_a_failed_step_ends_the_rounds():
    def failing() -> Run:
        raise StepFailed("import", Run(("etl",), 0.1, 0, 2, "", "boom"))

    with pytest.raises(StepFailed, match="import failed with exit code 2: boom"):
        interleave([Step("floor", lambda: fake_run(1.0)), Step("import", failing)], 3)


def test_ratio_verdicts_against_the_floor():
    floor = series("floor", [9.0, 10.0, 30.0])  # median 10: the slow round does not count
    target = Target(max_ratio=2.0, max_rss_bytes=1.5e9)
    within = Row(series("first import", [19.0, 21.0, 19.5]), target, floor)
    assert within.ratio == pytest.approx(1.95)
    assert (within.missed, within.verdict) == ([], "met")
    assert Row(series("first import", [20.0]), target, floor).verdict == "met"  # the limit itself is met
    slow = Row(series("first import", [20.5, 20.4, 25.0]), target, floor)
    assert slow.ratio == pytest.approx(2.05)
    assert (slow.missed, slow.verdict) == (["time"], "NOT met (time)")
    fat = Row(series("first import", [15.0], rss_bytes=int(1.6e9)), target, floor)
    assert fat.verdict == "NOT met (RSS)"
    wrong = Row(series("first import", [15.0]), target, floor, problems=["orders.added=3, expected 4"])
    assert wrong.verdict == "NOT met (counts)"
    assert Row(series("sample", [2.5]), Target(max_s=2.0)).verdict == "NOT met (time)"
    assert Row(series("sample", [1.5]), Target(max_s=2.0)).verdict == "met"
    assert Row(floor, reference=floor).verdict == ""  # the floor is judged by nothing
    assert target.text() == "<= 2.0x, <= 1.5 GB"


def test_table_prints_each_row_and_leaves_out_what_no_row_fills():
    floor = series("floor", [1.0, 1.2])
    rows = [
        Row(floor, reference=floor),
        Row(series("first import", [3.0, 2.0]), Target(2.0, 1.5e9), floor, "first import (4 added)", cells={"n": "4"}),
    ]
    assert table(rows, extra=["n", "unused"]).splitlines() == [
        "| step | wall s | min-max | x floor | peak RSS GB | n | target | verdict |",
        "|---|---:|---:|---:|---:|---:|---|---|",
        "| floor | 1.10 | 1.00-1.20 | 1.00 | 0.10 |  |  |  |",
        "| first import (4 added) | 2.50 | 2.00-3.00 | 2.27 | 0.10 | 4 | <= 2.0x, <= 1.5 GB | NOT met (time) |",
    ]
    single = table([Row(series("delete", [2.0]), Target(max_s=10.0))])
    assert single.splitlines()[0] == "| step | wall s | peak RSS GB | target | verdict |"


# Measured from a fresh interpreter: a child's ru_maxrss starts at its parent's peak, and pytest's own can be
# past the figures these tests expect.
MEASURE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from bench.harness import python, run
done = run(python(sys.argv[2]))
print(json.dumps({"wall_s": done.wall_s, "rss": done.peak_rss_bytes, "code": done.returncode,
                  "out": done.stdout, "err": done.stderr, "own": done.own_peak_rss_bytes}))
"""

# The 200 MB are held for a moment only: the kernel's high-water mark must catch what a sampler would miss.
ALLOCATE = """
import sys, time
block = b"x" * 200_000_000  # written, so every page is resident
del block
time.sleep(0.5)
print("allocated")
print("and then failed", file=sys.stderr)
sys.exit(3)
"""

# Two grandchildren hold 150 MB each at the same time: the tree's peak is their sum, more than either's own.
SIDE_BY_SIDE = """
import subprocess, sys
hold = "import time; block = b'x' * 150_000_000; time.sleep(1.5)"
children = [subprocess.Popen([sys.executable, "-c", hold]) for _ in range(2)]
sys.exit(max(child.wait() for child in children))
"""


def measured(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(REPO), code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_a_child_run_keeps_its_wall_time_exit_status_output_and_peak_rss():
    got = measured(ALLOCATE)
    assert got["rss"] >= 200 * MB
    assert got["wall_s"] >= 0.5
    assert (got["code"], got["out"], got["err"]) == (3, "allocated\n", "and then failed\n")
    small = measured("pass")
    assert small["rss"] < 100 * MB  # the figure is the child's, not a constant or the allocation above
    assert small["code"] == 0


def test_peak_rss_sums_the_process_tree_and_the_childs_own_is_apart():
    got = measured(SIDE_BY_SIDE)
    assert got["code"] == 0
    assert got["rss"] >= 300 * MB
    assert 0 < got["own"] < 100 * MB  # the child itself holds little: its children held the blocks


def test_checked_raises_with_the_end_of_stderr():
    with pytest.raises(StepFailed, match="exit code 3: and then failed") as failed:
        checked("allocate", [sys.executable, "-c", ALLOCATE.replace("200_000_000", "1")])
    assert failed.value.run.stdout == "allocated\n"
    assert checked("tolerated", [sys.executable, "-c", "raise SystemExit(1)"], ok=(0, 1)).returncode == 1


def test_a_childs_cpu_time_counts_its_work_not_its_waiting():
    from bench.harness import run

    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    busy = run([sys.executable, "-c", spin])
    idle = run([sys.executable, "-c", "import time\ntime.sleep(0.3)"])
    assert busy.cpu_s >= 0.3 and idle.wall_s >= 0.3 and idle.cpu_s < busy.cpu_s - 0.2
    assert Series.of("cpu", busy, idle).median_cpu_s == pytest.approx((busy.cpu_s + idle.cpu_s) / 2)
