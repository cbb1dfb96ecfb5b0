"""The steps of a spec's `transforms:` list, and the mistakes found when the spec loads.

Steps (Kevel Audience's "Data Transformation", written in YAML):

    - rename: {from: order_ref, to: orderId}          # the from field disappears
    - copy: {from: email, to: userId, lowercase: true, trim: true}
    - new: {field: userIdType, value: email}          # the same value on every record
    - delete: {field: internal_note}

rename and copy take value transformations, applied in this order: trim, lowercase, map,
then timestamp or cast, then sha256 (see etl.transforms.compile for what each does). With
from == to they change the field in place (`rename: {from: orders, to: orders, cast: integer}`).

Checked when the spec loads, before any data is read (`check_steps`): a step reading a
field that an earlier step removed; a step writing a field that an earlier step wrote and
nothing read since (the first write would be lost); a field written that the format does
not know and no later step reads (it would be ignored); a required column of the format
deleted and not written again; options that contradict each other; map keys that can never
match (a number on text input); timestamp patterns the parser cannot use. Checked when a
file's header is known, before its rows are read (`fields_after`): every field a step reads
is there, and no step overwrites a column of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from etl.names import nearest
from etl.transforms.cast import CastType
from etl.transforms.timestamp import PatternError, TimestampPattern

Scalar = str | int | float | bool | None
STEP_KINDS = ("rename", "copy", "new", "delete")


def scalar_text(value: Scalar) -> str | None:
    """How a YAML scalar is written into a text record: 0 -> "0", true -> "true", null stays null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _yaml_repr(value: Scalar) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else scalar_text(value) or ""


class ValueTransforms(BaseModel):
    """What happens to each value on its way from one field to the other."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    trim: bool = Field(False, description="Remove surrounding whitespace.")
    lowercase: bool = Field(False, description="Lower-case the value.")
    map: list[tuple[Scalar, Scalar]] | None = Field(
        None,
        description="Replace values: {from: to, ...}, or a list of {from: ..., to: ...}. Matching is "
        "type-sensitive; a value matching no from is kept.",
    )
    timestamp: str | None = Field(
        None,
        description="A DateTime pattern (yyyy/MM/dd HH:mm ...); the value becomes ISO-8601 UTC text.",
    )
    cast: CastType | None = Field(None, description="string, integer, float or bool.")
    sha256: bool = Field(False, description="The hex sha256 of the lower-cased, trimmed value (for ids).")

    @field_validator("map", mode="before")
    @classmethod
    def _map_pairs(cls, value: Any) -> Any:
        """{from: to} or [{from: .., to: ..}] -> [(from, to)]; a from given twice is an error."""
        if value is None:
            return None
        if isinstance(value, dict):
            pairs = list(value.items())
        elif isinstance(value, list):
            pairs = []
            for index, entry in enumerate(value):
                if not (isinstance(entry, dict) and set(entry) == {"from", "to"}):
                    raise ValueError(f"entry {index}: expected {{from: ..., to: ...}}, got {entry!r}")
                pairs.append((entry["from"], entry["to"]))
        else:
            raise ValueError("expected a mapping {from: to, ...} or a list of {from: ..., to: ...}")
        seen: set[tuple[type, Scalar]] = set()
        for key, target in pairs:
            for part in (key, target):
                if isinstance(part, dict | list):
                    raise ValueError(f"map values must be text, numbers, booleans or null, got {part!r}")
            if (type(key), key) in seen:
                raise ValueError(f"the from value {_yaml_repr(key)} is given twice")
            seen.add((type(key), key))
        if not pairs:
            raise ValueError("an empty map changes nothing: give at least one from -> to")
        if (str, "") in seen and (type(None), None) in seen:
            raise ValueError('"" and null are both given as from: both stand for the empty field, give one')
        return pairs

    @field_validator("timestamp")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                TimestampPattern.compile(value)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _one_type(self) -> ValueTransforms:
        """timestamp, cast and sha256 each decide what the value becomes: one at most."""
        deciding = [
            name
            for name, given in (
                ("timestamp", self.timestamp is not None),
                ("cast", self.cast not in (None, "string")),
                ("sha256", self.sha256),
            )
            if given
        ]
        if len(deciding) > 1:
            raise ValueError(f"{' and '.join(deciding)} cannot be combined: each decides what the value becomes")
        return self

    def describe(self) -> str:
        parts = [name for name in ("trim", "lowercase") if getattr(self, name)]
        if self.map:
            parts.append("map")
        if self.timestamp is not None:
            parts.append(f'timestamp "{self.timestamp}"')
        if self.cast is not None:
            parts.append(f"cast {self.cast}")
        if self.sha256:
            parts.append("sha256")
        return ", ".join(parts)


class FieldMove(ValueTransforms):
    source: str = Field(alias="from", min_length=1, description="The field read.")
    to: str = Field(min_length=1, description="The field written.")

    @model_validator(mode="after")
    def _different(self) -> FieldMove:
        """from == to changes the field in place (a cast of `orders` itself): refused only when nothing changes."""
        if self.source == self.to and not self.describe():
            raise ValueError(
                f"from and to are both {self.source!r} and no value transformation is given: nothing to do "
                "(to change the values in place, give one: cast, map, trim ...)"
            )
        return self

    @property
    def in_place(self) -> bool:
        return self.source == self.to


class NewField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, description="The field added to every record.")
    value: Scalar = Field(description="Its value on every record.")


class DeleteField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, description="The field removed.")


class RenameStep(BaseModel):
    """Rename a field (the old name disappears), transforming its values on the way."""

    model_config = ConfigDict(extra="forbid")
    rename: FieldMove


class CopyStep(BaseModel):
    """Copy a field to another (the original stays), transforming the copy's values."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    copy_: FieldMove = Field(alias="copy")


class NewStep(BaseModel):
    """Add a field with one value for every record."""

    model_config = ConfigDict(extra="forbid")
    new: NewField


class DeleteStep(BaseModel):
    """Remove a field."""

    model_config = ConfigDict(extra="forbid")
    delete: DeleteField


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kinds = [k for k in STEP_KINDS if k in value]
        return kinds[0] if len(kinds) == 1 else None
    return None


Step = Annotated[
    Annotated[RenameStep, Tag("rename")]
    | Annotated[CopyStep, Tag("copy")]
    | Annotated[NewStep, Tag("new")]
    | Annotated[DeleteStep, Tag("delete")],
    Discriminator(
        _step_kind,
        custom_error_type="transform_step",
        custom_error_message="expected one step: a mapping with exactly one of rename, copy, new, delete",
    ),
]


# --- what a step reads and writes ---------------------------------------------


@dataclass(frozen=True)
class StepView:
    """A step reduced to what the checks need: its position, what it reads, writes and removes."""

    index: int
    kind: str
    reads: str | None
    writes: str | None
    removes: str | None
    move: FieldMove | None
    value: Scalar = None

    @property
    def label(self) -> str:
        """transforms[3] (rename created -> createdAt, timestamp "yyyy/MM/dd HH:mm")"""
        if self.move is not None:
            options = self.move.describe()
            what = f"{self.kind} {self.move.source} -> {self.move.to}" + (f", {options}" if options else "")
        elif self.kind == "new":
            what = f"new {self.writes} = {_yaml_repr(self.value)}"
        else:
            what = f"delete {self.removes}"
        return f"transforms[{self.index}] ({what})"


def views(steps: list[Any]) -> list[StepView]:
    result = []
    for index, step in enumerate(steps):
        if isinstance(step, RenameStep):
            m = step.rename
            result.append(StepView(index, "rename", m.source, m.to, None if m.in_place else m.source, m))
        elif isinstance(step, CopyStep):
            m = step.copy_
            result.append(StepView(index, "copy", m.source, m.to, None, m))
        elif isinstance(step, NewStep):
            result.append(StepView(index, "new", None, step.new.field, None, None, step.new.value))
        else:
            result.append(StepView(index, "delete", None, None, step.delete.field, None))
    return result


@dataclass(frozen=True)
class FormatFields:
    """What a format tells the checks about its input."""

    name: str
    knows: Callable[[str], bool]  # a field the format reads (or keeps, like custom_<name>)
    required: list[str]
    known: list[str]  # for "did you mean"
    text_input: bool  # every value arrives as text (CSV)


def check_steps(steps: list[Any], fmt: FormatFields) -> list[str]:
    """The mistakes that can be seen without data, one message each (empty: none)."""
    problems: list[str] = []
    step_views = views(steps)
    removed_by: dict[str, StepView] = {}  # field -> the step that removed it, while it stays removed
    unread_write: dict[str, StepView] = {}  # field -> the step that wrote it, until something reads it
    for view in step_views:
        if view.move is not None and view.move.map and fmt.text_input:
            for key, _ in view.move.map:
                if key is not None and not isinstance(key, str):
                    problems.append(
                        f"{view.label}: map key {_yaml_repr(key)} is a {type(key).__name__}, but {fmt.name} "
                        f"reads text, so it never matches: quote it ('{scalar_text(key)}')"
                    )
        touched = [f for f in (view.reads, view.removes) if f]
        for field in touched:
            if field in removed_by:
                gone = removed_by[field]
                how = "renamed it" if gone.kind == "rename" else "deleted it"
                problems.append(f"{view.label}: reads {field!r}, but {gone.label} {how}")
            unread_write.pop(field, None)
        if view.removes:
            removed_by[view.removes] = view
        if view.writes:
            earlier = unread_write.get(view.writes)
            if earlier is not None:
                problems.append(
                    f"{view.label}: writes {view.writes!r}, which {earlier.label} wrote and nothing read since: "
                    "one of the two steps is a mistake"
                )
            removed_by.pop(view.writes, None)
            unread_write[view.writes] = view
    for field, view in unread_write.items():
        if not fmt.knows(field):
            close = nearest(field, fmt.known)
            hint = f" (did you mean {close!r}?)" if close else ""
            problems.append(f"{view.label}: {fmt.name} has no field {field!r}{hint}; the value would be ignored")
    for field, view in removed_by.items():
        if field in fmt.required:
            problems.append(
                f"{view.label}: removes {field!r}, a required column of {fmt.name}, and no later step writes it"
            )
    return problems


def fields_after(steps: list[Any], header: list[str]) -> tuple[list[str], list[str]]:
    """The record's fields after the steps, and the mistakes this header shows (empty: none)."""
    fields = list(header)
    problems = []
    for view in views(steps):
        for field in (view.reads, view.removes):
            if field and field not in fields:
                near = nearest(field, fields)
                hint = f" (did you mean {near!r}?)" if near else ""
                problems.append(f"{view.label}: there is no field {field!r} here{hint}")
        in_place = view.move is not None and view.move.in_place
        if view.writes and view.writes in fields and not in_place:
            problems.append(
                f"{view.label}: {view.writes!r} is already a field here and would be overwritten; "
                f"if that is meant, delete it first (- delete: {{field: {view.writes}}})"
            )
        if view.removes and view.removes in fields:
            fields.remove(view.removes)
        if view.writes and view.writes not in fields:
            fields.append(view.writes)
    return fields, problems
