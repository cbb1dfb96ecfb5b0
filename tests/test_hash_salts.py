"""The salt of each format's record hash, byte for byte (issue 34): a record's stored hash is compared with the hash
of the record read again, so a salt that changes, by a byte, makes every record the store applied before new again
(read, parsed and compared once more). Pinned from the salts as the formats made them before they shared one
function (etl.formats.hashing): a change here must be meant, and name its hash version."""

from __future__ import annotations

import polars as pl
import pytest

from etl import formats

POLARS = f"polars {pl.__version__}"  # the salts that name it change with it, on purpose (its row hash may change)
USERS = ('{"id":{"field":"customerNumber","type":"external_id"},"ids":{"email":"mail","phone":"mobile"},'
         '"strategy":"merge","empty_values":"ignore","nulls":"unset","updated_at_field":null,"hash_emails":false,'
         '"fold_id_case":false}')  # fmt: skip
ESPUTNIK = '{"unknown_contacts":"reject","default_currency":null,"identifiers":{},"fold_id_case":false}'
SALTS = [
    ("kevel_orders", "csv", ["orderId", "userIdType", "userId"],
     f'order-rows-1|{POLARS}|kevel_orders|{{"hash_emails":false,"fold_id_case":false}}|orderId|userIdType|userId'),
    ("shopify_orders", "csv", ["Name", "Email", "Lineitem sku"],
     f'order-rows-1|{POLARS}|shopify_orders|{{"order_id":"name","hash_emails":false}}|Name|Email|Lineitem sku'),
    ("kevel_users", "csv", ["customerNumber", "mail", "mobile", "city"],
     f"users-3|kevel_users|{USERS}|csv|customerNumber|mail|mobile|city"),
    ("kevel_users", "jsonl", [], f"users-3|kevel_users|{USERS}|jsonl"),
    ("egoi_contacts", "jsonl", [], "egoi-contacts-1|egoi_contacts|7001|321"),
    ("kevel_products", "jsonl", [], f'products-1|{POLARS}|kevel_products|{{"missing":"keep","currency":null}}|jsonl'),
    ("kevel_products", "xml", [], f'products-1|{POLARS}|kevel_products|{{"missing":"keep","currency":null}}|jsonl'),
    ("google_merchant", "csv", ["id", "title", "price"],
     f'products-1|{POLARS}|google_merchant|{{"missing":"keep","currency":null}}|csv|id|title|price'),
    ("crossengage_events", "json", [], f'events-1|{POLARS}|crossengage_events|{{"fold_id_case":false}}|json'),
    ("esputnik_events", "json", [], f"events-1|{POLARS}|esputnik_events|{ESPUTNIK}|json"),
    ("esputnik_events", "jsonl", [], f"events-1|{POLARS}|esputnik_events|{ESPUTNIK}|jsonl"),
]  # fmt: skip


def options(name: str):
    """The format's sample options (data/samples), else its defaults."""
    module = formats.load(name)
    if name == "kevel_users":
        return module.Options(id={"field": "customerNumber", "type": "external_id"},
                              ids={"email": "mail", "phone": "mobile"})  # fmt: skip
    if name == "egoi_contacts":
        resolved = module.Options(list_id=321)
        resolved._account_id = "7001"  # read from the key when the import runs (fetch)
        return resolved
    if name == "kevel_orders":
        return module.Options(hash_emails=False)
    return module.Options()


@pytest.mark.parametrize(("name", "reader", "header", "expected"), SALTS, ids=[f"{s[0]}-{s[1]}" for s in SALTS])
def test_every_format_s_hash_salt_is_the_one_its_stored_hashes_were_made_with(name, reader, header, expected):
    assert formats.load(name).plan(header, options(name), reader).hash_salt == expected


def test_every_format_is_pinned():
    assert {name for name, *_ in SALTS} == set(formats.REGISTRY)
