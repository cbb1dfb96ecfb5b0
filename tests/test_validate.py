"""The expectation suites as the quality gate of imports, `etl validate`, and Data Docs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import EXPECTATIONS, REPO, SAMPLE_CSV, EtlRun, environment, kevel_row, line_row, run_in_process, write_csv

from etl.quality import suites as suites_module
from etl.quality import validate
from etl.quality.suites import SuiteError
from etl.store.connection import connect
from tests.browser import chromium_dom

NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture
def real_suites(tmp_path: Path) -> Path:
    """A copy of expectations/ that a test may edit."""
    folder = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS, folder)
    return folder


def suite_env(folder: Path) -> dict[str, str]:
    return {"ETL_EXPECTATIONS": str(folder)}


ORDERS_IMPORT_WRITES = ("customers", "events", "identities", "line_items", "orders")  # the buyers are customers


def count_expectations(folder: Path, entities: tuple[str, ...] = ORDERS_IMPORT_WRITES) -> int:
    return sum(len(json.loads((folder / f"{entity}.json").read_text())["expectations"]) for entity in entities)


def test_import_runs_every_suite_reports_a_warning_and_builds_data_docs(etl, store, tmp_path, real_suites):
    # the sample adds up (002: total = subtotal + tax + shipping); or123's total changed to 103.5 does not (a warning)
    unbalanced = tmp_path / "unbalanced.csv"
    unbalanced.write_text(SAMPLE_CSV.read_text(encoding="utf-8").replace("102.5", "103.5"), encoding="utf-8")
    sample = ("--format", "kevel_orders", "--source", str(unbalanced))
    run = etl("import", *sample, "--json", env=suite_env(real_suites))
    assert run.code == 0, run.stderr
    validation = run.json["validation"]
    assert validation["success"] is True
    assert validation["scope"] == "import"
    assert validation["suites"] == [
        "customers",
        "event_items",
        "events",
        "identities",
        "line_items",
        "orders",
        "products",
    ]
    assert validation["checked"] == count_expectations(real_suites)
    failed = [r for r in validation["expectations"] if not r["success"]]
    assert [(r["suite"], r["severity"], r["unexpected_count"]) for r in failed] == [("orders", "warning", 1)]
    assert failed[0]["examples"][0]["order_id"] == "or123"
    assert (validation["engine"], validation["great_expectations_for"]) == ("gate", [])
    # the results in GE's shape, one per suite, named after the import: what Data Docs are built from
    shaped = {r["suite_name"]: r for r in validation["suite_results"]}
    assert sorted(shaped) == list(ORDERS_IMPORT_WRITES)  # what an orders import wrote
    assert shaped["orders"]["meta"]["run_id"]["run_name"] == f"import-{run.json['import_id']}"
    assert shaped["orders"]["statistics"]["unsuccessful_expectations"] == 1
    assert "data_docs" not in validation and not store.with_name("cdp.duckdb.validation").exists()

    built = etl("docs", "--store", str(store))
    assert built.code == 0, built.stderr
    docs = store.with_name("cdp.duckdb.validation") / "index.html"
    assert str(docs) in " ".join(built.stdout.split())
    page = chromium_dom(docs)
    for suite in ORDERS_IMPORT_WRITES:
        assert suite in page
    assert f"import-{run.json['import_id']}" in page  # runs are named by import
    # the suite passed, as the report says, with its failed warning named (issue 33: it showed "Failed")
    assert "Succeeded, with 1 failed warning" in page and "ge-failed-icon" not in page
    assert (
        f"Showing 1 to {len(ORDERS_IMPORT_WRITES)} of {len(ORDERS_IMPORT_WRITES)} rows" in page
    )  # drawn by its script, offline

    again = etl("import", *sample, "--json", env=suite_env(real_suites))
    assert again.code == 0, again.stderr
    assert again.json["entities"]["orders"]["unchanged"] == 4
    unchanged = again.json["validation"]
    assert (unchanged["checked"], unchanged["success"], unchanged["suites"]) == (0, True, validation["suites"])
    assert "nothing to check" in etl("report", str(again.json["import_id"])).stdout

    changed = tmp_path / "changed.csv"
    changed.write_text(SAMPLE_CSV.read_text(encoding="utf-8").replace("102.5", "104.5"), encoding="utf-8")
    third = etl("import", "--format", "kevel_orders", "--source", str(changed), "--json", env=suite_env(real_suites))
    assert third.code == 0, third.stderr
    assert etl("docs", "--store", str(store)).code == 0
    history = chromium_dom(docs)
    for import_id in (run.json["import_id"], third.json["import_id"]):  # every run kept, not the last only
        assert f"import-{import_id}" in history
    pages = list(docs.parent.rglob("*.html"))
    cdn = re.compile(r"https://(cdn\.jsdelivr|cdnjs|unpkg|code\.jquery|maxcdn|stackpath|great-expectations-web)")
    assert not [p for p in pages if cdn.search(p.read_text(encoding="utf-8"))]
    assert (docs.parent / "static" / "vendor" / "licenses" / "jquery.txt").exists()


IMPORT_IN_A_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from etl.pipeline.importer import run_import
from etl.spec import ImportSpec
spec = ImportSpec(format="kevel_orders", source="data/samples/kevel_orders.csv")
result = run_import(spec, Path(sys.argv[1]), expectations=Path(sys.argv[2]))
print(json.dumps({"orders": result["entities"]["orders"], "validation": result["validation"],
                  "ge_imported": any(m.split(".")[0] == "great_expectations" for m in sys.modules)}))
"""


def import_in_a_fresh_process(store: Path, suites: Path) -> dict:
    command = [sys.executable, "-c", IMPORT_IN_A_FRESH_PROCESS, str(store), str(suites)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(done.stdout)


def test_a_plain_import_does_not_import_great_expectations(store, real_suites):
    first = import_in_a_fresh_process(store, real_suites)
    assert first["orders"]["added"] == 4
    assert (first["validation"]["checked"], first["ge_imported"]) == (count_expectations(real_suites), False)
    assert first["validation"]["great_expectations_for"] == []


def test_an_expectation_the_gate_does_not_know_is_checked_by_ge_and_named(store, real_suites):
    path = real_suites / "line_items.json"
    suite = json.loads(path.read_text())
    suite["expectations"].insert(1, {
        "type": "expect_column_mean_to_be_between", "kwargs": {"column": "quantity", "min_value": 100},
        "severity": "warning",
    })  # fmt: skip
    path.write_text(json.dumps(suite))
    result = import_in_a_fresh_process(store, real_suites)
    assert result["ge_imported"] is True
    validation = result["validation"]
    assert validation["great_expectations_for"] == [
        "line_items: expectations[1] expect_column_mean_to_be_between (the gate does not evaluate "
        "expect_column_mean_to_be_between)"
    ]
    mean = [r for r in validation["expectations"] if r["expectation"] == "expect_column_mean_to_be_between"]
    assert [(r["suite"], r["success"], r["severity"]) for r in mean] == [("line_items", False, "warning")]
    assert validation["success"] is True  # a warning
    line_items = next(r for r in validation["suite_results"] if r["suite_name"] == "line_items")
    assert [r["expectation_config"]["type"] for r in line_items["results"]][:2] == [
        "expect_table_row_count_to_be_between", "expect_column_mean_to_be_between"
    ]  # fmt: skip
    assert line_items["results"][1]["result"]["observed_value"] == pytest.approx(1.2)


def test_data_docs_page_lists_each_validation_with_its_result(tmp_path):
    """The index page of a store validation, opened in Chromium, links every suite's result."""
    store = tmp_path / "cdp.duckdb"
    with connect(store, read_only=False) as con:
        con.execute("INSERT INTO customers VALUES (1, '{}', 1, 1, NULL), (2, '{}', 1, 1, NULL)")
        con.execute("INSERT INTO identities VALUES ('email', '', 'a@x.com', 1, 1, 1, 1), ('fax', '', '1', 2, 1, 2, 2)")
        folder = tmp_path / "suites"
        folder.mkdir()
        shutil.copy(EXPECTATIONS / "identities.json", folder)
        result = validate.run(con, validate.load_suites(con, folder, now=NOW), scope="store", now=NOW, run_name="r1")
    assert result["success"] is True  # an unknown id type is a warning
    from etl.quality import data_docs

    index = data_docs.build(validate.docs_dir(store), result["suite_results"])
    page = chromium_dom(index)
    assert "identities" in page
    validations = list((index.parent / "validations").rglob("*.html"))
    assert len(validations) == 1
    detail = chromium_dom(validations[0])
    assert "id_type" in detail and "fax" in detail  # the failed warning and its unexpected value


STATUS = re.compile(r'<span class="h6" >Status:</span>\s*<i [^>]*></i>\s*([^<]+?)\s*<')


def test_data_docs_show_a_suite_whose_only_failures_are_warnings_as_passed(tmp_path):
    """The report's verdict, on the pages too: a failed warning passes ("Succeeded, with 1 failed warning"), a
    failed critical expectation fails (GE's own verdict fails both)."""
    store = tmp_path / "cdp.duckdb"
    folder = tmp_path / "suites"
    folder.mkdir()
    shutil.copy(EXPECTATIONS / "identities.json", folder)  # an unknown id type is a warning
    only_one = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "customer_id", "value_set": [1]},
                "severity": "critical"}  # fmt: skip
    (folder / "customers.json").write_text(json.dumps({"name": "customers", "expectations": [only_one]}))
    with connect(store, read_only=False) as con:
        con.execute("INSERT INTO customers VALUES (1, '{}', 1, 1, NULL), (2, '{}', 1, 1, NULL)")
        con.execute("INSERT INTO identities VALUES ('email', '', 'a@x.com', 1, 1, 1, 1), ('fax', '', '1', 2, 1, 2, 2)")
        result = validate.run(con, validate.load_suites(con, folder, now=NOW), scope="store", now=NOW, run_name="r1")
    assert (result["success"], result["failed"]) == (False, {"critical": 1, "warning": 1, "info": 0})
    verdicts = {r["suite_name"]: validate.suite_verdict(r) for r in result["suite_results"]}
    assert verdicts == {"customers": (False, 0), "identities": (True, 1)}
    from etl.quality import data_docs

    index = data_docs.build(validate.docs_dir(store), result["suite_results"])

    statuses = {
        page.parent.parent.parent.name: STATUS.findall(page.read_text(encoding="utf-8"))
        for page in (index.parent / "validations").rglob("*.html")
    }
    assert statuses == {"identities": ["Succeeded, with 1 failed warning"], "customers": ["Failed"]}
    rows = re.findall(
        r"ge-(warning|failed|success)-icon.*?'_table_row_link_path': 'validations/(\w+)/", index.read_text()
    )
    assert sorted(rows) == [("failed", "customers"), ("warning", "identities")]


def test_a_relative_store_path_gets_its_data_docs_beside_it(tmp_path, real_suites):
    def etl_here(*args: str) -> EtlRun:  # run in tmp_path
        return run_in_process(args, environment(suite_env(real_suites)), cwd=tmp_path)

    run = etl_here("import", "--format", "kevel_orders", "--source", str(SAMPLE_CSV), "--store", "data/cdp.duckdb")
    assert run.code == 0, run.stderr
    checked = etl_here("validate", "--store", "data/cdp.duckdb", "--json")
    assert checked.code == 0, checked.stderr
    index = tmp_path / "data" / "cdp.duckdb.validation" / "index.html"
    assert json.loads(checked.stdout)["data_docs"] == str(index) and index.is_file()
    runs = {p.name for p in (index.parent / "validations").rglob("*") if p.is_dir()}
    assert "import-1" in runs and any(name.startswith("validate-") for name in runs)  # both runs are kept


def test_a_failing_critical_expectation_stores_nothing_and_names_what_failed(etl, store, query, tmp_path, real_suites):
    first = etl("import", "--format", "kevel_orders", "--source", str(write_csv(
        tmp_path / "a.csv", [kevel_row("o1")])), env=suite_env(real_suites))  # fmt: skip
    assert first.code == 0, first.stderr
    rows = [kevel_row("o2", currency="ABC"), kevel_row("o3", currency="ABC", lineItem_currency="ABC")]
    source = write_csv(tmp_path / "b.csv", rows)
    before = query("SELECT (SELECT count(*) FROM orders) o, (SELECT count(*) FROM line_items) l, "
                   "(SELECT count(*) FROM events) e, (SELECT count(*) FROM customers) u")  # fmt: skip

    for dry in ([], ["--dry-run"]):  # a dry run checks what it would store, the same way
        run = etl("import", "--format", "kevel_orders", "--source", str(source), *dry, env=suite_env(real_suites))
        assert run.code == 1
        assert "critical expectations" in run.stderr
        assert "orders: expect_column_values_to_be_in_set on currency: 2 unexpected (100.00%), e.g. 'ABC'" in run.stderr
        assert "line_items: expect_column_values_to_be_in_set on currency: 1 unexpected" in run.stderr
        assert "the store is unchanged" in run.stderr

    assert query("SELECT (SELECT count(*) FROM orders) o, (SELECT count(*) FROM line_items) l, "
                 "(SELECT count(*) FROM events) e, (SELECT count(*) FROM customers) u") == before  # fmt: skip
    assert query("SELECT order_id FROM orders") == [{"order_id": "o1"}]
    failed = query("SELECT import_id, status, dry_run, report FROM imports WHERE status = 'failed' ORDER BY import_id")
    assert [(r["status"], r["dry_run"]) for r in failed] == [("failed", False), ("failed", True)]
    report = json.loads(failed[0]["report"])
    by_suite = {(r["suite"], r["column"]): r for r in report["validation"]["expectations"] if not r["success"]}
    assert by_suite[("orders", "currency")]["examples"] == ["ABC"]
    assert by_suite[("orders", "currency")]["severity"] == "critical"
    assert report["validation"]["failed"]["critical"] == 2


def test_editing_a_suite_changes_what_the_next_import_checks(etl, query, tmp_path, real_suites):
    rows = [kevel_row("o1", lineItem_quantity="3"), line_row("o1", lineItem_productId="p2", lineItem_quantity="1")]
    source = write_csv(tmp_path / "a.csv", rows)
    assert etl("import", "--format", "kevel_orders", "--source", str(source), "--dry-run",
               env=suite_env(real_suites)).code == 0  # fmt: skip

    path = real_suites / "line_items.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append({
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "quantity", "max_value": 2},
        "severity": "critical",
        "description": "This shop sells at most two of a kind.",
    })  # fmt: skip
    path.write_text(json.dumps(suite, indent=2))
    run = etl("import", "--format", "kevel_orders", "--source", str(source), env=suite_env(real_suites))
    assert run.code == 1
    assert "line_items: expect_column_values_to_be_between on quantity: 1 unexpected (50.00%), e.g. 3.0" in run.stderr
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]


def test_an_unknown_expectation_type_is_an_error_not_dropped(etl, query, tmp_path, real_suites):
    path = real_suites / "orders.json"
    suite = json.loads(path.read_text())
    suite["expectations"].insert(2, {"type": "expect_column_values_to_be_uniq", "kwargs": {"column": "order_id"}})
    path.write_text(json.dumps(suite, indent=2))
    run = etl("import", "data/samples/kevel_orders.yaml", env=suite_env(real_suites))
    assert run.code == 1
    assert (
        f"{path}: invalid expectation suite\n  expectations[2].type: 'expect_column_values_to_be_uniq' is not an "
        "expectation type Great Expectations knows (did you mean 'expect_column_values_to_be_unique'?)"
    ) in " ".join(run.stderr.split(" \n"))
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]


def test_a_suite_query_that_fails_inside_an_import_ends_it_cleanly(etl, query, tmp_path, real_suites):
    path = real_suites / "orders.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append({
        "type": "unexpected_rows_expectation",
        "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE totl > 0"},
        "severity": "warning",
    })  # fmt: skip
    path.write_text(json.dumps(suite))
    run = etl("import", "data/samples/kevel_orders.yaml", env=suite_env(real_suites))
    assert run.code == 1
    position = len(suite["expectations"]) - 1
    message = " ".join(run.stderr.split())
    assert (
        f"{path}: invalid expectation suite expectations[{position}] (unexpected_rows_expectation): Binder Error"
        in message
    )
    assert "totl" in run.stderr and "Traceback" not in run.stderr
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]
    assert query("SELECT status FROM imports") == [{"status": "failed"}]


def test_etl_validate_checks_the_whole_store(etl, store, tmp_path, real_suites):
    assert etl("import", "data/samples/kevel_orders.yaml", env=suite_env(real_suites)).code == 0
    with duckdb.connect(str(store)) as con:  # a row that slipped in by hand, outside any import
        con.execute("UPDATE line_items SET quantity = 0 WHERE order_id = 'or124'")
    run = etl("validate", "--store", str(store), "--entity", "line_items", "--json", env=suite_env(real_suites))
    assert run.code == 1
    result = run.json
    assert result["scope"] == "store" and result["suites"] == ["line_items"]
    failed = [r for r in result["expectations"] if not r["success"]]
    assert [(r["column"], r["unexpected_count"], r["examples"]) for r in failed] == [("quantity", 1, [0.0])]
    assert Path(result["data_docs"]).is_file()


# --- the suites, in-process (dict in, dict out) --------------------------------------------------


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "cdp.duckdb", read_only=False) as con:
        yield con


def write_suite(folder: Path, name: str, expectations: list[dict], **extra) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"name": name, "expectations": expectations, **extra}), encoding="utf-8")
    return path


def outcome(con, folder: Path) -> list[tuple]:
    result = validate.run(con, validate.load_suites(con, folder, now=NOW), scope="store", now=NOW, run_name="t")
    return [(r["expectation"], r["success"], r["unexpected_count"], r["examples"]) for r in result["expectations"]]


def test_regex_expectations_run_in_duckdb_with_row_conditions(con, tmp_path):
    con.execute("""INSERT INTO identities VALUES ('email', '', 'a@x.com', 1, 1, 1, 1),
        ('email', '', 'bad', 2, 1, 2, 2), ('email_sha256', '', sha256('a'), 3, 1, 3, 3),
        ('email_sha256', '', 'ABC', 4, 1, 4, 4), ('phone', '', '+49', 5, 1, 5, 5)""")  # fmt: skip
    identities = json.loads((EXPECTATIONS / "identities.json").read_text())["expectations"]
    suite = [e for e in identities if e["type"] == "expect_column_values_to_match_regex"]
    write_suite(tmp_path / "s", "identities", suite)
    assert outcome(con, tmp_path / "s") == [
        ("expect_column_values_to_match_regex", False, 1, ["bad"]),
        ("expect_column_values_to_match_regex", False, 1, ["ABC"]),
    ]


def test_timestamps_in_a_sane_range_use_the_run_time(con, tmp_path):
    con.execute("""INSERT INTO events (event_id, event_type, order_id, customer_id, occurred_at, import_id)
        VALUES (1, 'orderPlace', 'o1', 7, TIMESTAMPTZ '2026-11-24 12:00:00Z', 1),
        (2, 'orderPlace', 'o2', 7, TIMESTAMPTZ '2026-11-26 00:00:00Z', 1),
        (3, 'orderPlace', 'o3', 7, TIMESTAMPTZ '1970-01-01 00:00:00Z', 1)""")  # fmt: skip
    events = json.loads((EXPECTATIONS / "events.json").read_text())["expectations"]
    write_suite(tmp_path / "s", "events", [e for e in events if e["kwargs"].get("column") == "occurred_at"])
    result = outcome(con, tmp_path / "s")
    assert result[0] == ("expect_column_values_to_not_be_null", True, 0, [])
    assert result[1][:3] == ("expect_column_values_to_be_between", False, 2)
    assert sorted(result[1][3]) == ["1970-01-01T00:00:00+00:00", "2026-11-26T00:00:00+00:00"]  # GE's ISO text


def test_an_expectation_whose_sql_fails_is_a_clear_error(con, tmp_path):
    write_suite(tmp_path / "s", "orders", [
        {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE nope"}}
    ])  # fmt: skip
    expected = (r"orders.json: invalid expectation suite\n  expectations\[0\] \(unexpected_rows_expectation\): "
                r"Binder Error: Referenced column \"nope\"")  # fmt: skip
    with pytest.raises(SuiteError, match=expected):
        outcome(con, tmp_path / "s")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "orders", "expectations": [], "expectations": []}', "the key 'expectations' is given twice"),
        ('{"name": "orders", "expectations": [}', "orders.json:1:37: not valid JSON"),
        ('{"name": "orders", "expectation": []}', "expectations: required key is missing\n  expectation: unknown key"),
        ('{"name": "order", "expectations": []}', "name: expected 'orders', the file's name"),
        (
            '{"name": "orders", "expectations": [{"type": "expect_column_values_to_not_be_null", '
            '"kwargs": {"column": "totl"}}]}',
            "expectations[0].kwargs.column: the table has no column 'totl' (did you mean 'total'?)",
        ),
        (
            '{"name": "orders", "expectations": [{"type": "expect_column_values_to_be_in_set", '
            '"kwargs": {"column": "currency"}, "severity": "fatal"}]}',
            "expectations[0].severity: Input should be 'critical', 'warning' or 'info'",
        ),
    ],
)
def test_suite_files_are_read_strictly(con, tmp_path, text, message):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "orders.json").write_text(text)
    with pytest.raises(SuiteError) as error:
        validate.load_suites(con, tmp_path / "s", now=NOW)
    assert message in str(error.value)
    assert str(tmp_path / "s" / "orders.json") in str(error.value)


def test_kwargs_ge_refuses_are_errors_with_the_key_path(con, tmp_path):
    write_suite(tmp_path / "s", "orders", [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "order_id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "total", "mostly": 7}},
    ])  # fmt: skip
    with pytest.raises(SuiteError, match=r"expectations\[1\]\.kwargs: .*mostly"):
        validate.load_suites(con, tmp_path / "s", now=NOW)


def test_a_file_named_after_no_entity_is_an_error(con, tmp_path):
    write_suite(tmp_path / "s", "shoppers", [])
    with pytest.raises(SuiteError, match="no stored entity is named 'shoppers'"):
        validate.load_suites(con, tmp_path / "s", now=NOW)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SuiteError, match="did you mean 'orders'"):
        suites_module.read(tmp_path / "empty", {}, only="order")


def test_etl_validate_gives_the_gates_verdicts_and_ges_alike(etl, store, real_suites):
    """The same rows, three ways: the gate inside the import, `etl validate` (the gate over the
    store) and `etl validate --engine ge` (Great Expectations itself)."""
    imported = etl("import", "data/samples/kevel_orders.yaml", "--json", env=suite_env(real_suites))
    assert imported.code == 0, imported.stderr

    def verdicts(result: dict) -> list[tuple]:
        return [
            (r["suite"], r["expectation"], r["column"], r["success"], r["unexpected_count"], r["unexpected_percent"],
             sorted(map(json.dumps, r["examples"])))
            for r in result["expectations"]
        ]  # fmt: skip

    def validate_with(*flags: str) -> dict:
        run = etl("validate", "--store", str(store), "--json", "--no-docs", *flags, env=suite_env(real_suites))
        assert run.code in (0, 1), run.stderr
        return run.json

    gate, ge = validate_with(), validate_with("--engine", "ge")
    assert (gate["engine"], ge["engine"]) == ("gate", "ge")
    assert verdicts(gate) == verdicts(ge)
    written = {r["suite"] for r in imported.json["validation"]["expectations"]}  # an orders import: no customers
    assert [v for v in verdicts(gate) if v[0] in written] == verdicts(imported.json["validation"])

    with duckdb.connect(str(store)) as con:  # rows changed by hand break critical expectations
        con.execute("UPDATE line_items SET quantity = 0, currency = 'ABC' WHERE order_id = 'or124'")
        con.execute("UPDATE orders SET user_id = 'ann-at-example' WHERE order_id = 'or125'")
        con.execute("INSERT INTO events BY NAME SELECT event_id + 100 AS event_id, event_type, order_id, customer_id, "
                    "occurred_at, "
                    "import_id FROM events WHERE order_id = 'or126'")  # fmt: skip
    gate, ge = validate_with(), validate_with("--engine", "ge")
    assert verdicts(gate) == verdicts(ge)
    assert gate["success"] is False and gate["failed"] == ge["failed"]
    assert gate["failed"]["critical"] >= 4
