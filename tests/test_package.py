"""etl installs as a command-line data tool does (pip, pipx, uv tool): the wheel holds every file the code reads
beside its modules (SQL, the suites, the Data Docs assets, the samples), and an installed etl, in a virtual
environment of its own outside the repository, imports the bundled sample with `etl` and with `import etl`. A user's
own suites replace the bundled ones."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import EXPECTATIONS, REPO, environment, run_in_process

PACKAGE = REPO / "etl"


def _uv() -> str:
    """uv as the Makefile finds it: on PATH, else the private copy `make setup` installs in .tools/."""
    found = shutil.which("uv") or (REPO / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed to build and install the wheel: run make setup"
    return str(found)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _uv_run(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    """A uv command from its cache alone (fast, and no network needed once `make setup` filled it); from the
    index when the cache lacks something."""
    command = [_uv(), *args]
    offline = subprocess.run([*command, "--offline"], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if offline.returncode != 0:
        _run(command, cwd, env)


def _beside_the_cache(env: dict[str, str]) -> Path:
    """A folder, outside the repository, on the file system of uv's cache: uv hard-links the packages from its
    cache into the venv there (about a second; into the tests' tmpfs it would copy a gigabyte)."""
    cache = Path(_run([_uv(), "cache", "dir"], REPO, env).strip())
    existing = next(p for p in (cache, *cache.parents) if p.exists())
    for base in (Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/tmp"), existing):
        usable = base.is_dir() and os.access(base, os.W_OK | os.X_OK) and not base.resolve().is_relative_to(REPO)
        if usable and base.stat().st_dev == existing.stat().st_dev:
            return base
    return Path(tempfile.gettempdir())


def _clean_environment() -> dict[str, str]:
    """The variables a user's shell has: none of this checkout's or this test run's."""
    env = environment()
    for name in ("ETL_EXPECTATIONS", "ETL_STORE", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """The wheel as a release builds it (`uv build`: the sdist, then the wheel from the sdist), and as pip, pipx and
    uv build it from a checkout or a git URL (straight from the tree)."""
    built = {}
    for how, flags in (("from the sdist", []), ("from the tree", ["--wheel"])):
        out = tmp_path_factory.mktemp("dist")
        _uv_run(["build", *flags, "--out-dir", str(out), str(REPO)], out, _clean_environment())
        [built[how]] = out.glob("cdp_etl-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel(wheels) -> Path:
    return wheels["from the sdist"]


@pytest.mark.parametrize("how", ["from the sdist", "from the tree"])
def test_the_wheel_holds_every_file_of_the_package(wheels, how):
    """Every file git keeps under etl/ is in the wheel, at its path: the SQL beside the modules, the suites, the
    Data Docs assets, the samples, the spec's JSON schema."""
    tracked = _run(["git", "ls-files", "-z", "etl"], REPO).split("\0")
    in_wheel = set(zipfile.ZipFile(wheels[how]).namelist())

    missing = sorted(path for path in filter(None, tracked) if path not in in_wheel)

    assert missing == []
    data = {p for p in in_wheel if p.startswith("etl/") and not p.endswith(".py")}
    assert {"etl/import-spec.schema.json", "etl/quality/expectations/orders.json", "etl/segments/sql/rfm.sql",
            "etl/quality/data_docs_vendor/jquery.min.js", "etl/samples/files/kevel_orders.yaml",
            "etl/store/schema.sql"} <= data  # fmt: skip


def test_no_module_looks_for_files_outside_the_package():
    """What the code reads beside its modules is found from __file__ within etl/ (or importlib.resources), never
    from a folder above it: a checkout's folders are not there once the package is installed."""
    above = re.compile(r"__file__\)?(\.resolve\(\))?\.(parents\[\d\]|parent\.parent)")
    found = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        found += [f"{path.relative_to(REPO)}:{n}" for n, line in enumerate(lines, 1) if above.search(line)]
    assert found == []


# Run by the venv's python in a folder of its own: the bundled sample imported with the library, not the command.
IMPORT_WITH_THE_LIBRARY = """
import json
from pathlib import Path

import etl

spec = etl.copy_samples("samples") / "kevel_orders.yaml"
report = etl.Store(Path("lib.duckdb")).import_(spec).to_dict()
print(json.dumps({"etl": etl.__file__, "report": report}, default=str))
"""

COUNT_ORDERS = "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True).sql('FROM orders').shape[0])"


def test_the_installed_wheel_imports_the_bundled_sample_outside_the_repository(wheel):
    env = _clean_environment()
    base = Path(tempfile.mkdtemp(prefix="etl-wheel-", dir=_beside_the_cache(env))).resolve()
    try:
        _installed_wheel_imports(wheel, base, env)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _installed_wheel_imports(wheel: Path, base: Path, env: dict[str, str]) -> None:
    venv, work = base / "venv", base / "work"
    work.mkdir()
    assert not base.resolve().is_relative_to(REPO) and not work.resolve().is_relative_to(REPO)
    start = time.monotonic()
    # the dependencies at the versions of uv.lock (the ones `make setup` installed, so in uv's cache)
    constraints = base / "constraints.txt"
    _run([_uv(), "export", "--project", str(REPO), "--frozen", "--no-dev", "--no-hashes", "--no-emit-project",
          "--quiet", "--output-file", str(constraints)], base, env)  # fmt: skip
    _run([_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], base, env)
    python, etl = str(venv / "bin" / "python"), str(venv / "bin" / "etl")
    _uv_run(["pip", "install", "--quiet", "--python", python, "--constraint", str(constraints), str(wheel)], base, env)
    installed = time.monotonic() - start
    env = {**env, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}

    # the command: the samples, an import of one with the bundled suites, etl validate (the Data Docs), a segment
    wrote = _run([etl, "samples"], work, env)
    report = json.loads(_run([etl, "import", "data/samples/kevel_orders.yaml", "--store", "s.duckdb", "--json"],
                             work, env))  # fmt: skip
    validated = json.loads(_run([etl, "validate", "--store", "s.duckdb", "--json"], work, env))
    rfm = _run([etl, "segment", "run", "rfm", "--param", "observation_end=2024-12-31", "--store", "s.duckdb", "--json"],
               work, env)  # fmt: skip
    # the library, in the same environment
    library = json.loads(_run([python, "-c", IMPORT_WITH_THE_LIBRARY], work, env).splitlines()[-1])

    assert "wrote data/samples/kevel_orders.yaml" in wrote
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert (status := report["status"]) == "completed", report.get("error") or status
    assert (report["items"], report["valid"], report["rejected"]) == (7, 5, 2)
    assert report["items"] == report["valid"] + report["rejected"]
    assert report["files"][0]["uri"] == str(work / "data" / "samples" / "kevel_orders.csv")
    assert report["validation"]["suites_dir"] == str(site / "etl" / "quality" / "expectations")  # the bundled suites
    assert report["validation"]["success"] and report["validation"]["checked"] > 0
    orders = report["entities"]["orders"]["added"]
    assert orders == 4 and int(_run([python, "-c", COUNT_ORDERS, "s.duckdb"], work, env)) == orders
    assert validated["success"] and validated["suites"] == sorted(p.stem for p in EXPECTATIONS.glob("*.json"))
    assert Path(validated["data_docs"]).is_file()  # built with the bundled assets
    buyers = [json.loads(line) for line in rfm.splitlines()]  # the segment's SQL, from the package
    assert buyers and all(row["rfm"] for row in buyers)
    vendor = {p.name for p in (work / "s.duckdb.validation" / "static" / "vendor").iterdir()}
    assert {p.name for p in (PACKAGE / "quality" / "data_docs_vendor").iterdir()} <= vendor  # the bundled assets
    assert library["etl"] == str(site / "etl" / "__init__.py")  # the installed package, not this checkout
    lib = library["report"]
    assert (lib["status"], lib["items"], lib["valid"], lib["rejected"]) == ("completed", 7, 5, 2)
    assert lib["files"][0]["uri"] == str(work / "samples" / "kevel_orders.csv")
    assert int(_run([python, "-c", COUNT_ORDERS, "lib.duckdb"], work, env)) == lib["entities"]["orders"]["added"] == 4
    left = {p.name for p in work.iterdir()} - {".etl-spool"}  # the imports' spool folder (emptied)
    assert left == {"data", "samples", "s.duckdb", "s.duckdb.validation", "lib.duckdb"}
    print(f"wheel installed in {installed:.1f}s")


# --- the suites: bundled, and a user's own folder replacing them ----------------------------------------------------


def test_the_bundled_suites_are_the_default_without_a_folder_of_the_users(tmp_path, monkeypatch):
    from etl.quality import suites

    monkeypatch.delenv("ETL_EXPECTATIONS")
    monkeypatch.chdir(tmp_path)

    assert suites.default_dir() == suites.BUNDLED == EXPECTATIONS
    assert sorted(p.stem for p in suites.BUNDLED.glob("*.json")) == sorted(suites.ENTITIES)


def test_a_users_expectations_folder_replaces_the_bundled_suites(tmp_path, monkeypatch):
    """./expectations, beside the user's specs, is the folder of suites; $ETL_EXPECTATIONS (and --expectations)
    come before it. Here a suite of the user's own fails the bundled sample, which the bundled suites pass."""
    from etl.quality import suites

    monkeypatch.delenv("ETL_EXPECTATIONS")
    env = environment()
    run_in_process(["samples"], env, cwd=tmp_path)
    orders = json.loads((EXPECTATIONS / "orders.json").read_text(encoding="utf-8"))
    orders["expectations"].append({"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 1},
                                   "description": "the user's own rule: one order at most"})  # fmt: skip
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "orders.json").write_text(json.dumps(orders), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    found = suites.default_dir()
    mine = run_in_process(["import", "data/samples/kevel_orders.yaml", "--store", "mine.duckdb", "--json"], env,
                          cwd=tmp_path)  # fmt: skip
    bundled = run_in_process(["import", "data/samples/kevel_orders.yaml", "--store", "bundled.duckdb", "--json"],
                             {**env, "ETL_EXPECTATIONS": str(EXPECTATIONS)}, cwd=tmp_path)  # fmt: skip

    assert found == Path("expectations")
    assert mine.code == 1, mine.stderr
    assert "orders: expect_table_row_count_to_be_between: observed 4" in mine.stderr  # the user's own rule
    assert mine.json["validation"]["suites"] == ["orders"]  # the user's folder as a whole, not merged
    assert bundled.code == 0, bundled.stderr
    assert bundled.json["validation"]["suites_dir"] == str(EXPECTATIONS)
