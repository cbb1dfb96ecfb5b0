"""Bench step: the expectation suites over 10 million line items (bench/run.py's --validation-orders).

The Kevel orders CSV (bench/run.py makes it: 4,000,000 orders, about 10 million line items) imported into a fresh
store, then the line_items suite run over them by `etl validate --no-docs` (the gate, as imports run it): its wall
time against the import's, and the peak RSS of each.
"""

from __future__ import annotations

from pathlib import Path

from harness import ETL, Row, Series, Target, checked, remove_duckdb_file

VALIDATION_MAX_SHARE = 0.25  # validating may take at most a quarter of the import's time


def measure(csv_path: Path, workdir: Path, max_rss_bytes: float) -> str:
    """The import of `csv_path`, then its validation: one line of figures. StepFailed when either fails."""
    store = workdir / "validation.duckdb"
    remove_duckdb_file(store)
    imported = checked("import", [ETL, "import", "--format", "kevel_orders", "--source", csv_path, "--store", store,
                                  "--json"])  # fmt: skip
    report = imported.json()
    lines, timings = report["entities"]["line_items"]["added"], report.get("timings_s", {})
    # exit status 1: an expectation failed, which this step does not judge
    run = checked("etl validate", [ETL, "validate", "--entity", "line_items", "--store", store, "--json", "--no-docs"],
                  ok=(0, 1))  # fmt: skip
    result = run.json()
    share = Row(Series.of("validate", run), Target(VALIDATION_MAX_SHARE, max_rss_bytes), Series.of("import", imported))
    remove_duckdb_file(store)
    return (
        f"validating {lines:,} line items ({result['checked']} expectations of line_items.json, etl validate): "
        f"{run.wall_s:.2f} s, peak RSS {run.peak_rss_bytes / 1e9:.2f} GB, against their import's "
        f"{imported.wall_s:.2f} s (peak RSS {imported.peak_rss_bytes / 1e9:.2f} GB, of which the suites "
        f"inside the import: {timings.get('validate', 0):.2f} s, plus {timings.get('load_suites', 0):.2f} s loading "
        f"them): {share.ratio:.1%} (target <= {VALIDATION_MAX_SHARE:.0%}, <= {max_rss_bytes / 1e9:.1f} GB) "
        f"{share.verdict}"
    )
