"""E-goi Contacts, Kevel Audience's third-party user source: one E-goi list (or one segment of it) from E-goi's API
v3 into people, as the specification's "E-goi Attribute Mapping" maps a contact:

- contact_id -> the id type `egoi_contact_id` (kept as given, trimmed);
- email -> `email_sha256`: lowercased, trimmed and hashed; the plain email is not stored. The identity graph
  takes an email and its sha256 for one id, so the contact joins the customer another import knows by the
  plain email, whichever came first (etl/entities/identity/email_hashes.sql);
- status, consent, email_status, cellphone_status, phone_status -> the attributes
  egoi.account<ACCOUNT-ID>.list<LIST-ID>.status, .consent, .emailStatus, .cellphoneStatus, .phoneStatus, the
  account id read from the key (GET /my-account). A channel's status is set when the contact has that channel
  (an email, a cellphone, a phone) and removed when it has not; a field E-goi does not give is removed too,
  so the attributes say what E-goi says now. Other attributes of the person are untouched (merge).

A contact without contact_id and without email, or with an email that is not one, is rejected with the reason.
The source is the API, not a file: etl.sources.egoi_api reads the pages into a JSON lines file of the import's, one
contact a line in the list's order, each only the fields read here (a reject's raw record keeps the contact_id and
the email as typed, to find and fix the contact in E-goi, and the statuses; no names, numbers, extra fields or
tags), and from there the import runs as for any users file (the line of a reject
is the contact's place in the list). The specification allows no transformations on this source, so a spec
with `transforms:` is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from etl.errors import SpecError
from etl.formats import ApiSource
from etl.formats.columns import CUSTOMER_STAGED
from etl.formats.hashing import salt
from etl.formats.ids import EMAIL, normalised
from etl.formats.plan import CustomersFacts, Plan
from etl.formats.rows import Check
from etl.sources import egoi_api
from etl.transforms.steps import FormatFields

NAME = "egoi_contacts"
ENTITY = "customers"
READERS = ("jsonl",)  # of the file etl.sources.egoi_api writes
SUMMARY = "E-goi Contacts (API v3): a list's or segment's contacts, their ids and statuses, as Kevel maps them"
BASE_URL = egoi_api.BASE_URL  # the source when the spec gives none
ALLOWS_TRANSFORMS = False  # "the user import from this type of Source does not allow you to specify any"
CONNECTION_KEYS = ("api_key", "proxy")
HASH_VERSION = "egoi-contacts-1"
ID_TYPES = ("egoi_contact_id", "email_sha256")
# E-goi's contact field -> the attribute's last part (the specification's table)
ATTRIBUTES = {
    "status": "status",
    "consent": "consent",
    "email_status": "emailStatus",
    "cellphone_status": "cellphoneStatus",
    "phone_status": "phoneStatus",
}
# a channel's status -> the field that says the contact has the channel (etl.sources.egoi_api writes has_<channel>: the
# numbers themselves are not read, so not kept)
CHANNELS = {"email_status": "email", "cellphone_status": "has_cellphone", "phone_status": "has_phone"}


class Options(BaseModel):
    """Options of the `egoi_contacts` format (the API key goes under connection: api_key)."""

    model_config = ConfigDict(extra="forbid", title="EgoiContactsOptions")

    list_id: int = Field(gt=0, description="The E-goi list to import: the number before its title in E-goi.")
    segment_id: str | None = Field(
        None, description="Only the contacts of this segment of the list (the number before the segment's name)."
    )
    page_size: int = Field(
        1000,
        ge=1,
        le=egoi_api.MAX_PAGE,
        description="Contacts asked for a page (1-1000; a segment's are asked at most 100 a page, E-goi's limit).",
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Seconds to wait for each answer of the API.")
    max_retries: int = Field(
        5,
        ge=0,
        le=10,
        description="Times a request is sent again after HTTP 429 or 5xx, a timeout or a dropped "
        "connection (then the import fails, storing nothing).",
    )
    retry_backoff_s: float = Field(
        1.0,
        ge=0,
        le=30,
        description="The first wait before a retry; it doubles each time (at most 60 s), and a "
        "Retry-After header of the API wins (at most 120 s).",
    )
    _account_id: str | None = PrivateAttr(None)  # read from the key when the import runs

    @field_validator("segment_id", mode="before")
    @classmethod
    def _segment_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected the segment's id, a number or text")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and not value.strip():
            raise ValueError("expected the segment's id; leave segment_id out to import the whole list")
        return value.strip() if isinstance(value, str) else value

    @property
    def strategy(self) -> Literal["merge"]:
        """The customers entity's: the contact's attributes merged, the person's others untouched."""
        return "merge"

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            raise RuntimeError("the account id is read from E-goi when the import runs (fetch)")
        return self._account_id

    def prefix(self) -> str:
        return f"egoi.account{self.account_id}.list{self.list_id}."


FIELDS = FormatFields(name=NAME, knows=lambda field: False, required=[], known=[], text_input=False)


def check_spec(spec) -> list[str]:
    """What is wrong with a spec of this format that the models do not see: transforms, the connection, the
    source."""
    problems = []
    if spec.transforms:
        problems.append("transforms: an E-goi Contacts import takes no transformations (the mapping is fixed)")
    for key in spec.connection:
        if key not in CONNECTION_KEYS:
            problems.append(f"connection.{key}: unknown key; the keys here are {', '.join(CONNECTION_KEYS)}")
    if "api_key" not in spec.connection:
        problems.append("connection.api_key: required: E-goi's API key, best written api_key: ${EGOI_API_KEY}")
    if len(spec.source) != 1 or not spec.source[0].startswith(("https://", "http://")):
        problems.append(f"source: expected E-goi's API address, one http(s) URL (default {BASE_URL})")
    return problems


def fetch(base_url: str, connection: dict[str, Any], options: Options, folder: Path, progress=None):
    """The list's contacts from the API into a JSON lines file in `folder` (etl.sources.egoi_api.Fetched), and the
    options with the key's account id."""
    api_key = connection.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise SpecError("connection.api_key: E-goi's API key is empty")
    proxy = connection.get("proxy")
    client = egoi_api.Client(
        base_url, api_key.strip(), timeout_s=options.timeout_s, max_retries=options.max_retries,
        backoff_s=options.retry_backoff_s, proxy=str(proxy) if proxy else None,
    )  # fmt: skip
    shown = None
    if progress is not None:
        shown = lambda f: progress(f.uri, f.contacts, f.total_items or f.contacts)  # noqa: E731
    try:
        fetched = egoi_api.fetch_contacts(client, options.list_id, options.segment_id, options.page_size, folder,
                                          shown)  # fmt: skip
    finally:
        client.close()
    resolved = options.model_copy()
    resolved._account_id = fetched.account_id
    return fetched, resolved


def report(fetched: egoi_api.Fetched, options: Options) -> dict[str, Any]:
    """What the report says of the API's side."""
    return {
        "service": "E-goi API v3",
        "endpoint": fetched.uri,
        "account_id": fetched.account_id,
        "list_id": options.list_id,
        "segment_id": options.segment_id,
        "pages": fetched.pages,
        "contacts": fetched.contacts,
        "total_items": fetched.total_items,
        "retries": fetched.retries,
        "attribute_prefix": options.prefix(),
    }


def notes(api: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's line on what the API gave."""
    segment = f" (segment {api['segment_id']})" if api.get("segment_id") else ""
    pages, contacts = api["pages"], api["contacts"]
    retried = f"; {api['retries']} requests sent again (429, 5xx, timeouts)" if api.get("retries") else ""
    text = (
        f"{api['service']}: account {api['account_id']}, list {api['list_id']}{segment}: {pages:,} "
        f"page{'s' if pages != 1 else ''}, {contacts:,} contact{'s' if contacts != 1 else ''} read{retried}; "
        f"attributes {api['attribute_prefix']}*"
    )
    return [{"text": text, "warning": False}]


API = ApiSource(fetch=fetch, check_spec=check_spec, report=report, notes=notes)


def plan(header: list[str], options: Options, reader: str = "jsonl") -> Plan:
    """The plan for the contacts file (one `value` column: a contact's JSON text)."""
    transform = lambda lf: _typed(lf, options)  # noqa: E731
    # the account and the list decide what a contact makes (the other options are the connection's)
    hashed = salt(HASH_VERSION, NAME, [options.account_id, str(options.list_id)], polars=False)
    return Plan(transform=transform, facts=CustomersFacts(id_types=ID_TYPES), header=header, missing=[], ignored=[],
                reader="jsonl", kept_columns=CUSTOMER_STAGED, row_wise=True, hash_salt=hashed)  # fmt: skip


def _base(field: str) -> pl.Expr:
    """A field of the contact's `base`, as text (null when absent or null; trimmed, null when empty)."""
    text = pl.col("value").str.json_path_match(f"$.base.{field}").str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def _typed(lf: pl.LazyFrame, options: Options):
    contact_id = _base("contact_id")
    email = normalised(_base("email"), "email")  # the ids' rule (etl.formats.ids), then hashed
    checks = [
        Check("email", "not a valid email", email.is_not_null() & ~email.str.contains(EMAIL)),
        Check("(ids)", "no id: the contact has neither contact_id nor email", contact_id.is_null() & email.is_null()),
    ]
    attributes = []
    for field, name in ATTRIBUTES.items():
        value = _base(field)
        if field in CHANNELS:  # a channel's status only with the channel
            value = pl.when(_base(CHANNELS[field]).is_not_null()).then(value)
        attributes.append(value.alias(options.prefix() + name))
    lf = lf.with_columns(
        ids=pl.concat_list([contact_id, email.chash.sha2_256()]),
        patch=pl.struct(attributes).struct.json_encode(),
        not_attributes=pl.lit("{}"),
        drop_nulls=pl.lit(False),  # a null removes the attribute: E-goi no longer says it
        updated_at=pl.lit(None, pl.Datetime("us", "UTC")),
    )
    return lf, checks
