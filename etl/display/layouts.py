"""The reports laid out as Pages: an import's report, one item of its sample, a validation, the runs, an import's
rejects, a segment's run and an events run. The `etl` command prints them (etl.display.terminal); the public API's
objects show them in notebooks (etl.display.html). They know the reports' keys, not the entities or formats."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.display.page import Page, Table
from etl.pipeline.report import sample_item, sample_items
from etl.quality.gate.results import describe
from etl.store.runs import json_value

if TYPE_CHECKING:
    import polars as pl

# the keys every run's report has, said in its first line; `events` is the total of a file-less run's counts
RUN_KEYS = {"import_id", "status", "dry_run", "format", "duration_s", "error", "events", "notes"}
STATUS_STYLES = {"completed": "ok", "failed": "bad", "marked_failed": "bad", "cancelled": "warn"}
SEGMENT_ROWS_SHOWN = 50  # a segment's first rows on the terminal (--out writes them all)
NOTEBOOK_ROWS_SHOWN = 10  # and in a notebook, as Polars shows a frame (.frame holds them all)


def import_report(result: dict[str, Any], *, commands: bool = True) -> Page:
    """An import's report: status, files, counts, the entity's notes, issues, validation, sample. `commands`: say
    the `etl` commands that show more (the terminal); a notebook's report names its methods instead."""
    page = Page()
    if result.get("dry_run"):
        page.line(("DRY RUN", "banner"), (": nothing was stored; the counts say what an import would do.", "banner"))
    status = result["status"]
    page.line("Import ", (str(result["import_id"]), "strong"), f" ({result['format']}): ",
              (status, STATUS_STYLES.get(status, "")), f" in {result.get('duration_s', 0):.1f} s")  # fmt: skip
    if result.get("error"):
        page.line(result["error"], style="bad")
    if "files" not in result:  # a run that read no files (events delete, restore): its own keys, as they are
        for key, value in result.items():
            if key not in RUN_KEYS and value not in (None, [], {}):
                page.line(f"{key}: {json.dumps(value, default=str)}")
        return page
    files = Table("Files", (("file", "key"), ("status", "key"), ("rows", "number"), ("encoding", "key"),
                            ("delimiter", "key"), ("sha256 (first 16)", "key"), ("error", "prose")))  # fmt: skip
    for f in result["files"]:
        encoding = f.get("encoding") or ""
        if f.get("encoding_detected"):
            encoding += f" (detected: {f['encoding_detected']})"
        delimiter = {"\t": "tab"}.get(f.get("delimiter") or "", f.get("delimiter") or "")
        if delimiter and f.get("delimiter_detected"):
            delimiter += " (detected)"
        files.add(f["uri"], f.get("status", ""), f.get("rows"), encoding, delimiter, (f.get("sha256") or "")[:16],
                  (f.get("error") or "").splitlines()[0] if f.get("error") else "")  # fmt: skip
        if f.get("encoding_warning"):
            page.line(f"Warning: {f['encoding_warning']}", style="warn")
        if f.get("blank_rows"):
            page.line(f"{f['uri']}: {f['blank_rows']} blank line(s) skipped")
        if f.get("ignored_columns"):
            page.line(f"{f['uri']}: columns not in the format, ignored: {', '.join(f['ignored_columns'])}")
    page.blocks.append(files)  # after the files' warnings
    if result.get("staging"):
        where = result["staging"]
        page.line(f"Staged by {where['executor']}: {where['parts']} part(s) of {where['files']} file(s), "
                  f"{where['staged_bytes'] / 1e6:,.1f} MB in {where['staging']}, "
                  f"tasks {where['tasks_s']:.1f} s")  # fmt: skip
    if result.get("items") is None:
        if result.get("validation"):
            page.extend(validation(result["validation"]))
        return page
    page.line(f"Items read: {result['items']:,}   valid: {result['valid']:,}   rejected: {result['rejected']:,}")
    counts = ("added", "updated", "unchanged", "removed")
    entities = page.table("Would be stored" if result["dry_run"] else "Stored", ("entity", "key"),
                          *((k, "number") for k in counts))  # fmt: skip
    for name, numbers in result["entities"].items():
        entities.add(name, *(f"{numbers.get(k, 0):,}" if k in numbers else "" for k in counts))
    if result["events"]:
        page.line("Events: " + ", ".join(f"{k} {v:,}" for k, v in result["events"].items()))
    for note in result.get("notes") or []:  # the entity's and the source's own lines
        page.line(
            ("Warning: " if note.get("warning") else "") + note["text"], style="warn" if note.get("warning") else ""
        )
    if result["issues"]:
        issues = page.table("Issues (rows rejected)", ("column", "key"), ("hint", "prose"), ("items", "number"),
                            ("%", "number"), ("for example", "prose"))  # fmt: skip
        for issue in result["issues"]:
            examples = ", ".join(json.dumps(v, ensure_ascii=False)[:40] for v in issue.get("examples") or [])
            issues.add(issue["column"], issue["hint"], f"{issue['count']:,}", f"{issue['percent']:.2f}", examples)
        page.line("The rejected rows, with their lines and reasons: "
                  + (f"etl rejects {result['import_id']}" if commands else "report.rejects()"))  # fmt: skip
    if result.get("validation"):
        page.extend(validation(result["validation"]))
    numbered = sample_items(result)
    for which in ("first", "last"):
        rows = [row for n, w, row in numbered if w == which]
        if rows:
            shown = [k for k in rows[0] if k != "detail"]
            title = f"Sample: {which} {len(rows)} {result.get('sample_of') or 'records'}"
            kinds = ((k, "key" if k in ("order_id", "customer_id", "product_id") else "prose") for k in shown)
            table = page.table(title, ("item", "number"), *kinds)
            for n, w, row in numbered:
                if w == which:
                    table.add(n, *(json_value(row[k]) if isinstance(row[k], datetime) else row[k] for k in shown))
    if numbered:
        page.line("One of them in full: " + (f"etl report {result['import_id']} --item N" if commands
                                             else "report.item(N)"))  # fmt: skip
    return page


def report_item(result: dict[str, Any], number: int) -> Page:
    """One item of the sample in full, a field a line."""
    detail = sample_item(result, number)
    record = sample_items(result)[number - 1][2].get("record")
    page = Page()
    table = page.table(f"Import {result['import_id']}, sample item {number} (record {record})", ("field", "key"),
                       ("value", "prose"))  # fmt: skip
    for key, value in detail.items():
        table.add(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=json_value))
    return page


def validation(result: dict[str, Any]) -> Page:
    """The suites' outcome: a line of counts, then every expectation that did not pass, then the store's invariants
    when they were checked (`etl validate`)."""
    page = Page()
    if not result["suites"]:
        page.line(f"Validation: no expectation suites in {result['suites_dir']}.")
        return page
    if not result["checked"]:
        page.line("Validation: the import stored no new or changed rows, so there was nothing to check.")
        return page
    failed = result["failed"]
    page.line(f"Validation ({result['scope']}, suites {', '.join(result['suites'])}): ",
              ("passed", "ok") if result["success"] else ("FAILED", "bad"),
              f" - {result['checked']} expectations, {failed['critical']} critical and {failed['warning']} warning"
              f" failed, in {result['duration_s']:.1f} s")  # fmt: skip
    problems = [r for r in result["expectations"] if not r["success"]]
    if problems:
        table = page.table("Expectations not met", ("severity", "key"), ("suite", "key"), ("expectation", "prose"),
                           ("unexpected", "number"), ("for example", "prose"))  # fmt: skip
        for r in problems:
            examples = ", ".join(json.dumps(v, ensure_ascii=False, default=str)[:60] for v in r.get("examples") or [])
            count = r.get("unexpected_count")
            table.add(r["severity"], r["suite"],
                      (r.get("description") or r["expectation"]) + (f" ({r['column']})" if r.get("column") else ""),
                      r["error"] and "could not run" or ("" if count is None else f"{count:,}"),
                      r.get("error") or examples or describe(r).split(": ", 2)[-1])  # fmt: skip
    if result.get("data_docs"):
        page.line(f"Data Docs: {result['data_docs']}")
    if "invariants" in result:
        from etl.quality import store_invariants

        broken = store_invariants.describe(result["invariants"])
        page.line(f"Store invariants broken:\n{broken}" if broken else "Store invariants: all hold.",
                  style="bad" if broken else "")  # fmt: skip
    return page


def runs(rows: list[dict[str, Any]]) -> Page:
    """Past imports, newest first (rows of the imports table)."""
    page = Page()
    table = page.table("Imports", ("id", "number"), ("status", "key"), ("dry run", "key"), ("format", "key"),
                       ("started (UTC)", "key"), ("items", "number"), ("valid", "number"), ("rejected", "number"),
                       ("sources", "key"), ("error", "prose"))  # fmt: skip
    for record in rows:
        table.add(record["import_id"], record["status"], "yes" if record["dry_run"] else "", record["format"],
                  record["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
                  *(None if record[k] is None else f"{record[k]:,}" for k in ("items", "valid", "rejected")),
                  "\n".join(record["sources"] or []),
                  (record["error"] or "").splitlines()[0] if record["error"] else "")  # fmt: skip
    return page


def rejects(import_id: int, rows: list[dict[str, Any]]) -> Page:
    """An import's rejected rows: file, line, every reason, the values as read."""
    page = Page()
    if not rows:
        page.line(f"Import {import_id} rejected no rows.")
        return page
    table = page.table(f"Rejected rows of import {import_id}: {len(rows):,}", ("file", "key"), ("line", "number"),
                       ("reasons", "prose"), ("values as read", "prose"))  # fmt: skip
    for row in rows:
        table.add(row["source"], row["line"], "\n".join(reason_text(r) for r in row["reasons"]), row["raw"])
    return page


def reason_text(reason: dict[str, Any]) -> str:
    got = "" if reason["value"] is None else f" (got {json.dumps(reason['value'], ensure_ascii=False)})"
    return f"{reason['column']}: {reason['hint']}{got}"


def segment_run(name: str, parameters: dict[str, Any], defaults: dict[str, str], frame: pl.DataFrame,
                duration_s: float | None = None, *, commands: bool = True) -> Page:  # fmt: skip
    """A segment's run: its parameters (a default says where it came from), the row count, its first rows."""
    page = Page()
    height = frame.height
    took = f" in {duration_s:.2f} s" if duration_s is not None else ""
    page.line("Segment ", (name, "strong"), f": {height:,} rows{took}")
    if parameters:
        given = ", ".join(f"{k}={_value(v)}" + (f" ({defaults[k]})" if k in defaults else "")
                          for k, v in parameters.items())  # fmt: skip
        page.line(f"Parameters: {given}")
    shown = SEGMENT_ROWS_SHOWN if commands else NOTEBOOK_ROWS_SHOWN
    table = page.table("Rows" if height <= shown else f"First {shown} rows", *((c, "key") for c in frame.columns))
    for row in frame.head(shown).rows():
        table.add(*(_value(v) for v in row))
    if height > shown:
        page.line(f"... {height - shown:,} more rows "
                  + ("(--out FILE.csv writes them all)" if commands else "(.frame holds them all)"))  # fmt: skip
    return page


def events_run(report: dict[str, Any], verb: str, *, commands: bool = True) -> Page:
    """An `events delete` or `restore` run: the events it changed, by type."""
    page = Page()
    would = " (dry run: nothing changed)" if report["dry_run"] else ""
    page.line(f"Run {report['import_id']}: {report['events']:,} events {verb}{would}")
    for kind, count in report[verb].items():
        page.line(f"  {kind}: {count:,}")
    if report.get("already_stored"):
        page.line(f"  {report['already_stored']:,} are in the store again (imported since): not put back twice")
    if verb == "deleted" and report["events"] and not report["dry_run"]:
        page.line("Put them back with: " + (f"etl events restore {report['import_id']}" if commands
                                            else f"store.events.restore({report['import_id']})"))  # fmt: skip
    return page


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return json_value(value)
    if isinstance(value, float):
        return str(round(value, 6))  # 1026.24, not the binary 1026.2400000000002
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=json_value)
    return str(value)
