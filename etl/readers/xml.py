"""XML product feeds (RSS 2.0 or Atom 1.0 with Google's g: namespace) -> one JSON object per item.

`to_records(source, path)` reads the file streaming (lxml's iterparse: each <item> or <entry> is turned into
a JSON object and then dropped, so memory stays flat however big the feed) and writes a Parquet file of
`_line` (the item's first line in the XML), `_row` (its number, from 0) and `raw` (the object's JSON text):
what the JSON lines path stages, so the XML items are typed, checked, hashed and rejected as JSON lines are,
each reject naming its XML line.

An item's children become fields (see etl.formats.google_merchant for which name each gets): a text, a list
when the element is repeated, an object when it has children of its own.

Safety: a document type that declares entities (<!ENTITY ...>) is refused before anything is parsed, and the
parser loads no DTD, resolves no external entity and opens no network address (no billion laughs, no XXE): an
entity other than XML's own five (&amp; ...) is undefined, and fails the import as malformed XML. Malformed XML
fails the import with the parser's message, line and column.

Speed: this is the one reader with a Python step per record (an XML tree is not something Polars or DuckDB
reads); lxml parses in C and the step builds one dict per item (docs/performance.md, for its throughput).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from lxml import etree

from etl.errors import InputError
from etl.sources import files as sources

GOOGLE = "http://base.google.com/ns/1.0"
ATOM = "http://www.w3.org/2005/Atom"
ITEMS = ("item", f"{{{ATOM}}}entry")  # RSS's items (no namespace) and Atom's entries
# RSS's and Atom's own elements that are Google fields under another name
_OWN = {"summary": "description", "content": "description"}
BATCH = 10_000  # items per Parquet row group: a few MB, whatever the feed's size
PROLOG_BYTES = 1 << 20  # where a document type declaration can be: before the root element
SCHEMA = pa.schema([("_line", pa.uint32()), ("_row", pa.uint32()), ("raw", pa.string())])


def _refuse_entities(source: sources.SourceFile) -> None:
    """A DOCTYPE declaring entities is refused, naming its line: no feed needs one, and expanding them is how
    billion laughs and XXE attacks work. The prolog (all before the root element) is read whole for it."""
    prolog = b""
    with open(source.path, "rb") as handle:
        while chunk := handle.read(PROLOG_BYTES):
            prolog += chunk
            root = re.search(rb"<(?![?!])", prolog)  # the first element's start: the prolog ends there
            if root:
                prolog = prolog[: root.start()]
                break
    found = re.search(rb"<!ENTITY", prolog)
    if found:
        line = prolog[: found.start()].count(b"\n") + 1
        raise InputError(
            f"{source.uri}: line {line}: the feed declares entities (<!ENTITY ...>), which are refused: "
            "expanding them could exhaust memory or read other files (an XML feed needs none)"
        )


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return None, tag


def _value(element):
    """An element's value: its text (trimmed), an Atom link's href, or an object of its children."""
    if len(element):
        out: dict = {}
        for child in element:
            if not isinstance(child.tag, str):  # a comment or a processing instruction
                continue
            _add(out, _split(child.tag)[1], _value(child))
        return out
    text = (element.text or "").strip()
    if not text and element.get("href") is not None:  # Atom's <link href="..."/>
        return element.get("href")
    return text


def _add(fields: dict, name: str, value) -> None:
    if name not in fields:
        fields[name] = value
    elif isinstance(fields[name], list):  # repeated: a list, in the document's order (a value is never one)
        fields[name].append(value)
    else:
        fields[name] = [fields[name], value]


def _item(element, uri: str) -> dict:
    fields: dict = {}
    foreign: dict = {}  # local name -> the first element of that name in another namespace
    for child in element:
        if not isinstance(child.tag, str):
            continue
        namespace, local = _split(child.tag)
        if namespace == GOOGLE:
            name = local
        elif namespace in (None, ATOM):
            name = _OWN.get(local, local)
            if name == "id":  # Atom's entry id (a URI) is not the product's id (g:id)
                name = "atom:id" if namespace == ATOM else "rss:id"
            if name == "description" and "description" in fields and local == "content":
                continue  # Atom: summary, else content
        elif child.prefix == "g":  # g: bound to another namespace: Google's fields would all be lost
            raise InputError(
                f"{uri}: line {child.sourceline}: the prefix g: is bound to {namespace!r}, not Google's "
                f'namespace {GOOGLE!r}: declare xmlns:g="{GOOGLE}" on the feed\'s root'
            )
        else:
            name = f"{child.prefix}:{local}" if child.prefix else local
            foreign.setdefault(local, child)
        _add(fields, name, _value(child))
    if "id" not in fields and "id" in foreign:  # Google's fields under another namespace: all would be lost
        child = foreign["id"]
        raise InputError(
            f"{uri}: line {child.sourceline}: the item's id is <{child.prefix}:id> in namespace "
            f'{_split(child.tag)[0]!r}, not Google\'s {GOOGLE!r}: declare xmlns:g="{GOOGLE}" and write <g:id>'
        )
    return fields


def to_records(source: sources.SourceFile, path: Path) -> Path:
    """The feed's items as JSON objects in a Parquet file at `path` (see the module's docstring)."""
    _refuse_entities(source)
    options = {
        "resolve_entities": "internal", "no_network": True, "load_dtd": False, "huge_tree": True,
        "remove_comments": True, "encoding": "utf-8",  # the sources hand over UTF-8 whatever it was
    }  # fmt: skip
    lines: list[int] = []
    raws: list[str] = []
    count = 0
    with pq.ParquetWriter(path, SCHEMA, compression="lz4") as writer:
        try:
            _, root = next(etree.iterparse(str(source.path), events=("start",), **options))  # its first element
            _check_root(root, source.uri)
            # the items' ends alone reach Python (lxml filters the tags): its one step per record
            for _, element in etree.iterparse(str(source.path), events=("end",), tag=ITEMS, **options):
                lines.append(element.sourceline or 0)
                raws.append(json.dumps(_item(element, source.uri), ensure_ascii=False, separators=(",", ":")))
                element.clear(keep_tail=False)
                parent = element.getparent()
                while element.getprevious() is not None:  # the items read before: gone, memory stays flat
                    del parent[0]
                if len(raws) >= BATCH:
                    count = _write(writer, lines, raws, count)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (exc.lineno, 0)
            raise InputError(
                f"{source.uri}: line {line}, column {column}: malformed XML: {exc.msg.split(' (', 1)[0]}"
            ) from None
        except StopIteration:  # no element at all
            raise InputError(f"{source.uri}: line 1: no XML element: expected an RSS 2.0 or Atom feed") from None
        _write(writer, lines, raws, count)
    return path


def _check_root(element, uri: str) -> None:
    namespace, local = _split(element.tag)
    if (namespace, local) not in ((None, "rss"), (ATOM, "feed")):
        raise InputError(
            f"{uri}: line {element.sourceline}: the root element is <{element.tag}>, expected an RSS 2.0 "
            f'feed (<rss>) or an Atom feed (<feed xmlns="{ATOM}">)'
        )


def _write(writer: pq.ParquetWriter, lines: list[int], raws: list[str], count: int) -> int:
    rows = pa.table({"_line": lines, "_row": range(count, count + len(raws)), "raw": raws}, schema=SCHEMA)
    writer.write_table(rows)
    done = count + len(raws)
    lines.clear()
    raws.clear()
    return done
