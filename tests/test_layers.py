"""The layers of the package (issue 34): each folder of etl/ is a step of the flow, and what one step may know of
another is held here, on the import graph of tests/test_import_graph.py (every import counts, lazy ones too)."""

from __future__ import annotations

import pytest
from test_import_graph import graph

from etl import formats

# a vendor's format: the registry's modules, and the modules they share that know what vendors' files hold
VENDOR_FORMATS = {*formats.REGISTRY.values(), "etl.formats.events", "etl.formats.products",
                  "etl.formats.esputnik_records"}  # fmt: skip
# the contract between formats and entities: the canonical columns and the plan, no vendor's
CONTRACT = {"etl.formats.columns", "etl.formats.plan"}
# what the engine computes for every format: checks and record hashes
ENGINE = {"etl.formats", "etl.formats.rows"}


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def broken(edges: dict[str, set[str]]) -> list[str]:
    """Every import that breaks a rule of the layers, as 'importer -> imported: the rule'."""
    found = []
    for module, imported in sorted(edges.items()):
        for target in sorted(imported):
            rule = None
            if under(module, "etl.formats") and under(target, "etl.store", "etl.entities", "etl.pipeline"):
                rule = "a format imports no store, entity or pipeline module"
            elif under(module, "etl.entities") and under(target, "etl.formats") and target not in CONTRACT:
                rule = "an entity imports no format (only the contract: etl.formats.columns and plan)"
            elif under(module, "etl.pipeline") and (
                (under(target, "etl.formats") and target not in CONTRACT | ENGINE)
                or (under(target, "etl.entities") and target != "etl.entities")
            ):
                rule = "the pipeline names no format or entity (it loads them through their registries)"
            elif under(module, "etl.readers", "etl.sources") and under(target, "etl.formats", "etl.entities"):
                rule = "readers and sources import no format nor entity"
            elif (
                module != "etl"
                and not under(module, "etl.cli", "etl.api", "etl.display", "etl.entry")
                and under(target, "etl.cli", "etl.api", "etl.display")
            ):
                rule = "the engine knows no presentation (the command, the public API, the reports' layouts)"
            elif under(module, "etl.api", "etl.display") and under(target, "etl.cli"):
                rule = "the public API and the layouts import no command (the command is built on them)"
            if rule:
                found.append(f"{module} -> {target}: {rule}")
    return found


def test_every_import_keeps_to_the_layers():
    edges = graph()
    assert "etl.formats.columns" in edges["etl.entities.orders.entity"]  # the graph is read, the contract used
    assert broken(edges) == []


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("etl.formats.kevel_orders", "etl.store.connection"),
        ("etl.formats.kevel_orders", "etl.entities.orders.entity"),
        ("etl.entities.events.entity", "etl.formats.esputnik_events"),
        ("etl.entities.orders.entity", "etl.formats.ids"),
        ("etl.pipeline.staging", "etl.formats.kevel_orders"),
        ("etl.pipeline.importer", "etl.entities.orders.entity"),
        ("etl.pipeline.report", "etl.display.layouts"),
        ("etl.api.store", "etl.cli.common"),
        ("etl.readers.csv", "etl.formats.rows"),
        ("etl.sources.files", "etl.entities"),
    ],
)
def test_each_rule_finds_the_import_that_breaks_it(module, target):
    assert len(broken({module: {target}})) == 1
    assert broken({"etl.entities.orders.entity": {"etl.formats.columns", "etl.formats.plan"}}) == []
