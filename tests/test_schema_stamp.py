"""The schema stamp: a write connection runs the store's set-up (tables, upgrades, views, macros) only when the
store's stamp is not the one of this version's set-up."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, rows_of

from etl.segments import catalog as segment_catalog
from etl.store import connection as etl_store
from etl.store import sqlfiles

# What only the set-up runs: the statements of its SQL files and macros, and the upgrades' probes and marks (the read
# of the stamp and the check of order_facts run on every write connection; an import runs DDL of its own, on TEMP
# tables).
PROBES = re.compile(r"information_schema|email_hashes_linked|ids_case_kept")


def set_up_statements() -> set[str]:
    files = [*etl_store.SCHEMA_FILES, *etl_store.VIEW_FILES]
    texts = [*(s for name in files for s in sqlfiles.statements(name)), *segment_catalog.macro_statements()]
    return {" ".join(text.split()) for text in texts}


class Recording:
    """A connection that notes every statement run through it, and passes everything else on."""

    def __init__(self, con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
        self._con, self.statements = con, statements

    def execute(self, query: str, *args, **kwargs):
        self.statements.append(" ".join(query.split()))
        return self._con.execute(query, *args, **kwargs)

    def sql(self, query: str, *args, **kwargs):
        self.statements.append(" ".join(query.split()))
        return self._con.sql(query, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """The statements that etl.store.connection.connect runs on the connections it opens (cleared by the test as
    it goes)."""
    seen: list[str] = []
    opened = etl_store._open
    monkeypatch.setattr(etl_store, "_open", lambda *args: Recording(opened(*args), seen))
    return seen


def write_connection(store: Path) -> None:
    with etl_store.connect(store, read_only=False):
        pass


def stamps(store: Path) -> list[str]:
    return [r["value"] for r in rows_of(store, "SELECT value FROM store_meta WHERE key = 'schema_stamp'")]


def change_store(store: Path, sql: str, params: list | None = None) -> None:
    with duckdb.connect(str(store)) as con:
        con.execute(sql, params or [])


def set_up_ran(statements: list[str]) -> list[str]:
    set_up = set_up_statements()
    return [s for s in statements if s in set_up or PROBES.search(s)]


def test_a_second_write_connection_to_a_current_store_runs_no_set_up(store, statements):
    store.parent.mkdir(parents=True)
    write_connection(store)  # a new file: set up, stamped
    assert len(set_up_ran(statements)) > 100 and stamps(store) == [etl_store.schema_stamp()]
    statements.clear()

    write_connection(store)

    assert set_up_ran(statements) == []
    # the stamp's one query, and the check that order_facts is current (done on every write connection)
    assert len(statements) == 2 and "store_meta" in statements[0], statements
    assert statements[1] == "SELECT order_facts_current()"
    assert stamps(store) == [etl_store.schema_stamp()]


def test_a_store_without_a_stamp_is_set_up_and_stamped(store, statements):
    store.parent.mkdir(parents=True)
    write_connection(store)
    change_store(store, "DELETE FROM store_meta WHERE key = 'schema_stamp'")  # as an earlier version left it
    change_store(store, "DROP MACRO TABLE rfm")  # so that the set-up's work shows in the store, not only in its log
    statements.clear()

    write_connection(store)

    ran = set_up_ran(statements)
    assert any(s.startswith("CREATE TABLE IF NOT EXISTS orders") for s in ran)
    assert any("information_schema" in s for s in ran)  # the upgrades' probes
    assert any(s.startswith("CREATE OR REPLACE VIEW users") for s in ran)
    assert any(s.startswith("CREATE OR REPLACE MACRO rfm(") for s in ran)
    assert stamps(store) == [etl_store.schema_stamp()]
    assert rows_of(store, "SELECT count(*) AS n FROM rfm(DATE '2024-12-31')") == [{"n": 0}]
    statements.clear()
    write_connection(store)
    assert set_up_ran(statements) == []


def test_another_stamp_runs_the_set_up_and_replaces_it(store, statements):
    store.parent.mkdir(parents=True)
    write_connection(store)
    change_store(store, "UPDATE store_meta SET value = 'an earlier set-up' WHERE key = 'schema_stamp'")
    statements.clear()

    write_connection(store)

    assert any(s.startswith("CREATE TABLE IF NOT EXISTS orders") for s in set_up_ran(statements))
    assert stamps(store) == [etl_store.schema_stamp()]  # one row, the current stamp


def changed_file(monkeypatch, name: str, added: str) -> None:
    """etl/NAME.sql with `added` at its end, for both the stamp and the set-up that runs it."""
    original = sqlfiles.sql
    changed = lambda n: original(n) + added if n == name else original(n)  # noqa: E731
    monkeypatch.setattr(sqlfiles, "sql", changed)
    monkeypatch.setattr(etl_store, "sql", changed)


@pytest.mark.parametrize("name", [*etl_store.SCHEMA_FILES, *etl_store.UPGRADE_FILES, *etl_store.VIEW_FILES])
def test_any_change_to_a_sql_file_of_the_set_up_changes_the_stamp(monkeypatch, name):
    before = etl_store.schema_stamp()
    changed_file(monkeypatch, name, "\n-- a comment\n")
    assert etl_store.schema_stamp() != before


def test_a_change_to_a_segment_or_to_setup_version_changes_the_stamp(monkeypatch):
    import dataclasses

    before = etl_store.schema_stamp()
    segments = segment_catalog.catalog()
    changed = {**segments, "rfm": dataclasses.replace(segments["rfm"], body=segments["rfm"].body + "\n")}
    with monkeypatch.context() as patch:
        patch.setattr(segment_catalog, "catalog", lambda: changed)
        assert etl_store.schema_stamp() != before
    assert etl_store.schema_stamp() == before
    monkeypatch.setattr(etl_store, "SETUP_VERSION", etl_store.SETUP_VERSION + 1)
    assert etl_store.schema_stamp() != before


def test_every_upgrade_file_is_in_the_stamp():
    on_disk = {f"store/upgrades/{path.stem}" for path in (Path(etl_store.__file__).parent / "upgrades").glob("*.sql")}
    assert on_disk <= set(etl_store.UPGRADE_FILES) and on_disk


def test_a_store_stamped_before_a_change_to_schema_sql_gets_that_change(store, monkeypatch, statements):
    store.parent.mkdir(parents=True)
    write_connection(store)
    changed_file(monkeypatch, "store/schema", "\nCREATE TABLE IF NOT EXISTS stamp_probe (x INTEGER);\n")
    statements.clear()

    write_connection(store)

    assert "CREATE TABLE IF NOT EXISTS stamp_probe (x INTEGER)" in statements
    assert rows_of(store, "SELECT count(*) AS n FROM stamp_probe") == [{"n": 0}]
    assert stamps(store) == [etl_store.schema_stamp()]
    statements.clear()
    write_connection(store)
    assert set_up_ran(statements) == []


@pytest.mark.parametrize("new_file", [True, False])
def test_a_set_up_cut_short_leaves_no_stamp_and_runs_again_whole(store, monkeypatch, new_file):
    store.parent.mkdir(parents=True)
    if not new_file:
        write_connection(store)
        change_store(store, "DELETE FROM store_meta WHERE key = 'schema_stamp'")
        change_store(store, "DROP MACRO TABLE rfm")

    def cut(con, temporary=False):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:  # the macros are the set-up's last step
        patch.setattr(segment_catalog, "install_macros", cut)
        with pytest.raises(KeyboardInterrupt):
            write_connection(store)
    assert stamps(store) == []

    write_connection(store)

    assert stamps(store) == [etl_store.schema_stamp()]
    assert rows_of(store, "SELECT count(*) AS n FROM rfm(DATE '2024-12-31')") == [{"n": 0}]


def test_read_only_connections_see_the_macros_and_write_no_stamp(store):
    from etl.segments import run as segment

    store.parent.mkdir(parents=True)
    write_connection(store)
    with etl_store.connect(store, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rfm(DATE '2024-12-31')").fetchall() == [(0,)]
    change_store(store, "DELETE FROM store_meta WHERE key = 'schema_stamp'")  # a store of an earlier version
    assert segment.run("rfm", {"observation_end": "2024-12-31"}, store=store).height == 0
    assert stamps(store) == []


def test_a_stamped_store_imports_and_re_imports_the_sample(store, statements):
    from etl.pipeline.importer import run_import
    from etl.spec import load_spec_data, validate_spec

    sample = REPO / "data" / "samples" / "kevel_orders.yaml"
    spec = validate_spec(load_spec_data(sample) | {"source": str(sample.with_suffix(".csv"))}, str(sample))
    store.parent.mkdir(parents=True)
    write_connection(store)
    statements.clear()

    first = run_import(spec, store)
    again = run_import(spec, store)

    assert set_up_ran(statements) == []  # both imports' write connections found the store current
    assert first["status"] == again["status"] == "completed"
    assert first["entities"]["orders"]["added"] > 0
    assert again["entities"]["orders"] == {"added": 0, "updated": 0, "unchanged": first["entities"]["orders"]["added"]}
    (orders,) = rows_of(store, "SELECT count(*) AS n FROM orders")
    (customers,) = rows_of(store, "SELECT count(DISTINCT customer_id) AS n FROM rfm(DATE '2030-01-01')")
    assert orders["n"] == first["entities"]["orders"]["added"] and customers["n"] > 0
