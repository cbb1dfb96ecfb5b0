"""The registry of formats: one module per vendor format, each declaring what it is (the `Format` protocol).

A format module declares `NAME`, `ENTITY` (the kind of record it feeds: orders, users ...),
`READERS` (csv, jsonl ...: the first is the default), `SUMMARY` (one line), `Options` (the pydantic
model of its `options:`), `FIELDS` (what transformation steps may write), `plan(header, options, reader)` (raw
values -> canonical columns and checks) and `API`: None for a format read from files, else its `ApiSource` (how its
records are fetched into a file, what its spec must hold, what the report says of it). It knows nothing of the
store. Capabilities are these declared fields: the engine never probes a module for what it has.

The registry names the modules only, so that validating a spec's `format:` loads none of them;
`load(name)` imports one when an import needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from etl.errors import SpecError
from etl.names import nearest

# format name -> its module
REGISTRY: dict[str, str] = {
    "kevel_orders": "etl.formats.kevel_orders",
    "kevel_users": "etl.formats.kevel_users",
    "shopify_orders": "etl.formats.shopify_orders",
    "kevel_products": "etl.formats.kevel_products",
    "google_merchant": "etl.formats.google_merchant",
    "crossengage_events": "etl.formats.crossengage_events",
    "esputnik_events": "etl.formats.esputnik_events",
    "egoi_contacts": "etl.formats.egoi_contacts",
}
# formats whose source is an API, not files: their `source:` is the API's address, this one when a spec gives none
# (the module then has `fetch`, which reads the records into a file of the import's)
API_SOURCES: dict[str, str] = {"egoi_contacts": "https://api.egoiapp.com"}

if TYPE_CHECKING:
    from pydantic import BaseModel

    from etl.transforms.steps import FormatFields


@dataclass(frozen=True)
class ApiSource:
    """A format whose source is an API: its records are read into a file of the import's first (`fetch`), then
    imported as a file's are."""

    # (address, connection, options, folder, progress) -> (what was fetched: its .path and .uri, the options resolved)
    fetch: Callable[[str, dict[str, Any], Any, Path, Any], tuple[Any, Any]]
    check_spec: Callable[[Any], list[str]]  # what its spec must hold (its connection, no transforms)
    report: Callable[[Any, Any], dict[str, Any]]  # (fetched, options) -> the report's `api`
    notes: Callable[[dict[str, Any]], list[dict[str, Any]]]  # the report's lines on it, from its `api`


class Format(Protocol):
    """What every format module declares (a module is checked against it by tests/test_formats.py)."""

    NAME: str
    ENTITY: str
    READERS: tuple[str, ...]
    SUMMARY: str
    Options: type[BaseModel]
    FIELDS: FormatFields
    API: ApiSource | None

    def plan(self, header: list[str], options: Any, reader: str = ...) -> Any: ...


def check_name(name: str) -> str:
    """`name` if it is a known format; else a ValueError listing the known ones (and the nearest)."""
    if name not in REGISTRY:
        raise ValueError(_unknown(name))
    return name


def load(name: str) -> Format:
    """The format's module."""
    if name not in REGISTRY:
        raise SpecError(_unknown(name))
    return cast(Format, importlib.import_module(REGISTRY[name]))


def _unknown(name: str) -> str:
    near = nearest(name, list(REGISTRY))
    hint = f" (did you mean {near}?)" if near else ""
    return f"unknown format {name!r}{hint}; the formats are {', '.join(REGISTRY)} (see etl formats)"


def describe() -> list[dict[str, object]]:
    """Every format: name, entity, reader, summary and its options (name, type, default, required, description)."""
    out = []
    for name in REGISTRY:
        module = load(name)
        options = [
            {
                "name": key,
                "type": getattr(field.annotation, "__name__", str(field.annotation)),
                # a default_factory's value (ids: {}), not pydantic's placeholder; None when the option is required
                "default": None if field.is_required() else field.get_default(call_default_factory=True),
                "required": field.is_required(),
                "description": field.description or "",
            }
            for key, field in module.Options.model_fields.items()
        ]
        out.append(
            {
                "name": module.NAME,
                "entity": module.ENTITY,
                "readers": list(module.READERS),
                "summary": module.SUMMARY,
                "options": options,
            }
        )
    return out
