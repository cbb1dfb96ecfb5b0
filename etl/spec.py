"""Import specs: the YAML a user writes, validated by pydantic models.

A spec names a format, one or more sources, how to decode them and the format's
options. Errors name the file, the key path and what was expected; unknown keys are
errors, because a misspelt key that is silently ignored imports the wrong thing.
"""

from __future__ import annotations

import codecs
import difflib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from etl import formats
from etl.errors import SpecError
from etl.transforms.steps import Step

Compression = Literal["auto", "gzip", "zip", "none"]


class ScheduleForm(BaseModel):
    """The schedule as Kevel's dashboard builds it: years, months, days, hours (UTC); a unit left
    out means every one of it; imports start at minute 0."""

    model_config = ConfigDict(extra="forbid")

    years: list[int] | None = Field(None, description="Only these years (e.g. [2027]).")
    months: list[int] | None = Field(None, description="Months 1-12.")
    days: list[int] | None = Field(None, description="Days of the month 1-31.")
    hours: list[int] | None = Field(None, description="Hours 0-23 (UTC).")

    @field_validator("years", "months", "days", "hours", mode="before")
    @classmethod
    def _in_range(cls, value: Any, info: Any) -> Any:
        low, high = {"years": (2000, 9999), "months": (1, 12), "days": (1, 31), "hours": (0, 23)}[info.field_name]
        if value is None:
            return None
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
                raise ValueError(f"expected a whole number from {low} to {high}, or a list of them; got {v!r}")
        return sorted(set(values))


class InboxOptions(BaseModel):
    """How `etl inbox` treats the files of a folder (see etl/ops/inbox.py)."""

    model_config = ConfigDict(extra="forbid")

    naming: Literal["event_history"] | None = Field(
        None,
        description="event_history: files must be named event_history_YYYYMMDDHHMMSS.json (UTC), "
        "and the timestamp is given to the run.",
    )


class StagingOptions(BaseModel):
    """Where the files of an import are staged when an executor other than `local` stages them."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        None,
        description="A folder every worker and the importing machine reach: a shared path, or an fsspec URL such "
        "as s3://bucket/prefix (default: the store's spool folder, which only workers on this machine reach).",
    )
    connection: dict[str, Any] = Field(
        default_factory=dict,
        description="The staging location's storage options (as `connection`; ${NAME} read from the environment).",
    )
    part_bytes: int = Field(
        128 << 20, gt=0, description="A large CSV or JSON-lines file is staged in parts of about this many bytes."
    )


class ImportSpec(BaseModel):
    """One import: what to read, how to decode it, and where to store it."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(
        description="The input format (etl formats lists them).", json_schema_extra={"enum": list(formats.REGISTRY)}
    )
    source: Annotated[list[str], Field(min_length=1)] = Field(
        description="One URI or a list: local paths, file:// and other fsspec URLs, globs; for an API format "
        "(egoi_contacts) the API's address, which has a default."
    )
    compression: Compression = Field("auto", description="auto detects gzip by extension and magic bytes.")
    encoding: str = Field(
        "utf-8", description="A Python codec name (utf-8, utf-8-sig, utf-16, cp1251, cp1252 ...) or auto (detected)."
    )
    delimiter: str = Field(
        "auto",
        description="The field separator: ',', ';', tab (written \"\\t\" or tab), '|', or auto (the one that "
        "splits the header line into the most fields; Excel in many locales writes ';').",
    )
    fail_on_low_confidence: bool = Field(
        False,
        description="With encoding: auto, fail the import when the detected encoding has a low confidence "
        "(below 0.5; the report names the runner-up) instead of warning: for CI jobs.",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="The format's options.")
    store: str | None = Field(None, description="The DuckDB store; default data/cdp.duckdb or $ETL_STORE.")
    max_uncompressed_bytes: int = Field(
        50 * 10**9,
        gt=0,
        description="Stop when a compressed file (gzip, zip) unpacks to more than this many bytes: "
        "a guard against zip and gzip bombs.",
    )
    connection: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of the sources' file system (fsspec storage options): for s3 endpoint_url, "
        "profile, key, secret, anon, client_kwargs; for sftp username, password, port, key_filename; "
        "for http headers; for egoi_contacts api_key (E-goi's API key) and proxy. A value written ${NAME} is "
        "read from the environment variable NAME.",
    )
    inbox: InboxOptions = Field(default_factory=InboxOptions, description="Options of etl inbox.")
    schedule: str | ScheduleForm | None = Field(
        None,
        description="When `etl schedule run-due` runs this import, in UTC: cron ('0 3 * * *') or "
        "{years, months, days, hours}.",
    )
    transforms: list[Step] = Field(
        default_factory=list,
        description="Steps applied in order to every record before the format's own rules: "
        "rename, copy, new, delete (see the documentation, docs/transforms.md).",
    )
    executor: str | dict[str, Any] | None = Field(
        None,
        description="Where the files are staged: local (the default: in the importing process), processes "
        "(a pool of local processes; processes:N for N of them) or a Dask scheduler (dask://host:8786, or "
        "{dask: {address: tcp://host:8786}}). Default: $ETL_EXECUTOR, else local. See docs/cluster.md.",
    )
    staging: str | StagingOptions | None = Field(
        None,
        description="Where an executor other than local stages the files: a folder path or URL, or "
        "{path, connection, part_bytes}. Default: $ETL_STAGING, else the store's spool folder.",
    )
    _origin: str = PrivateAttr("the import spec")  # where the spec came from, for error messages

    @property
    def origin(self) -> str:
        return self._origin

    @model_validator(mode="before")
    @classmethod
    def _api_source(cls, data: Any) -> Any:
        """An API format's source is its API's address unless the spec gives another."""
        if isinstance(data, dict) and "source" not in data and data.get("format") in formats.API_SOURCES:
            return {**data, "source": formats.API_SOURCES[data["format"]]}
        return data

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: Any) -> Any:
        if isinstance(value, str):
            from cronsim import CronSim, CronSimError  # here: only specs with a schedule need it

            try:
                CronSim(value, datetime.now(UTC))
            except CronSimError as exc:
                raise ValueError(f"not a cron expression (minute hour day month weekday, UTC): {exc}") from None
        return value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        return formats.check_name(value)

    @field_validator("delimiter")
    @classmethod
    def _known_delimiter(cls, value: str) -> str:
        value = "\t" if value == "tab" else value
        if value not in ("auto", ",", ";", "\t", "|"):
            raise ValueError(f"expected one of auto, ',', ';', tab, '|'; got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value == "auto":
            return value
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}: expected a codec name such as utf-8, cp1251") from None
        return value

    def format_options(self) -> BaseModel:
        return formats.load(self.format).Options.model_validate(self.options)

    @field_validator("executor")
    @classmethod
    def _executor(cls, value: Any) -> Any:
        from etl.pipeline import executors

        try:
            executors.parse(value)
        except SpecError as exc:
            raise ValueError(str(exc).split(": ", 1)[1]) from None
        return value

    def _staging(self) -> StagingOptions:
        return StagingOptions(path=self.staging) if isinstance(self.staging, str) else self.staging or StagingOptions()

    def staging_path(self) -> str | None:
        return self._staging().path

    def staging_options(self) -> dict[str, Any]:
        """The staging location's storage options, ${NAME} values read from the environment."""
        options = self._staging().connection
        return {k: _from_environment(v, f"staging.connection.{k}", self.origin) for k, v in options.items()}

    def part_bytes(self) -> int:
        return self._staging().part_bytes

    def storage_options(self) -> dict[str, Any]:
        """`connection`, with ${NAME} values read from the environment (only now, when used, so that
        secrets live in the environment and nowhere in the spec or its dumps)."""
        return {k: _from_environment(v, f"connection.{k}", self.origin) for k, v in self.connection.items()}


ENVIRONMENT_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def _from_environment(value: Any, key_path: str, origin: str) -> Any:
    """${NAME} -> the value of the environment variable NAME; other values as they are."""
    if isinstance(value, dict):
        return {k: _from_environment(v, f"{key_path}.{k}", origin) for k, v in value.items()}
    match = ENVIRONMENT_REFERENCE.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    name = match.group(1)
    if name not in os.environ:
        raise SpecError(f"{origin}: {key_path}: the environment variable {name} is not set")
    return os.environ[name]


NOT_A_MAPPING = "expected a mapping of keys (format, source, ...) at the top level"


def _key_path(loc: tuple[Any, ...]) -> str:
    """('transforms', 3, 'rename', 'rename', 'cast') -> transforms[3].rename.cast"""
    path = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != previous or not isinstance(previous, str):  # a union's tag repeats the key
            path += f".{part}" if path else str(part)
        previous = part
    return path.replace("copy_", "copy").replace(".source", ".from")


def _known_keys(loc: tuple[Any, ...], model: type[BaseModel]) -> list[str]:
    """The keys the model at `loc`'s parent takes, where a plain walk of the models finds it."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        inner = getattr(field, "annotation", None) if field else None
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return []
        model = inner
    return list(model.model_fields)


def _describe(error: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    path = _key_path(error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        known = _known_keys(error["loc"], model or ImportSpec)
        if not known:
            return f"{path}: unknown key"
        near = difflib.get_close_matches(str(error["loc"][-1]), known, n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        return f"{path}: unknown key{hint}; the keys here are {', '.join(known)}"
    if error["type"] == "missing":
        return f"{path}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")  # our validators' messages are sentences already
    return f"{path}: {message} (got {json.dumps(error.get('input'), default=str)[:80]})"


def _prefixed(prefix: str, text: str) -> str:
    """An options error's key path under options. (the options' own top level is `options` itself)."""
    if prefix and text.startswith("(top level)"):
        return prefix.rstrip(".") + text.removeprefix("(top level)")
    return prefix + text


def validate_spec(data: Any, origin: str) -> ImportSpec:
    """Validate a parsed spec; `origin` names it in errors (a file path, or 'command line')."""
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: {NOT_A_MAPPING}")
    try:
        spec = ImportSpec.model_validate(data)
        spec.format_options()
    except ValidationError as exc:
        options_model = next((m for m in _options_models() if _title(m) == exc.title), None)
        prefix = "options." if options_model else ""
        lines = [f"  {_prefixed(prefix, _describe(e, options_model))}" for e in exc.errors()]
        raise SpecError(f"{origin}: invalid import spec\n" + "\n".join(lines)) from None
    spec._origin = origin
    from etl.transforms.steps import check_steps

    module = formats.load(spec.format)
    # an API format's rules (its connection, no transforms); a file format's: its transformation steps
    problems = module.API.check_spec(spec) if module.API else check_steps(spec.transforms, module.FIELDS)
    if problems:
        raise SpecError(f"{origin}: invalid import spec\n" + "\n".join(f"  {p}" for p in problems))
    return spec


class _StrictLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, except that a key given twice in one mapping is an error.

    PyYAML keeps the last of two equal keys silently; in a spec that hides mistakes (a map
    with the same from twice; 1 and true, which Python takes for the same key).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice (first on line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


SPEC_MAX_BYTES = 1 << 20  # a spec is a few lines of YAML; a data file given in its place is refused at once
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".gz", ".zip", ".parquet", ".xlsx")


def load_spec_data(path: Path) -> dict[str, Any]:
    """Read a spec file safely (plain YAML data, no Python objects; a key given twice is an error)."""
    if path.suffix.lower() in DATA_SUFFIXES or (path.is_file() and path.stat().st_size > SPEC_MAX_BYTES):
        raise SpecError(
            f"{path}: this looks like a data file, not an import spec (a small YAML file); to import it, "
            f"give it as a source: etl import --format kevel_orders --source {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader: plain data only)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise SpecError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(f"{path}: {NOT_A_MAPPING}")
    return data


def _options_models() -> list[type[BaseModel]]:
    """Every format's options model (named by its title, e.g. KevelOrdersOptions)."""
    return [formats.load(name).Options for name in formats.REGISTRY]


def _title(model: type[BaseModel]) -> str:
    return model.model_config.get("title") or model.__name__


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file, for editor completion (committed as import-spec.schema.json)."""
    schema = ImportSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Import spec"
    schema["$defs"] = {_title(model): model.model_json_schema() for model in _options_models()}
    properties = schema["properties"]
    source = properties["source"]
    properties["source"] = {
        "description": source["description"],
        "anyOf": [{"type": "string"}, {k: v for k, v in source.items() if k != "description"}],
    }
    properties["options"] = {
        "description": properties["options"]["description"],
        "anyOf": [{"$ref": f"#/$defs/{_title(model)}"} for model in _options_models()],
    }
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
