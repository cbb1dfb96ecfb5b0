"""The Great Expectations suites: found, read strictly and checked before any run.

The default suites ship inside the package (etl/quality/expectations/, BUNDLED), so that an installed `etl`
(pip, pipx, uv tool) has them; a user's own folder replaces them as a whole (default_dir).

One suite per stored entity, in a file named after it (orders.json checks the orders table).
The files are GE 1.x suite JSON. Reading them here, rather than leaving it to GE, buys what GE
does not do: a key given twice, an unknown key and a column the table does not have are errors
naming the file, the key path and what was expected. An expectation type neither the gate
(etl.quality.gate.kinds) nor GE knows is refused too (GE logs and drops it, so the suite would
silently check less); that check needs GE, so it runs only for the types the gate does not know
(etl.quality.validate.load_suites).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from etl.errors import EtlError
from etl.names import nearest
from etl.spec import _key_path

# The stored entities a suite can check, and the column that tells which rows an import wrote.
ENTITIES: dict[str, str] = {
    "orders": "last_import_id",
    "line_items": "last_import_id",
    "events": "import_id",
    "customers": "last_import_id",
    "identities": "first_import_id",
    "products": "last_import_id",
    "event_items": "import_id",
}

# kwargs that name columns of the checked table
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)


class SuiteError(EtlError):
    """A suite file is invalid."""


class ExpectationEntry(BaseModel):
    """One expectation as GE 1.x writes it in a suite file."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The expectation type, e.g. expect_column_values_to_not_be_null.")
    kwargs: dict[str, Any] = Field(default_factory=dict)
    severity: Literal["critical", "warning", "info"] = Field(
        "critical", description="critical stops an import; warning and info are reported only."
    )
    meta: dict[str, Any] = Field(default_factory=dict)
    notes: str | list[str] | None = None
    description: str | None = None
    id: str | None = None
    rendered_content: list[Any] | None = None


class SuiteFile(BaseModel):
    """A GE 1.x expectation suite file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    expectations: list[ExpectationEntry]
    meta: dict[str, Any] = Field(default_factory=dict)
    notes: str | list[str] | None = None
    id: str | None = None


# The default suites, in the package (the wheel holds them; the checkout has no other copy).
BUNDLED = Path(__file__).with_name("expectations")


def default_dir() -> Path:
    """The suites an import or `etl validate` checks when --expectations is not given: $ETL_EXPECTATIONS; else
    ./expectations when it exists (a user's own suites, beside their specs); else the bundled ones (BUNDLED).
    A user's folder replaces the bundled suites as a whole: an entity without a suite file in it is not checked."""
    if os.environ.get("ETL_EXPECTATIONS"):
        return Path(os.environ["ETL_EXPECTATIONS"])
    here = Path("expectations")
    if here.is_dir():
        return here
    return BUNDLED


def _read_json(path: Path) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise SuiteError(f"{path}: the key {key!r} is given twice in one object")
            seen[key] = value
        return seen

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read the suite: {exc}") from None
    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


def _model_errors(path: Path, exc: ValidationError) -> SuiteError:
    lines = []
    for error in exc.errors():
        where = _key_path(error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            lines.append(f"  {where}: unknown key")
        elif error["type"] == "missing":
            lines.append(f"  {where}: required key is missing")
        else:
            lines.append(f"  {where}: {error['msg']} (got {json.dumps(error.get('input'), default=str)[:80]})")
    return SuiteError(f"{path}: invalid expectation suite\n" + "\n".join(lines))


@dataclass
class SuiteText:
    """A suite file read and checked without Great Expectations (fast: no GE import)."""

    entity: str
    path: Path
    model: SuiteFile


def read(folder: Path, columns: dict[str, list[str]], only: str | None = None) -> list[SuiteText]:
    """Every suite file in `folder` (or only the one for entity `only`), checked against the
    store's `columns` {table: [column, ...]}: JSON, keys, names of entities and columns.
    Raises SuiteError listing every problem of a file."""
    if not folder.is_dir():
        raise SuiteError(f"{folder}: no such folder of expectation suites (give another with --expectations)")
    paths = sorted(folder.glob("*.json"))
    for path in paths:
        if path.stem not in ENTITIES:
            raise SuiteError(
                f"{path}: no stored entity is named {path.stem!r}; a suite file is named after the table it "
                f"checks: {', '.join(f'{e}.json' for e in ENTITIES)}"
            )
    if only is not None:
        if only not in ENTITIES:
            near = nearest(only, list(ENTITIES))
            raise SuiteError(f"no stored entity is named {only!r}" + (f" (did you mean {near!r}?)" if near else ""))
        paths = [p for p in paths if p.stem == only]
        if not paths:
            raise SuiteError(f"{folder}: there is no suite for {only} ({only}.json)")
    return [_read_one(path, columns[path.stem]) for path in paths]


def _read_one(path: Path, table_columns: list[str]) -> SuiteText:
    data = _read_json(path)
    try:
        model = SuiteFile.model_validate(data)
    except ValidationError as exc:
        raise _model_errors(path, exc) from None
    problems = []
    if model.name != path.stem:
        problems.append(f"  name: expected {path.stem!r}, the file's name (a suite checks the table it is named after)")
    for index, entry in enumerate(model.expectations):
        problems += [
            f"  expectations[{index}].kwargs.{key}: {p}" for key, p in _column_problems(entry.kwargs, table_columns)
        ]
    if problems:
        raise SuiteError(f"{path}: invalid expectation suite\n" + "\n".join(problems))
    return SuiteText(entity=path.stem, path=path, model=model)


def _column_problems(kwargs: dict[str, Any], table_columns: list[str]) -> list[tuple[str, str]]:
    named = [(key, kwargs[key]) for key in _COLUMN_KWARGS if isinstance(kwargs.get(key), str)]
    for key in _COLUMN_LIST_KWARGS:
        if isinstance(kwargs.get(key), list):
            named += [(f"{key}[{i}]", c) for i, c in enumerate(kwargs[key]) if isinstance(c, str)]
    problems = []
    for key, column in named:
        if column not in table_columns:
            near = nearest(column, table_columns)
            hint = f" (did you mean {near!r}?)" if near else ""
            problems.append((key, f"the table has no column {column!r}{hint}"))
    return problems
