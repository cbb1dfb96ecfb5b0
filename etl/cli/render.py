"""The import report (etl.pipeline.report) and a validation's outcome, printed as rich tables on the terminal.

What is specific to an entity or a source comes with the report as its `notes` (each entity's and source's
own lines); this module prints them and knows no entity, format or source by name.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from etl.cli import tables
from etl.pipeline.report import sample_item, sample_items
from etl.quality.gate.results import describe
from etl.store.runs import json_value

# the keys every run's report has, said in its first line; `events` is the total of a file-less run's counts
RUN_KEYS = {"import_id", "status", "dry_run", "format", "duration_s", "error", "events", "notes"}


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
    if "files" not in result:  # a run that read no files (`etl events delete`, `restore`): its own keys, as they are
        for key, value in result.items():
            if key not in RUN_KEYS and value not in (None, [], {}):
                console.print(Text(f"{key}: {json.dumps(value, default=str)}"))
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
    for note in result.get("notes") or []:  # the entity's and the source's own lines
        console.print(Text(("Warning: " if note.get("warning") else "") + note["text"],
                           style="yellow" if note.get("warning") else ""))  # fmt: skip
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
    numbered = sample_items(result)
    for which in ("first", "last"):
        rows = [row for n, w, row in numbered if w == which]
        if rows:
            kind = result.get("sample_of") or "records"
            shown = [k for k in rows[0] if k != "detail"]
            table = tables.new(
                f"Sample: {which} {len(rows)} {kind}", ("item", "number"),
                *((k, "key" if k in ("order_id", "customer_id", "product_id") else "prose") for k in shown),
            )  # fmt: skip
            for n, w, row in numbered:
                if w == which:
                    values = (json_value(row[k]) if isinstance(row[k], datetime) else row[k] for k in shown)
                    tables.add_row(table, n, *values)
            tables.show(console, table)
    if numbered:
        console.print(Text(f"One of them in full: etl report {result['import_id']} --item N"))


def render_item(result: dict[str, Any], number: int, console: Console) -> None:
    """One item of the sample in full, a field a line."""
    detail = sample_item(result, number)
    record = sample_items(result)[number - 1][2].get("record")
    table = tables.new(f"Import {result['import_id']}, sample item {number} (record {record})",
                       ("field", "key"), ("value", "prose"))  # fmt: skip
    for key, value in detail.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=json_value)
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
