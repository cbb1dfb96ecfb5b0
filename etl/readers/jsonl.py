"""JSON lines: one JSON object per line, streamed by Polars.

`scan(path)` gives one row per line of the file: `_line` (1-based), `raw` (the line as read, without its
line break), `value` (the object, minified, in its key order) and `reason` (why the line is rejected).
A line is one of:

- a record: `value` set, `reason` null;
- blank (only whitespace): both null; skipped and counted, as CSV's blank lines are;
- rejected, with `reason`: not valid JSON (`with_parser_messages` adds the parser's message and column to
  the rejected lines, once they are collected: they are few), not an object
  ("not an object (an array)"), or an object in which a key is given twice, at any depth (which value
  was meant is ambiguous, so neither is taken).

Parsing is strict (serde_json through Polars' `json_path_match`): no trailing commas, no NaN or Infinity,
no lone surrogates, no comments.
Duplicate keys are found by counting the keys of the line (a string followed by a colon: only keys are)
against those of the parsed object, where a repeated key is kept once (for the lines where a literal count of
`":` differs, or that hold a \\u escape: the others cannot have one). A byte-order mark at the start
of the file is dropped. A file that is not valid UTF-8 is not read at all (the sources name its line).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from etl.errors import InputError
from etl.sources import files as sources

_KEY = r'"(?:[^"\\]|\\.)*"\s*:'  # a JSON string followed by a colon: a key (a value string is not)
NOT_JSON = "not valid JSON"
DUPLICATE_KEY = "a key is given twice in one object"  # then named, for the rejected lines (`duplicate_message`)
_AMBIGUOUS = " (which value was meant is ambiguous)"
# a JSON string (skipped whole: NaN inside one is text) or a constant JSON lacks, where it is written
_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?(?:NaN|Infinity))')
_KINDS = {"[": "an array", '"': "a string", "t": "a boolean", "f": "a boolean", "n": "null"}


def scan(path: Path | str) -> pl.LazyFrame:
    """The file's lines as records, blanks and rejects (see the module's docstring)."""
    return parse(lines(path))


def lines(path: Path | str) -> pl.LazyFrame:
    """The file's lines as read: `_line` (1-based) and `raw` (without its line break, nor a leading byte-order
    mark), not parsed yet (`parse` does that): what a record's hash is made of."""
    scanned = pl.scan_lines(path, name="raw", row_index_name="_line", row_index_offset=1)
    text = pl.col("raw").str.strip_chars_end("\r")
    text = pl.when(pl.col("_line") == 1).then(text.str.strip_chars_start("\ufeff")).otherwise(text)
    return scanned.with_columns(raw=text)


def parse(lines: pl.LazyFrame) -> pl.LazyFrame:
    """`lines`' rows with `value` and `reason` (see the module's docstring); other columns are kept."""
    text = pl.col("raw")
    names = [n for n in lines.collect_schema().names() if n not in ("value", "reason")]
    # the parse first, a column of its own: each expression below that reads it would parse the line again
    lines = lines.with_columns(_parsed=text.str.json_path_match("$"), _stripped=text.str.strip_chars())
    parsed, stripped = pl.col("_parsed"), pl.col("_stripped")
    is_object = stripped.str.starts_with("{")
    blank = stripped == ""
    # A key given twice leaves the parsed object with fewer `":` than the line. Counted literally first (a fifth
    # of the regex's cost): only a line whose counts differ, with a space before a colon, or with a \u escape
    # (which the parser may turn into a `"` inside a string) is counted by the regex, which tells keys from
    # strings; in any other line every key is followed by `":` and a string holds `":` only as `\":`, kept.
    suspect = (
        text.str.contains("\\u", literal=True)
        | text.str.contains(r"\s:")  # a key written `"a" :`, whose `":` the line lacks
        | (text.str.count_matches('":', literal=True) != parsed.str.count_matches('":', literal=True))
    )
    duplicated = pl.when(suspect).then(text).str.count_matches(_KEY) > pl.when(suspect).then(parsed).str.count_matches(
        _KEY
    )
    other = pl.when(~is_object & ~blank).then(stripped)  # what a line that is not an object holds (few lines)
    reason = (
        pl.when(blank)
        .then(None)
        .when(parsed.is_null() & (stripped != "null"))  # the JSON null is valid, and matches as null
        .then(pl.lit(NOT_JSON))
        .when(~is_object)
        .then(pl.lit("not an object (") + _kind(other) + ")")
        .when(duplicated)
        .then(pl.lit(DUPLICATE_KEY))
    )
    return (
        lines.with_columns(reason=reason)
        .with_columns(value=pl.when(pl.col("reason").is_null() & ~blank).then(parsed))
        .select(*names, "value", "reason")
    )


def collect(source: sources.SourceFile) -> pl.DataFrame:
    """`scan` of an opened source, collected, the rejected lines with the parser's messages. A file that is not
    valid UTF-8 raises the sources' error naming its line and column."""
    try:
        lines = scan(source.path).collect()
    except pl.exceptions.ComputeError as exc:
        if "utf8" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise
        raise sources.locate_invalid_utf8(source) or InputError(f"{source.uri}: not valid UTF-8") from None
    rejected = pl.col("reason").is_not_null()
    return pl.concat([lines.filter(~rejected), with_parser_messages(lines.filter(rejected))]).sort("_line")


def with_parser_messages(rejected: pl.DataFrame) -> pl.DataFrame:
    """The rejected lines (rows of `scan` with a reason), each that is not valid JSON with the parser's message:
    what was expected and at which column, and each with a key given twice naming the key. Python's json makes
    them, for these lines only."""
    for reason, message_of in ((NOT_JSON, parser_message), (DUPLICATE_KEY, duplicate_message)):
        found = (rejected["reason"] == reason).arg_true()
        if not found.is_empty():
            messages = [message_of(line) for line in rejected["raw"].gather(found).to_list()]
            rejected = rejected.with_columns(reason=rejected["reason"].scatter(found, messages))
    return rejected


def duplicate_message(line: str) -> str:
    """The reason of a line with a key given twice, naming the key (the first repeated, innermost first)."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in items]
        repeated.extend(key for index, key in enumerate(keys) if key in keys[:index])
        return dict(items)

    try:
        json.loads(line, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        pass
    named = f": {json.dumps(repeated[0], ensure_ascii=False)}" if repeated else ""
    return f"{DUPLICATE_KEY}{named}{_AMBIGUOUS}"


def constant_at(text: str) -> tuple[int, str] | None:
    """Where the first NaN, Infinity or -Infinity outside a string is in a JSON text (0-based), and which."""
    for match in _CONSTANT.finditer(text):
        if match.group(1):
            return match.start(1), match.group(1)
    return None


def constant_message(constant: str) -> str:
    return f"{constant} is not a JSON number (JSON has no NaN nor Infinity: expected a number, or null)"


def _kind(stripped: pl.Expr) -> pl.Expr:
    first = stripped.str.slice(0, 1)
    return first.replace_strict(_KINDS, default="a number", return_dtype=pl.String)


def parser_message(line: str) -> str:
    """Python's json's message for a line serde_json refused: what was expected and at which column."""

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(line, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} at column {exc.colno}"
    except ValueError as exc:  # NaN, Infinity: found where they are written
        found = constant_at(line)
        column = f" at column {found[0] + 1}" if found else ""
        return f"not valid JSON: {constant_message(str(exc))}{column}"
    except RecursionError:
        return "not valid JSON: nested too deeply"
    return "not valid JSON (nested more than 128 levels deep, or a lone surrogate in a string)"
