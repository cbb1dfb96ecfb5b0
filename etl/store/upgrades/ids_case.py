"""The upgrade of a store written under the old id rule (before etl.formats.ids: kevel_users, crossengage_events and
esputnik_events lowercased external ids; kevel_orders kept ids untrimmed), run once when the store is opened for
writing (etl.store.connection), marked in store_meta (ids_case_kept: what it did, as JSON).

What can be recovered is: an id gets the form it was given where the store still holds it (CrossEngage events'
`id`, eSputnik events' externalCustomerId, Kevel orders' userId), and ids that become one (an order's `Cust-42`
and an event's `cust-42` given as `Cust-42`) are one person, their orders, events and attributes with them. What
cannot be, an external id lowercased by a users import (or given in several forms), is left as it is and reported
on stderr with the commands that import its sources again: their ids are then stored in their case and join the
people their other ids name.
"""

from __future__ import annotations

import json
import sys

import duckdb

from etl.store.sqlfiles import run_sql

MARK = "ids_case_kept"
FOLDING_FORMATS = ("kevel_users", "crossengage_events", "esputnik_events")  # lowercased external ids before
SHOWN = 10  # unknown ids named in the message


def needed(con: duckdb.DuckDBPyConnection) -> bool:
    (marked,) = con.execute("SELECT count(*) FROM store_meta WHERE key = $key", {"key": MARK}).fetchall()[0]
    return not marked


def upgrade(con: duckdb.DuckDBPyConnection) -> dict:
    """Bring the stored ids to the rule, in one transaction with the mark; what it did (also printed when it did
    or left anything)."""
    from etl.entities.identity import graph as identity

    (last_import,) = con.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchall()[0]
    (ids,) = con.execute("SELECT count(*) FROM identities").fetchall()[0]
    con.begin()
    try:
        result = {"renamed": 0, "merged": 0, "unknown_case": [], "imports_to_repeat": []}
        if ids:
            run_sql(con, "store/upgrades/ids_case", folding_formats=list(FOLDING_FORMATS))
            if con.execute("SELECT count(*) FROM stg_identity_links").fetchall()[0][0]:
                identity.resolve(con, last_import)
                identity.add_customers(con, last_import)
            run_sql(con, "store/upgrades/ids_case_merges")
            run_sql(con, "entities/identity/merge", import_id=last_import)
            run_sql(con, "store/upgrades/ids_case_seat")
            run_sql(con, "entities/orders/facts", import_id=None)
            result = _result(con)
        con.execute("INSERT INTO store_meta VALUES ($key, $value)", {"key": MARK, "value": json.dumps(result)})
    except BaseException:
        con.rollback()
        raise
    con.commit()
    message = _message(result)
    if message:
        print(message, file=sys.stderr, flush=True)
    return result


def _result(con: duckdb.DuckDBPyConnection) -> dict:
    renamed, merged = con.execute(
        "SELECT (SELECT count(*) FROM upg_renames WHERE node = keeper), (SELECT count(*) FROM upg_dropped)"
    ).fetchall()[0]
    unknown = [
        f"{id_type}:{value}"
        for id_type, value in con.execute("SELECT id_type, id_value FROM upg_unknown ORDER BY 1, 2").fetchall()
    ]
    imports = con.execute(
        """
        SELECT DISTINCT i.import_id, i.format, i.sources
        FROM imports AS i
        WHERE list_contains($formats::VARCHAR[], i.format) AND i.status = 'completed' AND NOT i.dry_run AND (
            i.import_id IN (SELECT x.first_import_id FROM identities AS x
                            JOIN upg_unknown AS u USING (id_type, business_unit, id_value))
            OR i.import_id IN (SELECT c.last_import_id FROM customers AS c JOIN identities AS x USING (customer_id)
                               JOIN upg_unknown AS u USING (id_type, business_unit, id_value))
            OR i.import_id IN (SELECT e.import_id FROM events AS e
                               JOIN upg_unknown AS u ON u.id_type = e.user_id_type AND u.id_value = e.user_id))
        ORDER BY i.import_id
        """,
        {"formats": list(FOLDING_FORMATS)},
    ).fetchall()
    repeat = [
        {"import_id": import_id, "format": format_name, "sources": sources,
         "command": " ".join(["etl import --format", format_name, *(f"--source {s}" for s in sources)])}
        for import_id, format_name, sources in imports
    ]  # fmt: skip
    return {"renamed": renamed, "merged": merged, "unknown_case": unknown, "imports_to_repeat": repeat}


def _message(result: dict) -> str:
    lines = []
    if result["renamed"] or result["merged"]:
        lines.append(
            f"The store's ids now keep their case (emails alone are lowercased): {result['renamed']} ids took back "
            f"the form they were given, {result['merged']} were the same id as another and are one with it."
        )
    unknown = result["unknown_case"]
    if unknown:
        shown = ", ".join(unknown[:SHOWN]) + (f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else "")
        lines.append(
            f"{len(unknown)} external ids were stored lowercased and the store no longer holds the case they were "
            f"given in ({shown}). Import their sources again (with the options of the spec they were imported "
            "with) to store them in their case:"
        )
        lines += [f"  {r['command']}    # import {r['import_id']}" for r in result["imports_to_repeat"]]
    return "\n".join(lines)
