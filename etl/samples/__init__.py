"""The bundled samples: import specs and the vendor files they read, to try `etl` on (`etl samples`).

Where they live: in etl/samples/files/, inside the package, so that an installed `etl` (pip, pipx, uv tool)
has them. That folder is their one copy. The checkout's data/samples is a symlink to it, so that `make import`,
the notebooks, the tests and the README's examples (`etl import data/samples/kevel_orders.yaml`, run in the
checkout) keep their path. Chosen over the other way round (the files kept in data/samples, and hatch's
force-include putting them into the wheel), which would have the package look for its samples in two places:
in the wheel, or in the checkout beside an editable install. A lookup outside the package is what left an
installed `etl` without its expectation suites. And hatch copies force-included files into an editable
install's site-packages too, a second copy that goes stale.

A spec's `source:` is relative to the working directory (the bundled specs name data/samples/kevel_orders.csv).
copy_samples rewrites each spec so that its sources name the folder it writes into, as given: after
`etl samples demo`, `etl import demo/kevel_orders.yaml` works from the same working directory. It never
overwrites a file that differs from what it would write (a user's changed spec): it writes nothing then.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from etl.errors import EtlError

FILES = Path(__file__).with_name("files")  # the samples, in the package
DEFAULT_FOLDER = "data/samples"  # where `etl samples` writes them, and the folder the bundled specs name
_SOURCE = re.compile(r"(source:[ \t]+)data/samples/(\S+)[ \t]*")
_PLAIN = re.compile(r"[\w./-]+")  # a path YAML reads as plain text, unquoted


class SamplesChanged(EtlError):
    """A file in the way: copy_samples would overwrite a file that is not the bundled one."""


@dataclass(frozen=True)
class Copied:
    """What copy_samples did: the folder, the files it wrote and those already there as it would write them."""

    folder: Path
    written: list[str]
    unchanged: list[str]


def names() -> list[str]:
    """The bundled samples' file names, sorted: the specs (.yaml) and the files they read."""
    return sorted(p.name for p in FILES.iterdir() if p.is_file() and not p.name.startswith("."))


def contents(folder: str | os.PathLike[str] = DEFAULT_FOLDER) -> dict[str, bytes]:
    """{file name: bytes} as copy_samples writes them into `folder`: the specs' sources name that folder."""
    prefix = Path(folder).as_posix().rstrip("/")
    found = {}
    for name in names():
        data = (FILES / name).read_bytes()
        if name.endswith(".yaml") and prefix != DEFAULT_FOLDER:
            data = _moved(data.decode("utf-8"), prefix).encode("utf-8")
        found[name] = data
    return found


def _moved(spec: str, prefix: str) -> str:
    """A bundled spec whose sources (and the comments that name its files) are under `prefix`."""
    lines = []
    for line in spec.splitlines(keepends=True):
        match = _SOURCE.fullmatch(line.rstrip("\r\n"))
        if match:
            path = f"{prefix}/{match[2]}"
            quoted = path if _PLAIN.fullmatch(path) and not path.startswith("-") else json.dumps(path)
            line = match[1] + quoted + line[len(line.rstrip("\r\n")) :]
        else:
            line = line.replace(f"{DEFAULT_FOLDER}/", f"{prefix}/")
        lines.append(line)
    return "".join(lines)


def write_samples(folder: str | os.PathLike[str] = DEFAULT_FOLDER) -> Copied:
    """Write the bundled samples into `folder` (made if missing), each spec's sources naming that folder.

    A file already there as it would be written is left alone. When one differs (a spec the user changed, another
    file of the same name), nothing is written: SamplesChanged names each such file."""
    target = Path(folder)
    wanted = contents(target)
    if target.is_dir() and target.resolve() == FILES.resolve():  # the checkout's data/samples: the package itself
        return Copied(target, [], sorted(wanted))
    in_the_way = []
    unchanged = []
    for name, data in wanted.items():
        path = target / name
        if path.is_dir() or (path.exists() and path.read_bytes() != data):
            in_the_way.append(str(path))
        elif path.exists():
            unchanged.append(name)
    if in_the_way:
        listed = "\n".join(f"  {p}" for p in in_the_way)
        raise SamplesChanged(
            f"{target}: these files differ from the bundled samples, and would be overwritten:\n{listed}\n"
            "Nothing was written. Move them away, or write the samples into another folder (etl samples FOLDER)."
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in wanted.items():
        if name in unchanged:
            continue
        temporary = target / f".{name}.{os.getpid()}.part"  # whole or not at all; made as the umask says
        try:
            with temporary.open("wb") as out:
                out.write(data)
            os.replace(temporary, target / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        written.append(name)
    return Copied(target, written, unchanged)


def copy_samples(folder: str | os.PathLike[str] = DEFAULT_FOLDER) -> Path:
    """Write the bundled samples into `folder` (default data/samples) and return it: after it,
    `etl import data/samples/kevel_orders.yaml` works from the current working directory.
    Raises SamplesChanged, writing nothing, rather than overwrite a file that differs (see write_samples)."""
    return write_samples(folder).folder
