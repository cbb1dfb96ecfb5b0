"""The documentation site (mkdocs.yml, docs/): it builds with strict link checking, its generated pages are
current, a format page's tables are drawn in a browser, and every example on its pages runs.

The examples: on each page, in order, every `python` block and the `etl` lines of every `sh` block run in a folder
of their own holding a copy of data/samples, against a store of their own (ETL_STORE); README.md's too. A block with
`title="PATH"` is written to PATH first (the file it shows); a block after `<!-- no-run: REASON -->` is skipped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from etl.store.docs import PAGE, store_tables_markdown, with_store_tables
from tests.browser import chromium_dom
from tests.conftest import REPO, environment, run_in_process

DOCS = REPO / "docs"
MKDOCS = Path(sys.executable).with_name("mkdocs")
FENCE = re.compile(
    r"^(?:<!-- no-run: (?P<reason>[^\n]*?) -->\n)?```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
RUN = {"python", "sh", "bash"}  # the languages whose blocks run
NO_RUN_AT_MOST = 6  # blocks that cannot run here (a server, credentials): keep them few


@dataclass
class Block:
    page: str
    line: int
    language: str
    title: str | None
    body: str
    no_run: str | None


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = match["info"].strip()
        title = re.search(r'title="([^"]+)"', info)
        found.append(
            Block(
                page=page.relative_to(REPO).as_posix(),
                line=text.count("\n", 0, match.start("info")) + 1,
                language=info.split(" ", 1)[0].lower(),
                title=title.group(1) if title else None,
                body=match["body"],
                no_run=match["reason"],
            )
        )
    return found


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def example_pages() -> list[str]:
    """The pages with examples to run, README.md's among them, as paths in the repository."""
    return [p.relative_to(REPO).as_posix() for p in [*pages(), REPO / "README.md"] if runnable(p)]


def runnable(page: Path) -> bool:
    return any(b.no_run is None and (b.language in RUN or b.title) for b in blocks(page))


def etl_lines(body: str) -> list[list[str]]:
    """The `etl ...` commands of a shell block (continuation lines joined, comments dropped)."""
    commands = []
    for line in body.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "etl":
            commands.append(words[1:])
    return commands


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `make docs` builds it, into a folder of the test's: `mkdocs build --strict` fails on a broken
    link, a link to a missing heading, or a page left out of the nav."""
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]
    return out


def test_the_site_builds_strictly_with_every_page_of_the_nav_and_the_api_from_docstrings(site):
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]

    def files(entries):
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            yield from files(value) if isinstance(value, list) else [value]

    listed = set(files(nav))
    written = {p.relative_to(DOCS).as_posix() for p in pages()}
    assert written - listed == set(), "pages missing from mkdocs.yml's nav"
    for name in listed:
        built = site / re.sub(r"(^|/)README\.md$", r"\1index.md", name).removesuffix(".md")
        assert built.with_suffix(".html").is_file(), name
    api = (site / "api.html").read_text(encoding="utf-8")
    for documented in ("etl.Store", "import_", "etl.ImportReport", "etl.SegmentRun", "etl.list_formats", "EtlError"):
        assert documented in api
    assert "Import files (or an API" in api  # Store.import_'s docstring
    assert "<!--" not in (site / "formats" / "kevel_users.html").read_text(encoding="utf-8").split("md-content")[1]


def test_the_store_page_documents_every_table_and_column_of_the_schema():
    page = (REPO / PAGE).read_text(encoding="utf-8")
    assert with_store_tables(page) == page, "docs/store.md is not what etl/store/schema.sql says: run `make docs`"
    assert "| custom_fields | JSON |" in store_tables_markdown()
    changed = page.replace("| order_id | VARCHAR | Order identifier", "| order_id | VARCHAR | Order id", 1)
    assert with_store_tables(changed) != changed  # an edit of the generated part is noticed


def test_the_development_page_names_every_make_target():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-zA-Z_-]+):.*## ", makefile, flags=re.MULTILINE)
    listed = re.findall(r"^\| `make ([a-z_-]+)` \|", (DOCS / "development.md").read_text(encoding="utf-8"), re.M)
    assert listed == [t for t in targets if t != "help"]


def test_a_format_page_draws_its_tables_in_chromium_offline(site):
    """Material wraps each table in its scrolling frame by script: the frames are there when the page's scripts
    loaded from the site itself (no CDN, no font service) and ran."""
    dom = chromium_dom(site / "formats" / "kevel_orders.html")
    assert dom.count('class="md-typeset__table"') >= 3  # the columns, the value rules, the options
    assert "<code>orders.order_id</code>" in dom and "<code>line_items.line_item_id</code>" in dom
    assert "<code>hash_emails</code>" in dom  # the options table, written from the format's Options model
    assert "<!-- format-options" not in dom


def test_the_examples_that_cannot_run_are_few_and_say_why():
    skipped = [b for page in pages() for b in blocks(page) if b.no_run is not None]
    assert all(b.no_run.strip() for b in skipped)
    assert len(skipped) <= NO_RUN_AT_MOST, [(b.page, b.line, b.no_run) for b in skipped]


@pytest.mark.parametrize("page", example_pages())
def test_the_examples_of_a_page_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "data" / "samples", tmp_path / "data" / "samples")
    store = tmp_path / "store" / "cdp.duckdb"
    monkeypatch.setenv("ETL_STORE", str(store))
    monkeypatch.setenv("COLUMNS", "200")
    namespace: dict[str, object] = {"__name__": "__main__"}
    ran = 0
    for block in blocks(REPO / page):
        where = f"{block.page}:{block.line}"
        if block.no_run is not None:
            continue
        if block.title:
            target = tmp_path / block.title
            assert not Path(block.title).is_absolute() and target.resolve().is_relative_to(tmp_path), where
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
        elif block.language == "python":
            exec(compile(block.body, where, "exec"), namespace)  # noqa: S102 - the page's own example
            ran += 1
        elif block.language in ("sh", "bash"):
            for args in etl_lines(block.body):
                run = run_in_process(args, environment({"ETL_STORE": str(store)}), cwd=tmp_path)
                assert run.code == 0, f"{where}: etl {shlex.join(args)} exited {run.code}\n{run.stderr[-3000:]}"
                ran += 1
    assert ran, f"{page}: no example ran"
