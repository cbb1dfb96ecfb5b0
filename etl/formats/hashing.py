"""The salt of a format's record hash: what, beside the record as read, decides what the record stores.

A record's hash (rows.record_hash, rows.run_hashes) is stored with what it made, and the same record read again
is known by it (etl.pipeline.known). So the salt names everything that changes what a record makes: the hash's
version (a format's HASH_VERSION, changed when what it makes of the same record changes), the format, its
options, the reader and the fields. Its bytes are the stored hashes' validity: tests/test_hash_salts.py pins them.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from pydantic import BaseModel


def salt(
    version: str,
    format_name: str,
    options: BaseModel | Sequence[str],
    *,
    reader: str | None = None,
    header: Sequence[str] = (),
    polars: bool = True,
) -> str:
    """`version|polars <version>|format|options|reader|field|field ...`, the parts joined by `|`.

    `options`: the options model (as its JSON), or the values of it that decide what a record makes (E-goi's: the
    account and the list; its other options are the connection's). `reader`: given by the formats whose salts
    name it (a record read by another reader may make other rows). `polars`: the Polars version, named by the
    order, product and event formats (the order rows' hash is Polars' own row hash, which may change between
    versions); the users formats never named it, and their stored hashes must stay valid."""
    parts = [version]
    if polars:
        parts.append(f"polars {pl.__version__}")
    parts.append(format_name)
    parts += [options.model_dump_json()] if isinstance(options, BaseModel) else list(options)
    if reader is not None:
        parts.append(reader)
    return "|".join([*parts, *header])
