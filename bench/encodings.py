"""Measure encoding detectors on the labelled corpus of tests/encoding_corpus.py (issue 14).

A detector is right on a file when decoding the file's bytes with its answer gives exactly the
file's text (a UTF-8 file with a BOM needs utf-8-sig). Detectors, each given what the importer
gives its own (the first SAMPLE_BYTES of the file):

  etl          etl.encodings.detect_encoding: the policy, chardet 7, and two rules of ours (readings
               that look like mojibake are dropped; near ties go to the code page more shops write)
  etl at 1739c67   the detector before issue 14 (heuristics over charset-normalizer), when
               bench/work/encodings_1739c67.py exists:
               git show 1739c67:etl/encodings.py > bench/work/encodings_1739c67.py
  charset-normalizer   from_bytes(...).best()
  chardet      chardet.detect (chardet 7)
  cchardet     cchardet.detect (uchardet)
  policy + X   X behind the policy no library has (BOM, then UTF-8, then X on the distinct fields with
               non-ASCII bytes only, among etl.sources.encodings.CANDIDATES where X can be told)

Prints Markdown tables (overall with time per MB, per language, per code page, the misses of
each) and writes them to bench/work/encodings.md (--workdir).

    .venv/bin/python bench/encodings.py [--workdir bench/work] [--file-gb 1] [--files 1040]
"""

from __future__ import annotations

import argparse
import codecs
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "tests"))
sys.path.insert(0, str(BENCH_DIR))

from encoding_corpus import Sample, corpus, text_of  # noqa: E402  (tests/, put on the path above)
from harness import checked, python  # noqa: E402  (bench/, too)

from etl.sources.encodings import (  # noqa: E402
    _NON_ASCII_FIELD,
    CANDIDATES,
    SAMPLE_BYTES,
    EncodingNotDetected,
    detect_encoding,
)

CONFIDENCE: dict[bytes, tuple[float, str | None]] = {}  # etl's confidence and runner-up, for the misses


def etl_detector(data: bytes) -> str | None:
    try:
        found = detect_encoding(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES)
    except EncodingNotDetected:
        return None
    CONFIDENCE[data] = (found.confidence, found.runner_up)
    return found.codec


def old_etl_detector() -> Callable[[bytes], str | None] | None:
    path = BENCH_DIR / "work" / "encodings_1739c67.py"
    if not path.exists():
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("encodings_1739c67", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)

    def detected(data: bytes) -> str | None:
        try:
            return module.detect_encoding(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES).codec
        except module.EncodingNotDetected:
            return None

    return detected


def charset_normalizer_detector(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:SAMPLE_BYTES]).best()
    return best.encoding if best else None


def chardet_detector(data: bytes) -> str | None:
    import chardet

    return chardet.detect(data[:SAMPLE_BYTES])["encoding"]


def cchardet_detector(data: bytes) -> str | None:
    import cchardet

    return cchardet.detect(data[:SAMPLE_BYTES])["encoding"]


def with_policy(detect: Callable[[bytes], str | None]) -> Callable[[bytes], str | None]:
    """The library behind the policy no library has: a BOM decides, then UTF-8, then the
    library sees only the distinct fields with non-ASCII bytes (a long ASCII export with a few
    accented names otherwise looks like almost any code page)."""

    def focus(sample: bytes) -> bytes:
        return b"\n".join(dict.fromkeys(_NON_ASCII_FIELD.findall(sample)))

    def detected(data: bytes) -> str | None:
        sample = data[:SAMPLE_BYTES]
        if sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        try:
            sample.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return detect(focus(sample))

    return detected


def chardet_candidates_detector(data: bytes) -> str | None:
    import chardet

    return chardet.detect(data, include_encodings=CANDIDATES)["encoding"]


DETECTORS: dict[str, Callable[[bytes], str | None]] = {
    "etl": etl_detector,
    **({"etl at 1739c67": old} if (old := old_etl_detector()) else {}),
    "charset-normalizer": charset_normalizer_detector,
    "chardet 7": chardet_detector,
    "cchardet": cchardet_detector,
    "policy + chardet 7": with_policy(chardet_detector),
    "policy + cchardet": with_policy(cchardet_detector),
    "policy + charset-normalizer": with_policy(charset_normalizer_detector),
    "policy + chardet 7 among CANDIDATES": with_policy(chardet_candidates_detector),
}


def right(answer: str | None, data: bytes, text: str) -> bool:
    if not answer:
        return False
    try:
        codecs.lookup(answer)
        return data.decode(answer) == text
    except (LookupError, UnicodeDecodeError):
        return False


def gigabyte_file(workdir: Path, gigabytes: float) -> list[str]:
    """The cost of detection on a 1 GB cp1251 export (mostly ASCII, a Ukrainian row in 25): the sample
    read from disk, then detected. Written once to <workdir>/gigabyte-cp1251.csv (`gigabytes` of it)."""
    from etl.sources.files import _sample, filesystem

    path = workdir / "gigabyte-cp1251.csv"
    block = text_of(Sample("ukrainian", "cp1251", 10_000, "ascii")).encode("cp1251")
    blocks = int(gigabytes * 1e9) // len(block) + 1
    if not path.exists() or path.stat().st_size != blocks * len(block):
        with path.open("wb") as out:
            for _ in range(blocks):
                out.write(block)
    fs, local = filesystem(str(path), {})
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        sample, complete = _sample(fs, local, str(path), "none")
        found = detect_encoding(sample, complete=complete)
        seconds.append(time.perf_counter() - start)
    with_import = checked("import chardet", python("import chardet")).wall_s
    bare = checked("python", python("pass")).wall_s
    return [
        f"1 GB file ({path.stat().st_size / 1e9:.2f} GB, cp1251): detected {found.codec}, confidence "
        f"{found.confidence}; sample read + detection {min(seconds):.3f}-{max(seconds):.3f} s in 5 runs "
        f"(a {SAMPLE_BYTES >> 20} MiB sample); importing chardet in a fresh process adds "
        f"{with_import - bare:.3f} s",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--file-gb", type=float, default=1.0, help="size of the cp1251 file the sample is read from")
    parser.add_argument("--files", type=int, default=0, help="an evenly spread share of the corpus (0: all of it)")
    args = parser.parse_args()
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    samples = list(corpus())
    files = samples[:: max(1, len(samples) // args.files)] if args.files else samples
    megabytes = sum(min(len(data), SAMPLE_BYTES) for _, data, _ in files) / 1e6
    outcome: dict[str, dict[Sample, tuple[bool, str | None]]] = {}
    seconds: dict[str, float] = {}
    for name, detect in DETECTORS.items():
        detect(files[0][1])  # imports and first-call set-up, outside the timing
        start = time.perf_counter()
        answers = [(sample, detect(data), data, text) for sample, data, text in files]
        seconds[name] = time.perf_counter() - start
        outcome[name] = {s: (right(a, d, t), a) for s, a, d, t in answers}

    out = gigabyte_file(work, args.file_gb)
    out += [f"{len(files)} files ({megabytes:.1f} MB read by the detectors), tests/encoding_corpus.py", ""]
    out += ["| detector | right | share | ms per MB |", "|---|---:|---:|---:|"]
    for name in DETECTORS:
        hits = sum(ok for ok, _ in outcome[name].values())
        out.append(f"| {name} | {hits} | {hits / len(files):.1%} | {seconds[name] * 1000 / megabytes:.0f} |")
    for title, key in (("language", lambda s: s.language), ("code page", lambda s: s.codec)):
        groups: dict[str, list[Sample]] = defaultdict(list)
        for sample, _, _ in files:
            groups[key(sample)].append(sample)
        out += ["", f"| {title} | files | " + " | ".join(DETECTORS) + " |", "|---|---:|" + "---:|" * len(DETECTORS)]
        for group, members in sorted(groups.items()):
            shares = [sum(outcome[n][s][0] for s in members) / len(members) for n in DETECTORS]
            out.append(f"| {group} | {len(members)} | " + " | ".join(f"{x:.0%}" for x in shares) + " |")
    for name in DETECTORS:
        misses: dict[tuple[str, str], int] = defaultdict(int)
        for sample, (ok, answer) in outcome[name].items():
            if not ok:
                where = f"{sample.language} {sample.codec}"
                if name == "etl":
                    data = next(d for s, d, _ in files if s == sample)
                    confidence, runner_up = CONFIDENCE.get(data, (0.0, None))
                    where = f"{sample.label}, confidence {confidence}, runner-up {runner_up}"
                misses[(where, str(answer))] += 1
        worst = sorted(misses.items(), key=lambda kv: -kv[1])[: 40 if name == "etl" else 15]
        out += ["", f"{name}: misses (language and code page -> answer: files)", ""]
        out += [f"- {where} -> {answer}: {n}" for (where, answer), n in worst] or ["- none"]
    text = "\n".join(out) + "\n"
    print(text)
    (work / "encodings.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
