"""Import a shop's history (orders, users, products, events) into a DuckDB customer store.

The public API, for notebooks and scripts (the `etl` command is built on it):

    import etl
    store = etl.Store("data/cdp.duckdb")
    report = store.import_("data/samples/kevel_orders.yaml")
    store.sql("SELECT * FROM orders WHERE currency = $c", c="EUR")
    store.segment("rfm").frame
    etl.list_formats(), etl.list_segments()

Everything else under etl. is internal and may move; the names below stay. They are loaded on first use, so that
`import etl` (and the `etl` command's start) loads neither Polars nor DuckDB.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.api.results import ImportReport, SegmentRun, ValidationResult
    from etl.api.store import Events, Store
    from etl.errors import EtlError, ImportCancelled, InputError, SpecError
    from etl.samples import copy_samples

__all__ = [
    "Store",
    "Events",
    "ImportReport",
    "ValidationResult",
    "SegmentRun",
    "EtlError",
    "SpecError",
    "InputError",
    "ImportCancelled",
    "list_formats",
    "list_segments",
    "copy_samples",
    "__version__",
]

_WHERE = {
    "Store": "etl.api.store",
    "Events": "etl.api.store",
    "ImportReport": "etl.api.results",
    "ValidationResult": "etl.api.results",
    "SegmentRun": "etl.api.results",
    "EtlError": "etl.errors",
    "SpecError": "etl.errors",
    "InputError": "etl.errors",
    "ImportCancelled": "etl.errors",
    "list_formats": "etl.api.catalog",
    "list_segments": "etl.api.catalog",
    "copy_samples": "etl.samples",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("cdp-etl")
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value  # found once
        return value
    raise AttributeError(f"module 'etl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
