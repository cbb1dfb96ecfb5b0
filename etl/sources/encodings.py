"""Detect the text encoding of a CSV export (`encoding: auto` in an import spec).

Detection reads the first `SAMPLE_BYTES` of a file, never the rest, and keeps only the policy no library has;
chardet (7.x, 0BSD) ranks the code pages. In order:

1. A byte-order mark decides: UTF-8 -> "utf-8-sig", UTF-16 LE/BE -> "utf-16", UTF-32 LE/BE -> "utf-32" (the
   codecs drop the BOM). The UTF-32 LE BOM starts with the UTF-16 LE one, so it is checked first.
2. Binary data is refused: more than 1% control characters other than tab, LF, FF and CR, unless NUL bytes
   make it look like UTF-16/32 without a BOM, which chardet then recognises (or not).
3. A sample that decodes as UTF-8 is "utf-8" (pure ASCII too). When the sample is not the whole file, a
   multi-byte character cut at its end is allowed.
4. Damaged UTF-8 is refused, naming the line of the first invalid byte: a whole file that is UTF-8 but for an
   incomplete last character, or a sample with at least 4 valid UTF-8 characters per invalid sequence. Any
   code page would turn all its UTF-8 characters into mojibake ("MÃ¼nchen").
5. Otherwise the file is in a legacy code page. chardet sees only the distinct fields that hold non-ASCII
   bytes (a long ASCII export with a few accented names otherwise looks like any code page), at most
   `FOCUS_BYTES`, and ranks the `CANDIDATES`: the code pages shops' tools write. Its ranking of a few short
   names is often wrong among code pages that all decode them, so two rules of ours follow, each measured on
   the labelled corpus (bench/encodings.py, docs/performance.md's table):
   - readings that look like mojibake are dropped (etl/sources/mojibake.py: words mixing scripts, case flips inside
     words, symbols glued to letters, box drawing); when every reading does, the sample is not text;
   - of the readings chardet scores within `NEAR` of its best, the code page most shops' tools write wins
     (`CANDIDATES` is in that order): Windows before ISO-8859, KOI8, Mac and DOS. This also names latin-1 and
     latin-9 text cp1252 when it reads the same: at 0x80-0x9F latin-1 has only invisible control characters,
     where Windows exports have € „ … ‘ ’ “ ” – — ™. A byte cp1252 leaves undefined further on then stops the
     import with an error instead of storing an invisible control character. With fewer than `FEW_WORDS`
     distinct non-ASCII words chardet's scores are noise, and a plausible reading in one of the `WINDOWS` code
     pages wins by a margin that widens as the words get fewer (one word: any plausible one).
6. Confidence: how far the chosen reading is ahead of the runner-up (the best other code page reading the
   sample differently), times how much text it rests on (distinct non-ASCII words, full at `FULL_EVIDENCE`).
   Below `LOW_CONFIDENCE` the import says so with the runner-up (and fails with `fail_on_low_confidence`).

What stays ambiguous, measured on the corpus: a file whose only non-ASCII text is a few words can read as
plausible text in two code pages that differ in those letters (Spanish "cañón" and Central European "cańón",
Polish "Gdańsk" and Western "Gdañsk"), and near-twin code pages read most bytes alike (cp866 and cp1125 differ
in Ґ ґ І і Ї ї only, Mac Cyrillic and cp1251 mostly in capitals). Those files get a low confidence. A file
whose first `SAMPLE_BYTES` are ASCII is read as UTF-8 even if it has cp1251 names further on; the import then
stops at the first byte that is not UTF-8, naming its line.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from dataclasses import dataclass

from etl.sources.mojibake import distinct_non_ascii_words, odd_share

# 4 MiB: the reader's chunk size (read.CHUNK), so detection costs one chunk read. A sample this large still finds
# the accented names of a mostly-ASCII export that do not occur in its first rows (~40,000 rows of 100 bytes).
SAMPLE_BYTES = 4 << 20
LINE_BYTES = 256 << 10  # the lines with non-ASCII bytes this much is taken from
FOCUS_BYTES = 200_000  # of the distinct non-ASCII fields, what chardet reads (its own default limit)
CHECK_CHARS = 10_000  # and of those, what the mojibake rules read for each candidate
NEAR = 0.15  # readings scored within this share of chardet's best are near enough for the code page order
ODD_MARGIN = 0.05  # readings this close to the least odd one count as equally plausible
NOT_TEXT = 0.5  # when even the least odd reading has this share of odd words, the sample is not text
FEW_WORDS = 4  # below this many distinct non-ASCII words, chardet's scores count less (see _choose)
FULL_EVIDENCE = 20  # distinct non-ASCII words for full confidence
LOW_CONFIDENCE = 0.5  # below this the report warns (and fail_on_low_confidence fails the import)

# The code pages shops' tools write, the most common first (the order breaks near ties): Windows, the CJK
# multi-byte ones, KOI8, ISO-8859, Mac, DOS. EBCDIC, rare ISO parts and 7-bit ones are not candidates.
CANDIDATES = (
    "cp1252", "cp1251", "cp1250", "cp1254", "cp1253", "cp1257", "cp1255", "cp1256", "cp874",
    "cp932", "shift_jis_2004", "euc_jis_2004", "gb18030", "big5hkscs", "cp949", "euc_kr",
    "koi8-r", "koi8-u", "tis-620",
    "iso8859-1", "iso8859-15", "iso8859-2", "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-9",
    "iso8859-13", "mac-roman", "mac-cyrillic", "cp850", "cp852", "cp1125", "cp866",
)  # fmt: skip
# The Windows code pages of European languages and Hebrew: the toolkit's shops (and most legacy exports) write
# these. Not Arabic cp1256: it reads Cyrillic capitals as plausible Arabic words ("ТОВ" as "زخآ").
WINDOWS = frozenset({"cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257", "cp1255"})
# chardet misses short CJK text (three Japanese words in EUC-JP); these are then tried by decoding alone.
MULTI_BYTE = ("cp932", "euc_jis_2004", "gb18030", "big5hkscs", "cp949")

_BOMS = (  # UTF-32 LE before UTF-16 LE: b"\xff\xfe\x00\x00" starts with b"\xff\xfe"
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
_BINARY_SHARE = 0.01  # control characters (other than tab, LF, FF, CR) above which a sample is binary
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in b"\t\n\f\r") + b"\x7f"
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # as _CONTROL_BYTES, and C1
# A field (between delimiters, quotes and line ends) with a non-ASCII byte. "|" is not a boundary: it is a
# trail byte of Shift-JIS characters.
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
_NON_ASCII_FIELD = re.compile(rb'[^,;\t"\r\n]*[\x80-\xff][^,;\t"\r\n]*')
_RANK = {codecs.lookup(name).name: rank for rank, name in enumerate(CANDIDATES)}


class EncodingNotDetected(ValueError):
    """The sample's encoding could not be determined."""


@dataclass(frozen=True)
class Detected:
    codec: str  # a Python codec name usable with codecs.getincrementaldecoder
    confidence: float  # 0..1
    reason: str  # one short sentence for the import report
    runner_up: str | None = None  # the best other codec reading the sample differently

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


@dataclass(frozen=True)
class _Reading:
    codec: str
    score: float  # chardet's
    odd: float  # odd_share of the reading
    text: str
    language: str | None


def detect_encoding(sample: bytes, *, complete: bool) -> Detected:
    """The encoding of a file from its first bytes. `complete` is True when the sample is the whole file
    (then a multi-byte character cut at the end of the sample is not a problem to worry about)."""
    for bom, codec, label in _BOMS:
        if sample.startswith(bom):
            return Detected(codec, 1.0, f"byte-order mark ({label})")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls <= _BINARY_SHARE * len(sample):
        if _decoded(sample, "utf-8", complete) is not None:
            return Detected("utf-8", 1.0, "pure ASCII (read as UTF-8)" if sample.isascii() else "valid UTF-8")
        _refuse_damaged_utf8(sample)
        found = _code_page(sample, complete)
    elif b"\x00" in sample:
        found = _wide_unicode(sample, complete)
    else:
        found = None
    if found is None:
        raise EncodingNotDetected(
            "cannot detect the file's text encoding (it looks like binary data, or no code page reads it as text); "
            "set `encoding:` in the import spec explicitly, e.g. utf-8, cp1251 or cp1252"
        )
    return found


def _refuse_damaged_utf8(sample: bytes) -> None:
    """Raise when the sample is mostly UTF-8 with a few invalid bytes: a file cut inside a character, or one
    with lines in another encoding appended. Any code page would read all its UTF-8 characters as mojibake."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - sample.count("\ufffd".encode())
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad  # valid non-ASCII characters
    cut = _decoded(sample, "utf-8", complete=False) is not None  # all valid but an incomplete last character
    if not (cut and good) and (good < 4 * bad or good < 4):
        return
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = sample.count(b"\n", 0, exc.start) + 1
        raise EncodingNotDetected(
            f"the file is UTF-8 except for {bad} invalid byte sequence(s), the first at line {line} "
            f"(bytes {sample[exc.start : exc.start + 4].hex(' ')}): it is cut inside a character or mixes "
            "encodings; fix the file, or set `encoding:` in the import spec explicitly"
        ) from None


def _decoded(sample: bytes, codec: str, complete: bool) -> str | None:
    """The sample as text, or None when it is not valid in `codec` (an incomplete last character is fine unless
    the sample is the whole file)."""
    try:
        return codecs.getincrementaldecoder(codec)(errors="strict").decode(sample, final=complete)
    except (UnicodeDecodeError, LookupError):
        return None


def _code_page(sample: bytes, complete: bool) -> Detected | None:
    """Rule 5: chardet's ranking of the candidates, without the readings that look like mojibake, near ties
    going to the code page more shops write."""
    import chardet  # here: `etl --help` and the commands that do not import stay fast

    focus = _focus(sample)
    ranked = chardet.detect_all(
        focus, ignore_threshold=True, include_encodings=CANDIDATES, compat_names=False, max_bytes=FOCUS_BYTES
    )
    guesses = [(r["encoding"], r["confidence"], r["language"]) for r in ranked if r["encoding"]]
    if not any(codecs.lookup(codec).name in _MULTI_BYTE_NAMES for codec, _, _ in guesses):
        guesses += [(codec, 0.0, None) for codec in MULTI_BYTE]
    readings: list[_Reading] = []
    for codec, score, language in guesses:
        codec = codecs.lookup(codec).name
        text = _decoded(focus, codec, complete)
        if text is None or _CONTROLS.search(text) or any(r.codec == codec for r in readings):
            continue
        readings.append(_Reading(codec, score, odd_share(text[:CHECK_CHARS]), text, language))
    while readings:
        chosen = _choose(readings)
        if chosen is None:
            return None
        if _decoded(sample, chosen.codec, complete) is not None:  # the whole sample, not just its focus
            return _detected(chosen, readings)
        readings.remove(chosen)
    return None


def _focus(sample: bytes) -> bytes:
    """The distinct fields of the sample that hold non-ASCII bytes, joined by newlines, up to FOCUS_BYTES. Lines
    are found first (a fast byte search, then the line around it), fields only within them."""
    lines: list[bytes] = []
    size = position = 0
    while size < LINE_BYTES and (found := _NON_ASCII_BYTE.search(sample, position)):
        start = sample.rfind(b"\n", 0, found.start()) + 1
        end = sample.find(b"\n", found.start())
        end = len(sample) if end < 0 else end
        lines.append(sample[start:end])
        size += end - start + 1
        position = end + 1
    fields = _NON_ASCII_FIELD.findall(b"\n".join(lines))
    return b"\n".join(dict.fromkeys(fields))[:FOCUS_BYTES]


def _choose(readings: list[_Reading]) -> _Reading | None:
    least_odd = min(r.odd for r in readings)
    if least_odd >= NOT_TEXT:
        return None
    plausible = _distinct([r for r in readings if r.odd <= least_odd + ODD_MARGIN])
    best = max(plausible, key=lambda r: r.score)
    # chardet's scores of a few words are noise: the fewer words, the wider the margin in which a Windows code
    # page that reads them plausibly wins over the others (for one word or none, any plausible one does)
    words = distinct_non_ascii_words(best.text[:CHECK_CHARS])
    wide = 1.0 if words <= 1 else max(NEAR, 1 - (words - 1) / FEW_WORDS)
    windows = [r for r in plausible if r.codec in WINDOWS and r.score >= (1 - wide) * best.score]
    pool = windows or plausible
    top = max(r.score for r in pool)
    return min((r for r in pool if r.score >= (1 - NEAR) * top), key=_rank)


def _distinct(readings: list[_Reading]) -> list[_Reading]:
    """One reading per text: the best score of the code pages that read it alike, under the most common name
    (latin-1 text is cp1252, and cp1250 when it reads "Müller" as cp1252 does)."""
    by_text: dict[str, list[_Reading]] = {}
    for r in readings:
        by_text.setdefault(r.text, []).append(r)
    return [dataclasses.replace(min(same, key=_rank), score=max(r.score for r in same)) for same in by_text.values()]


def _rank(reading: _Reading) -> tuple[int, float]:
    return _RANK.get(reading.codec, len(_RANK)), -reading.score


def _detected(chosen: _Reading, readings: list[_Reading]) -> Detected:
    others = [r for r in readings if r.text != chosen.text]
    plausible = [r for r in others if r.odd <= chosen.odd + ODD_MARGIN]
    runner_up = max(plausible or others, key=lambda r: r.score, default=None)
    if runner_up is None or not plausible:
        lead = 1.0
    elif chosen.score <= 0:
        lead = 0.0
    else:
        lead = max(0.0, 1.0 - runner_up.score / chosen.score)
    evidence = min(1.0, distinct_non_ascii_words(chosen.text[:CHECK_CHARS]) / FULL_EVIDENCE)
    confidence = round(min(1.0, 2 * lead) * evidence**0.5, 2)
    what = f" ({chosen.language})" if chosen.language else ""
    also = f"; runner-up {runner_up.codec}" if runner_up is not None else ""
    return Detected(chosen.codec, confidence, f"chardet: {chosen.codec}{what}{also}", runner_up and runner_up.codec)


def low_confidence_warning(uri: str, codec: str, confidence: float, runner_up: str | None) -> str:
    """What the report and the terminal say of a detection below LOW_CONFIDENCE."""
    other = f", the runner-up was {runner_up}" if runner_up else ""
    example = runner_up or "cp1252"
    return (
        f"{uri}: the encoding was detected with low confidence ({confidence:.2f}): read as {codec}{other}. "
        "Check the names with accented or non-Latin letters in the stored rows, and set the encoding in the "
        f"import spec (encoding: {codec} or encoding: {example}) or with --encoding"
    )


def _wide_unicode(sample: bytes, complete: bool) -> Detected | None:
    """UTF-16/32 without a BOM: many NUL bytes. chardet recognises it from the raw sample."""
    import chardet

    found = chardet.detect(sample[:FOCUS_BYTES], compat_names=False)
    codec = found["encoding"]
    if not codec or not codecs.lookup(codec).name.startswith(("utf-16", "utf-32")):
        return None
    text = _decoded(sample, codec, complete)
    if text is None or len(_CONTROLS.findall(text)) > _BINARY_SHARE * len(text):
        return None
    return Detected(
        codecs.lookup(codec).name, round(found["confidence"], 2), f"chardet: {codec} without a byte-order mark"
    )


_MULTI_BYTE_NAMES = {codecs.lookup(name).name for name in (*MULTI_BYTE, "shift_jis_2004", "euc_kr")}


# What an error says when a file is read in the wrong encoding (error paths only: one line is looked at).

# UTF-32 first: its text also reads as UTF-16, full of NULs
_WIDE_NAMES = {"utf-32-le": "UTF-32 LE", "utf-32-be": "UTF-32 BE", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE"}
# a UTF-16 byte-order mark read as cp1252 or latin-1 and written as UTF-8 (a spooled file): "ÿþ" or "þÿ"
_BOMS_AS_LATIN = ("ÿþ".encode(), "þÿ".encode())


def wide_unicode(first_line: bytes) -> tuple[str, str, str] | None:
    """The codec, its name and a reason when a file's first line is UTF-16 or UTF-32: its byte-order mark, or NUL
    bytes between ASCII characters (read as UTF-8 they are valid characters, and the header's names hold them)."""
    for bom, codec, label in _BOMS:
        if codec != "utf-8-sig" and first_line.startswith(bom):
            return codec, label, f"{label} byte-order mark"
    body = first_line
    for bom in _BOMS_AS_LATIN:
        if body.startswith(bom):
            body = body[len(bom) :]
    body = body[:1024]
    if body.count(0) < len(body) // 4 or not body:
        return None
    for codec, name in _WIDE_NAMES.items():
        width = 4 if codec.startswith("utf-32") else 2
        text = body[: len(body) // width * width].decode(codec, errors="replace")
        readable = sum(1 for char in text if " " <= char <= "~" or char in "\t\r\n")
        if text and readable >= 0.9 * len(text):
            if not first_line.startswith(body):  # a byte-order mark, transcoded: the codec reads it
                return "utf-16", name, f"{name} with a byte-order mark, read as a code page"
            return codec, name, f"NUL bytes beside the letters of line 1, as {name} without a byte-order mark has"
    return None


def wide_unicode_message(label: str, first_line: bytes, read_as: str) -> str | None:
    """The error for a UTF-16/32 file read as `read_as`, naming the codec to set; None when it is not one."""
    found = wide_unicode(first_line)
    if found is None:
        return None
    codec, name, reason = found
    return (
        f"{label}: line 1, column 1: the file looks like {name} ({reason}), but the import reads it as {read_as}; "
        f"expected: `encoding: {codec}` in the import spec (or --encoding {codec}), or `encoding: auto`, which "
        "detects UTF-16 and UTF-32 with or without a byte-order mark"
    )


def field_of(prefix: str, header: str, delimiter: str | None) -> str:
    """Which CSV field a position of a line is in, e.g. "field 3 ('last_name')": the fields of the line's text
    before the position, split by the file's delimiter (unknown: the one of , ; tab | that splits the header
    into the most fields, as `delimiter: auto` chooses), and the header's name of that field. Nothing ("") for a
    JSON or XML file, which has no fields by delimiter (a JSON lines file transcoded from a code page)."""
    import csv

    if header.lstrip("\ufeff \t").startswith(("{", "[", "<")):
        return ""

    def fields(text: str, separator: str) -> list[str]:
        try:
            return next(csv.reader([text.replace("\r", " ")], delimiter=separator), [])
        except csv.Error:  # binary data (a NUL byte): no fields to name
            return []

    delimiters = [",", ";", "\t", "|"]
    if delimiter is None:
        counts = {d: len(fields(header, d)) for d in delimiters}
        delimiter = max(delimiters, key=lambda d: (counts[d], -delimiters.index(d)))
    number = len(fields(prefix, delimiter)) or 1  # "a;b;" -> ['a', 'b', '']: the third
    names = fields(header.lstrip("\ufeff"), delimiter)
    named = number <= len(names) and len(names[number - 1]) <= 100 and names[number - 1].isprintable()
    name = f" ({names[number - 1]!r})" if named else ""  # not a binary file's bytes
    return f"field {number}{name}"
