"""`encoding: auto` through `etl import` (issue 14): the user's cp1251 kettles, and what an uncertain
detection says in the report and on the terminal, or makes fail with --fail-on-low-confidence."""

from __future__ import annotations

from conftest import kevel_row, write_csv

KETTLE = "Чайник електричний Ґ"


def test_the_cp1251_kettle_is_stored_as_written(tmp_path, etl, query):
    source = write_csv(tmp_path / "orders.csv", [kevel_row("o1", lineItem_name=KETTLE)], encoding="cp1251")

    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto", "--json")

    assert run.code == 0, run.stderr
    (file,) = run.json["files"]
    assert file["encoding"] == "cp1251"
    assert query("SELECT name FROM line_items") == [{"name": KETTLE}]


def uncertain_file(tmp_path):
    """One short Polish city in a Central European code page: Western "Gdañsk" reads as plausibly."""
    return write_csv(tmp_path / "orders.csv", [kevel_row("o1", shippingCountry="Gdańsk")], encoding="cp1250")


def test_a_low_confidence_detection_is_reported_with_the_runner_up(tmp_path, etl):
    source = uncertain_file(tmp_path)

    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto", "--json")

    assert run.code == 0, run.stderr
    (file,) = run.json["files"]
    assert file["encoding_confidence"] < 0.5
    assert {file["encoding"], file["encoding_runner_up"]} == {"cp1250", "cp1252"}
    assert f"{source}: the encoding was detected with low confidence" in file["encoding_warning"]
    assert "encoding:" in file["encoding_warning"]
    assert "Warning: " + file["encoding_warning"] in run.stderr  # the CI log shows it beside the JSON

    shown = etl("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto", "--dry-run")
    assert shown.code == 0, shown.stderr
    assert "Warning: " + file["encoding_warning"] in shown.stdout


def test_fail_on_low_confidence_makes_it_an_error(tmp_path, etl, query):
    source = uncertain_file(tmp_path)
    args = ("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto")

    run = etl(*args, "--fail-on-low-confidence", "--json")

    assert run.code == 1
    assert "low confidence" in run.stderr and "fail_on_low_confidence" in run.stderr
    assert run.json["status"] == "failed"
    assert query("SELECT count(*) AS n FROM line_items") == [{"n": 0}]

    spec = tmp_path / "spec.yaml"
    spec.write_text(f"format: kevel_orders\nsource: {source}\nencoding: auto\nfail_on_low_confidence: true\n")
    assert etl("import", str(spec)).code == 1


UKRAINIAN = "Чайник електричний Ґудзик їжак Євген подушка рушник Київ Львів Харків яблуко сонячний зелений".split()


def test_a_certain_detection_has_no_warning(tmp_path, etl):
    """Varied names (here 13 distinct words) are evidence enough; 4 distinct words are not (see docs/sources.md)."""
    rows = [kevel_row(f"o{i}", lineItem_name=f"{UKRAINIAN[i % 13]} {i}", shippingCountry="Київ") for i in range(30)]
    source = write_csv(tmp_path / "orders.csv", rows, encoding="cp1251")

    run = etl("import", "--format", "kevel_orders", "--source", str(source), "--encoding", "auto",
              "--fail-on-low-confidence", "--json")  # fmt: skip

    assert run.code == 0, run.stderr
    (file,) = run.json["files"]
    assert file["encoding"] == "cp1251" and file["encoding_warning"] is None
    assert file["encoding_confidence"] >= 0.5
