"""The spool folder beside a store (`.etl-spool/`): what an import writes while it runs, and what a dead one left.

An import's work folder (`import-<id>-p<pid>-<start>-...`) and each source's spooled copy (`.spool-p<pid>-<start>-...`)
carry their process's tag: its id and its start time (a process id is reused; with its start time it is not).
An import removes the spools whose process is gone (killed, crashed: their own cleanup never ran), and never
those of a running process (another import into another store of the same folder). A spool without a tag
(written before tags) is left alone: whose it is cannot be told.
"""

from __future__ import annotations

import os
import re
import shutil
from functools import cache
from pathlib import Path

import psutil

FOLDER = ".etl-spool"
_TAGGED = re.compile(r"(?:^import-\d+-|^\.spool-)p(\d+)-(\d+)-")


def folder_of(store: Path) -> Path:
    return store.parent / FOLDER


@cache
def tag() -> str:
    """This process's tag: p<pid>-<start time, in ms>."""
    return f"p{os.getpid()}-{_started_ms(os.getpid())}"


def work_prefix(import_id: int) -> str:
    """The prefix of an import's work folder."""
    return f"import-{import_id}-{tag()}-"


def _started_ms(pid: int) -> int | None:
    try:
        return round(psutil.Process(pid).create_time() * 1000)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def is_dead(name: str) -> bool:
    """Whether a spool's name carries the tag of a process that is gone (untagged: cannot be told, not dead)."""
    found = _TAGGED.match(name)
    return found is not None and _started_ms(int(found.group(1))) != int(found.group(2))


def remove_dead(spool_dir: Path) -> list[str]:
    """Remove the spools left by processes that are gone; returns their names."""
    if not spool_dir.is_dir():
        return []
    removed = []
    for entry in spool_dir.iterdir():
        if not is_dead(entry.name):
            continue  # untagged, or its process is still running
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return sorted(removed)
