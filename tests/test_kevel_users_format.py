"""The kevel_users format's plan (issue 15, item 3), dict in, dict out, with no store: ids, the attribute
patch and the checks, for a CSV and for JSON lines."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest

from etl.formats import kevel_users
from etl.formats.rows import RAW

OPTIONS = {"id": {"field": "customerNumber", "type": "external_id"}, "ids": {"email": "mail", "phone": "mobile"}}


def planned(records: list[dict], reader: str, **options) -> list[dict]:
    """Each record's ids, patch and reasons (the hints of the checks it fails)."""
    chosen = kevel_users.Options.model_validate({**OPTIONS, **options})
    if reader == "csv":
        header = list(records[0])
        lf = pl.LazyFrame(
            {RAW + k: [r.get(k) for r in records] for k in header}, schema={RAW + k: pl.String for k in header}
        )
    else:
        header = []
        lf = pl.LazyFrame({"value": [json.dumps(r) for r in records]})
    plan = kevel_users.plan(header, chosen, reader)
    assert plan.missing == []
    out, checks = plan.transform(lf)
    failed = [c.failed.fill_null(False).alias(f"c{i}") for i, c in enumerate(checks)]
    rows = out.with_columns(failed).collect().to_dicts()
    return [
        {
            "ids": [(t, v) for t, v in zip(plan.facts.id_types, row["ids"], strict=True) if v is not None],
            "patch": json.loads(row["patch"]),
            "not_attributes": json.loads(row["not_attributes"]),
            "drop_nulls": row["drop_nulls"],
            "reasons": [checks[i].hint for i in range(len(checks)) if row[f"c{i}"]],
        }
        for row in rows
    ]


def test_a_csv_row_gives_its_ids_normalised_and_its_other_fields_as_text_attributes():
    [row] = planned(
        [{"customerNumber": " C-42 ", "mail": " Ann@Example.COM", "mobile": "", "numberOfOrders": "21", "city": ""}],
        "csv",
    )
    assert row == {
        "ids": [("email", "ann@example.com"), ("external_id", "C-42")],
        "patch": {"numberOfOrders": "21", "city": None},
        "not_attributes": {},
        "drop_nulls": True,  # empty_values: ignore, the default: the empty city is left out by the merge
        "reasons": [],
    }
    [unset] = planned([{"customerNumber": "1", "mail": "", "mobile": "", "city": ""}], "csv", empty_values="unset")
    assert unset["drop_nulls"] is False and unset["patch"] == {"city": None}


def test_json_lines_keep_their_types_and_nulls_unset():
    [row] = planned([{"customerNumber": 42, "mail": "a@b.co", "numberOfOrders": 21, "vip": True, "tags": ["x"],
                      "address": {"city": "Kyiv"}, "note": None}], "jsonl")  # fmt: skip
    assert row["ids"] == [("email", "a@b.co"), ("external_id", "42")]
    assert row["patch"]["numberOfOrders"] == 21 and row["patch"]["vip"] is True and row["patch"]["tags"] == ["x"]
    assert row["not_attributes"] == {"customerNumber": None, "mail": None, "mobile": None}
    assert row["drop_nulls"] is False and row["reasons"] == []
    [ignored] = planned([{"customerNumber": 1, "note": None}], "jsonl", nulls="ignore")
    assert ignored["drop_nulls"] is True


@pytest.mark.parametrize("reader", ["csv", "jsonl"])
def test_invalid_ids_and_rows_without_any_id_are_rejected(reader):
    rows = planned(
        [
            {"customerNumber": "", "mail": "not-an-email", "mobile": ""},
            {"customerNumber": "", "mail": "", "mobile": "12"},
            {"customerNumber": "", "mail": "", "mobile": ""},
        ],
        reader,
    )
    assert [r["reasons"] for r in rows] == [
        ["not a valid email id"],
        ["not a valid phone id"],
        ["no id: every id field is empty or missing"],
    ]


def test_hash_emails_lowercases_trims_then_hashes():
    [row] = planned([{"customerNumber": "", "mail": " Ann@Example.com ", "mobile": ""}], "csv", hash_emails=True)
    assert row["ids"] == [("email_sha256", hashlib.sha256(b"ann@example.com").hexdigest())]


def test_an_id_field_the_header_lacks_is_missing():
    chosen = kevel_users.Options.model_validate(OPTIONS)
    assert kevel_users.plan(["mail", "city"], chosen).missing == ["mobile", "customerNumber"]


def test_without_an_id_the_options_are_refused(etl, tmp_path):
    with pytest.raises(ValueError, match="an id is required"):
        kevel_users.Options()
    run = etl("import", "--format", "kevel_users", "--source", str(tmp_path / "u.csv"))
    assert run.code == 2
    assert "options: an id is required: id {field, type} (Kevel's form), or ids {type: field}" in run.stderr


def test_updated_at_field_is_read_as_a_utc_timestamp_and_checked():
    chosen = kevel_users.Options.model_validate({**OPTIONS, "updated_at_field": "changed"})
    lf = pl.LazyFrame({"value": ['{"customerNumber": 1, "changed": "2024-05-01T10:00:00+02:00"}',
                                 '{"customerNumber": 2, "changed": "yesterday"}']})  # fmt: skip
    out, checks = kevel_users.plan([], chosen, "jsonl").transform(lf)
    rows = out.with_columns(checks[-1].failed.alias("bad")).select("updated_at", "bad").collect()
    assert rows["updated_at"].to_list()[0].isoformat() == "2024-05-01T08:00:00+00:00"
    assert rows["bad"].to_list() == [False, True] and checks[-1].hint == "not an ISO-8601 date and time"
