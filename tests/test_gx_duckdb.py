"""etl/quality/gx_duckdb.py works around three breakages of GE 1.24 with duckdb-engine on DuckDB 2.0.

Each test here runs the unpatched libraries and asserts the breakage is still there. When one
fails, upstream fixed it: drop that workaround from etl/quality/gx_duckdb.py, and this test with it.
"""

from __future__ import annotations

import os

import duckdb
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
gx = pytest.importorskip("great_expectations")  # a dependency: always there; imported here for its seconds

UPSTREAM_FIXED = "upstream fixed this: remove the workaround from etl/quality/gx_duckdb.py, and this test"


@pytest.fixture
def store_file(tmp_path):
    path = tmp_path / "plain.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT i AS id, 'x' || i AS label FROM range(10) r(i)")
    return path


def plain_source(path, name="plain"):
    context = gx.get_context(mode="ephemeral")
    return context.data_sources.add_sql(name, connection_string=f"duckdb:///{path}")


def test_ge_fetches_results_after_the_pooled_connection_was_reset(store_file):
    """Workaround 1 (_BorrowedConnection): every metric fails with 'list index out of range'."""
    asset = plain_source(store_file).add_query_asset("t", query="SELECT * FROM t")
    batch = asset.add_batch_definition_whole_table("all").get_batch()
    result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="id"))
    messages = [v.get("exception_message", "") for v in result.exception_info.values() if isinstance(v, dict)]
    assert any("list index out of range" in m for m in messages), UPSTREAM_FIXED


def test_duckdb_engine_cannot_reflect_tables_on_duckdb_2(store_file):
    """Workaround 2 (query assets, which need no reflection, instead of table assets): duckdb-engine
    reflects with PostgreSQL catalog queries that DuckDB 2.0 cannot answer. GE catches the error,
    but inside the import's transaction the failed query has already aborted it."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"duckdb:///{store_file}")
    try:
        with pytest.raises(sa.exc.SQLAlchemyError, match="pg_collation|REGCLASS|pg_catalog") as error:
            sa.inspect(engine).get_columns("t")
        assert error.value is not None, UPSTREAM_FIXED
    finally:
        engine.dispose()


def test_ge_has_no_duckdb_regex_expression():
    """Workaround 3 (install()): GE returns no regex expression for DuckDB."""
    import sqlalchemy as sa
    from duckdb_engine import Dialect
    from great_expectations.expectations.metrics import util

    from etl.quality import gx_duckdb

    gx_duckdb.install()
    original = getattr(util.get_dialect_regex_expression, "original", util.get_dialect_regex_expression)
    assert original(sa.column("c"), "^a", Dialect()) is None, UPSTREAM_FIXED
    patched = util.get_dialect_regex_expression(sa.column("c"), "^a", Dialect())
    assert "regexp_matches" in str(patched)


def test_the_borrowed_connection_sees_and_keeps_the_open_transaction(tmp_path):
    """What the workaround must guarantee: GE reads the import's uncommitted rows, and neither
    commits nor rolls back the import's transaction."""
    from etl.quality import gx_duckdb

    with duckdb.connect(str(tmp_path / "s.duckdb")) as con:
        con.execute("CREATE TABLE t (id INTEGER)")
        con.begin()
        con.execute("INSERT INTO t VALUES (1), (NULL)")
        context = gx.get_context(mode="ephemeral")
        failures: list = []
        source = context.data_sources.add_sql(
            "s", connection_string="duckdb:///:memory:", kwargs=gx_duckdb.engine_kwargs(con, failures)
        )
        batch = source.add_query_asset("t", query="SELECT * FROM t").add_batch_definition_whole_table("a").get_batch()
        result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="id"))
        assert (result.success, result.result["unexpected_count"], failures) == (False, 1, [])
        con.rollback()
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]


LIGHTER_IMPORT = """
import sys
{first}
import great_expectations, jsonschema
jsonschema.validate({{"a": 1}}, {{"type": "object"}}, format_checker=jsonschema.FormatChecker())
print(sys.modules.get("rfc3987_syntax") is not None)
"""


def run_python(code: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_jsonschema_still_builds_the_rfc3987_grammar_when_ge_is_imported():
    """The lighter import (gx_duckdb marks rfc3987_syntax absent): without it, GE's import loads it."""
    assert run_python(LIGHTER_IMPORT.format(first="")) == "True", UPSTREAM_FIXED


def test_ge_imported_after_gx_duckdb_leaves_rfc3987_syntax_out():
    assert run_python(LIGHTER_IMPORT.format(first="import etl.quality.gx_duckdb")) == "False"
