"""`etl samples`: the bundled samples (import specs and the files they read) written into a folder to try etl on."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.common import app, fail, out


@app.command("samples")
def samples_(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="FOLDER", help="The folder to write them into (made if missing); the specs' sources name it."
        ),
    ] = Path("data/samples"),
) -> None:
    """Write the bundled samples (import specs and the vendor files they read) into FOLDER, default data/samples.

    Then import one from the same folder you ran this in: `etl import data/samples/kevel_orders.yaml`. A file
    already there as the bundled one is left alone; if one differs (a spec you changed), nothing is written.
    Example: `etl samples && etl import data/samples/kevel_orders.yaml --dry-run`
    """
    from etl.samples import SamplesChanged, write_samples

    try:
        copied = write_samples(folder)
    except SamplesChanged as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"{folder}: cannot write the samples: {exc.strerror or exc}", 1)
    for name in copied.written:
        out.print(f"wrote {copied.folder / name}")
    if copied.unchanged:
        out.print(f"{len(copied.unchanged)} file(s) already in {copied.folder}, as bundled: left alone")
    spec = shlex.quote(str(copied.folder / "kevel_orders.yaml"))
    out.print(f"Next, from this folder: etl import {spec} (then kevel_users.yaml beside it: the orders' buyers)")
