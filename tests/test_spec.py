"""The YAML import spec: loading, validation errors, the JSON schema, and how the CLI uses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, SAMPLE_CSV, kevel_row, write_csv

from etl.errors import SpecError
from etl.spec import ImportSpec, json_schema, load_spec_data, validate_spec

SAMPLE_SPEC = REPO / "data" / "samples" / "kevel_orders.yaml"
SCHEMA_FILE = REPO / "etl" / "import-spec.schema.json"


def spec_file(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path) -> ImportSpec:
    """What `etl import SPEC` does with a spec file."""
    return validate_spec(load_spec_data(path), str(path))


def spec_error(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load(path)
    return str(caught.value)


# --- loading a valid spec -------------------------------------------------------------------


def test_the_sample_spec_loads() -> None:
    spec = load(SAMPLE_SPEC)
    assert spec.format == "kevel_orders"
    assert spec.source == ["data/samples/kevel_orders.csv"]
    assert spec.format_options().hash_emails is False


@pytest.mark.parametrize(
    ("source_yaml", "expected"),
    [("a.csv", ["a.csv"]), ("[a.csv, 'b/*.csv.gz']", ["a.csv", "b/*.csv.gz"])],
    ids=["one string", "a list"],
)
def test_source_is_one_string_or_a_list(tmp_path: Path, source_yaml: str, expected: list[str]) -> None:
    spec = load(spec_file(tmp_path, f"format: kevel_orders\nsource: {source_yaml}\n"))
    assert spec.source == expected


def test_defaults(tmp_path: Path) -> None:
    spec = load(spec_file(tmp_path, "format: kevel_orders\nsource: a.csv\n"))
    assert spec.compression == "auto"
    assert spec.encoding == "utf-8"
    assert spec.options == {}
    assert spec.store is None
    assert spec.format_options().hash_emails is False


# --- errors name the file, the key path and what was expected --------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "format: kevel_orders\nsorce: a.csv\n",
            ["sorce: unknown key", "source: required key is missing"],
            id="unknown top-level key",
        ),
        pytest.param(
            "format: kevel_orders\nsource: a.csv\noptions: {hash_email: true}\n",
            ["options.hash_email", "unknown key"],
            id="unknown option key",
        ),
        pytest.param(
            "format: kevel_orders\nsource: a.csv\noptions: {hash_emails: maybe}\n",
            ["options.hash_emails", "boolean", "maybe"],
            id="wrong option type",
        ),
        pytest.param("format: shopify\nsource: a.csv\n", ["format", "kevel_orders", "shopify"], id="unknown format"),
        pytest.param(
            "format: kevel_orders\nsource: a.csv\nencoding: klingon\n",
            ["encoding", "unknown encoding 'klingon'", "utf-8"],
            id="unknown encoding",
        ),
        pytest.param(
            "format: kevel_orders\nsource: a.csv\ncompression: rar\n",
            ["compression", "gzip", "rar"],
            id="unknown compression",
        ),
        pytest.param("format: kevel_orders\nsource: []\n", ["source", "at least 1"], id="empty source list"),
    ],
)
def test_invalid_spec_errors_name_file_key_and_expectation(tmp_path: Path, body: str, expected: list[str]) -> None:
    path = spec_file(tmp_path, body)
    message = spec_error(path)
    assert message.startswith(f"{path}: invalid import spec")
    for part in expected:
        assert part in message


def test_invalid_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "format: kevel_orders\nsource: a.csv\noptions: {hash_emails: true]\n")
    message = spec_error(path)
    assert message.startswith(f"{path}:3:28: not valid YAML")
    assert "expected ',' or '}'" in message


def test_a_list_instead_of_a_mapping_is_refused(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "- format: kevel_orders\n- source: a.csv\n")
    message = spec_error(path)
    assert message.startswith(str(path))
    assert "expected a mapping" in message


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_spec_that_cannot_be_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nowhere.yaml"
    if kind == "directory":
        path.mkdir()
    message = spec_error(path)
    assert message.startswith(f"{path}: cannot read the spec")


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    marker = tmp_path / "hacked"
    path = spec_file(
        tmp_path,
        f'format: kevel_orders\nsource: !!python/object/apply:os.system ["touch {marker}"]\n',
    )
    message = spec_error(path)
    assert message.startswith(f"{path}:2:9: not valid YAML")
    assert "python/object/apply:os.system" in message
    assert not marker.exists()


# --- the committed JSON schema ------------------------------------------------------------------


def test_committed_schema_is_current() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == json_schema(), "etl/import-spec.schema.json is stale: run `make schema`"


ANNOTATIONS = {"title", "description", "default", "$schema", "$defs"}


def schema_errors(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """A small validator for the keywords the spec schema uses (the jsonschema package is optional).

    An unknown keyword fails loudly, so the schema cannot outgrow this check unnoticed.
    """
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    errors: list[str] = []
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS:
            continue
        if keyword == "$ref":
            assert value.startswith("#/$defs/"), value
            errors += schema_errors(instance, root["$defs"][value.removeprefix("#/$defs/")], root, path)
        elif keyword == "type":
            if not isinstance(instance, types[value]):
                errors.append(f"{path}: not {value}")
        elif keyword == "const":
            if instance != value:
                errors.append(f"{path}: not {value!r}")
        elif keyword == "enum":
            if instance not in value:
                errors.append(f"{path}: not one of {value}")
        elif keyword == "anyOf":
            if all(schema_errors(instance, option, root, path) for option in value):
                errors.append(f"{path}: matches none of anyOf")
        elif keyword == "required":
            errors += [f"{path}.{key}: missing" for key in value if isinstance(instance, dict) and key not in instance]
        elif keyword == "properties":
            if isinstance(instance, dict):
                for key, sub in value.items():
                    if key in instance:
                        errors += schema_errors(instance[key], sub, root, f"{path}.{key}")
        elif keyword == "additionalProperties":
            assert value is False
            if isinstance(instance, dict):
                errors += [f"{path}.{key}: unknown" for key in instance if key not in schema.get("properties", {})]
        elif keyword == "items":
            if isinstance(instance, list):
                for i, item in enumerate(instance):
                    errors += schema_errors(item, value, root, f"{path}[{i}]")
        elif keyword == "minItems":
            if isinstance(instance, list) and len(instance) < value:
                errors.append(f"{path}: fewer than {value} items")
        else:
            raise AssertionError(f"schema keyword {keyword!r} is not checked by this test: extend schema_errors")
    return errors


def validation_errors(instance: Any) -> list[str]:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    try:
        import jsonschema
    except ImportError:
        return schema_errors(instance, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(instance)]


def test_committed_schema_validates_the_sample_spec() -> None:
    sample = yaml.safe_load(SAMPLE_SPEC.read_text(encoding="utf-8"))
    assert validation_errors(sample) == []
    assert validation_errors({**sample, "source": ["a.csv", "b.csv"]}) == []


@pytest.mark.parametrize(
    "change",
    [
        {"sorce": "a.csv"},
        {"options": {"hash_email": True}},
        {"options": {"hash_emails": "maybe"}},
        {"format": "shopify"},
        {"compression": "rar"},
        {"source": []},
    ],
    ids=["unknown key", "unknown option", "option type", "format", "compression", "empty source"],
)
def test_committed_schema_refuses_what_the_models_refuse(change: dict[str, Any]) -> None:
    sample = yaml.safe_load(SAMPLE_SPEC.read_text(encoding="utf-8"))
    bad = {**sample, **change}
    assert validation_errors(bad) != []
    with pytest.raises(SpecError):
        validate_spec(bad, "test")


# --- through the etl command --------------------------------------------------------------------


def test_cli_bad_spec_exits_with_the_message_and_no_traceback(etl, tmp_path: Path, store: Path) -> None:
    path = spec_file(tmp_path, "format: kevel_orders\nsource: a.csv\noptions: {hash_email: true}\n", "bad.yaml")
    run = etl("import", str(path))
    assert run.code != 0
    assert str(path) in run.stderr
    assert "options.hash_email: unknown key" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not store.exists()


@pytest.mark.parametrize("flags", [[], ["--format", "kevel_orders"]], ids=["alone", "with --format"])
def test_cli_spec_that_is_a_list_is_a_clear_error(etl, tmp_path: Path, flags: list[str]) -> None:
    path = spec_file(tmp_path, "- format: kevel_orders\n- source: a.csv\n", "list.yaml")
    run = etl("import", str(path), *flags)
    assert run.code == 2, run.stderr  # a spec error
    assert f"{path}: expected a mapping" in run.stderr
    assert "internal error" not in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_flags_override_the_spec(etl, tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "given.csv", [kevel_row("o1")])
    path = spec_file(tmp_path, "format: not_a_format\nsource: missing/nowhere.csv\n")
    run = etl("import", str(path), "--format", "kevel_orders", "--source", str(csv_file), "--json")
    assert run.code == 0, run.stderr
    report = run.json
    assert report["format"] == "kevel_orders"
    assert [Path(f["uri"]).name for f in report["files"]] == ["given.csv"]
    assert report["items"] == 1


@pytest.mark.parametrize(
    "args",
    [["--format", "kevel_orders"], ["--source", str(SAMPLE_CSV)]],
    ids=["without --source", "without --format"],
)
def test_cli_without_spec_requires_format_and_source(etl, store: Path, args: list[str]) -> None:
    run = etl("import", *args)
    assert run.code == 2
    assert "--format and --source are required" in run.stderr
    assert "Traceback" not in run.stderr
    assert not store.exists()
