"""Benchmark an E-goi Contacts import (issue 20): a list of 100,000 contacts from the loopback server that answers
as E-goi's API v3 does (tests/egoi_server.py), pages of 1,000, into a fresh store, then the re-import.

No target of its own (the issue names none): the figures say what the API path costs beside the file imports.
Each step in its own process (bench/harness.py: wall time and peak RSS).

    .venv/bin/python bench/egoi_contacts.py [--contacts 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "tests"))

from egoi_server import contact, serving  # noqa: E402  (the tests' loopback E-goi API)
from harness import Row, Series, StepFailed, checked, etl_import, exit_failed, table  # noqa: E402


def measure(contacts: int) -> str:
    """The first import and the re-import of a list of `contacts`: a Markdown table."""
    heading = f"E-goi Contacts, {contacts:,} contacts from the loopback API, pages of 1,000:"
    rows = []
    with serving() as api, tempfile.TemporaryDirectory() as work:
        api.lists[321] = [
            contact(f"c{n:07d}", f"user{n}@example.com", cellphone=f"+3519{n:08d}", cellphone_status="active")
            for n in range(contacts)
        ]
        spec = Path(work) / "egoi.yaml"
        connection = {"api_key": "${EGOI_API_KEY}"}
        spec.write_text(json.dumps({"format": "egoi_contacts", "source": api.base_url, "connection": connection,
                                    "options": {"list_id": 321}}))  # fmt: skip
        os.environ["EGOI_API_KEY"] = api.key()  # the child processes' environment
        for name in ("first import", "re-import"):
            try:
                run = checked(name, etl_import(spec, Path(work) / "cdp.duckdb"))
            except StepFailed as failed:
                exit_failed(failed)
            report = run.json()
            people = report["entities"]["customers"]
            cells = {"pages": str(report["api"]["pages"]),
                     "customers added / unchanged": f"{people['added']:,} / {people['unchanged']:,}"}  # fmt: skip
            rows.append(Row(Series.of(name, run), cells=cells))
    return "\n".join([heading, "", table(rows, extra=["pages", "customers added / unchanged"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    print(measure(parser.parse_args().contacts))


if __name__ == "__main__":
    main()
