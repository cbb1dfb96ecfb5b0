"""The ids every format reads (users' ids, orders' buyers, events' people): what a valid one of each default type
looks like, and the one rule that normalises them, so that an id given identically through any format is one
person.

The rule (`normalised`), as eSputnik's v1/event states it ("All values, except for the email address, are mapped
including the register"):

- every value is trimmed;
- an email is lowercased (email providers ignore the case), and so is an email_sha256 (hex digits: the case means
  nothing);
- every other value (external_id, phone, a named type) keeps its case: CRM ids such as Salesforce's
  `001A000001abcDE` and `001A000001ABCde` are two people.

A source known to fold case may say so: the option `fold_id_case` (every format has it, off by default; FOLD_ID_CASE
describes it) lowercases every value.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SHA256_HEX = r"^[0-9a-f]{64}$"
PHONE = r"^\+?[0-9][0-9 ().\-]{4,22}[0-9]$"

CASE_FREE = ("email", "email_sha256")  # the id types whose case means nothing: lowercased
FOLD_ID_CASE_HELP = (
    "Lowercase every id value, not only emails (for a source that folds case itself): by default ids other than "
    "emails keep their case, so Cust-42 and cust-42 are two people."
)


def fold_id_case_option():
    """The `fold_id_case` option, one definition for every format's Options: `fold_id_case: bool = ...`."""
    return Field(False, description=FOLD_ID_CASE_HELP)


def normalised(value: pl.Expr, id_type: str | pl.Expr, *, fold_case: bool = False) -> pl.Expr:
    """The id `value` (text) of `id_type` (a type's name, or an expression giving each row's) under the rule above:
    trimmed, lowercased when an email or email_sha256 (or with `fold_case`), else kept in its case."""
    trimmed = value.str.strip_chars()
    if fold_case:
        return trimmed.str.to_lowercase()
    if isinstance(id_type, str):
        return trimmed.str.to_lowercase() if id_type in CASE_FREE else trimmed
    return pl.when(id_type.is_in(CASE_FREE)).then(trimmed.str.to_lowercase()).otherwise(trimmed)
