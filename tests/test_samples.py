"""The bundled samples (etl.samples): one copy, in the package, which the checkout's data/samples is; `etl samples`
and copy_samples write them into a user's folder, with the specs' sources naming it, and never overwrite a file
the user changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, environment, run_in_process

from etl import samples
from etl.spec import load_spec_data, validate_spec

SPECS = [name for name in samples.names() if name.endswith(".yaml")]


def test_the_checkouts_data_samples_is_the_packages_folder():
    """data/samples (make import, the notebooks, the README's examples) is a link to etl/samples/files: no second
    copy to drift from the one the wheel ships."""
    assert (REPO / "data" / "samples").resolve() == samples.FILES.resolve() == REPO / "etl" / "samples" / "files"
    assert "kevel_orders.yaml" in SPECS and "kevel_orders.csv" in samples.names()


def test_copy_samples_writes_the_bundled_files_as_they_are(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    folder = samples.copy_samples()

    assert folder == Path("data/samples")
    assert sorted(p.name for p in folder.iterdir()) == samples.names()  # no temporary file left
    assert all((folder / name).read_bytes() == (samples.FILES / name).read_bytes() for name in samples.names())


@pytest.mark.parametrize("folder", ["demo", "my demo #1", "a: b/samples", "data/samples/data/samples"])
def test_in_another_folder_each_specs_sources_name_that_folder(tmp_path, monkeypatch, folder):
    monkeypatch.chdir(tmp_path)

    samples.copy_samples(folder)

    for name in SPECS:
        bundled = validate_spec(load_spec_data(samples.FILES / name), name)
        spec = validate_spec(load_spec_data(tmp_path / folder / name), name)
        if bundled.source[0].startswith("data/samples/"):
            assert spec.source == [f"{folder}/{bundled.source[0].removeprefix('data/samples/')}"]
            assert (tmp_path / spec.source[0]).is_file()
        else:  # an API's address (egoi_contacts)
            assert spec.source == bundled.source
        assert spec.model_dump() == bundled.model_dump() | {"source": spec.source}
    if folder == "demo":  # the comments that name a spec's path too
        assert "etl import demo/google_merchant.yaml" in (tmp_path / "demo" / "google_merchant.yaml").read_text()


def test_etl_samples_then_etl_import_from_the_same_folder(tmp_path):
    env = environment()
    env.pop("ETL_EXPECTATIONS")  # the suites an installed etl finds

    wrote = run_in_process(["samples"], env, cwd=tmp_path)
    imported = run_in_process(["import", "data/samples/kevel_orders.yaml", "--store", "s.duckdb", "--json"], env,
                              cwd=tmp_path)  # fmt: skip

    assert wrote.code == 0, wrote.stderr
    assert "wrote data/samples/kevel_orders.yaml" in wrote.stdout
    assert "etl import data/samples/kevel_orders.yaml" in wrote.stdout
    assert imported.code == 0, imported.stderr
    report = imported.json
    assert (report["status"], report["items"], report["valid"], report["rejected"]) == ("completed", 7, 5, 2)
    assert report["validation"]["suites_dir"] == str(REPO / "etl" / "quality" / "expectations")  # the bundled


def test_a_second_run_leaves_the_files_alone(tmp_path):
    samples.copy_samples(tmp_path / "s")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "s").iterdir()}

    again = samples.write_samples(tmp_path / "s")
    said = run_in_process(["samples", str(tmp_path / "s")], environment(), cwd=tmp_path)

    assert (again.written, again.unchanged) == ([], samples.names())
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "s").iterdir()} == before
    assert said.code == 0 and "wrote" not in said.stdout
    assert f"{len(samples.names())} file(s) already in {tmp_path / 's'}, as bundled: left alone" in said.stdout


def test_a_changed_file_is_never_overwritten_and_nothing_is_written(tmp_path):
    folder = samples.copy_samples(tmp_path / "s")
    spec = folder / "kevel_orders.yaml"
    spec.write_text(spec.read_text() + "options: {hash_emails: true}\n")
    (folder / "kevel_users.jsonl").unlink()  # a file that would be written, but for the changed one

    with pytest.raises(samples.SamplesChanged) as refused:
        samples.copy_samples(folder)
    said = run_in_process(["samples", str(folder)], environment(), cwd=tmp_path)

    assert str(spec) in str(refused.value) and "Nothing was written" in str(refused.value)
    assert spec.read_text().endswith("options: {hash_emails: true}\n")
    assert not (folder / "kevel_users.jsonl").exists()
    assert said.code == 1
    assert str(spec) in said.stderr and "Nothing was written" in said.stderr


def test_writing_into_the_checkouts_data_samples_writes_nothing(monkeypatch):
    monkeypatch.chdir(REPO)

    copied = samples.write_samples("data/samples")

    assert (copied.written, copied.unchanged) == ([], samples.names())
