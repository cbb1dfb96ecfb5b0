"""The import report: computed from the staging tables, kept as JSON (etl.display.layouts lays it out).

Keys (stable; tests and CI jobs read them): import_id, status, dry_run, format, files
[{uri, status, error, encoding, encoding_detected, encoding_confidence, encoding_runner_up,
encoding_warning, delimiter, delimiter_detected, sha256, rows, blank_rows, ignored_columns}],
items, valid, rejected, entities ({table: {added, updated, unchanged[, removed]}}: orders and line_items
for an orders import, customers and identities for both), the entity's extra counts (merges ...), events
({orderPlace, orderUpdate} for orders), issues [{column, hint, count, percent, examples}], sample {first,
last} (each entity's records), api (what an API source read: service, endpoint, account_id, list_id, segment_id,
pages, contacts, total_items, retries, attribute_prefix), notes [{text, warning}] (the lines an entity or a source
has for the reader), sample_of, duration_s, and error when the run failed; staging, when an executor other than
local staged the files (etl.pipeline.distributed: executor, staging, files, parts, staged_bytes, start_s, tasks_s,
task_seconds). The counts
are the entity's (etl.entities.*.report); this module checks that nothing was lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from etl.entities import nothing_lost
from etl.errors import EtlError

if TYPE_CHECKING:  # imported for their types only: `etl --help` and `etl runs` load neither
    from etl.spec import ImportSpec


def _issues(con, items: int) -> list[dict[str, Any]]:
    """The rejects' reasons, grouped: column, hint, count, percent, two examples."""
    return [
        {
            "column": column,
            "hint": hint,
            "count": count,
            "percent": round(100 * count / items, 2) if items else 0.0,
            "examples": examples,
        }
        for column, hint, count, examples in con.execute(
            """
            SELECT
                reason.column,
                reason.hint,
                count(*) AS n,
                -- two examples, the first and last in sort order: bounded, however many rows
                list_sort(list_distinct(list_filter([min(reason.value), max(reason.value)], lambda v: v IS NOT NULL)))
                    AS examples
            FROM (SELECT unnest(reasons) AS reason FROM stg_rejects)
            GROUP BY reason.column, reason.hint
            ORDER BY n DESC, reason.column, reason.hint
            """
        ).fetchall()
    ]


def build(con, *, import_id: int, spec: ImportSpec, dry_run: bool, files, kept: int, entities, sample,
          extra=None, events=None, notes=None, sample_of: str = "records") -> dict[str, Any]:  # fmt: skip
    """The report of any entity, from its counts: the same keys for all (`extra` after the entities). `notes`: the
    entity's own lines for the reader ({text, warning}), printed as they are; `sample_of`: what its sample holds."""
    items = sum(f.rows for f in files)
    (rejected,) = con.execute("SELECT count(*) FROM stg_rejects").fetchall()[0]
    nothing_lost(("records read", items, "kept or rejected", kept + rejected))
    return {
        "import_id": import_id,
        "status": "completed",
        "dry_run": dry_run,
        "format": spec.format,
        "files": [f.__dict__ for f in files],
        "items": items,
        "valid": items - rejected,
        "rejected": rejected,
        "entities": entities,
        **(extra or {}),
        "events": events or {},
        "issues": _issues(con, items),
        "sample": sample,
        "sample_of": sample_of,
        "notes": list(notes or []),
    }


def failed(*, import_id, status, spec: ImportSpec, dry_run, files, error, duration_s) -> dict[str, Any]:
    return {
        "import_id": import_id,
        "status": status,
        "dry_run": dry_run,
        "format": spec.format,
        "files": files,
        "items": None,
        "valid": None,
        "rejected": None,
        "entities": None,
        "events": None,
        "issues": [],
        "sample": {"first": [], "last": []},
        "duration_s": duration_s,
        "error": error,
    }


def sample_items(result: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """The sample's items numbered as `etl report --item N` opens them: the first ones 1.., then the last ones
    that are not among the first (a small import's last five are its first)."""
    first = result["sample"]["first"]
    last = [row for row in result["sample"]["last"] if row not in first]
    return [(n, "first" if n <= len(first) else "last", row) for n, row in enumerate(first + last, 1)]


def sample_item(result: dict[str, Any], number: int) -> dict[str, Any]:
    """Item `number` of the sample (see sample_items) in full: the record as stored (`detail`, when the entity
    gives it), else the sample's row."""
    items = sample_items(result)
    if not 1 <= number <= len(items):
        raise EtlError(
            f"import {result['import_id']} has no sample item {number}: its sample has "
            + (f"items 1 to {len(items)}" if items else "no items")
        )
    row = items[number - 1][2]
    return row.get("detail") or {k: v for k, v in row.items() if k != "detail"}
