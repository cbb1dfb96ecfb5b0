"""Measure encoding detectors on the labelled corpus of tests/encoding_corpus.py (issue 14).

A detector is right on a file when decoding the file's bytes with its answer gives exactly the
file's text (a UTF-8 file with a BOM needs utf-8-sig). Detectors, each given what the importer
gives its own (the first SAMPLE_BYTES of the file):

  etl          etl.encodings.detect_encoding, the present detector (heuristics over charset-normalizer)
  charset-normalizer   from_bytes(...).best()
  chardet      chardet.detect (chardet 7)
  cchardet     cchardet.detect (uchardet)
  policy + X   X behind the policy no library has (BOM, then UTF-8, then X on the lines with
               non-ASCII bytes only), as etl.encodings does for charset-normalizer

Prints Markdown tables (overall with time per MB, per language, per code page, the misses of
each) and writes them to bench/work/encodings.md.

    .venv/bin/python bench/encodings.py
"""

from __future__ import annotations

import codecs
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "tests"))

from encoding_corpus import Sample, corpus  # noqa: E402  (tests/, put on the path above)

from etl.encodings import SAMPLE_BYTES, EncodingNotDetected, detect_encoding  # noqa: E402


def etl_detector(data: bytes) -> str | None:
    try:
        return detect_encoding(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES).codec
    except EncodingNotDetected:
        return None


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
    library sees only the lines with non-ASCII bytes (a long ASCII export with a few accented
    names otherwise looks like almost any code page)."""
    from etl.encodings import _non_ascii_lines

    def detected(data: bytes) -> str | None:
        sample = data[:SAMPLE_BYTES]
        if sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        try:
            sample.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return detect(_non_ascii_lines(sample))

    return detected


# The single-byte code pages of the languages shops here export in (Windows, ISO-8859, KOI8,
# DOS, Mac): chardet told to choose among these only, as a policy could.
EUROPEAN = [
    "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257", "iso8859-1", "iso8859-2", "iso8859-5",
    "iso8859-7", "iso8859-9", "iso8859-13", "iso8859-15", "koi8-r", "koi8-u", "cp850", "cp852", "cp866",
    "cp1125", "mac-roman", "mac-cyrillic",
]  # fmt: skip


def chardet_european_detector(data: bytes) -> str | None:
    import chardet

    return chardet.detect(data[:SAMPLE_BYTES], include_encodings=EUROPEAN)["encoding"]


DETECTORS: dict[str, Callable[[bytes], str | None]] = {
    "etl (present)": etl_detector,
    "charset-normalizer": charset_normalizer_detector,
    "chardet 7": chardet_detector,
    "cchardet": cchardet_detector,
    "policy + chardet 7": with_policy(chardet_detector),
    "policy + cchardet": with_policy(cchardet_detector),
    "policy + charset-normalizer": with_policy(charset_normalizer_detector),
    "policy + chardet 7, European code pages only": with_policy(chardet_european_detector),
}


def right(answer: str | None, data: bytes, text: str) -> bool:
    if not answer:
        return False
    try:
        codecs.lookup(answer)
        return data.decode(answer) == text
    except (LookupError, UnicodeDecodeError):
        return False


def main() -> None:
    files = list(corpus())
    megabytes = sum(min(len(data), SAMPLE_BYTES) for _, data, _ in files) / 1e6
    outcome: dict[str, dict[Sample, tuple[bool, str | None]]] = {}
    seconds: dict[str, float] = {}
    for name, detect in DETECTORS.items():
        detect(files[0][1])  # imports and first-call set-up, outside the timing
        start = time.perf_counter()
        answers = [(sample, detect(data), data, text) for sample, data, text in files]
        seconds[name] = time.perf_counter() - start
        outcome[name] = {s: (right(a, d, t), a) for s, a, d, t in answers}

    out = [f"{len(files)} files ({megabytes:.1f} MB read by the detectors), tests/encoding_corpus.py", ""]
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
                misses[(f"{sample.language} {sample.codec}", str(answer))] += 1
        worst = sorted(misses.items(), key=lambda kv: -kv[1])[:15]
        out += ["", f"{name}: misses (language and code page -> answer: files)", ""]
        out += [f"- {where} -> {answer}: {n}" for (where, answer), n in worst] or ["- none"]
    text = "\n".join(out) + "\n"
    print(text)
    work = BENCH_DIR / "work"
    work.mkdir(exist_ok=True)
    (work / "encodings.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
