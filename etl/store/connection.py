"""The DuckDB store: opening it (read-only wherever we only read), its schema, its SQL files.

An import holds the store's write connection only while it runs. DuckDB lets one
process write, or several read; when another process holds the file, the user gets a
message naming that process and what to do, not a traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from etl.errors import EtlError, StoreLockedError
from etl.store.sqlfiles import run_sql, sql, statements  # noqa: F401  (run_sql: imported from etl.store.connection too)

DEFAULT_STORE = "data/cdp.duckdb"
SCHEMA_FILES = ("store/schema", "store/identity_schema")  # the store's tables, created when missing
VIEW_FILES = ("store/users_view", "store/products_view")  # its views, made after the upgrades
UPGRADE_FILES = (  # what _upgrade runs (etl/store/upgrades/), and the identity steps the upgrades share
    "store/upgrades/rejects_value", "store/upgrades/orders_buyers", "store/upgrades/orders_customers",
    "store/upgrades/email_hashes", "store/upgrades/ids_case", "store/upgrades/ids_case_merges",
    "store/upgrades/ids_case_seat", "entities/identity/merge",
)  # fmt: skip
# The set-up above (tables, upgrades, views, macros) took 0.5-1 s of every write connection: it runs only when
# store_meta's schema_stamp differs from schema_stamp(), a hash of its SQL text and of SETUP_VERSION.
STAMP_KEY = "schema_stamp"
# Raise it with any change to what the set-up does in Python (_upgrade and what it calls), since that text is not
# hashed: every store then runs the set-up once more. Changes to the SQL files and macros change the stamp alone.
SETUP_VERSION = 1
TABLES = [
    "orders", "line_items", "order_row_hashes", "events", "imports", "rejects", "store_meta", "customer_keys",
    "order_facts", "customers", "identities", "identity_links", "customer_merges", "customer_attribute_times", "users",
    "products", "order_lines_enriched", "event_items", "deleted_events", "deleted_event_items",
]  # fmt: skip
# DuckDB's share of the 1.5 GB a run may hold: the rest is Polars' buffers and Python with
# Great Expectations loaded (about 0.3 GB). Measured on 10 million line items: 1GB took an
# import to 1.67 GB, 750MB to 1.51 GB, 700MB to 1.42 GB, no slower (README.md in git history).
MEMORY_LIMIT = os.environ.get("ETL_MEMORY_LIMIT", "700MB")
# A read-only connection (segments, reports, etl validate) holds no Polars buffers beside it, and a segment
# joins tens of millions of events to their items: at 700MB such joins spill (viewed_category over 50M events:
# 5.7 s; with 1.5 GB, 2.1-2.6 s).
READ_MEMORY_LIMIT = os.environ.get("ETL_READ_MEMORY_LIMIT", "1500MB")
# `etl events delete` and `restore` move millions of wide rows inside one transaction, which DuckDB holds until the
# commit: a month of 50M events (4.2M rows with their JSON) needs more than an import's 700MB (1.6 GB peak RSS)
DELETE_MEMORY_LIMIT = os.environ.get("ETL_DELETE_MEMORY_LIMIT", "1500MB")


def store_path(explicit: str | None = None, from_spec: str | None = None) -> Path:
    """--store, then $ETL_STORE, then the spec's store:, then data/cdp.duckdb."""
    return Path(explicit or os.environ.get("ETL_STORE") or from_spec or DEFAULT_STORE)


def _holder(error: str) -> str:
    """Who holds the store, from DuckDB's lock error (which names the process id)."""
    match = re.search(r"PID (\d+)", error)
    if not match:
        return "another process"
    import psutil  # only here: the lock message is the one place that needs it

    pid = int(match.group(1))
    try:
        proc = psutil.Process(pid)
        command = " ".join(" ".join(proc.cmdline()).split())  # one line, whatever its arguments hold
        return f"process {pid} ({command[:120] or proc.name()})"
    except psutil.Error:
        return f"process {pid}"


def _locked_message(path: Path, error: str, waited: float = 0.0) -> str:
    after = f" (waited {waited:g} s)" if waited else ""
    return (
        f"The store {path} is in use by {_holder(error)}{after}.\n"
        "DuckDB lets one process write a store, or several read it, not both at once.\n"
        "Close that connection (in a notebook: read with etl.store.connection.reading() or "
        "etl.store.connection.query(), "
        "which let go of the store after each use), or wait for the import running there to finish, "
        "then run this command again (--wait SECONDS waits longer)."
    )


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store written by an earlier version to the current schema.

    rejects.reasons gained `value` (the value that broke the rule); older rows get null. orders.customer_id
    became the identity graph's customer. customers.patch_hash became record_hash (its values are dropped: the
    next import of each person applies its record once more, and sets it). orders.content_hash is gone (the
    merge hashes what it compares). An email and its sha256 became one identity: stored emails gain theirs. Ids
    other than emails keep their case and are trimmed (etl.store.upgrades.ids_case: what the store still knows is
    recovered,
    the rest reported).

    A store whose schema stamp is current skips it: a new step here needs SETUP_VERSION raised.
    """
    reasons = con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'rejects' AND column_name = 'reasons'"
    ).fetchall()
    if reasons and "value" not in reasons[0][0].lower():
        for statement in statements("store/upgrades/rejects_value"):
            con.execute(statement)
    buyers = con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'customer_id'"
    ).fetchall()
    if buyers and buyers[0][0] == "VARCHAR":
        _resolve_stored_buyers(con)
    hashes = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'customers' AND column_name = 'patch_hash'"
    ).fetchall()
    if hashes:  # customers.patch_hash (64 bits, without the ids) became record_hash: re-imports skip by it
        con.execute("ALTER TABLE customers DROP COLUMN patch_hash")  # record_hash: added by store/identity_schema.sql
    (linked,) = con.execute("SELECT count(*) FROM store_meta WHERE key = 'email_hashes_linked'").fetchall()[0]
    if not linked:  # an email and its sha256 became one identity
        _link_email_hashes(con)
    content_hash = con.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'content_hash'"
    ).fetchall()
    if content_hash:  # the merge hashes both sides of the orders it compares (entities/orders/merge.sql) instead
        con.execute("ALTER TABLE orders DROP COLUMN content_hash")
        con.execute("DELETE FROM store_meta WHERE key = 'content_hash_version'")
    from etl.store.upgrades import ids_case as ids_upgrade

    if ids_upgrade.needed(con):  # ids other than emails keep their case (etl.formats.ids): stored ones brought to it
        ids_upgrade.upgrade(con)


def _resolve_stored_buyers(con: duckdb.DuckDBPyConnection) -> None:
    """orders.customer_id was 'user_id_type:user_id': the stored buyers are resolved through the identity graph
    (under the last import's number), in one transaction with the tables that refer to them."""
    _resolve_stored(con, "store/upgrades/orders_buyers", then="store/upgrades/orders_customers")


def _link_email_hashes(con: duckdb.DuckDBPyConnection) -> None:
    """Every stored email gains its email_sha256 identity (people holding the two are merged, their orders and
    events with them), in one transaction with the mark that it was done (store_meta email_hashes_linked)."""
    (emails,) = con.execute("SELECT count(*) FROM identities WHERE id_type = 'email'").fetchall()[0]
    _resolve_stored(con, "store/upgrades/email_hashes" if emails else None, mark="email_hashes_linked")


def _resolve_stored(con, records: str | None, *, then: str | None = None, mark: str | None = None) -> None:
    """An upgrade through the identity graph, in one transaction: `records` (an SQL file staging stored ids as
    stg_identity_links) resolved under the last import's number, their customers added, `then` run, the order
    facts refreshed; `mark` set in store_meta with it."""
    from etl.entities.identity import graph as identity

    (last_import,) = con.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchall()[0]
    con.begin()
    try:
        if records is not None:
            run_sql(con, records)
            identity.resolve(con, last_import)
            identity.add_customers(con, last_import)
            if then is not None:
                run_sql(con, then)
            run_sql(con, "entities/orders/facts", import_id=None)
        if mark is not None:
            con.execute("INSERT INTO store_meta VALUES ($key, 'true')", {"key": mark})
    except BaseException:
        con.rollback()
        raise
    con.commit()


def schema_stamp() -> str:
    """The sha256 of everything the set-up runs: SETUP_VERSION, the SQL files' text, the macros' statements."""
    from etl.segments.catalog import macro_statements

    digest = hashlib.sha256(f"setup {SETUP_VERSION}".encode())
    for name in (*SCHEMA_FILES, *UPGRADE_FILES, *VIEW_FILES):
        digest.update(f"\0{name}\0{sql(name)}".encode())
    for statement in macro_statements():
        digest.update(f"\0{statement}".encode())
    return digest.hexdigest()


def _stored_stamp(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        (stamp,) = con.execute("SELECT max(value) FROM main.store_meta WHERE key = $key", {"key": STAMP_KEY}).fetchone()
    except duckdb.CatalogException:  # a new file (or one from before store_meta): nothing set up yet
        return None
    return stamp


def _set_up(con: duckdb.DuckDBPyConnection) -> None:
    """The store's tables, upgrades, views and macros, unless its stamp says they are those of this version."""
    stamp = schema_stamp()
    if _stored_stamp(con) == stamp:
        return
    for name in SCHEMA_FILES:
        for statement in statements(name):
            con.execute(statement)
    _upgrade(con)
    for name in VIEW_FILES:  # after the upgrade: a store written before the graph has a users table
        run_sql(con, name)
    from etl.segments.catalog import install_macros  # the segments as table macros, for ad-hoc SQL

    install_macros(con)  # persistent, in the file: read-only connections see them too
    # Last and on its own: the steps above commit as they go (the upgrades in transactions of their own), so a
    # set-up cut short leaves no stamp, and the next write connection runs it again whole (each step is idempotent).
    con.begin()
    try:
        con.execute("DELETE FROM store_meta WHERE key = $key", {"key": STAMP_KEY})
        con.execute("INSERT INTO store_meta VALUES ($key, $value)", {"key": STAMP_KEY, "value": stamp})
    except BaseException:
        con.rollback()
        raise
    con.commit()


def require_existing(path: Path) -> None:
    """Commands that need a store never create one."""
    if not path.exists():
        raise EtlError(f"The store {path} does not exist yet: run an import first (etl import --help).")


def refresh_order_facts(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Rebuild the derived tables (order_facts, customer_keys) when orders or line items were
    changed outside an import (or `force`), in a transaction of its own. True when it did."""
    if not force and con.execute("SELECT order_facts_current()").fetchall()[0][0]:
        return False
    con.begin()
    try:
        run_sql(con, "entities/orders/facts", import_id=None)
    except BaseException:
        con.rollback()
        raise
    con.commit()
    return True


def _open(path: Path, read_only: bool, config: dict[str, object], wait: float) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting up to `wait` seconds while another process holds the file.

    DuckDB has no waiting of its own: the lock is tried again, at most once a second, and the
    wait is said once on stderr, naming the holder, so that a job's log shows why it paused.
    """
    deadline = time.monotonic() + wait
    delay, announced = 0.05, False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise EtlError(f"Cannot open the store {path}: {exc}") from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreLockedError(_locked_message(path, str(exc), wait)) from None
            if not announced:
                print(
                    f"The store {path} is in use by {_holder(str(exc))}: waiting for it, up to {wait:g} s ...",
                    file=sys.stderr,
                    flush=True,
                )
                announced = True
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


@contextmanager
def connect(
    path: Path, *, read_only: bool, wait: float = 0.0, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store; read-only connections never create it. `wait`: seconds to wait for a
    process that holds it (an import, or a notebook's connection) before giving up. `memory_limit`: DuckDB's,
    when not the default of its kind (MEMORY_LIMIT, READ_MEMORY_LIMIT)."""
    if read_only:
        require_existing(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    # preserve_insertion_order off: inserts run in parallel and hold less memory; every
    # query that needs an order says ORDER BY.
    config: dict[str, object] = {"memory_limit": memory_limit or (READ_MEMORY_LIMIT if read_only else MEMORY_LIMIT)}
    if not read_only:
        config["preserve_insertion_order"] = False
    con = _open(path, read_only, config, wait)
    try:
        if not read_only:
            _set_up(con)
            refresh_order_facts(con)  # when orders or line items were changed outside an import
        yield con
    finally:
        con.close()


# --- reading from notebooks ------------------------------------------------------------

WAIT_S = 120.0  # how long a command, or a notebook's reading(), waits for the process holding the store


@contextmanager
def reading(path: str | Path | None = None, *, wait: float = WAIT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the store for the length of a `with` block, then closed.

    For notebooks: a connection kept open in a kernel holds the file, and DuckDB then lets no
    import write it. Inside the block, an import waits; outside it, nothing is held. When an
    import is running, this waits for it (up to `wait` seconds). `path`: the store (default
    $ETL_STORE, else data/cdp.duckdb).

        with etl.store.connection.reading() as con:
            orders = con.sql("SELECT * FROM orders").pl()
    """
    with connect(store_path(str(path) if path else None), read_only=True, wait=wait) as con:
        yield con


def query(sql: str, params: dict[str, object] | list[object] | None = None, *, path: str | Path | None = None):
    """The rows of one query as a Polars DataFrame, with the store opened and closed around it
    (see `reading`); parameters are bound: `query("SELECT * FROM orders WHERE currency = $c", {"c": "EUR"})`."""
    with reading(path) as con:
        return con.sql(sql, params=params or None).pl()
