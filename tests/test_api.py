"""The public Python API (`import etl`): what a notebook does with it, dict in, dict out, and its surface held by a
snapshot of every public name's signature (tests/snapshots/public_api.txt)."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_CSV, kevel_row, rows_of, write_csv

import etl

SNAPSHOT = Path(__file__).parent / "snapshots" / "public_api.txt"
SAMPLE_SPEC = REPO / "data" / "samples" / "kevel_orders.yaml"


def public_surface() -> list[str]:
    """Every public name of `etl`, and of each public class its public methods and properties, with signatures."""
    lines = []
    for name in sorted(etl.__all__):
        value = getattr(etl, name)
        if name == "__version__":
            lines.append("__version__: str")
        elif inspect.isclass(value) and issubclass(value, BaseException):
            lines.append(f"class {name}({value.__mro__[1].__name__})")
        elif inspect.isclass(value):
            lines.append(f"class {name}{inspect.signature(value)}")
            for member, found in sorted(vars(value).items()):
                if member.startswith("_") and member not in ("__init__", "__len__"):
                    continue
                if isinstance(found, property):
                    lines.append(f"  {name}.{member}: property -> {inspect.signature(found.fget).return_annotation}")
                elif callable(found):
                    lines.append(f"  {name}.{member}{inspect.signature(found)}")
            if hasattr(value, "__dataclass_fields__"):
                lines.extend(f"  {name}.{field}: field" for field in value.__dataclass_fields__)
        else:
            lines.append(f"def {name}{inspect.signature(value)}")
    return lines


def test_every_public_name_imports_and_keeps_its_signature() -> None:
    found = public_surface()
    if os.environ.get("ETL_UPDATE_API_SNAPSHOT"):
        SNAPSHOT.write_text("\n".join(found) + "\n", encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    assert found == expected, (
        "the public API changed: if deliberate, ETL_UPDATE_API_SNAPSHOT=1 pytest tests/test_api.py"
    )


def test_import_etl_loads_neither_polars_nor_duckdb() -> None:
    code = "import sys, etl; etl.Store; print(sorted(m for m in ('polars', 'duckdb') if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert found.stdout.strip() == "[]"


def test_a_dry_run_reports_and_stores_nothing(store: Path) -> None:
    report = etl.Store(store).import_(SAMPLE_SPEC, dry_run=True)
    assert (report.dry_run, report.status, report.items, report.valid, report.rejected) == (True, "completed", 7, 5, 2)
    assert report.entities["orders"] == {"added": 4, "updated": 0, "unchanged": 0}
    assert rows_of(store, "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM customers) AS n") == [{"n": 0}]


def test_an_import_stores_what_its_report_counts(store: Path) -> None:
    shop = etl.Store(store)
    report = shop.import_(SAMPLE_SPEC)
    assert shop.sql("SELECT order_id, currency, total FROM orders ORDER BY order_id").to_dicts() == [
        {"order_id": "or123", "currency": "EUR", "total": 102.5},
        {"order_id": "or124", "currency": "EUR", "total": 30.0},
        {"order_id": "or125", "currency": "EUR", "total": 15.99},
        {"order_id": "or126", "currency": "EUR", "total": 250.0},
    ]
    assert report.to_dict() == shop.report(report.import_id).to_dict() == shop.report().to_dict()
    assert shop.runs().select("import_id", "status", "items", "valid", "rejected").to_dicts() == [
        {"import_id": report.import_id, "status": "completed", "items": 7, "valid": 5, "rejected": 2}
    ]


def test_rejects_name_file_line_and_reasons(store: Path) -> None:
    report = etl.Store(store).import_(SAMPLE_SPEC)
    rejects = report.rejects()
    assert rejects.columns == ["source", "line", "record", "reasons", "raw"]
    found = [
        (Path(r["source"]).name, r["line"], [(x["column"], x["value"]) for x in r["reasons"]])
        for r in rejects.to_dicts()
    ]
    assert found == [
        ("kevel_orders.csv", 7, [("userId", "not-an-email")]),
        ("kevel_orders.csv", 8, [("lineItem_quantity", "one")]),
    ]


def test_keywords_over_a_spec_and_options_merged(store: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "o.csv", [kevel_row("a1", userId="ann@example.com")])
    shop = etl.Store(store)
    report = shop.import_(SAMPLE_SPEC, source=str(source), options={"hash_emails": True})
    assert (report.items, report.valid) == (1, 1)
    assert shop.sql("SELECT order_id, user_id_type FROM orders").to_dicts() == [
        {"order_id": "a1", "user_id_type": "email_sha256"}  # the spec's options, with hash_emails given here
    ]


def test_without_a_spec_format_and_source_are_needed(store: Path) -> None:
    with pytest.raises(etl.SpecError, match="format= and source="):
        etl.Store(store).import_(format="kevel_orders")
    report = etl.Store(store).import_(format="kevel_orders", source=str(SAMPLE_CSV))
    assert (report.valid, report.rejected) == (5, 2)


def test_errors_are_the_commands_own(store: Path, tmp_path: Path, etl: object) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("format: kevel_order\nsource: x.csv\n", encoding="utf-8")
    with pytest.raises(etl_module().SpecError) as raised:
        etl_module().Store(store).import_(spec)
    command = etl("import", str(spec))  # the etl fixture: the command in this process
    assert command.code == 2 and str(raised.value) in command.stderr
    assert "kevel_orders" in str(raised.value)  # the misspelt name's nearest


def etl_module():
    return sys.modules["etl"]


def test_sql_binds_parameters_never_pastes_them(store: Path) -> None:
    shop = etl.Store(store)
    shop.import_(SAMPLE_SPEC)
    assert shop.sql("SELECT count(*) AS n FROM orders WHERE currency = $c", c="EUR").to_dicts() == [{"n": 4}]
    assert shop.sql("SELECT count(*) AS n FROM orders WHERE order_id = $o", o="x' OR '1'='1").to_dicts() == [{"n": 0}]


def test_a_missing_store_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    with pytest.raises(etl.EtlError, match="does not exist yet"):
        etl.Store(missing).runs()
    assert not missing.exists()


def test_a_segment_checks_its_keywords_and_shows_what_it_ran_with(store: Path) -> None:
    shop = etl.Store(store)
    shop.import_(SAMPLE_SPEC)
    run = shop.segment("rfm", observation_end=date(2024, 12, 31))
    assert run.frame.select("customer_id", "recency_days", "frequency").sort("customer_id").to_dicts()[0] == {
        "customer_id": 1, "recency_days": 1567, "frequency": 1,
    }  # fmt: skip
    assert run.parameters["observation_end"] == date(2024, 12, 31) and len(run) == run.frame.height == 3
    assert "observation_end=2024-12-31" in repr(run) and "<table>" in run._repr_html_()
    with pytest.raises(etl.EtlError, match="no parameter 'observation_ed'.*did you mean 'observation_end'"):
        shop.segment("rfm", observation_ed="2024-12-31")


def test_the_report_renders_as_html_with_every_value_escaped(store: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "o.csv", [kevel_row("<script>alert(1)</script>"), kevel_row("b", total="<b>x</b>")])
    report = etl.Store(store).import_(format="kevel_orders", source=str(source))
    page = report._repr_html_()
    assert page.count("<table>") >= 3  # files, stored, issues, sample
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "report.rejects()" in page and "etl rejects" not in page  # a notebook is told its methods
    text = repr(report)
    assert f"Import {report.import_id} (kevel_orders): completed" in text and "<script>alert(1)</script>" in text


def test_to_dict_is_what_etl_report_json_prints(store: Path, etl: object) -> None:
    report = etl_module().Store(store).import_(SAMPLE_SPEC)
    printed = etl("report", str(report.import_id), "--json")
    assert printed.code == 0 and json.loads(printed.stdout) == json.loads(json.dumps(report.to_dict(), default=str))


def test_validation_is_a_result_with_its_failures(store: Path) -> None:
    shop = etl.Store(store)
    shop.import_(SAMPLE_SPEC)
    result = shop.validate(docs=False)
    assert result.success and result.failures().height == 0
    assert "Store invariants: all hold." in repr(result) and "passed" in result._repr_html_()
    assert result.to_dict()["invariants"] == []


def test_events_deleted_and_restored(store: Path) -> None:
    shop = etl.Store(store)
    shop.import_(REPO / "data" / "samples" / "crossengage_events.yaml")
    before = shop.sql("SELECT count(*) AS n FROM events").item()
    deleted = shop.events.delete("2000-01-01", date(2100, 1, 1))
    assert deleted.to_dict()["events"] == before and shop.sql("SELECT count(*) AS n FROM events").item() == 0
    assert f"store.events.restore({deleted.import_id})" in repr(deleted)
    shop.events.restore(deleted.import_id)
    assert shop.sql("SELECT count(*) AS n FROM events").item() == before


def test_progress_is_called_per_file_as_rows_are_read(store: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "o.csv", [kevel_row(f"o{n}") for n in range(3)])
    calls = []
    etl.Store(store).import_(format="kevel_orders", source=str(source), progress=lambda *a: calls.append(a))
    assert calls and {uri for uri, _, _ in calls} == {str(source)} and calls[-1][1] == 3


def test_listings_of_formats_and_segments() -> None:
    formats = etl.list_formats()
    assert "kevel_orders" in formats["name"].to_list() and formats.columns[:2] == ["name", "entity"]
    segments = etl.list_segments()
    rfm = segments.filter(name="rfm").to_dicts()[0]
    assert rfm["grain"].startswith("one row per customer") and "observation_end" in [
        p["name"] for p in rfm["parameters"]
    ]


def test_rows_stay_in_the_store_written(store: Path) -> None:
    etl.Store(store).import_(SAMPLE_SPEC)
    assert rows_of(store, "SELECT count(*) AS n FROM orders") == [{"n": 4}]


def test_a_segment_left_without_its_date_runs_to_the_last_purchase_day_and_says_so(store: Path) -> None:
    shop = etl.Store(store)
    shop.import_(SAMPLE_SPEC)  # its latest purchase: or126, 2021-03-05
    run = shop.segment("rfm")
    assert run.parameters["observation_end"] == date(2021, 3, 5)
    assert run.defaults == {"observation_end": "the store's last purchase day", "statuses": "default"}
    assert run.frame.equals(shop.segment("rfm", observation_end=date(2021, 3, 5)).frame)
    assert "observation_end=2021-03-05 (the store's last purchase day)" in repr(run)
    assert run.to_dict()["parameters"]["observation_end"] == date(2021, 3, 5)


def test_a_notebook_gets_a_bar_per_file_and_a_pipe_gets_none(monkeypatch, capsys) -> None:
    from etl.api import progress

    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress.automatic() is None  # a CI log: no bars
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    bars = progress.automatic()
    assert isinstance(bars, progress.Bars)
    bars("a.csv", 10, 100)
    bars("a.csv", 150, 100)  # more rows than estimated: the total follows
    bars("b.csv", 5, 5)
    assert {uri: (bar.n, bar.total) for uri, bar in bars.bars.items()} == {"a.csv": (150, 150), "b.csv": (5, 5)}
    bars.close()


def test_progress_true_draws_bars_even_in_a_pipe(store: Path, tmp_path: Path, capsys) -> None:
    source = write_csv(tmp_path / "o.csv", [kevel_row("o1")])
    etl.Store(store).import_(format="kevel_orders", source=str(source), progress=True)
    assert f"reading {source}" in capsys.readouterr().err
    etl.Store(store).import_(format="kevel_orders", source=str(source))  # None: a pipe gets none
    assert "reading" not in capsys.readouterr().err
