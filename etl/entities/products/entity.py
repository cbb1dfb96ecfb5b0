"""The products entity: the catalogue, one row per product id, from product feeds.

Its formats stage one row per record in the canonical product columns (etl.formats.columns.PRODUCT_STAGED).
entities/products/stage.sql gives each record its product and picks the last record of each product (a product
listed twice in one import: the later record wins, and the report counts the earlier ones as repeated_products);
entities/products/merge.sql compares them with the store (added, updated, unchanged) and finds the products the
import does not list (the format's `missing`: keep, or mark unavailable); entities/products/apply.sql writes them.
A record the store applied before (its hash is the product's record_hash) is staged as its keys and hash alone,
and is not parsed again.
"""

from __future__ import annotations

import json

import duckdb

from etl.entities import Run, first_and_last, known_needed, nothing_lost
from etl.formats.columns import PRODUCT_STAGED
from etl.store.connection import MEMORY_LIMIT
from etl.store.sqlfiles import run_sql

NAME = "products"
STAGING = PRODUCT_STAGED
STRATEGIES = {
    "merge": ("entities/products/stage", "entities/products/merge", "entities/products/apply")
}  # by product id
TABLES = ("products",)
DERIVED = ()
# the high halves of the hashes of the records the products were last stored from: such records are not parsed
# again (etl.pipeline.known)
KNOWN = "SELECT (record_hash >> 64)::UBIGINT AS hash_hi FROM products WHERE record_hash IS NOT NULL"
JSON_MEMORY_LIMIT = "1200MB"  # see merge
HUGE_RECORD_BYTES = 8 << 20
LONGEST = 2000  # characters of a text the sample shows
SAMPLE_COLUMNS = ("product_id", "name", "price", "currency", "availability")


def store(con: duckdb.DuckDBPyConnection, run: Run) -> dict | None:
    """The staged records merged into the catalogue by product id; stg_rejects from the rejected rows. None when
    records staged as known are needed whole (stg_known_needed: the engine stages and stores them again)."""
    with run.state.timed("merge"):
        return merge(con, run.import_id, run.started_at, run.options.missing)


def merge(con: duckdb.DuckDBPyConnection, import_id: int, started_at, missing: str) -> dict | None:
    (longest,) = con.execute(
        "SELECT coalesce(max(strlen(attributes)), 0) FROM stg_rows WHERE not_attributes IS NOT NULL"
    ).fetchall()[0]
    # DuckDB's JSON functions take a huge value (a 50 MB description) in 256 MB blocks: under the store's limit
    # they fail though the process holds far less (0.4 GB). The limit is raised for such an import alone.
    huge = longest > HUGE_RECORD_BYTES
    if huge:
        con.execute(f"SET memory_limit = '{JSON_MEMORY_LIMIT}'")
    try:
        run_sql(con, "entities/products/stage")
        run_sql(con, "entities/products/known")
        if known_needed(con):  # a record that only shared its hash's high half with a stored one
            return None
        (known,) = con.execute("SELECT count(*) FROM stg_product_records WHERE known").fetchall()[0]
        run_sql(con, "entities/products/merge", missing=missing)
        run_sql(con, "entities/products/apply", import_id=import_id, started_at=started_at)
    finally:
        if huge:
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    changes = dict(con.execute("SELECT change, count(*) FROM product_changes GROUP BY change").fetchall())
    kept, records, products, stored_products = con.execute(
        "SELECT (SELECT count(*) FROM stg_rows), (SELECT count(*) FROM stg_product_records), "
        "(SELECT count(*) FROM stg_product_winners), "
        "(SELECT count(*) FROM main.products WHERE product_id IN (SELECT product_id FROM stg_product_winners))"
    ).fetchall()[0]
    nothing_lost(  # every record reached a product
        ("records kept", kept, "given a product", records),
        ("products staged", products, "stored", stored_products),
    )
    counts = {
        "added": changes.get("added", 0),
        "updated": changes.get("updated", 0),
        "unchanged": changes.get("unchanged", 0) + changes.get("rehashed", 0),
    }
    return {
        "kept": kept,
        "entities": {"products": counts},
        "repeated_products": records - products,  # records of a product listed again later in the import
        "known_products": known,  # records applied before, as they were: not parsed again
        "missing_products": {
            "option": missing,  # what was done with the products the import does not list
            "kept": changes.get("missing", 0),
            "marked_unavailable": changes.get("marked_unavailable", 0),
        },
    }


def report(con: duckdb.DuckDBPyConnection, run: Run, stored: dict) -> dict:
    counts = dict(stored)
    notes = []
    if counts["repeated_products"]:
        text = f"Products listed more than once (the later record wins): {counts['repeated_products']:,}"
        notes.append({"text": text, "warning": False})
    missing = counts["missing_products"]
    if missing["kept"] or missing["marked_unavailable"]:
        text = (f"Products in the store that the feed does not list: {missing['kept']:,} kept as they were, "
                f"{missing['marked_unavailable']:,} marked unavailable (missing: {missing['option']})")  # fmt: skip
        notes.append({"text": text, "warning": False})
    return {"kept": counts.pop("kept"), "entities": counts.pop("entities"), "extra": counts, "sample": sample(con),
            "sample_of": "products", "notes": notes}  # fmt: skip


def sample(con: duckdb.DuckDBPyConnection, size: int = 5) -> dict[str, list[dict]]:
    """The first and last records of the import (Kevel's "first and last five elements read from the file"):
    their record number, product, a few columns and its change; `detail`, the product as stored with the
    record's own values over it (a later record of the same product may be what the store holds)."""
    # a long text cut (a report is no place for a 50 MB description): etl report --item shows it
    description = """CASE WHEN length(description) > $longest
             THEN left(description, $longest) || '... (' || length(description) || ' characters)'
             ELSE description END AS description"""
    query = """
        WITH picked AS (
            SELECT _file, _row, _seq FROM stg_rows ORDER BY _file {direction}, _row {direction} LIMIT $size
        )
        SELECT picked._seq, picked._row + 1 AS record, records.product_id,
               CASE WHEN changes.change IN ('added', 'updated') THEN changes.change ELSE 'unchanged' END AS change,
               to_json(p)::VARCHAR AS detail
        FROM picked
        JOIN stg_product_records AS records USING (_seq)
        LEFT JOIN product_changes AS changes USING (product_id)
        LEFT JOIN (
            SELECT * REPLACE (
                DESCRIPTION,
                CASE WHEN length(attributes::VARCHAR) > $longest
                     THEN to_json('(' || length(attributes::VARCHAR) || ' characters of JSON)')
                     ELSE attributes END AS attributes)
            FROM main.products
        ) AS p USING (product_id)
        ORDER BY picked._file {direction}, picked._row {direction}
    """.replace("DESCRIPTION", description)
    sampled = first_and_last(con, query, {"size": size, "longest": LONGEST})
    # each record read whole as it was read: a later record of its product may be what the store holds (plain
    # columns: to_json over a row with a 50 MB text took 512 MB)
    own_query = """
        WITH own AS (  -- a record's attributes are its whole object, less the keys not_attributes names: patched
                       -- only when small (a 50 MB description in it took the patch past 600 MB)
            SELECT * EXCLUDE (_file, _row, hash_hi, hash_lo, description, attributes, not_attributes), DESCRIPTION,
                   CASE WHEN length(attributes) <= $patched_at_most
                        THEN json_merge_patch('{}', attributes, not_attributes)::VARCHAR END AS attributes
            FROM stg_rows
            WHERE not_attributes IS NOT NULL AND _seq IN (SELECT unnest($seqs))
        )
        SELECT * REPLACE (CASE WHEN length(attributes) > $longest
                               THEN '"(' || length(attributes) || ' characters of JSON)"'
                               ELSE attributes END AS attributes)
        FROM own
    """.replace("DESCRIPTION", description)
    seqs = [row["_seq"] for rows in sampled.values() for row in rows]
    cursor = con.execute(own_query, {"seqs": seqs, "longest": LONGEST, "patched_at_most": 1 << 20})
    names = [d[0] for d in cursor.description]
    own = {record[0]: dict(zip(names, record, strict=True)) for record in cursor.fetchall()}
    for rows in sampled.values():
        for row in rows:
            product = json.loads(row.pop("detail")) if row["detail"] else {}
            product.pop("record_hash", None)
            values = own.get(row.pop("_seq"))  # (a record may be in both first and last)
            if values is not None:  # the record's own values (a known record is the product as stored)
                product.update({k: v for k, v in values.items() if k not in ("_seq", "attributes")})
                if values["attributes"] is not None:  # else too long to patch here: the stored product's
                    product["attributes"] = json.loads(values["attributes"])
            if isinstance(product.get("attributes"), str) and product["attributes"].startswith("{"):
                product["attributes"] = json.loads(product["attributes"])
            change = row.pop("change")
            row.update({k: product.get(k) for k in SAMPLE_COLUMNS[1:]}, change=change, detail=product)
    return sampled
