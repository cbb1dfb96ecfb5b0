"""E-goi's API v3 as a source: the contacts of one list (or of one segment of it), page by page, into a file.

The endpoints, as E-goi's OpenAPI document and its official SDKs give them (base https://api.egoiapp.com, the
key in the `Apikey` header):

- GET /my-account: the account the key belongs to (`general_info.client_id`), permission "Get my account info";
- GET /lists/{list_id}/contacts?offset&limit: the list's contacts, permission "Get all contacts";
- GET /lists/{list_id}/contacts/segment/{segment_id}?offset&limit: a segment's, "Get all contacts by segment".

Both contact endpoints answer a ContactCollection, `{"total_items": n, "items": [{"base": {...}, "extra": [...]}]}`.
`limit` is at most 1000 for a list's contacts but 100 for a segment's (E-goi's OpenAPI document, as its Python
SDK's generated schemas give it: LimitSchema inclusive_maximum 1000 and 100); a page is asked within it. Paging
runs from offset 0 until a page comes back short or empty, or the offset reaches total_items. HTTP 429 and 5xx,
timeouts and dropped connections are retried by urllib3's Retry (GET only): `max_retries` times, waiting
`retry_backoff_s` x 2^(n-1) seconds (at most BACKOFF_MAX_S), or what a Retry-After header asks for (at most
RETRY_AFTER_MAX_S). 401 and 403 fail at once, naming what is missing.

Each page's body is kept as it came, in a folder of the import's; `contacts_file` then writes their items as
JSON lines, one contact a line in the list's order (DuckDB, no Python per contact), which the format reads like
any JSON lines file. A line holds only what the mapping reads (of the cellphone and phone, only whether the
contact has one): a rejected contact's record in `rejects.raw` keeps no names, numbers, extra fields or tags,
which the format does not import. The key travels in a header only: it is in no URL, message, file or report.
The environment's proxy settings are not used; `connection.proxy` names one (https goes through it with CONNECT).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import polars as pl
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from etl.errors import InputError

BASE_URL = "https://api.egoiapp.com"
MAX_PAGE = 1000  # the API's largest `limit` (GET /lists/{id}/contacts)
PAGE_LIMITS = {"contacts": MAX_PAGE, "segment": 100}  # of each endpoint: the segment's is 100
BACKOFF_MAX_S = 60.0
RETRY_AFTER_MAX_S = 120
RETRIED = (429, 500, 502, 503, 504)
PERMISSIONS = {  # what a 403 on each endpoint says the key lacks (the names of E-goi's dashboard)
    "contacts": "Get all contacts",
    "segment": "Get all contacts by segment",
    "account": "Get my account info",
}
ALL_PERMISSIONS = ", ".join(PERMISSIONS.values())


@dataclass
class Fetched:
    """What was read: the contacts file and the figures of the report."""

    path: Path  # one contact a line (JSON), in the list's order
    uri: str  # the endpoint the contacts came from (no key in it)
    account_id: str
    pages: int = 0
    contacts: int = 0
    total_items: int | None = None  # as the last page said
    retries: int = 0  # requests sent again (429, 5xx, timeouts)
    page_files: list[Path] = field(default_factory=list)


class Client:
    """A session for E-goi's API v3 with the key, the timeouts and the retries of one import."""

    def __init__(
        self, base_url: str, api_key: str, *, timeout_s: float, max_retries: int, backoff_s: float,
        proxy: str | None = None,
    ):  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._key = api_key
        password = urlsplit(proxy).password if proxy else None
        self._secrets = [s for s in (api_key, password) if s]  # never in a message
        self.retries = 0
        retry = Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRIED,
            backoff_factor=backoff_s,
            backoff_max=BACKOFF_MAX_S,
            retry_after_max=RETRY_AFTER_MAX_S,
            respect_retry_after_header=True,
            raise_on_status=False,  # the last answer is returned: its status says what went wrong
        )
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc of the environment gets the key: only one named
        if proxy:
            self.session.proxies = {"http": proxy, "https": proxy}
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.headers.update({"Apikey": api_key, "Accept": "application/json"})

    def close(self) -> None:
        self.session.close()

    def get(self, path: str, params: dict[str, Any], endpoint: str, where: str) -> tuple[dict[str, Any], bytes]:
        """GET `path`: the JSON object of a 200 answer and its bytes, or an InputError saying what went wrong
        (`endpoint`: a key of PERMISSIONS; `where`: what the request was for, in messages)."""
        url = self.base_url + path
        shown = f"GET {path}" + (f"?{'&'.join(f'{k}={v}' for k, v in params.items())}" if params else "")
        try:
            response = self.session.get(url, params=params, timeout=self.timeout_s, allow_redirects=False)
        except requests.exceptions.RetryError as exc:  # a status retried max_retries times
            raise InputError(self._redact(f"E-goi ({self.base_url}): {shown} ({where}): {exc}")) from None
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            raise InputError(self._unreachable(shown, where, exc)) from None
        history = getattr(getattr(response.raw, "retries", None), "history", None) or ()
        self.retries += len(history)
        if response.status_code == 200:
            return _json(response, f"{shown} ({where})"), response.content
        raise InputError(self._refused(response, shown, endpoint, where, len(history)))

    def _unreachable(self, shown: str, where: str, exc: Exception) -> str:
        tries = f"{self.max_retries + 1} tries" if self.max_retries else "1 try"
        timed_out = isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower()
        if timed_out:
            return (
                f"E-goi ({self.base_url}) did not answer {shown} ({where}) within {self.timeout_s:g} s, {tries} "
                "(options.timeout_s sets the wait, options.max_retries the retries)"
            )
        reason = str(getattr(exc, "args", [exc])[0])
        reason = reason.split("Caused by ", 1)[-1].strip("()") if "Caused by" in reason else reason
        return self._redact(f"cannot reach E-goi at {self.base_url} for {shown} ({where}), {tries}: {reason[:200]}")

    def _refused(self, response: requests.Response, shown: str, endpoint: str, where: str, retried: int) -> str:
        status = response.status_code
        said = _detail(response)
        prefix = f"E-goi ({self.base_url}) answered {shown} ({where}) with HTTP {status} {response.reason or ''}"
        prefix = prefix.rstrip() + (f" ({said})" if said else "")
        if status == 401:
            text = f"{prefix}: the API key was refused; check connection.api_key (the key is not shown)"
        elif status == 403:
            text = (
                f'{prefix}: the API key lacks the permission "{PERMISSIONS[endpoint]}"; an E-goi Contacts import '
                f"needs {ALL_PERMISSIONS} (set in E-goi's Integrations dashboard, API keys)"
            )
        elif status == 404:
            text = f"{prefix}: there is no such {'segment of the list' if endpoint == 'segment' else 'list'}"
        elif status in RETRIED:
            text = f"{prefix}, after {retried} retries (options.max_retries); try again later"
        else:
            text = f"{prefix}: expected 200 with the documented JSON"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _detail(response: requests.Response) -> str:
    """E-goi's error detail (RFC 7807: title, detail), short; else nothing."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    detail = body.get("detail") or body.get("title") or ""
    if isinstance(detail, (dict, list)):
        detail = json.dumps(detail, ensure_ascii=False)
    return str(detail)[:200]


def account_id(client: Client) -> str:
    """The id of the account the key belongs to (GET /my-account: general_info.client_id)."""
    body, _ = client.get("/my-account", {}, "account", "the account the key belongs to")
    value = body.get("general_info", {}).get("client_id") if isinstance(body.get("general_info"), dict) else None
    if value in (None, ""):
        raise InputError(
            f"E-goi ({client.base_url}): GET /my-account answered without general_info.client_id, the account id "
            "the attribute names need"
        )
    return str(value)


def _json(response: requests.Response, shown: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise InputError(f"E-goi's answer to {shown} is not JSON: {response.text[:80]!r}") from None
    if not isinstance(body, dict):
        raise InputError(f"E-goi's answer to {shown} is not a JSON object: {response.text[:80]!r}")
    return body


def fetch_contacts(
    client: Client, list_id: int, segment_id: str | None, page_size: int, folder: Path, progress=None
) -> Fetched:
    """Every contact of the list (or segment) into `folder`: its pages as they came, then the contacts file."""
    account = account_id(client)
    if segment_id is None:
        path, endpoint = f"/lists/{list_id}/contacts", "contacts"
    else:
        path, endpoint = f"/lists/{list_id}/contacts/segment/{segment_id}", "segment"
    pages = folder / "egoi-pages"
    pages.mkdir(parents=True, exist_ok=True)
    fetched = Fetched(path=folder / "egoi-contacts.jsonl", uri=client.base_url + path, account_id=account)
    page_size = min(page_size, PAGE_LIMITS[endpoint])  # a segment's endpoint answers 422 above 100
    offset = 0
    while True:
        where = f"page {fetched.pages + 1}, contacts from {offset + 1}"
        params = {"offset": offset, "limit": page_size}
        body, content = client.get(path, params, endpoint, where)
        items, total = body.get("items", []), body.get("total_items")
        if not isinstance(items, list) or (total is not None and not isinstance(total, int)):
            raise InputError(
                f"E-goi's answer to GET {path}?offset={offset}&limit={page_size} ({where}) is not a "
                "ContactCollection {total_items, items: [...]}"
            )
        fetched.pages += 1
        page_file = pages / f"page-{fetched.pages:07d}.json"
        page_file.write_bytes(content)
        fetched.page_files.append(page_file)
        offset += len(items)
        fetched.contacts, fetched.total_items = offset, total
        if progress is not None:
            progress(fetched)
        if len(items) < page_size or (total is not None and offset >= total):
            break
    fetched.retries = client.retries
    contacts_file(fetched.page_files, fetched.path)
    return fetched


def contacts_file(page_files: list[Path], path: Path) -> None:
    """The pages' items as JSON lines, in page order and their order in the page, each only what the mapping
    reads: `{"base": {"contact_id": ..., "has_cellphone": true, ...}}` (values as E-goi wrote them, minified; a JSON
    text holds no line break), streamed a batch at a time."""
    con = duckdb.connect(config={"memory_limit": "500MB", "threads": 2})
    try:
        # the base fields etl.formats.egoi_contacts reads, as E-goi gave them (one parse of the contact for all);
        # of the cellphone and phone only whether there is one (more than blanks, the format's rule): true or null
        result = con.sql(
            """
            WITH pages AS (
                SELECT filename, json_extract(json, '$.items[*]') AS items
                FROM read_json_objects($files, format = 'auto', filename = true)
            ), contacts AS (
                SELECT filename, place, json_extract(contact, [
                    '$.base.contact_id', '$.base.email', '$.base.status', '$.base.consent', '$.base.email_status',
                    '$.base.cellphone_status', '$.base.phone_status', '$.base.cellphone', '$.base.phone'
                ]) AS f
                FROM (SELECT filename, unnest(items) AS contact, unnest(range(len(items))) AS place FROM pages)
            )
            SELECT json_object('base', json_object(
                'contact_id', f[1], 'email', f[2], 'status', f[3], 'consent', f[4], 'email_status', f[5],
                'cellphone_status', f[6], 'phone_status', f[7],
                'has_cellphone', CASE WHEN length(trim(f[8] ->> '$')) > 0 THEN true END,
                'has_phone', CASE WHEN length(trim(f[9] ->> '$')) > 0 THEN true END
            ))::VARCHAR AS contact
            FROM contacts
            ORDER BY filename, place
            """,
            params={"files": [str(p) for p in page_files]},
        )
        with path.open("wb") as out:
            for batch in result.to_arrow_reader(50_000):
                frame = pl.from_arrow(batch)
                if frame.height:
                    frame.write_csv(out, include_header=False, quote_style="never")
    finally:
        con.close()
