"""Data Docs (Great Expectations' HTML) built by GE from the validation results the gate stored.

Imports do not render anything: every import keeps its results, in GE's shape, in its report
(imports.report -> validation.suite_results). `etl docs` renders every stored run into
<store>.validation/, one validation page per import and suite, named import-N; `etl
validate` adds its own run (validate-TIMESTAMP), kept as a JSON file in
<store>.validation/runs/ so that the next build still shows it. Importing this module
imports GE (seconds): only the commands that render do.

A suite's status is the report's verdict, not GE's: GE fails a suite when any expectation failed, the gate only
when a critical one did (or one could not be checked). A suite whose only failures are warnings (or info) is
shown as passed, its status "Succeeded, with N failed warning(s)" and a warning icon, its failed expectations
listed as GE lists them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb

from etl.quality import gx_run  # noqa: F401  # GE with the DuckDB workarounds, before GE's own modules

# isort: split
import great_expectations as gx
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from etl.quality import validate  # noqa: E402  (after GE, as above)

RUNS = "runs"  # in the docs folder: the results of `etl validate` runs, as JSON
VENDOR = Path(__file__).with_name("data_docs_vendor")  # the pages' scripts and styles (its README)
# What GE's page templates load from CDNs, and the copy in VENDOR that replaces each.
CDN_COPIES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome.all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-prefers-dark.min.css",
}  # fmt: skip
GE_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"')]*?\.png(\?[^\"')]*)?")


def stored_runs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The GE-shaped suite results of every import that checked rows, oldest first."""
    rows = con.execute(
        "SELECT json_extract(report, '$.validation.suite_results') FROM imports "
        "WHERE json_extract(report, '$.validation.suite_results') IS NOT NULL ORDER BY import_id"
    ).fetchall()
    return [result for (text,) in rows for result in json.loads(text)]


def save_run(docs: Path, suite_results: list[dict[str, Any]], run_name: str) -> None:
    """Keep a run that no import recorded (`etl validate`), for later builds."""
    folder = docs / RUNS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_name}.json").write_text(json.dumps(suite_results), encoding="utf-8")


def saved_runs(docs: Path) -> list[dict[str, Any]]:
    folder = docs / RUNS
    if not folder.is_dir():
        return []
    return [r for path in sorted(folder.glob("*.json")) for r in json.loads(path.read_text(encoding="utf-8"))]


def build_for_store(con: duckdb.DuckDBPyConnection, docs: Path) -> tuple[Path, int]:
    """Render every run of the store (its imports' and the saved `etl validate` runs):
    (index.html, how many suite results)."""
    runs = stored_runs(con) + saved_runs(docs)
    return build(docs, runs), len(runs)


def build(docs: Path, suite_results: list[dict[str, Any]]) -> Path:
    """Render the results into docs/ (GE's site builder) and return its index.html."""
    for owned in ("validations", "expectations", "static"):  # GE's pages: rebuilt from the results
        shutil.rmtree(docs / owned, ignore_errors=True)
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={"local": site},
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    with_warnings: dict[str, int] = {}  # a page under validations/ -> its failed warnings, when it passed
    for shaped in suite_results:
        success, warnings = validate.suite_verdict(shaped)
        result = ExpectationSuiteValidationResult(**_for_ge(shaped, success))
        run_id = RunIdentifier(**shaped["meta"]["run_id"])
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=shaped["suite_name"]),
            run_id=run_id,
            batch_identifier=shaped["suite_name"],
        )
        context.validation_results_store.set(key, result)
        if success and warnings:
            with_warnings["/".join(("validations", *key.to_tuple())) + ".html"] = warnings
    context.build_data_docs()
    _label_warnings(docs, with_warnings)
    _offline(docs)
    return docs / "index.html"


# GE's markup of a passed suite: on its validation page, and in its row of the index's table data
_PAGE_PASSED = re.compile(r'(<i class="fas fa-check-circle text-success" aria-hidden="true"></i>\s*)Succeeded')
_ROW_PASSED = re.compile(
    r"""(<i class="fas fa-check-circle text-success ge-success-icon" ></i>)(.*?'_table_row_link_path': '([^']*)',"""
    r"""\s*'_validation_success_text': 'Success')""",
    re.DOTALL,
)
_WARNING_ICON = '<i class="fas fa-exclamation-triangle text-warning ge-warning-icon" title="{}"></i>'


def _label_warnings(docs: Path, with_warnings: dict[str, int]) -> None:
    """Say "Succeeded, with N failed warning(s)" where a suite passed with failed warnings: on its page and in
    its row of the index (GE shows a bare "Succeeded", or, given GE's own verdict, "Failed")."""
    if not with_warnings:
        return
    for path, count in with_warnings.items():
        page = docs / path
        if page.is_file():
            text = _PAGE_PASSED.sub(lambda m, n=count: m.group(1) + _status(n), page.read_text(encoding="utf-8"), 1)
            page.write_text(text, encoding="utf-8")
    index = docs / "index.html"

    def row(match: re.Match[str]) -> str:
        count = with_warnings.get(match.group(3))
        if count is None:
            return match.group(0)
        rest = match.group(2).replace(
            "'_validation_success_text': 'Success'", f"'_validation_success_text': '{_status(count)}'"
        )
        return _WARNING_ICON.format(_status(count)) + rest

    index.write_text(_ROW_PASSED.sub(row, index.read_text(encoding="utf-8")), encoding="utf-8")


def _status(warnings: int) -> str:
    return f"Succeeded, with {warnings} failed warning{'s' if warnings != 1 else ''}"


def _offline(docs: Path) -> None:
    """Point the pages at local copies of what they load from CDNs: they then work offline."""
    vendor = docs / "static" / "vendor"
    shutil.copytree(VENDOR, vendor, dirs_exist_ok=True)
    for page in docs.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        local = os.path.relpath(vendor, page.parent)
        for url, name in CDN_COPIES.items():
            text = text.replace(f'"{url}"', f'"{local}/{name}"')
        logo = os.path.relpath(docs / "static" / "images" / "logo-long.png", page.parent)
        text = GE_LOGO.sub(logo, text)  # GE's logo, light and dark, from its own static/images
        page.write_text(text, encoding="utf-8")


def _for_ge(shaped: dict[str, Any], success: bool) -> dict[str, Any]:
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    results = []
    for r in shaped["results"]:
        config = dict(r["expectation_config"])
        results.append(
            ExpectationValidationResult(
                success=r["success"],
                expectation_config=ExpectationConfiguration(**config),
                result=r.get("result") or {},
                meta=r.get("meta") or {},
                exception_info=r.get("exception_info"),
            )
        )
    return {
        "success": success,  # the report's verdict (validate.suite_verdict), not GE's any-failure one
        "results": results,
        "suite_name": shaped["suite_name"],
        "suite_parameters": shaped.get("suite_parameters") or {},
        "statistics": shaped.get("statistics") or {},
        "meta": shaped.get("meta") or {},
    }
