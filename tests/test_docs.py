"""Generated documentation stays current."""

from etl.store.docs import store_tables_markdown, with_store_tables
from tests.conftest import REPO


def test_readme_documents_every_table_and_column_of_the_store():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_store_tables(readme) == readme, "run `make docs`"
    assert "| custom_fields | JSON |" in store_tables_markdown()
