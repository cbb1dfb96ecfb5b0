"""The import report: computed from the staging tables, printed with rich or as JSON.

Keys (stable; tests and CI jobs read them): import_id, status, dry_run, format, files
[{uri, status, error, encoding, encoding_detected, sha256, rows, blank_rows, ignored_columns}],
items, valid, rejected, entities
{orders, line_items: {added, updated, unchanged[, removed]}}, events {orderPlace,
orderUpdate}, issues [{column, hint, count, percent, examples}], sample {first, last}, duration_s,
and error when the run failed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import duckdb
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from etl.errors import EtlError
from etl.spec import ImportSpec

SAMPLE_SIZE = 5


def _counts(con: duckdb.DuckDBPyConnection, query: str, kinds: list[str]) -> dict[str, int]:
    """{kind: n} from a query of (change, n) rows; kinds absent from it count 0."""
    rows = dict(con.execute(query).fetchall())
    return {kind: int(rows.get(kind) or 0) for kind in kinds}


def _sample(con: duckdb.DuckDBPyConnection, direction: str) -> list[dict[str, Any]]:
    # direction is one of two literals chosen below, never user input
    cursor = con.execute(
        f"""
        WITH first_rows AS (
            SELECT order_id, _file, _row FROM stg_order_rows
            ANTI JOIN stg_dropped_runs ON stg_dropped_runs._seq = stg_order_rows._seq
            ORDER BY _file {direction}, _row {direction} LIMIT {SAMPLE_SIZE}
        ),
        line_counts AS (
            SELECT order_id, count(*) AS line_items FROM stg_line_items
            WHERE order_id IN (SELECT order_id FROM first_rows) GROUP BY order_id
        )
        SELECT first_rows._row + 1 AS record, o.order_id, o.currency, o.total,
               o.created_at, line_counts.line_items, c.change
        FROM first_rows
        JOIN stg_orders AS o USING (order_id)
        JOIN line_counts USING (order_id)
        JOIN order_changes AS c USING (order_id)
        ORDER BY first_rows._file, first_rows._row
        """  # noqa: S608
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def build(con, *, import_id: int, spec: ImportSpec, dry_run: bool, files) -> dict[str, Any]:
    items = sum(f.rows for f in files)
    rejected, kept = con.execute(
        "SELECT (SELECT count(*) FROM stg_rejects), (SELECT count(*) FROM stg_line_items)"
    ).fetchall()[0]
    if items != kept + rejected:  # nothing lost: every row read is a line item or a reject
        raise EtlError(f"consistency check failed: read {items} rows, kept {kept}, rejected {rejected}")
    orders = _counts(
        con, "SELECT change, count(*) FROM order_changes GROUP BY change", ["added", "updated", "unchanged"]
    )
    issues = [
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
    return {
        "import_id": import_id,
        "status": "completed",
        "dry_run": dry_run,
        "format": spec.format,
        "files": [f.__dict__ for f in files],
        "items": items,
        "valid": items - rejected,
        "rejected": rejected,
        "entities": {
            "orders": orders,
            "line_items": _counts(
                con, "SELECT change, line_count FROM line_changes", ["added", "updated", "unchanged", "removed"]
            ),
        },
        "events": {"orderPlace": orders["added"], "orderUpdate": orders["updated"]},
        "issues": issues,
        "sample": {"first": _sample(con, "ASC"), "last": _sample(con, "DESC")},
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
                "[bold]DRY RUN[/bold]: nothing was stored; the counts say what an import would do.", style="bold yellow"
            )
        )
    status = result["status"]
    colour = {"completed": "green", "failed": "red", "cancelled": "yellow"}.get(status, "white")
    console.print(
        f"Import [bold]{result['import_id']}[/bold] ({result['format']}): [{colour}]{status}[/{colour}]"
        f" in {result.get('duration_s', 0):.1f} s"
    )
    if result.get("error"):
        console.print(f"[red]{result['error']}[/red]", markup=False, highlight=False)
    files = Table("file", "status", "rows", "encoding", "sha256", title="Files", title_justify="left")
    for f in result["files"]:
        encoding = f.get("encoding") or ""
        if f.get("encoding_detected"):
            encoding += f" (detected: {f['encoding_detected']})"
        files.add_row(f["uri"], f.get("status", ""), str(f.get("rows", "")), encoding, (f.get("sha256") or "")[:16])
        if f.get("blank_rows"):
            console.print(f"{f['uri']}: {f['blank_rows']} blank line(s) skipped")
        if f.get("ignored_columns"):
            console.print(f"{f['uri']}: columns not in the format, ignored: {', '.join(f['ignored_columns'])}")
    console.print(files)
    if result.get("items") is None:
        if result.get("validation"):
            render_validation(result["validation"], console)
        return
    console.print(f"Items read: {result['items']:,}   valid: {result['valid']:,}   rejected: {result['rejected']:,}")
    entities = Table(
        "entity",
        "added",
        "updated",
        "unchanged",
        "removed",
        title="Would be stored" if result["dry_run"] else "Stored",
        title_justify="left",
    )
    for name, counts in result["entities"].items():
        entities.add_row(
            name,
            *(f"{counts.get(k, 0):,}" if k in counts else "" for k in ("added", "updated", "unchanged", "removed")),
        )
    console.print(entities)
    console.print("Events: " + ", ".join(f"{k} {v:,}" for k, v in result["events"].items()))
    if result["issues"]:
        issues = Table(
            "column", "hint", "items", "%", "for example", title="Issues (rows rejected)", title_justify="left"
        )
        for issue in result["issues"]:
            examples = ", ".join(json.dumps(v, ensure_ascii=False)[:40] for v in issue.get("examples") or [])
            issues.add_row(issue["column"], issue["hint"], f"{issue['count']:,}", f"{issue['percent']:.2f}", examples)
        console.print(issues)
    if result.get("validation"):
        render_validation(result["validation"], console)
    for which in ("first", "last"):
        rows = result["sample"][which]
        if rows and not (which == "last" and rows == result["sample"]["first"]):
            table = Table(*rows[0].keys(), title=f"Sample: {which} {len(rows)} orders", title_justify="left")
            for row in rows:
                table.add_row(*(_default(v) if isinstance(v, datetime) else str(v) for v in row.values()))
            console.print(table)


def render_validation(validation: dict[str, Any], console: Console) -> None:
    """The suites' outcome: a line of counts, then every expectation that did not pass."""
    from etl.validate import describe

    if not validation["suites"]:
        console.print(f"Validation: no expectation suites in {validation['suites_dir']}.")
        return
    if not validation["checked"]:
        console.print("Validation: the import stored no new or changed rows, so there was nothing to check.")
        return
    failed = validation["failed"]
    colour = "green" if validation["success"] else "red"
    verdict = "passed" if validation["success"] else "FAILED"
    console.print(
        f"Validation ({validation['scope']}, suites {', '.join(validation['suites'])}): [{colour}]{verdict}[/{colour}]"
        f" - {validation['checked']} expectations, {failed['critical']} critical and {failed['warning']} warning"
        f" failed, in {validation['duration_s']:.1f} s"
    )
    problems = [r for r in validation["expectations"] if not r["success"]]
    if problems:
        table = Table("severity", "suite", "expectation", "unexpected", "for example", title_justify="left",
                      title="Expectations not met")  # fmt: skip
        for r in problems:
            examples = ", ".join(json.dumps(v, ensure_ascii=False, default=str)[:60] for v in r.get("examples") or [])
            count = r.get("unexpected_count")
            table.add_row(
                r["severity"], r["suite"],
                (r.get("description") or r["expectation"]) + (f" ({r['column']})" if r.get("column") else ""),
                r["error"] and "could not run" or ("" if count is None else f"{count:,}"),
                r.get("error") or examples or describe(r).split(": ", 2)[-1],
            )  # fmt: skip
        console.print(table)
    if validation.get("data_docs"):
        console.print(f"Data Docs: {validation['data_docs']}")
