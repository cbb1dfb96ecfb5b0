"""The spec's `transforms:` steps: what they do to records, what a spec may not say, and an import.

Value-level semantics of timestamp and cast have their own files (test_transform_timestamp,
test_transform_cast); here: the steps, their order, their failures and their checks.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import kevel_row, write_csv, write_spec

from etl.errors import SpecError
from etl.spec import ImportSpec, load_spec_data, validate_spec
from etl.transforms.compile import apply

PREFIX = "raw:"


def spec_with(steps: list[dict[str, Any]]) -> ImportSpec:
    return validate_spec({"format": "kevel_orders", "source": "a.csv", "transforms": steps}, "spec.yaml")


def transformed(records: dict[str, list[Any]], steps: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Records (text columns) in, records out, with a column per failing step: failed<step>."""
    spec = spec_with(steps)
    lf = pl.LazyFrame({PREFIX + k: pl.Series(v, dtype=pl.String) for k, v in records.items()})
    lf, failures = apply(lf, spec.transforms, PREFIX)
    out = lf.with_columns(
        *(f.failed.alias(f"failed:{f.column}->{f.target}") for f in failures),
        *(f.value.alias(f"value:{f.column}->{f.target}") for f in failures),
    ).collect()
    return {
        name.removeprefix(PREFIX): out[name].to_list() for name in out.columns if not name.startswith("_transform_")
    }


# --- the four steps ------------------------------------------------------------------------------


def test_rename_moves_a_field_and_the_old_name_disappears() -> None:
    out = transformed({"order_ref": ["a", "b"]}, [{"rename": {"from": "order_ref", "to": "orderId"}}])
    assert out == {"orderId": ["a", "b"]}


def test_copy_keeps_the_original() -> None:
    out = transformed(
        {"email": [" Ann@X.org ", None]},
        [{"copy": {"from": "email", "to": "userId", "lowercase": True, "trim": True}}],
    )
    assert out == {"email": [" Ann@X.org ", None], "userId": ["ann@x.org", None]}


@pytest.mark.parametrize(
    ("value", "text"),
    [("email", "email"), (0, "0"), (2.5, "2.5"), (True, "true"), (None, None)],
    ids=["text", "integer", "float", "boolean", "null"],
)
def test_new_sets_one_value_on_every_record_written_as_text(value: Any, text: str | None) -> None:
    out = transformed({"a": ["1", "2"]}, [{"new": {"field": "userIdType", "value": value}}])
    assert out == {"a": ["1", "2"], "userIdType": [text, text]}


def test_delete_removes_a_field() -> None:
    out = transformed({"a": ["1"], "internal_note": ["x"]}, [{"delete": {"field": "internal_note"}}])
    assert out == {"a": ["1"]}


def test_steps_apply_in_order() -> None:
    steps = [
        {"rename": {"from": "state", "to": "lineItem_status", "map": {"1": "placed", "2": "paid"}}},
        {"copy": {"from": "lineItem_status", "to": "custom_status", "map": {"paid": "PAID"}}},
        {"delete": {"field": "lineItem_status"}},
        {"rename": {"from": "custom_status", "to": "lineItem_status"}},
    ]
    out = transformed({"state": ["1", "2", "9"]}, steps)
    assert out == {"lineItem_status": ["placed", "PAID", "9"]}


# --- map -------------------------------------------------------------------------------------------


def test_map_replaces_matches_and_keeps_other_values() -> None:
    out = transformed(
        {"state": ["1", "2", "other", "1 ", None]},
        [{"rename": {"from": "state", "to": "lineItem_status", "map": {"1": "one", "2": "two"}}}],
    )
    assert out == {"lineItem_status": ["one", "two", "other", "1 ", None]}


def test_map_to_numbers_booleans_and_null_writes_text_or_empties() -> None:
    out = transformed(
        {"v": ["a", "b", "c", "d"]},
        [{"rename": {"from": "v", "to": "lineItem_size", "map": {"a": 1, "b": 2.5, "c": True, "d": None}}}],
    )
    assert out == {"lineItem_size": ["1", "2.5", "true", None]}


def test_map_empty_key_fills_empty_fields() -> None:
    """A CSV cannot tell "" from a missing value: "" as a from matches both."""
    out = transformed(
        {"status": ["paid", None, ""]},
        [{"rename": {"from": "status", "to": "lineItem_status", "map": {"": "placed"}}}],
    )
    assert out == {"lineItem_status": ["paid", "placed", "placed"]}


def test_map_list_form_and_trim_lowercase_before_map() -> None:
    out = transformed(
        {"s": [" PAID", "Placed "]},
        [
            {
                "rename": {
                    "from": "s",
                    "to": "lineItem_status",
                    "trim": True,
                    "lowercase": True,
                    "map": [{"from": "paid", "to": "fulfilled"}],
                }
            }
        ],
    )
    assert out == {"lineItem_status": ["fulfilled", "placed"]}


# --- ids -------------------------------------------------------------------------------------------


def test_sha256_is_the_hex_digest_of_the_lowercased_trimmed_value() -> None:
    out = transformed(
        {"email": [" Ann@Example.COM ", None]}, [{"rename": {"from": "email", "to": "userId", "sha256": True}}]
    )
    assert out == {"userId": [hashlib.sha256(b"ann@example.com").hexdigest(), None]}


# --- failures --------------------------------------------------------------------------------------


def test_a_failing_cast_marks_the_row_with_the_value_and_nulls_the_field() -> None:
    out = transformed(
        {"qty": ["2", "2.7", "car", None, " 3 "]},
        [{"rename": {"from": "qty", "to": "lineItem_quantity", "cast": "integer"}}],
    )
    assert out == {
        "lineItem_quantity": [2, 2, None, None, 3],
        "failed:qty->lineItem_quantity": [False, False, True, False, False],
        "value:qty->lineItem_quantity": [None, None, "car", None, None],
    }


def test_a_cast_writes_the_type_it_names() -> None:
    """A cast value is typed (a users import stores it as a JSON number or bool); the formats with a schema read
    it as its canonical text (etl.formats.rows.raw)."""
    out = transformed(
        {"a": ["1e3", "0"], "b": ["2.4", "0"]},
        [
            {"rename": {"from": "a", "to": "lineItem_total", "cast": "float"}},
            {"rename": {"from": "b", "to": "lineItem_adult", "cast": "bool"}},
        ],
    )
    assert out == {
        "lineItem_total": [1000.0, 0.0],
        "lineItem_adult": [True, False],
        "failed:a->lineItem_total": [False, False],
        "failed:b->lineItem_adult": [False, False],
        "value:a->lineItem_total": [None, None],
        "value:b->lineItem_adult": [None, None],
    }


def test_a_failing_timestamp_marks_the_row() -> None:
    out = transformed(
        {"created": ["2021/01/21 14:25", "21.01.2021"]},
        [{"rename": {"from": "created", "to": "createdAt", "timestamp": "yyyy/MM/dd HH:mm"}}],
    )
    assert out == {
        "createdAt": ["2021-01-21T14:25:00Z", None],
        "failed:created->createdAt": [False, True],
        "value:created->createdAt": [None, "21.01.2021"],
    }


# --- mistakes found when the spec loads ---------------------------------------------------------------


def load_error(tmp_path: Path, steps_yaml: str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(f"format: kevel_orders\nsource: a.csv\ntransforms:\n{steps_yaml}", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        validate_spec(load_spec_data(path), str(path))
    return str(caught.value)


@pytest.mark.parametrize(
    ("steps_yaml", "expected"),
    [
        (
            "  - rename: {from: state, to: lineItem_status, map: {'1': placed, '1': paid}}\n",
            "the key '1' is given twice (first on line 4)",
        ),
        (
            "  - rename: {from: s, to: lineItem_status, map: [{from: a, to: b}, {from: a, to: c}]}\n",
            "transforms[0].rename.map: the from value 'a' is given twice",
        ),
        (
            "  - rename: {from: qty, to: lineItem_quantity, cast: int}\n",
            "transforms[0].rename.cast: Input should be 'string', 'integer', 'float' or 'bool'",
        ),
        (
            "  - rename: {from: d, to: createdAt, timestamp: 'EEE yyyy-MM-dd'}\n",
            "unsupported letter 'E'",
        ),
        (
            "  - rename: {from: d, to: createdAt, timestamp: 'yyyy-MM-dd', cast: integer}\n",
            "timestamp and cast cannot be combined",
        ),
        ("  - rename: {from: a, to: orderId, form: x}\n", "transforms[0].rename.form: unknown key"),
        ("  - rename: {from: a, to: orderId}\n    copy: {from: a, to: b}\n", "transforms[0]: expected one step"),
        ("  - move: {from: a, to: b}\n", "transforms[0]: expected one step"),
        (
            "  - rename: {from: qty, to: lineItem_qty}\n",
            "transforms[0] (rename qty -> lineItem_qty): kevel_orders has no field 'lineItem_qty' "
            "(did you mean 'lineItem_quantity'?)",
        ),
        (
            "  - new: {field: userIdType, value: email}\n  - new: {field: userIdType, value: phone}\n",
            "transforms[1] (new userIdType = 'phone'): writes 'userIdType', which transforms[0] "
            "(new userIdType = 'email') wrote and nothing read since",
        ),
        (
            "  - rename: {from: created, to: createdAt}\n  - copy: {from: created, to: lastUpdated}\n",
            "transforms[1] (copy created -> lastUpdated): reads 'created', but transforms[0] "
            "(rename created -> createdAt) renamed it",
        ),
        ("  - delete: {field: orderId}\n", "removes 'orderId', a required column of kevel_orders"),
        (
            "  - rename: {from: state, to: lineItem_status, map: {1: placed}}\n",
            "map key 1 is a int, but kevel_orders reads text, so it never matches: quote it ('1')",
        ),
        ("  - copy: {from: a, to: a}\n", "from and to are both 'a' and no value transformation is given"),
    ],
    ids=[
        "map from twice (yaml)",
        "map from twice (list)",
        "unknown cast",
        "timestamp letter",
        "timestamp and cast",
        "unknown key",
        "two kinds in one step",
        "unknown step",
        "field the format lacks",
        "two writes",
        "read after rename",
        "required deleted",
        "number key on text",
        "copy onto itself",
    ],
)
def test_mistakes_are_reported_when_the_spec_loads(tmp_path: Path, steps_yaml: str, expected: str) -> None:
    message = load_error(tmp_path, steps_yaml)
    assert str(tmp_path / "spec.yaml") in message
    assert expected in message


def test_a_field_written_then_read_by_a_later_step_is_not_a_mistake() -> None:
    spec = spec_with(
        [
            {"copy": {"from": "email", "to": "scratch", "trim": True}},
            {"rename": {"from": "scratch", "to": "userId", "lowercase": True}},
            {"delete": {"field": "orderId"}},
            {"rename": {"from": "order_ref", "to": "orderId"}},
        ]
    )
    assert len(spec.transforms) == 4


# --- through the etl command -----------------------------------------------------------------------

FOREIGN_HEADER = [
    "order_ref", "email", "currency", "total", "subtotal", "tax", "shipping", "discount", "refund",
    "created", "product", "sku", "line_total", "qty", "state", "internal_note",
]  # fmt: skip

SPEC = """\
format: kevel_orders
source: {source}
transforms:
  - rename: {{from: order_ref, to: orderId}}
  - copy: {{from: email, to: userId, lowercase: true, trim: true}}
  - new: {{field: userIdType, value: email}}
  - delete: {{field: internal_note}}
  - rename: {{from: state, to: lineItem_status, map: {{"1": placed, "2": paid, "3": fulfilled}}}}
  - rename: {{from: created, to: createdAt, timestamp: "yyyy/MM/dd HH:mm"}}
  - rename: {{from: qty, to: lineItem_quantity, cast: integer}}
  - rename: {{from: product, to: lineItem_productId}}
  - rename: {{from: sku, to: lineItem_sku}}
  - rename: {{from: line_total, to: lineItem_total, cast: float}}
  - copy: {{from: currency, to: lineItem_currency}}
  - new: {{field: lineItem_subtotal, value: 0}}
  - new: {{field: lineItem_tax, value: 0}}
  - new: {{field: lineItem_shipping, value: 0}}
  - new: {{field: lineItem_discount, value: 0}}
  - new: {{field: lineItem_refund, value: 0}}
"""


def foreign_row(ref: str, **values: str) -> dict[str, str]:
    row = {
        "order_ref": ref, "email": f" {ref.upper()}@Example.com", "currency": "EUR", "total": "10", "subtotal": "8",
        "tax": "2", "shipping": "0", "discount": "0", "refund": "0", "created": "2021/01/21 14:25", "product": "p1",
        "sku": "p1-1", "line_total": "10", "qty": "2.0", "state": "2", "internal_note": "call back",
    }  # fmt: skip
    row.update(values)
    return row


def test_an_export_that_needs_rename_map_timestamp_and_cast_imports_as_kevel_orders(tmp_path, etl, query) -> None:
    source = write_csv(
        tmp_path / "export.csv",
        [
            foreign_row("a1"),
            foreign_row("a1", state="3", product="p2", sku="p2-1", qty="1", line_total="5.5", email="", created=""),
            foreign_row("b2", created="21.01.2021"),  # timestamp does not match: the order is rejected
            foreign_row("c3", qty="two"),  # cast fails
            foreign_row("d4", state="9"),  # map leaves 9, the format rejects the status
        ],
        header=FOREIGN_HEADER,
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(source=source), encoding="utf-8")
    run = etl("import", str(spec), "--json")
    assert run.code == 0, run.stderr
    report = run.json
    assert (report["items"], report["valid"], report["rejected"]) == (5, 2, 3)
    assert report["entities"]["orders"]["added"] == 1

    assert query(
        "SELECT order_id, user_type, user_id, created_at FROM orders NATURAL JOIN (SELECT customer_id, "
        "id_type AS user_type FROM identities WHERE id_type <> 'email_sha256')"  # the email's, the graph's own
    ) == [
        {
            "order_id": "a1",
            "user_type": "email",  # the buyer is a customer of the identity graph
            "user_id": "a1@example.com",
            "created_at": datetime(2021, 1, 21, 14, 25, tzinfo=UTC),
        }
    ]
    assert query("SELECT line_no, product_id, quantity, total, status FROM line_items ORDER BY line_no") == [
        {"line_no": 1, "product_id": "p1", "quantity": 2.0, "total": 10.0, "status": "paid"},
        {"line_no": 2, "product_id": "p2", "quantity": 1.0, "total": 5.5, "status": "fulfilled"},
    ]
    rejects = query("SELECT line, raw->>'order_ref' AS ref, raw->>'qty' AS qty, reasons FROM rejects ORDER BY line")
    assert [(r["line"], r["ref"]) for r in rejects] == [(4, "b2"), (5, "c3"), (6, "d4")]
    assert rejects[0]["reasons"] == [
        {
            "column": "created",
            "hint": 'transforms[5] (rename created -> createdAt, timestamp "yyyy/MM/dd HH:mm"): '
            'does not match the timestamp pattern "yyyy/MM/dd HH:mm"',
            "value": "21.01.2021",
        }
    ]
    assert rejects[1]["qty"] == "two"  # raw keeps the file's values under the file's names
    assert rejects[1]["reasons"] == [
        {
            "column": "qty",
            "hint": "transforms[6] (rename qty -> lineItem_quantity, cast integer): cannot be cast to integer",
            "value": "two",
        }
    ]
    assert rejects[2]["reasons"] == [
        {
            "column": "lineItem_status",
            "hint": "not a line item status (placed, paid, fulfilled, refunded, cancelled)",
            "value": "9",
        }
    ]
    issues = {(i["column"], i["hint"][:14]): i for i in report["issues"]}
    assert issues[("qty", "transforms[6] ")]["examples"] == ["two"]


def test_a_from_field_missing_in_the_file_stops_before_reading_rows(tmp_path, etl, query) -> None:
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1")])
    spec = write_spec(tmp_path, source, transforms=[{"rename": {"from": "order_ref", "to": "orderId"}}])
    run = etl("import", str(spec))
    assert run.code != 0
    assert f"{spec}: the transforms do not fit {source}" in run.stderr
    assert "transforms[0] (rename order_ref -> orderId): there is no field 'order_ref' here" in run.stderr
    assert "Traceback" not in run.stderr
    assert query("SELECT count(*) AS n FROM orders") == [{"n": 0}]


def test_overwriting_a_column_of_the_file_must_be_said(tmp_path, etl) -> None:
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1", state="2")])
    spec = write_spec(
        tmp_path, source, transforms=[{"rename": {"from": "state", "to": "lineItem_status", "map": {"2": "paid"}}}]
    )
    run = etl("import", str(spec))
    assert run.code != 0
    assert "'lineItem_status' is already a field here and would be overwritten" in run.stderr
    assert "delete: {field: lineItem_status}" in run.stderr


# --- casts on a users CSV (issue 33): the JSON type, in place -------------------------------------------------


def users_import(tmp_path: Path, store: Path, text: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    from etl.pipeline.importer import run_import

    source = tmp_path / "crm.csv"
    source.write_text(text, encoding="utf-8")
    spec = {"format": "kevel_users", "source": str(source), "options": {"id": {"field": "id", "type": "external_id"}},
            "transforms": steps}  # fmt: skip
    return run_import(validate_spec(spec, "spec"), store)


def test_a_cast_in_place_stores_json_numbers_and_bools_that_a_numeric_segment_reads(tmp_path, store, query) -> None:
    """Before: the cast wrote text ("orders":"21"), and `from: orders, to: orders` was refused."""
    report = users_import(
        tmp_path, store, "id,orders,score,vip,city\nc1,21,2.4,false,Kyiv\nc2,3,0,1,Lviv\nc3,,,,Odesa\n",
        [{"rename": {"from": "orders", "to": "orders", "cast": "integer"}},
         {"copy": {"from": "score", "to": "score", "cast": "float"}},
         {"rename": {"from": "vip", "to": "vip", "cast": "bool"}}],
    )  # fmt: skip
    assert (report["valid"], report["rejected"]) == (3, 0)
    stored = query(
        "SELECT i.id_value, c.attributes FROM customers AS c JOIN identities AS i USING (customer_id) ORDER BY 1"
    )
    assert {r["id_value"]: json.loads(r["attributes"]) for r in stored} == {
        "c1": {"orders": 21, "score": 2.4, "vip": False, "city": "Kyiv"},
        "c2": {"orders": 3, "score": 0.0, "vip": True, "city": "Lviv"},
        "c3": {"city": "Odesa"},  # empty cells are left out (empty_values: ignore)
    }
    segment = query(
        "SELECT i.id_value FROM customers AS c JOIN identities AS i USING (customer_id) "
        "WHERE (c.attributes->>'orders')::INT > 20 AND json_type(c.attributes->'orders') = 'UBIGINT'"
    )
    assert segment == [{"id_value": "c1"}]


def test_a_typed_field_renamed_again_keeps_its_type_and_a_map_after_it_reads_its_text(tmp_path, store, query) -> None:
    users_import(
        tmp_path, store, "id,orders\nc1,21\nc2,0\n",
        [{"rename": {"from": "orders", "to": "orders", "cast": "integer"}},
         {"copy": {"from": "orders", "to": "order_count"}},
         {"rename": {"from": "orders", "to": "band", "map": {"0": "none"}}}],
    )  # fmt: skip
    stored = query("SELECT i.id_value, c.attributes FROM customers AS c JOIN identities AS i USING (customer_id)")
    assert {r["id_value"]: json.loads(r["attributes"]) for r in stored} == {
        "c1": {"order_count": 21, "band": "21"},
        "c2": {"order_count": 0, "band": "none"},
    }


def test_a_rename_onto_itself_without_a_value_transformation_is_refused() -> None:
    with pytest.raises(SpecError, match="no value transformation is given"):
        spec_with([{"rename": {"from": "orderId", "to": "orderId"}}])
