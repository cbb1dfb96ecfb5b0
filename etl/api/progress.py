"""Progress of a long import in a notebook (a Jupyter progress widget where ipywidgets is installed, else a line of
text that tqdm keeps rewriting) or on a terminal. The `etl` command draws its own bar (etl.cli.importing)."""

from __future__ import annotations

import sys
from typing import Any


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), where widgets can be drawn."""
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except AttributeError:
        return False


class Bars:
    """One bar per file read: the callback etl.pipeline.staging calls with (uri, rows read, rows estimated)."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, uri: str, rows: int, estimate: int) -> None:
        from tqdm.auto import tqdm

        bar = self.bars.get(uri)
        if bar is None:
            bar = self.bars[uri] = tqdm(total=estimate, desc=f"reading {uri}", unit=" rows", leave=False)
        bar.total = max(estimate, rows)
        bar.update(rows - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def automatic() -> Bars | None:
    """Bars in a notebook or on an interactive terminal; nothing in a pipe or a CI log."""
    return Bars() if in_notebook() or sys.stderr.isatty() else None
