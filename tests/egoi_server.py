"""A loopback HTTP server that answers as E-goi's API v3 specification describes, for the egoi_contacts tests.

What it serves (E-goi's OpenAPI document; the SDKs' ContactsApi and MyAccountApi):
- GET /my-account -> {"general_info": {"client_id", "name", ...}, ...} (permission "account");
- GET /lists/{list_id}/contacts?offset&limit -> {"total_items", "items": [Contact]} (permission "contacts");
- GET /lists/{list_id}/contacts/segment/{segment_id}?offset&limit -> the same, of the segment ("segment").
The key comes in the `Apikey` header; an unknown key gets 401, a key without the endpoint's permission 403,
an unknown list or segment 404, a limit outside 1..1000 (a segment's: 1..100, as E-goi's OpenAPI document gives
each endpoint's LimitSchema) 422; errors are RFC 7807 problem objects as E-goi's.

A test queues faults (`fail`): the next requests whose path starts with a prefix get a status (429 with
Retry-After: 0, a 500 ...) or `hang` (no answer until the test ends: for timeouts), then the server answers
normally. Every request is recorded (path, query, whether the key came), for the tests to check paging.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

PERMISSIONS = ("account", "contacts", "segment")
PROBLEM_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 422: "Unprocessable Entity",
                  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}  # fmt: skip


@dataclass
class Fault:
    prefix: str
    status: int | None  # None: hang
    times: int
    offset: int | None = None  # only the page from this offset


@dataclass
class EgoiApi:
    """The server's state: what it holds and what it was asked."""

    base_url: str = ""
    account_id: str = "123"
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)  # API key -> its permissions
    lists: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    segments: dict[tuple[int, str], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def key(self, *permissions: str) -> str:
        """A new API key with these permissions (all of them when none are named)."""
        value = secrets.token_hex(20)
        self.keys[value] = permissions or PERMISSIONS
        return value

    def fail(self, prefix: str, status: int | None, times: int = 1, offset: int | None = None) -> None:
        """The next `times` requests under `prefix` (of the page from `offset`, when given) get `status` (None: no
        answer until the test ends)."""
        self.faults.append(Fault(prefix, status, times, offset))

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


def contact(contact_id: str | None, email: str | None = None, **base: Any) -> dict[str, Any]:
    """A Contact as E-goi's API returns it: base fields, extra fields and tags (a field given as ... is left out)."""
    fields = {"contact_id": contact_id, "status": "active", "consent": "consent", "first_name": "Ann",
              "email": email, "email_status": "active" if email else "inactive", "cellphone": None,
              "cellphone_status": "inactive", "phone": None, "phone_status": "inactive", "language": "pt",
              "subscription_method": "api", "change_date": "2026-11-30"}  # fmt: skip
    fields.update(base)
    return {"base": {k: v for k, v in fields.items() if v is not ... }, "extra": [{"field_id": 1, "value": "x"}],
            "tags": [4]}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    api: EgoiApi  # set per server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        key = self.headers.get("Apikey")
        with self.api.lock:
            self.api.requests.append({"path": url.path, "query": query, "key_given": key is not None})
            fault = next((f for f in self.api.faults if url.path.startswith(f.prefix) and f.times > 0
                          and f.offset in (None, int(query.get("offset", 0)))), None)  # fmt: skip
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.status is None:
                self.api.released.wait(60)  # until the test ends (its client has long timed out)
                return
            self._problem(fault.status, "fault of the test", {"Retry-After": "0"} if fault.status == 429 else {})
            return
        permissions = self.api.keys.get(key or "")
        if permissions is None:
            self._problem(401, "Invalid API key")
            return
        if url.path == "/my-account":
            if "account" not in permissions:
                self._problem(403, "Your API key does not have permission to access this resource")
                return
            self._json({"general_info": {"client_id": self.api.account_id, "name": "Shop", "website": "shop.example"},
                        "balance_info": {"balance": 0}, "plan_info": {}})  # fmt: skip
            return
        match = re.fullmatch(r"/lists/(\d+)/contacts(?:/segment/([^/]+))?", url.path)
        if match is None:
            self._problem(404, "Resource not found")
            return
        list_id, segment = int(match.group(1)), match.group(2)
        needed = "segment" if segment is not None else "contacts"
        if needed not in permissions:
            self._problem(403, "Your API key does not have permission to access this resource")
            return
        contacts = self.api.lists.get(list_id) if segment is None else self.api.segments.get((list_id, segment))
        if contacts is None:
            self._problem(404, "List not found" if segment is None else "Segment not found")
            return
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
        largest = 1000 if segment is None else 100
        if not 1 <= limit <= largest or offset < 0:
            self._problem(422, f"limit must be from 1 to {largest}")
            return
        self._json({"total_items": len(contacts), "items": contacts[offset : offset + limit]})

    def _json(self, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        title = PROBLEM_TITLES.get(status, "Error")
        body = {"type": f"https://developers.e-goi.com/api/v3/#{status}", "title": title, "status": status,
                "detail": detail}  # fmt: skip
        self._json(body, status, headers)


class _ForwardProxy(BaseHTTPRequestHandler):
    """A forward HTTP proxy: GET http://host/path is fetched and answered as it came; each URL is recorded."""

    seen: list[str]  # set per server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection", "connection")}
        request = urllib.request.Request(self.path, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to the target
        try:
            answer = opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            answer = error
        body = answer.read()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def forward_proxy() -> Iterator[tuple[str, list[str]]]:
    """A forward proxy on loopback: its URL and the URLs it was asked for."""
    seen: list[str] = []
    server = _Server(("127.0.0.1", 0), type("_Proxy", (_ForwardProxy,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, name="forward-proxy", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the request threads
    block_on_close = True


@pytest.fixture
def egoi_api() -> Iterator[EgoiApi]:
    with serving() as api:
        yield api


@contextmanager
def serving() -> Iterator[EgoiApi]:
    """The server on loopback (a port the OS picks) while the block runs (bench/egoi_contacts.py uses it too)."""
    api = EgoiApi()
    handler = type("_EgoiHandler", (_Handler,), {"api": api})
    server = _Server(("127.0.0.1", 0), partial(handler))
    thread = threading.Thread(target=server.serve_forever, name="egoi-api", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    api.base_url = f"http://{host}:{port}"
    try:
        yield api
    finally:
        api.released.set()  # a hanging request answers nothing and ends
        server.shutdown()
        server.server_close()
        thread.join(10)
