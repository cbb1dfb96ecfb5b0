"""The registry of formats: one module per vendor format, each declaring what it is.

A format module declares `NAME`, `ENTITY` (the kind of record it feeds: orders, users ...),
`READERS` (csv, jsonl ...: the first is the default), `SUMMARY` (one line), `Options` (the pydantic
model of its `options:`), `FIELDS` (what transformation steps may write) and `plan(header, options)` (raw values ->
canonical columns and checks). It knows nothing of the store. A format whose source is an API (API_SOURCES) has
`fetch` too, which reads the records into a file, `check_spec(spec)` (what its spec must hold) and `report`.

The registry names the modules only, so that validating a spec's `format:` loads none of them;
`load(name)` imports one when an import needs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

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


def check_name(name: str) -> str:
    """`name` if it is a known format; else a ValueError listing the known ones (and the nearest)."""
    if name not in REGISTRY:
        raise ValueError(_unknown(name))
    return name


def load(name: str) -> ModuleType:
    """The format's module."""
    if name not in REGISTRY:
        raise SpecError(_unknown(name))
    return importlib.import_module(REGISTRY[name])


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
