"""eSputnik's events (v1/event, and Generate past events): one event object, an array of them, a past-events body
`{"events": [...]}`, or JSON lines of any of these.

An event: `eventTypeKey` (required), `keyValue`, `params` (a list of {name, value}) and `occurred` (YYYY-MM-DD or
YYYY-MM-DDTHH:mm; required in a past-events body). Our choices where eSputnik's documents are silent or loose
(docs/formats/esputnik_events.md):

- The contact: the identifier parameters (names matched case-insensitively: ContactId, Contact_id -> an
  `esputnik_contact_id`; Email, EmailAddress, UserEmail, ContactEmail -> email; Phone, SMS, PhoneNumber -> phone;
  PushToken -> push_token; ContactKey, Contact_key -> contact_key; the option `identifiers` adds names), then
  keyValue when it is an email or a phone and that id is not given; externalCustomerId is the shop's customer id
  (external_id). Every id is trimmed, emails lowercased, the others kept in their case (as every import's:
  etl.formats.ids; 001: "All values, except for the email address, are mapped including the register"). An
  event whose contact the store does not know is rejected (`unknown_contacts: reject`, the default: eSputnik
  takes events for existing contacts only) or creates it (`create`).
- A value given as JSON text, of items, products, page, product or category, is parsed once (a text inside it
  stays a text: "one more array or object remains serialized"); a JSON text that is not valid JSON is rejected,
  naming the parameter (stored as text, it would be an item nobody can segment on).
- `occurred`: YYYY-MM-DD, YYYY-MM-DDTHH:mm, or with seconds and a fraction (what our export writes), UTC unless
  it ends in Z or an offset; another form is rejected. An event outside a body without one is stored with the
  import's start as its time.
- Order events (orderCreated, orderUpdated, orderDelivered, orderCancelled) are stored as events and change the
  orders entity (etl.entities.events.entity: orders_from_events): see STATUSES and the docs' table.
- properties: the event as {eventTypeKey, keyValue, occurred, params: {name: value}}, the values with their JSON
  types (a parsed JSON text as its array or object).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from etl.formats.columns import EVENT_STAGED
from etl.formats.esputnik_records import EventReader
from etl.formats.events import HASH_VERSION, REJECT_KEYS, event_key
from etl.formats.hashing import salt
from etl.formats.ids import EMAIL, PHONE, fold_id_case_option, normalised
from etl.formats.plan import EventsFacts, Plan
from etl.formats.rows import Check
from etl.formats.rows import _datetime as iso_datetime
from etl.readers.jsonl import parser_message
from etl.transforms.steps import FormatFields

NAME = "esputnik_events"
ENTITY = "events"
READERS = ("json", "jsonl")
SUMMARY = "eSputnik's events (v1/event, past events): eventTypeKey, keyValue, params [{name, value}], occurred"
API = None  # read from files

# a parameter's name, lowercased -> the id type it gives (eSputnik's default identifier parameters)
IDENTIFIERS = {
    "contactid": "esputnik_contact_id", "contact_id": "esputnik_contact_id",
    "email": "email", "emailaddress": "email", "useremail": "email", "contactemail": "email",
    "phone": "phone", "sms": "phone", "phonenumber": "phone",
    "pushtoken": "push_token",
    "contactkey": "contact_key", "contact_key": "contact_key",
    "externalcustomerid": "external_id",
}  # fmt: skip
ID_TYPES = ("esputnik_contact_id", "email", "phone", "push_token", "contact_key", "external_id")
PARSED = ("items", "products", "page", "product", "category")  # JSON text values parsed once
# eSputnik's order statuses -> the line items' statuses (the docs' table); ABANDONED_SHOPPING_CART makes no order
STATUSES = {"INITIALIZED": "placed", "IN_PROGRESS": "paid", "DELIVERED": "fulfilled", "CANCELLED": "cancelled"}
NO_ORDER_STATUS = "ABANDONED_SHOPPING_CART"
ORDER_TYPES = ("orderCreated", "orderUpdated", "orderDelivered", "orderCancelled")
CREATE_REQUIRED = {"externalOrderId": "es_order_id", "totalCost": "es_total", "status": "es_status", "date": "es_date"}
# 001's second form of products, {"array": [...]}, first: its elements are the items
ITEM_PATHS = ("$.params.products.array", "$.params.products", "$.params.items", "$.params.product", "$.params.category")
OCCURRED = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?$"
DATE_HINT = "not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:mm, e.g. 2020-05-14T10:11, or ISO 8601)"
OCCURRED_HINT = "not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:mm, e.g. 2023-03-22T14:30)"


class Options(BaseModel):
    """Options of the `esputnik_events` format."""

    model_config = ConfigDict(extra="forbid", title="EsputnikEventsOptions")
    unknown_contacts: Literal["reject", "create"] = Field(
        "reject", description="An event whose contact the store does not know: rejected (as eSputnik does), or "
        "the contact created from the event's ids.")  # fmt: skip
    default_currency: str | None = Field(
        None,
        pattern=r"^[A-Za-z]{3}$",
        description="The currency of an order whose events give none (eSputnik's "
        "orderCreated may leave it out: the account's currency), e.g. UAH; without it such an order is rejected.",
    )
    identifiers: dict[str, str] = Field(
        default_factory=dict, description="More parameters that identify the contact: {parameter name: id type} "
        "(e.g. {loyaltyCard: loyalty_card}); names matched case-insensitively.")  # fmt: skip
    fold_id_case: bool = fold_id_case_option()

    def id_names(self) -> dict[str, str]:
        return IDENTIFIERS | {name.strip().lower(): id_type for name, id_type in self.identifiers.items()}

    def id_types(self) -> tuple[str, ...]:
        extra = sorted(set(self.identifiers.values()) - set(ID_TYPES))
        return (*ID_TYPES, *extra)


FIELDS = FormatFields(name=NAME, knows=lambda field: bool(field), required=["eventTypeKey"],
                      known=["eventTypeKey", "keyValue", "params", "occurred"], text_input=False)  # fmt: skip


def prepare(options: Options) -> EventReader:
    """What reads a file's records into events (etl.formats.esputnik_records, in DuckDB)."""
    names = options.id_names()
    return EventReader({
        "id_names": list(names), "id_name_types": list(names.values()), "id_types": list(options.id_types()),
        "parsed_names": list(PARSED), "order_types": list(ORDER_TYPES),
    })  # fmt: skip


def _occurred(text: pl.Expr) -> pl.Expr:
    """YYYY-MM-DD and YYYY-MM-DDTHH:mm completed to ISO date-times, then read as every ISO time is."""
    full = (
        pl.when(text.str.len_bytes() == 10).then(text + "T00:00:00")
        .when(text.str.contains(r"^.{10}T\d{2}:\d{2}($|Z|[+-])"))
        .then(text.str.slice(0, 16) + ":00" + text.str.slice(16))
        .otherwise(text)
    )  # fmt: skip
    value, _ = iso_datetime(pl.when(text.str.contains(OCCURRED)).then(full))
    return value


def plan(header: list[str], options: Options, reader: str = "json") -> Plan:
    """The plan for eSputnik's events (records prepared by `prepare`; `header` is unused)."""
    id_types = options.id_types()

    def transform(lf: pl.LazyFrame):
        c = pl.col
        ids = [c("es_param_ids").list.get(i, null_on_oob=True) for i in range(len(id_types))]
        ids = [normalised(v, t, fold_case=options.fold_id_case) for v, t in zip(ids, id_types, strict=True)]
        ids = [pl.when(v.str.len_bytes() > 0).then(v) for v in ids]
        key = c("es_key")
        key_email = pl.when(key.str.contains("@")).then(normalised(key, "email"))
        key_phone = pl.when(~key.str.contains("@") & key.str.contains(PHONE)).then(key)
        email_at, phone_at = id_types.index("email"), id_types.index("phone")
        ids[email_at] = pl.coalesce(ids[email_at], key_email)
        ids[phone_at] = pl.coalesce(ids[phone_at], key_phone)
        typed = c("es_type_kind") == "VARCHAR"
        event_type = pl.when(typed).then(c("es_type").str.strip_chars())
        order_event = event_type.is_in(ORDER_TYPES)
        status_text = c("es_status").str.strip_chars().str.to_uppercase()
        status = status_text.replace_strict(STATUSES, default=None, return_dtype=pl.String)
        total = c("es_total").str.strip_chars().cast(pl.Float64, strict=False)
        # the forms 003 documents (YYYY-MM-DD, YYYY-MM-DDTHH:mm), and any ISO date and time (001's example)
        created, _ = iso_datetime(c("es_date").str.strip_chars())
        created = pl.coalesce(created, _occurred(c("es_date").str.strip_chars()))
        currency = c("es_currency").str.strip_chars().str.to_uppercase()
        lf = lf.with_columns(
            _ids=pl.concat_list(ids), _event=event_type, _order_event=order_event.fill_null(False),
            occurred_at=_occurred(c("es_occurred").str.strip_chars()), _status=status, _total=total,
            _created=created, _currency=currency,
        )  # fmt: skip
        order_event, action = c("_order_event"), c("_event")
        # a JSON text DuckDB's parser took, of a record that may hold what JSON has not (a trailing comma, NaN):
        # parsed strictly (serde_json)
        strict_failed = c("es_suspect_texts").list.eval(
            pl.element().struct.field("text").str.json_path_match("$").is_null()
            & (pl.element().struct.field("text").str.strip_chars() != "null")
        )
        first_failed = pl.when(strict_failed.list.any()).then(
            c("es_suspect_texts").list.get(strict_failed.list.arg_max(), null_on_oob=True)
        )
        malformed_name = pl.coalesce(c("es_malformed_param"), first_failed.struct.field("name"))
        malformed_text = pl.coalesce(c("es_malformed_text"), first_failed.struct.field("text"))
        entry = c("es_bad_entry").cast(pl.String)  # counted from 1
        checks = [
            Check("eventTypeKey", "required value is missing", c("es_type_kind").is_null() | (c("_event") == "")),
            Check("eventTypeKey", "not a text (the event's type, e.g. orderCreated)",
                  c("es_type_kind").is_not_null() & ~typed),
            Check("params", 'not a list of {"name": ..., "value": ...}',
                  c("es_params_kind").is_not_null() & (c("es_params_kind") != "ARRAY")),
            Check("params", pl.lit("entry ") + entry + ' has no name (expected {"name": ..., "value": ...})',
                  c("es_bad_entry") > 0),
            Check("params", pl.lit("the name ") + c("es_repeated_param") + " is given twice: which value is meant "
                  "is ambiguous", c("es_repeated_param").is_not_null(), c("es_repeated_param")),
            Check("params", pl.lit("the value of ") + malformed_name + " is a JSON text that is "
                  + malformed_text.map_elements(parser_message, return_dtype=pl.String),  # for rejects only
                  malformed_name.is_not_null(), malformed_name),
            Check("occurred", "required for a past event (an event of an {\"events\": [...]} body)",
                  c("es_in_body") & c("es_occurred_kind").is_null()),
            Check("occurred", OCCURRED_HINT, c("es_occurred_kind").is_not_null() & c("occurred_at").is_null(),
                  c("es_occurred")),
            Check("(contact)", "no contact: expected an identifier parameter (ContactId, Email, Phone, PushToken, "
                  "ContactKey ...) or a keyValue that is an email or a phone",
                  pl.all_horizontal(v.is_null() for v in ids), c("es_key")),
            Check("email", "not a valid email", ids[email_at].is_not_null() & ~ids[email_at].str.contains(EMAIL),
                  ids[email_at]),
            Check("externalOrderId", pl.lit("required for ") + action + ": the event is ignored", order_event
                  & c("es_order_id").str.strip_chars().fill_null("").eq(""), c("es_order_id")),
            *(Check(name, "required for orderCreated: the event is ignored", (action == "orderCreated")
                    & c(column).str.strip_chars().fill_null("").eq(""), c(column))
              for name, column in CREATE_REQUIRED.items() if name != "externalOrderId"),
            Check("totalCost", "not a number (e.g. 258.0)",
                  order_event & c("es_total").is_not_null() & (c("_total").is_null() | ~c("_total").is_finite()),
                  c("es_total")),
            Check("status", "not an eSputnik order status (INITIALIZED, IN_PROGRESS, DELIVERED, CANCELLED, "
                  "ABANDONED_SHOPPING_CART)", order_event & c("es_status").is_not_null() & c("_status").is_null()
                  & (status_text != NO_ORDER_STATUS), c("es_status")),
            Check("date", DATE_HINT,
                  order_event & c("es_date").is_not_null() & c("_created").is_null(), c("es_date")),
            Check("currency", "not a three-letter currency code (e.g. UAH)",
                  order_event & c("es_currency").is_not_null() & ~c("_currency").str.contains(r"^[A-Z]{3}$"),
                  c("es_currency")),
            Check("items", "not a list of items (externalItemId, name, quantity, cost ...)",
                  order_event & c("es_items_kind").is_not_null() & (c("es_items_kind") != "ARRAY"),
                  c("es_items_kind")),
            Check("items", "an item without externalItemId", order_event & c("es_items").is_not_null()
                  & c("es_items").str.contains(r'"product_id":null'), None),
        ]  # fmt: skip
        abandoned = status_text == NO_ORDER_STATUS
        lf = lf.with_columns(
            event_type=c("_event"),
            ids=c("_ids"),
            business_unit=pl.lit(None, pl.String),
            properties=c("properties"),
            order_id=pl.when(order_event).then(c("es_order_id").str.strip_chars()),
            order_action=pl.when(~order_event | abandoned.fill_null(False)).then(None)
            .when(action.is_in(["orderCreated", "orderUpdated"])).then(pl.lit("upsert")).otherwise(pl.lit("status")),
            order_status=pl.when(action == "orderDelivered").then(pl.lit("fulfilled"))
            .when(action == "orderCancelled").then(pl.lit("cancelled")).otherwise(c("_status")),
            order_total=c("_total"),
            order_currency=c("_currency"),
            order_created_at=c("_created"),
            order_lines=c("es_items"),
            **event_key(c("properties"), NAME),
        )  # fmt: skip
        return lf, checks

    facts = EventsFacts(id_types=id_types, item_paths=ITEM_PATHS,
                        currency_paths=("$.params.currencyCode", "$.params.currency"),
                        known_people_only=options.unknown_contacts == "reject", feeds_orders=True,
                        default_currency=(options.default_currency or "").upper() or None)  # fmt: skip
    return Plan(transform=transform, facts=facts, reader=reader, kept_columns=EVENT_STAGED,
                reject_keys=(*REJECT_KEYS, "_record"),  # an event's record: its line is found in it
                hash_salt=salt(HASH_VERSION, NAME, options, reader=reader), row_wise=True,
                prepare=prepare(options))  # fmt: skip
