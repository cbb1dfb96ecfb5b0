"""The registry of formats (issue 15): what `etl formats` lists, and a spec's `format:` checked against it."""

from __future__ import annotations

from etl import formats


def test_etl_formats_lists_each_format_with_its_entity_reader_and_options(etl):
    run = etl("formats", "--json")

    assert run.code == 0, run.stderr
    by_name = {f["name"]: f for f in run.json}
    assert set(by_name) == set(formats.REGISTRY) >= {"kevel_orders", "kevel_users"}
    assert (by_name["kevel_users"]["entity"], by_name["kevel_users"]["readers"]) == ("customers", ["csv", "jsonl"])
    kevel = by_name["kevel_orders"]
    assert (kevel["entity"], kevel["readers"]) == ("orders", ["csv"])
    assert [o["name"] for o in kevel["options"]] == ["hash_emails"]
    assert kevel["options"][0]["default"] is False

    shown = etl("formats")
    assert shown.code == 0 and "kevel_orders" in shown.stdout and "hash_emails" in shown.stdout


def test_each_registered_module_declares_what_the_engine_needs():
    for name, path in formats.REGISTRY.items():
        module = formats.load(name)
        assert module.__name__ == path and module.NAME == name
        assert set(module.READERS) <= {"csv", "jsonl"} and module.READERS and module.ENTITY
        assert module.Options.model_json_schema()["title"].endswith("Options")
        assert callable(module.plan) and module.FIELDS.name == name


def test_a_misspelt_format_names_the_known_ones(tmp_path, etl):
    run = etl("import", "--format", "kevel_order", "--source", str(tmp_path / "a.csv"))

    assert run.code == 2
    message = " ".join(run.stderr.split())
    assert "format: unknown format 'kevel_order' (did you mean kevel_orders?)" in message
    assert "etl formats" in message
