"""The registry of formats (issue 15): what `etl formats` lists, and a spec's `format:` checked against it."""

from __future__ import annotations

import pytest

from etl import formats


def test_etl_formats_lists_each_format_with_its_entity_reader_and_options(etl):
    run = etl("formats", "--json")

    assert run.code == 0, run.stderr
    by_name = {f["name"]: f for f in run.json}
    assert set(by_name) == set(formats.REGISTRY) >= {"kevel_orders", "kevel_users"}
    assert (by_name["kevel_users"]["entity"], by_name["kevel_users"]["readers"]) == ("customers", ["csv", "jsonl"])
    kevel = by_name["kevel_orders"]
    assert (kevel["entity"], kevel["readers"]) == ("orders", ["csv"])
    assert [o["name"] for o in kevel["options"]] == ["hash_emails", "fold_id_case"]
    assert (kevel["options"][0]["default"], kevel["options"][0]["required"]) == (False, False)
    egoi = {o["name"]: o for o in by_name["egoi_contacts"]["options"]}
    assert (egoi["list_id"]["required"], egoi["page_size"]["default"]) == (True, 1000)

    shown = etl("formats")
    assert shown.code == 0 and "kevel_orders" in shown.stdout and "hash_emails" in shown.stdout
    assert "list_id (required)" in " ".join(shown.stdout.split())


def test_each_registered_module_declares_what_the_engine_needs():
    for name, path in formats.REGISTRY.items():
        module = formats.load(name)
        assert module.__name__ == path and module.NAME == name
        assert set(module.READERS) <= {"csv", "jsonl", "xml", "json"} and module.READERS and module.ENTITY
        assert module.Options.model_json_schema()["title"].endswith("Options")
        assert callable(module.plan) and module.FIELDS.name == name


def test_a_misspelt_format_names_the_known_ones(tmp_path, etl):
    run = etl("import", "--format", "kevel_order", "--source", str(tmp_path / "a.csv"))

    assert run.code == 2
    message = " ".join(run.stderr.split())
    assert "format: unknown format 'kevel_order' (did you mean kevel_orders?)" in message
    assert "etl formats" in message


def test_every_format_feeds_a_registered_entity_whose_strategies_are_sql_files():
    from importlib import resources

    from etl import entities

    fed = {formats.load(name).ENTITY for name in formats.REGISTRY}
    assert fed <= set(entities.REGISTRY)
    package = resources.files("etl")  # etl.store.sqlfiles reads etl/NAME.sql
    for name in entities.REGISTRY:
        entity = entities.load(name)
        assert entity.NAME == name and entity.TABLES and entity.STAGING
        files = {f for steps in entity.STRATEGIES.values() for f in steps}
        missing = {f for f in files if not package.joinpath(f"{f}.sql").is_file()}
        assert not missing, f"{name}: no such SQL file: {missing}"
        assert callable(entity.store) and callable(entity.report)
    with pytest.raises(KeyError, match="the entities are orders, customers"):
        entities.load("product")
