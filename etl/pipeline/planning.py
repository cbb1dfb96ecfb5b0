"""Planning a file: which reader parses it (by its name) and the format's plan for its fields after the spec's
transforms, with the errors that name a missing column, a wrong delimiter or a wrong format."""

from __future__ import annotations

from etl import formats
from etl.errors import InputError, SpecError
from etl.readers import csv as csv_reader
from etl.sources import files as sources
from etl.spec import ImportSpec
from etl.transforms.steps import fields_after


def reader(module, uri: str) -> str:
    """The reader of a file: JSON lines (.jsonl, .ndjson), XML (.xml, .rss, .atom) or a JSON array (.json) by its
    name, compressed or not, when the format reads them, else the format's first reader."""
    name = uri.lower().removesuffix(".gz").removesuffix(".zip")
    if "jsonl" in module.READERS and name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if "xml" in module.READERS and name.endswith((".xml", ".rss", ".atom")):
        return "xml"
    if "json" in module.READERS and name.endswith(".json"):
        return "json"
    return module.READERS[0]


def plan_file(module, options, source: sources.SourceFile, spec: ImportSpec, reader: str = "csv"):
    """The file's header (none for JSON lines), and the format's plan for its fields after the spec's
    transforms."""
    if reader in ("jsonl", "xml", "json"):
        if spec.transforms:
            kind = {"jsonl": "JSON lines", "xml": "XML feeds", "json": "JSON arrays"}[reader]
            raise SpecError(f"{spec.origin}: transforms are not applied to {kind} yet ({source.uri})")
        return [], module.plan([], options, reader)
    return header_plan(module, options, source, spec, csv_reader.read_header(source))


def header_plan(module, options, source: sources.SourceFile, spec: ImportSpec, header: list[str]):
    """A CSV file's header and the format's plan for its fields after the spec's transforms."""
    fields, problems = fields_after(spec.transforms, header)
    if problems:
        raise SpecError(
            f"{spec.origin}: the transforms do not fit {source.uri} (its columns: {', '.join(header)}):\n"
            + "\n".join(f"  {p}" for p in problems)
        )
    plan = module.plan(fields, options, "csv")
    if plan.problems:
        raise InputError(f"{source.uri}: line 1: " + "; ".join(plan.problems))
    if plan.missing:
        hints = []
        for name in plan.missing:
            near = [h for h in fields if h.lower() == name.lower()]
            hints.append(f"{name!r}" + (f" (the header has {near[0]!r}: names are case sensitive)" if near else ""))
        after = " after the spec's transforms" if spec.transforms else ""
        raise InputError(
            f"{source.uri}: line 1: missing required column{'s' if len(hints) > 1 else ''} "
            f"{', '.join(hints)}{after}; expected a header with every required column of the format"
            + fitting_formats(module, fields)
            + csv_reader.delimiter_hint(source)
        )
    return header, plan


def fitting_formats(module, fields: list[str]) -> str:
    """' (the header fits kevel_orders: ...)' when other CSV formats find every column they need in it: the
    spec's `format:` is then the likelier mistake."""
    fitting = []
    for name in formats.REGISTRY:
        other = formats.load(name)
        if other is module or "csv" not in other.READERS:
            continue
        try:
            options = other.Options()
        except ValueError:  # a format that needs options to read a header (kevel_users: its id field)
            continue
        plan = other.plan(fields, options, "csv")
        if not plan.missing and not plan.problems:
            fitting.append(name)
    return f" (the header fits {' and '.join(fitting)}: is the spec's format right?)" if fitting else ""
