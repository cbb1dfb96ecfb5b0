"""Small input files of every format, for the conformance tests: each builder writes one file under a folder and
returns the import spec (a dict) that reads it; `imported` runs it and checks the store's invariants after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from etl.pipeline.importer import run_import
from etl.quality import store_invariants
from etl.spec import validate_spec
from tests.conftest import kevel_row, write_csv

USERS_IDS = {"external_id": "customerNumber", "email": "mail", "phone": "mobile"}


def kevel_orders(folder: Path, name: str, orders: list[tuple[str, str, str]], **options: Any) -> dict:
    """One line item per order: (order id, userIdType, userId)."""
    rows = [kevel_row(order_id, userIdType=id_type, userId=value) for order_id, id_type, value in orders]
    return _spec("kevel_orders", write_csv(folder / f"{name}.csv", rows), options)


def shopify_row(name: str, email: str = "", phone: str = "", **values: str) -> dict[str, str]:
    """An order of one line as Shopify's Export orders writes it (the buyer: Email, else Phone)."""
    row = {
        "Name": name, "Email": email, "Phone": phone, "Financial Status": "paid", "Currency": "EUR",
        "Subtotal": "10.00", "Shipping": "0.00", "Taxes": "0.00", "Total": "10.00", "Discount Amount": "0.00",
        "Created at": "2024-03-09 09:59:00 +0100", "Lineitem quantity": "1", "Lineitem name": "Wax",
        "Lineitem price": "10.00", "Lineitem sku": "WAX-1", "Lineitem fulfillment status": "pending",
        "Lineitem discount": "0.00", "Refunded Amount": "0.00", "Id": "9" + name.strip("#"),
    }  # fmt: skip
    row.update(values)
    return row


def shopify_orders(folder: Path, name: str, rows: list[dict[str, str]], **options: Any) -> dict:
    return _spec("shopify_orders", write_csv(folder / f"{name}.csv", rows), options)


def kevel_users(folder: Path, name: str, users: list[dict[str, Any]], *, jsonl: bool = False, **options: Any) -> dict:
    """Users by the fields of USERS_IDS (customerNumber, mail, mobile) and any attributes; CSV or JSON lines."""
    options = {"ids": USERS_IDS, **options}
    if jsonl:
        return _spec("kevel_users", _jsonl(folder / f"{name}.jsonl", users), options)
    header = list(dict.fromkeys([*options["ids"].values(), *(k for user in users for k in user)]))
    return _spec("kevel_users", write_csv(folder / f"{name}.csv", users, header), options)


def crossengage_event(event: str = "Newsletter Subscribed", *, id: str | None = None, email: str | None = None,
                      **fields: Any) -> dict[str, Any]:  # fmt: skip
    """A CrossEngage event: an email is given with its businessUnit, as 000 requires without an id."""
    out: dict[str, Any] = {"event": event, "timestamp": "2024-01-02T03:04:05Z"}
    if id is not None:
        out["id"] = id
    if email is not None:
        out |= {"email": email, "businessUnit": "shop"}
    return out | fields


def crossengage_events(folder: Path, name: str, events: list[Any], **options: Any) -> dict:
    """A JSON array, one element a line (line 2 on); an element given as text is written as it is."""
    elements = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in events]
    path = folder / f"event_history_{name}.json"
    path.write_text("[\n" + ",\n".join(elements) + "\n]\n", encoding="utf-8")
    return _spec("crossengage_events", path, options)


def esputnik_event(kind: str = "pageViewed", *params: tuple[str, Any], key: str | None = None,
                   occurred: str | None = "2024-01-02T03:04") -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"eventTypeKey": kind}
    if key is not None:
        out["keyValue"] = key
    out["params"] = [{"name": n, "value": v} for n, v in params]
    if occurred is not None:
        out["occurred"] = occurred
    return out


def esputnik_events(folder: Path, name: str, events: list[Any], **options: Any) -> dict:
    """An array of events, one a line (line 2 on); contacts created unless options say otherwise."""
    elements = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in events]
    path = folder / f"{name}.json"
    path.write_text("[\n" + ",\n".join(elements) + "\n]\n", encoding="utf-8")
    return _spec("esputnik_events", path, {"unknown_contacts": "create", **options})


def kevel_products(folder: Path, name: str, records: list[Any], **options: Any) -> dict:
    return _spec("kevel_products", _jsonl(folder / f"{name}.jsonl", records), options)


def google_merchant_tsv(folder: Path, name: str, rows: list[dict[str, str]], **options: Any) -> dict:
    path = folder / f"{name}.tsv"
    header = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["\t".join(header)] + ["\t".join(row.get(k, "") for k in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _spec("google_merchant", path, options)


def google_merchant_xml(folder: Path, name: str, items: list[dict[str, str]], **options: Any) -> dict:
    """An RSS 2.0 feed, one <item> a line (line 3 on), fields in the g: namespace."""
    body = "\n".join("<item>" + "".join(f"<g:{k}>{v}</g:{k}>" for k, v in item.items()) + "</item>" for item in items)
    text = ('<?xml version="1.0"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>\n'
            f"{body}\n</channel></rss>\n")  # fmt: skip
    path = folder / f"{name}.xml"
    path.write_text(text, encoding="utf-8")
    return _spec("google_merchant", path, options)


def egoi_contacts(api: Any, list_id: int = 321, **options: Any) -> dict:
    """The loopback E-goi API's list (tests/egoi_server.py); the key is read from EGOI_API_KEY."""
    return {"format": "egoi_contacts", "source": api.base_url,
            "connection": {"api_key": "${EGOI_API_KEY}"}, "options": {"list_id": list_id, **options}}  # fmt: skip


def imported(store: Path, spec: dict, **run: Any) -> dict:
    """Import a spec (a dict) with the library, then require every store invariant to hold; the report."""
    report = run_import(validate_spec(spec, "spec"), store, **run)
    assert_invariants(store)
    return report


def assert_invariants(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        broken = store_invariants.violations(con)
    assert broken == [], store_invariants.describe(broken)


def _spec(fmt: str, path: Path, options: dict[str, Any]) -> dict:
    return {"format": fmt, "source": str(path), **({"options": options} if options else {})}


def _jsonl(path: Path, records: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
