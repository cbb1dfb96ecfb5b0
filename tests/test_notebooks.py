"""The notebooks in notebooks/ run from top to bottom, and are committed without outputs."""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import EXPECTATIONS, REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_the_five_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_import_walkthrough.ipynb",
        "02_rfm_and_segments.ipynb",
        "03_data_quality.ipynb",
        "04_products_and_categories.ipynb",
        "05_events.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code), (
        f"{path.name} has outputs: clear them before committing (Edit > Clear Outputs of All Cells)"
    )


PLOTS_A_READER_CAN_TRUST = """
# the RFM heatmap: each of the 25 cells shows its count, and the counts are the customers
assert len(rfm_ax.texts) == 25
assert sum(int(t.get_text().replace(",", "")) for t in rfm_ax.texts) == rfm.height
# cohort retention: month 0 (always 100%) is not drawn; months not yet happened are masked,
# not 0%; each cohort's size is in its label
assert [t.get_text() for t in cohort_ax.get_xticklabels()][0] == "1"
assert retention_grid.mask[-1].all() and not retention_grid.mask[0].any()
months_left = [(last_month.year - d.year) * 12 + last_month.month - d.month for d in table["cohort"]]
assert list(retention_grid.mask.sum(axis=1)) == [max(0, 12 - left) for left in months_left]
assert all(label.get_text().endswith(")") for label in cohort_ax.get_yticklabels())
assert retention_grid.max() < 1  # the colour scale is not saturated by month 0
# revenue by month: from zero, with thousands separators
assert revenue_ax.get_ylim()[0] == 0
assert revenue_ax.yaxis.get_major_formatter()(12345, 0) == "12,345"
"""


@pytest.fixture(scope="module")
def notebook_store(tmp_path_factory) -> Path:
    """The user's store: it holds an import of the bundled sample before the notebooks run."""
    from etl.pipeline.importer import run_import
    from etl.spec import load_spec_data, validate_spec

    store = tmp_path_factory.mktemp("notebooks") / "cdp.duckdb"
    sample = REPO / "data" / "samples" / "kevel_orders.yaml"
    data = load_spec_data(sample) | {"source": str(REPO / "data" / "samples" / "kevel_orders.csv")}
    run_import(validate_spec(data, str(sample)), store, expectations=EXPECTATIONS)
    return store


def _status() -> str:
    """git status of the notebooks folder, untracked and ignored files included (data/ is shared with other tests
    running beside: the store's folder is checked instead)."""
    found = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--", "notebooks"],
                           cwd=REPO, capture_output=True, text=True, check=True)  # fmt: skip
    return found.stdout


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, notebook_store: Path, monkeypatch, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("ETL_STORE", str(notebook_store))  # the kernel inherits it
    monkeypatch.setenv("ETL_EXPECTATIONS", str(EXPECTATIONS))
    before = _digest(notebook_store)
    tree_before = _status(), sorted(p.name for p in notebook_store.parent.iterdir())
    notebook = nbformat.read(path, as_version=4)
    if path.stem.startswith("02"):  # what the plots show, checked in the kernel after they were drawn
        notebook.cells.append(nbformat.v4.new_code_cell(PLOTS_A_READER_CAN_TRUST))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert _digest(notebook_store) == before, f"{path.name} wrote into the user's store"
    # nothing left in the project's tree, nor beside the store but the notebook's own demo stores
    assert _status() == tree_before[0], f"{path.name} left files in the working tree"
    left = sorted(p.name for p in notebook_store.parent.iterdir() if p.name not in tree_before[1])
    assert [name for name in left if not name.startswith("demo_") or ".duckdb" not in name] == [], left
    if path.stem.startswith("02"):  # the plots were drawn
        assert sum(1 for o in outputs if "image/png" in o.get("data", {})) >= 4
    if path.stem.startswith("01"):  # the import reports, as a browser draws the notebook's HTML
        assert {"Files", "Would be stored", "Stored", "Issues (rows rejected)"} <= drawn_tables(notebook, tmp_path)


# Measures, in the page as the browser laid it out, each report table: its caption, height and rows.
MEASURE = """<script>
document.body.setAttribute("data-drawn", JSON.stringify([...document.querySelectorAll(".etl-report table")].map(
    t => [t.caption ? t.caption.textContent : "", t.getBoundingClientRect().height, t.rows.length])));
</script>"""


def drawn_tables(notebook, folder: Path) -> set[str]:
    """The captions of the report tables that headless Chromium drew (a height, a header and rows) in the notebook
    exported to HTML as JupyterLab shows it."""
    from browser import chromium_dom
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    page = folder / "notebook.html"
    page.write_text(body.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    found = re.search(r'data-drawn="([^"]*)"', chromium_dom(page))
    assert found, "the page's tables were not measured"
    return {caption for caption, height, rows in json.loads(html.unescape(found.group(1))) if height > 0 and rows > 1}
