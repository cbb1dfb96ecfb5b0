"""`etl segment list`, `show` and `run`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.common import (
    WAIT_DEFAULT,
    StoreOption,
    WaitOption,
    console,
    fail,
    key_value_pairs,
    out,
    segment_app,
)
from etl.display import layouts, terminal
from etl.display.page import Page
from etl.errors import EtlError
from etl.store.runs import to_json


@segment_app.command("list")
def segment_list() -> None:
    """List the segments: name, grain and parameters (with their defaults; a date that defaults to the store's last
    purchase day says so).

    Example: `etl segment list`
    """
    from etl.segments.run import catalog

    page = Page()
    table = page.table("Segments", ("segment", "key"), ("what it is", "prose"), ("grain", "prose"),
                       ("parameters", "prose"))  # fmt: skip
    for s in catalog().values():
        params = ", ".join(
            p.name + ("" if p.required else f"={p.store_default.label if p.store_default else repr(p.default)}")
            for p in s.parameters
        )
        table.add(s.name, s.summary, s.grain, params)
    terminal.show(out, page)


@segment_app.command("show")
def segment_show(name: Annotated[str, typer.Argument(help="The segment (see etl segment list).")]) -> None:
    """Print a segment's SQL, its header saying its grain, parameters and an example.

    Example: `etl segment show rfm`
    """
    from etl.segments.run import get

    try:
        segment = get(name)
    except EtlError as exc:
        fail(str(exc), 1)
    sys.stdout.write(segment.path.read_text(encoding="utf-8"))


@segment_app.command("run")
def segment_run(
    name: Annotated[str, typer.Argument(help="The segment (see etl segment list).")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=VALUE",
            help="A parameter; repeatable. Left out, its default: observation_end's is the store's last purchase day.",
        ),
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the rows to FILE.csv or FILE.parquet.")] = None,
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON lines.")] = False,
    wait: WaitOption = WAIT_DEFAULT,
) -> None:
    """Run a segment over the store (read-only). Parameters are bound, never pasted into SQL.

    A segment's date defaults to the store's last purchase day (UTC): observation_end (rfm, customer_summary, ltv,
    churn_risk, ...) is that day, bought_product_within's window ends on it. A purchase is an order with a buyer and
    a line item in the segment's statuses (default placed, paid, fulfilled): a later cancelled or refunded order does
    not move it. `etl segment list` shows each parameter's default.

    Example: `etl segment run rfm --out rfm.parquet` (up to the store's last purchase day), or
    `etl segment run rfm --param observation_end=2024-12-31 --out rfm.parquet`
    """
    from etl.api.store import Store

    given = key_value_pairs("--param", param or [], "observation_end=2024-12-31")
    if out_file is not None and out_file.suffix.lower() not in {".csv", ".parquet"}:
        fail(f"--out {out_file}: expected a .csv or .parquet file")
    try:
        ran = Store(store, wait=wait).segment(name, **given)
    except EtlError as exc:
        fail(str(exc), 1)
    frame = ran.frame
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(out_file) if out_file.suffix.lower() == ".parquet" else frame.write_csv(out_file)
        console.print(f"{frame.height:,} rows written to {out_file}")
    elif as_json:
        for row in frame.iter_rows(named=True):
            sys.stdout.write(to_json(row) + "\n")
    else:
        terminal.show(out, layouts.segment_run(name, ran.parameters, ran.defaults, frame, ran.duration_s))
