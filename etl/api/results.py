"""What the Store's calls return: an import's report, a validation and a segment's run, as objects that show
themselves (HTML in Jupyter, text elsewhere) and give their data (`to_dict()`, Polars frames)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etl.display import html, layouts, terminal
from etl.display.page import Page

if TYPE_CHECKING:
    import polars as pl


class _Shown:
    """Shown as its page: `_repr_html_` in Jupyter, the terminal's text for repr() and print()."""

    def _page(self, *, commands: bool) -> Page:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return html.render(self._page(commands=False))

    def __repr__(self) -> str:
        return terminal.text(self._page(commands=False))


class ImportReport(_Shown):
    """An import's report: what was read, stored and rejected, and why.

    Shown as tables in a notebook; `to_dict()` is what `etl report N --json` prints (its keys: etl.pipeline.report).
    The counts are attributes: `report.items == report.valid + report.rejected`.
    """

    def __init__(self, data: dict[str, Any], rejects: Callable[[int], pl.DataFrame] | None = None) -> None:
        self._data = data
        self._rejects = rejects

    @property
    def import_id(self) -> int | None:
        return self._data["import_id"]

    @property
    def status(self) -> str:
        """completed, failed, cancelled or marked_failed."""
        return self._data["status"]

    @property
    def dry_run(self) -> bool:
        return bool(self._data.get("dry_run"))

    @property
    def items(self) -> int | None:
        """Records read (for orders: line rows), None when the run failed before counting."""
        return self._data.get("items")

    @property
    def valid(self) -> int | None:
        return self._data.get("valid")

    @property
    def rejected(self) -> int | None:
        return self._data.get("rejected")

    @property
    def entities(self) -> dict[str, dict[str, int]]:
        """{table: {added, updated, unchanged[, removed]}}."""
        return self._data.get("entities") or {}

    @property
    def files(self) -> list[dict[str, Any]]:
        return self._data.get("files") or []

    @property
    def issues(self) -> list[dict[str, Any]]:
        """The rejects' reasons, grouped: column, hint, count, percent, examples."""
        return self._data.get("issues") or []

    def to_dict(self) -> dict[str, Any]:
        """The report as `etl report N --json` prints it."""
        return self._data

    def rejects(self) -> pl.DataFrame:
        """The rejected rows: source (the file), line, record, reasons [{column, hint, value}], raw (the values as
        read, JSON text)."""
        if self._rejects is None or self.import_id is None:
            from etl.errors import EtlError

            raise EtlError("this report belongs to no import in a store: it has no rejected rows to read")
        return self._rejects(self.import_id)

    def item(self, number: int) -> dict[str, Any]:
        """Item `number` of the report's sample in full (the numbers the sample tables show)."""
        from etl.pipeline.report import sample_item

        return sample_item(self._data, number)

    def _page(self, *, commands: bool) -> Page:
        if "files" not in self._data and "deleted" in self._data:
            return layouts.events_run(self._data, "deleted", commands=commands)
        if "files" not in self._data and "restored" in self._data:
            return layouts.events_run(self._data, "restored", commands=commands)
        return layouts.import_report(self._data, commands=commands)


class ValidationResult(_Shown):
    """The expectation suites' outcome over the store (and, from Store.validate(), the store's invariants)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @property
    def success(self) -> bool:
        """True when no critical expectation failed and no invariant is broken."""
        return bool(self._data["success"]) and not self._data.get("invariants")

    @property
    def data_docs(self) -> str | None:
        """The Data Docs' index.html, when they were built."""
        return self._data.get("data_docs")

    def failures(self) -> pl.DataFrame:
        """The expectations that did not pass: suite, expectation, column, severity, unexpected_count, error."""
        import polars as pl

        keys = ("suite", "expectation", "column", "severity", "unexpected_count", "error")
        rows = [{k: r.get(k) for k in keys} for r in self._data.get("expectations", []) if not r["success"]]
        schema = {"suite": pl.String, "expectation": pl.String, "column": pl.String, "severity": pl.String,
                  "unexpected_count": pl.Int64, "error": pl.String}  # fmt: skip
        return pl.DataFrame(rows, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        """The result as `etl validate --json` prints it."""
        return self._data

    def _page(self, *, commands: bool) -> Page:
        return layouts.validation(self._data)


@dataclass(repr=False)
class SegmentRun(_Shown):
    """A segment's rows (`frame`, a Polars DataFrame) with the parameters it ran with; a default says where it came
    from (e.g. observation_end: the store's last purchase day)."""

    name: str
    frame: pl.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)  # parameter -> where its value came from
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """name, parameters, defaults, rows (a list of dicts), duration_s."""
        return {"name": self.name, "parameters": self.parameters, "defaults": self.defaults,
                "rows": self.frame.to_dicts(), "duration_s": self.duration_s}  # fmt: skip

    def __len__(self) -> int:
        return self.frame.height

    def _page(self, *, commands: bool) -> Page:
        return layouts.segment_run(self.name, self.parameters, self.defaults, self.frame, self.duration_s,
                                   commands=commands)  # fmt: skip
