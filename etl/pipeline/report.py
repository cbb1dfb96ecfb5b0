"""The import report: computed from the staging tables, printed with rich or as JSON.

Keys (stable; tests and CI jobs read them): import_id, status, dry_run, format, files
[{uri, status, error, encoding, encoding_detected, encoding_confidence, encoding_runner_up,
encoding_warning, delimiter, delimiter_detected, sha256, rows, blank_rows, ignored_columns}],
items, valid, rejected, entities ({table: {added, updated, unchanged[, removed]}}: orders and line_items
for an orders import, customers and identities for both), the entity's extra counts (merges ...), events
({orderPlace, orderUpdate} for orders), issues [{column, hint, count, percent, examples}], sample {first,
last} (each entity's records), api (what an API source read: service, endpoint, account_id, list_id, segment_id,
pages, contacts, total_items, retries, attribute_prefix), duration_s, and error when the run failed. The counts
are the entity's (etl.entities.*.report); this module checks that nothing was lost, and prints.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from etl.cli import tables
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
                  extra=None, events=None) -> dict[str, Any]:  # fmt: skip
    """The report of any entity, from its counts: the same keys for all (`extra` after the entities)."""
    items = sum(f.rows for f in files)
    (rejected,) = con.execute("SELECT count(*) FROM stg_rejects").fetchall()[0]
    if items != kept + rejected:  # nothing lost: every record read is kept or rejected
        raise EtlError(f"consistency check failed: read {items} records, kept {kept}, rejected {rejected}")
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


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(result, default=_default, ensure_ascii=False)


def render(result: dict[str, Any], console: Console) -> None:
    """The report as rich tables on the terminal."""
    if result.get("dry_run"):
        console.print(
            Panel(
                Text.assemble(("DRY RUN", "bold"), ": nothing was stored; the counts say what an import would do."),
                style="bold yellow",
            )
        )
    status = result["status"]
    colour = {"completed": "green", "failed": "red", "marked_failed": "red", "cancelled": "yellow"}.get(status, "white")
    console.print(
        Text.assemble(
            "Import ", (str(result["import_id"]), "bold"), f" ({result['format']}): ", (status, colour),
            f" in {result.get('duration_s', 0):.1f} s",
        )
    )  # fmt: skip
    if result.get("error"):
        console.print(Text(result["error"], style="red"))
    if "files" not in result:  # a run that read no files: `etl events delete` or `restore`
        for key in ("from", "to", "types", "restores", "deleted", "restored", "event_items", "already_stored"):
            if result.get(key) not in (None, [], {}):
                console.print(Text(f"{key}: {json.dumps(result[key], default=str)}"))
        return
    files = tables.new(
        "Files", ("file", "key"), ("status", "key"), ("rows", "number"), ("encoding", "key"),
        ("delimiter", "key"), ("sha256 (first 16)", "key"), ("error", "prose"),
    )  # fmt: skip
    for f in result["files"]:
        encoding = f.get("encoding") or ""
        if f.get("encoding_detected"):
            encoding += f" (detected: {f['encoding_detected']})"
        delimiter = {"\t": "tab"}.get(f.get("delimiter") or "", f.get("delimiter") or "")
        if delimiter and f.get("delimiter_detected"):
            delimiter += " (detected)"
        tables.add_row(
            files, f["uri"], f.get("status", ""), f.get("rows"), encoding, delimiter, (f.get("sha256") or "")[:16],
            (f.get("error") or "").splitlines()[0] if f.get("error") else "",
        )  # fmt: skip
        if f.get("encoding_warning"):
            console.print(Text(f"Warning: {f['encoding_warning']}", style="yellow"))
        if f.get("blank_rows"):
            console.print(Text(f"{f['uri']}: {f['blank_rows']} blank line(s) skipped"))
        if f.get("ignored_columns"):
            console.print(Text(f"{f['uri']}: columns not in the format, ignored: {', '.join(f['ignored_columns'])}"))
    tables.show(console, files)
    if result.get("api"):
        console.print(Text(_api_line(result["api"])))
    if result.get("items") is None:
        if result.get("validation"):
            render_validation(result["validation"], console)
        return
    console.print(f"Items read: {result['items']:,}   valid: {result['valid']:,}   rejected: {result['rejected']:,}")
    entities = tables.new(
        "Would be stored" if result["dry_run"] else "Stored", ("entity", "key"),
        *((k, "number") for k in ("added", "updated", "unchanged", "removed")),
    )  # fmt: skip
    for name, counts in result["entities"].items():
        tables.add_row(
            entities,
            name,
            *(f"{counts.get(k, 0):,}" if k in counts else "" for k in ("added", "updated", "unchanged", "removed")),
        )
    tables.show(console, entities)
    if result["events"]:
        console.print("Events: " + ", ".join(f"{k} {v:,}" for k, v in result["events"].items()))
    if result.get("orders_without_buyer"):
        console.print(
            f"Orders without a buyer (no email nor phone; stored, in no customer's segments): "
            f"{result['orders_without_buyer']:,}"
        )
    kept = result.get("orders_buyer_kept") or {}
    if kept.get("orders"):  # eSputnik's order events naming another contact: the order kept its buyer
        examples = ", ".join(f"{e['order_id']} ({e['buyer']}, not {e['named']})" for e in kept["examples"])
        console.print(Text(f"Warning: {kept['orders']:,} orders keep their buyer although an event named another "
                           f"contact (the event is stored on that contact): {examples}", style="yellow"))  # fmt: skip
    if result["issues"]:
        issues = tables.new(
            "Issues (rows rejected)", ("column", "key"), ("hint", "prose"), ("items", "number"), ("%", "number"),
            ("for example", "prose"),
        )  # fmt: skip
        for issue in result["issues"]:
            examples = ", ".join(json.dumps(v, ensure_ascii=False)[:40] for v in issue.get("examples") or [])
            tables.add_row(issues, issue["column"], issue["hint"], f"{issue['count']:,}", f"{issue['percent']:.2f}",
                           examples)  # fmt: skip
        tables.show(console, issues)
        console.print(Text(f"The rejected rows, with their lines and reasons: etl rejects {result['import_id']}"))
    if result.get("validation"):
        render_validation(result["validation"], console)
    said = {"leads_added": "leads added (people known by email alone)",
            "repeated_events": "events given again in the import (stored once)",
            "events_without_time": "events without a time (stored at the import's start)"}  # fmt: skip
    if any(result.get(key) for key in said):
        console.print("; ".join(f"{result[key]:,} {text}" for key, text in said.items() if result.get(key)))
    if result.get("repeated_products"):
        console.print(f"Products listed more than once (the later record wins): {result['repeated_products']:,}")
    missing = result.get("missing_products") or {}
    if missing.get("kept") or missing.get("marked_unavailable"):
        console.print(
            f"Products in the store that the feed does not list: {missing['kept']:,} kept as they were, "
            f"{missing['marked_unavailable']:,} marked unavailable (missing: {missing['option']})"
        )
    numbered = sample_items(result)
    for which in ("first", "last"):
        rows = [row for n, w, row in numbered if w == which]
        if rows:
            kind = "orders" if "order_id" in rows[0] else "products" if "product_id" in rows[0] else "records"
            shown = [k for k in rows[0] if k != "detail"]
            table = tables.new(
                f"Sample: {which} {len(rows)} {kind}", ("item", "number"),
                *((k, "key" if k in ("order_id", "customer_id", "product_id") else "prose") for k in shown),
            )  # fmt: skip
            for n, w, row in numbered:
                if w == which:
                    values = (_default(row[k]) if isinstance(row[k], datetime) else row[k] for k in shown)
                    tables.add_row(table, n, *values)
            tables.show(console, table)
    if numbered:
        console.print(Text(f"One of them in full: etl report {result['import_id']} --item N"))


def _api_line(api: dict[str, Any]) -> str:
    """What an API source read, in a line."""
    segment = f" (segment {api['segment_id']})" if api.get("segment_id") else ""
    pages, contacts = api["pages"], api["contacts"]
    retried = f"; {api['retries']} requests sent again (429, 5xx, timeouts)" if api.get("retries") else ""
    return (
        f"{api['service']}: account {api['account_id']}, list {api['list_id']}{segment}: {pages:,} "
        f"page{'s' if pages != 1 else ''}, {contacts:,} contact{'s' if contacts != 1 else ''} read{retried}; "
        f"attributes {api['attribute_prefix']}*"
    )


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


def render_item(result: dict[str, Any], number: int, console: Console) -> None:
    """One item of the sample in full, a field a line."""
    detail = sample_item(result, number)
    record = sample_items(result)[number - 1][2].get("record")
    table = tables.new(f"Import {result['import_id']}, sample item {number} (record {record})",
                       ("field", "key"), ("value", "prose"))  # fmt: skip
    for key, value in detail.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=_default)
        tables.add_row(table, key, text)
    tables.show(console, table)


def render_validation(validation: dict[str, Any], console: Console) -> None:
    """The suites' outcome: a line of counts, then every expectation that did not pass."""
    if not validation["suites"]:
        console.print(Text(f"Validation: no expectation suites in {validation['suites_dir']}."))
        return
    if not validation["checked"]:
        console.print("Validation: the import stored no new or changed rows, so there was nothing to check.")
        return
    failed = validation["failed"]
    colour = "green" if validation["success"] else "red"
    verdict = "passed" if validation["success"] else "FAILED"
    console.print(
        Text.assemble(
            f"Validation ({validation['scope']}, suites {', '.join(validation['suites'])}): ", (verdict, colour),
            f" - {validation['checked']} expectations, {failed['critical']} critical and {failed['warning']} warning"
            f" failed, in {validation['duration_s']:.1f} s",
        )
    )  # fmt: skip
    problems = [r for r in validation["expectations"] if not r["success"]]
    if problems:
        table = tables.new(
            "Expectations not met", ("severity", "key"), ("suite", "key"), ("expectation", "prose"),
            ("unexpected", "number"), ("for example", "prose"),
        )  # fmt: skip
        for r in problems:
            examples = ", ".join(json.dumps(v, ensure_ascii=False, default=str)[:60] for v in r.get("examples") or [])
            count = r.get("unexpected_count")
            tables.add_row(
                table, r["severity"], r["suite"],
                (r.get("description") or r["expectation"]) + (f" ({r['column']})" if r.get("column") else ""),
                r["error"] and "could not run" or ("" if count is None else f"{count:,}"),
                r.get("error") or examples or describe(r).split(": ", 2)[-1],
            )  # fmt: skip
        tables.show(console, table)
    if validation.get("data_docs"):
        console.print(Text(f"Data Docs: {validation['data_docs']}"))


def describe(r: dict[str, Any]) -> str:
    where = f"{r['suite']}: {r['expectation']}"
    if r.get("column"):
        where += f" on {r['column']}"
    if r.get("error"):
        return f"{where} could not run: {r['error']}"
    if r.get("unexpected_count") is not None:
        examples = ", ".join(repr(v) for v in r.get("examples") or [])
        return f"{where}: {r['unexpected_count']:,} unexpected ({r.get('unexpected_percent') or 0:.2f}%)" + (
            f", e.g. {examples}" if examples else ""
        )
    return f"{where}: observed {r.get('observed_value')!r}"
