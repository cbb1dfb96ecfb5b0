"""Detect the text encoding of a CSV export (`encoding: auto` in an import spec).

Detection reads the first `SAMPLE_BYTES` of a file and applies these rules, in order:

1. A byte-order mark decides: UTF-8 BOM -> "utf-8-sig"; UTF-16 LE/BE BOM -> "utf-16"; UTF-32 LE/BE BOM ->
   "utf-32" (Python's utf-16/utf-32 codecs read the BOM and drop it). The UTF-32 LE BOM starts with the UTF-16 LE
   one, so it is checked first. Confidence 1.0.
2. A sample that decodes as UTF-8 is "utf-8" (pure ASCII is UTF-8 too). When the sample is not the whole file
   (`complete=False`) it may end inside a multi-byte character; that incomplete tail is allowed. Confidence 1.0.
3. Otherwise the text is in a legacy code page and charset-normalizer is asked (`from_bytes(...)`, names mapped
   through `codecs.lookup(...).name`), with additions that make the common cases right:

   * Only the lines that contain non-ASCII bytes are given to it (at most `FOCUS_BYTES`). A typical export is a
     long ASCII file with a few accented names; given the whole sample, charset-normalizer sees almost nothing
     but ASCII and guesses (a few "Müller"s among 10,000 rows came back as cp1250 "Vietnamese").
   * The exports we import come from Windows tools in Ukraine/Russia and Western Europe, so cp1251 and cp1252 are
     preferred when the sample reads as plausible text in them. charset-normalizer alone often picks a sibling
     with equal "chaos" on short text (cp1250, cp1257, big5 and cp1006 for Western text; kz1048, mac_cyrillic
     for Cyrillic), and some of those read "São" as "Săo" or an upper-case "П" as "Џ". The plausibility check
     (`_oddities`) decodes the non-ASCII lines and counts the distinct words with non-ASCII letters that do not
     look like words of the code page's script:
       - cp1251: a word mixing Cyrillic and Latin letters ("Mьller" is cp1252 "Müller" read as cp1251), with a
         Cyrillic letter that Ukrainian, Russian and Belarusian do not use (Ђ Љ Џ ...: cp1251 has them at
         0x80-0x9F, where Mac and Kazakh code pages keep ordinary letters), or with an upper-case letter after a
         lower-case one;
       - cp1252: a word with a non-Latin letter, an upper-case letter after a lower-case one, three non-ASCII
         letters in a row, only non-ASCII letters (two or more), or more non-ASCII than ASCII letters in a word
         of four or more letters ("Ìîñêâà" is cp1251 "Москва" and "ÏÏ" is "ПП" read as cp1252; "São", "Ærø",
         "été", "Straße" pass);
       - both: a symbol between two letters ("Êè¿â" is cp1251 "Київ" read as cp1252); apostrophes, dashes and
         the soft hyphen are allowed there.
     A preferred code page is plausible when it decodes the whole sample and at most 5% of those words and
     symbols are odd. The plausible one with more good words wins (cp1252 on a tie, e.g. when the only non-ASCII
     characters are dashes and quotes the two read alike) unless charset-normalizer, with no more chaos, found
     a language in a code page that reads the sample differently, with a coherence at least 0.2 above the
     preferred one's (lower-case KOI8-R text reads as plausible upper-case Cyrillic in cp1251, but only KOI8-R
     gives Russian words). Text implausible in both (Polish cp1250, Greek, KOI8, cp866, Shift-JIS ...) gets
     charset-normalizer's first match that decodes the whole sample: those in which it recognised a language
     with about as little chaos as its best come first (it ranked cp932 "Japanese" with no language above
     KOI8-R Russian on a lower-case sample), those that read it as a rejected cp1251/cp1252 does come last.
   * cp1252 vs latin-1: Western European text is reported as cp1252 whenever the sample decodes in it. For the
     bytes latin-1 text really uses (0x20-0x7E, 0xA0-0xFF) the two are identical; at 0x80-0x9F latin-1 has only
     invisible C1 control characters, where Windows exports have € ‚ „ … ‘ ’ “ ” – — ™. Likewise a codec that
     decodes the sample to exactly the text cp1252 or cp1251 does (latin_1, iso8859_15, kz1048 ...) is reported
     as that one. A byte cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) further on in the file then stops
     the import with an error rather than importing an invisible control character.
   * UTF-16/32 without a BOM is considered only when the sample has NUL bytes (the ASCII commas, digits and
     newlines of a CSV have one in UTF-16): then charset-normalizer gets the raw sample and only its UTF-16/32
     matches count.
   * Confidence: 1 - charset-normalizer's chaos (its share of "messy" characters) for the chosen codec, times an
     evidence factor that grows from 0.5 (one non-ASCII byte) to 1 (200 or more), halved when cp1251 and cp1252
     are both plausible and read the sample differently.
4. When nothing fits, `EncodingNotDetected` is raised, asking to set `encoding:` explicitly: binary data (more
   than 1% control characters other than tab, LF, FF, CR; this is checked before rule 2, so NUL padding or
   UTF-16 without a BOM is not "valid UTF-8"), or no code page charset-normalizer suggests decodes the sample.
   Also, before rule 3, damaged UTF-8: a whole file that is valid UTF-8 but for an incomplete last character
   (cut), or a sample with at least 4 valid UTF-8 non-ASCII characters per invalid sequence (and 4 at least: a
   UTF-8 file with cp1252 lines appended). No code page reads those without turning every UTF-8 character into
   mojibake ("MÃ¼nchen"), so the error names the line of the first invalid byte instead.

Detection is a heuristic, as every vendor says ("relies on heuristics and is not 100% accurate"): a file whose
first `SAMPLE_BYTES` are ASCII is reported as UTF-8 even if it has cp1251 names further on (the import then stops
at the first byte that is not UTF-8, naming its line), and a few accented letters cannot tell cp1252 from its
Turkish, Baltic or latin-9 siblings, nor a rare mac_cyrillic file with little upper case from cp1251.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer
from charset_normalizer import CharsetMatch

# 4 MiB: the reader's chunk size (read.CHUNK), so detection costs one chunk read. A sample this large still finds
# the accented names of a mostly-ASCII export that do not occur in its first rows (it is ~40,000 rows of 100
# bytes), and detection stays around 0.1 s on it because only the non-ASCII lines are analysed, capped below.
SAMPLE_BYTES = 4 << 20
FOCUS_BYTES = 512 << 10  # at most this much of the non-ASCII lines goes to charset-normalizer
CHECK_BYTES = 32 << 10  # and the first this much of them to the cp1251/cp1252 plausibility check

PREFERRED = ("cp1252", "cp1251")  # on a tie, in this order
_SCRIPT = {"cp1252": "LATIN", "cp1251": "CYRILLIC"}  # how unicodedata names their letters
_LABEL = {"cp1252": "Western European", "cp1251": "Cyrillic"}
_ODD_SHARE = 0.05  # odd words a plausible reading may have (typos, product codes mixing alphabets)
_LANGUAGE_COHERENCE = 0.2  # charset-normalizer's language coherence (and lead) that outweighs our preference
_CHAOS_MARGIN = 0.02  # chaos this close to charset-normalizer's best counts as "about as little"
_BINARY_SHARE = 0.01  # control characters (other than tab, LF, FF, CR) above which a sample is binary

_BOMS = (  # UTF-32 LE before UTF-16 LE: b"\xff\xfe\x00\x00" starts with b"\xff\xfe"
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
_ASCII = bytes(range(0x80))
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in b"\t\n\f\r") + b"\x7f"
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # as _CONTROL_BYTES, and C1
_C1 = re.compile(r"[\x80-\x9f]")  # control characters latin-1-like code pages read from 0x80-0x9F
_WORD = re.compile(r"[^\W_]+")  # letters and digits (and ² ª ...)
_SANDWICHED = re.compile(r"(?<=[^\W\d_])[^\w\s\x00-\x7f’‘´·\u00ad–—](?=[^\W\d_])")
_SLAVIC = set("АБВГҐДЕЄЁЖЗИІЇЙКЛМНОПРСТУЎФХЦЧШЩЪЫЬЭЮЯабвгґдеєёжзиіїйклмнопрстуўфхцчшщъыьэюя")
_WORD_END_MARKS = "ªº²³¹"  # "nº", "1ª", "m²"


class EncodingNotDetected(ValueError):
    """The sample's encoding could not be determined."""


@dataclass(frozen=True)
class Detected:
    codec: str  # a Python codec name usable with codecs.getincrementaldecoder
    confidence: float  # 0..1
    reason: str  # one short sentence for the import report


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


def _code_page(sample: bytes, complete: bool) -> Detected | None:
    """Rule 3 for a single- or multi-byte code page: charset-normalizer and the cp1251/cp1252 preference."""
    focus = _non_ascii_lines(sample)
    matches = list(charset_normalizer.from_bytes(focus))
    non_ascii = len(focus.translate(None, _ASCII))

    readings: dict[str, str] = {}  # preferred codec -> the sample decoded with it
    plausible: list[tuple[int, str]] = []  # (good words and symbols, codec)
    for codec in PREFERRED:
        text = _decoded(sample, codec, complete)
        if text is None:
            continue
        readings[codec] = text
        considered, odd = _oddities(focus[:CHECK_BYTES].decode(codec), _SCRIPT[codec])
        if odd <= _ODD_SHARE * considered:
            plausible.append((considered - odd, codec))
    plausible.sort(key=lambda item: -item[0])  # a stable sort: cp1252 first on a tie

    if plausible:
        codec = plausible[0][1]
        match = next((m for m in matches if codec == m.encoding or codec in m.could_be_from_charset), None)
        overruling = _overruling(sample, complete, matches, match, readings[codec])
        if overruling is not None:
            return _charset_normalizer_says(overruling, None, non_ascii)
        ambiguous = len(plausible) > 1 and readings[plausible[1][1]] != readings[codec]
        confidence = _confidence(match.chaos if match else 0.0, non_ascii, 0.5 if ambiguous else 1.0)
        if match is not None and match is matches[0]:
            return Detected(codec, confidence, f"charset-normalizer: {codec} ({_LABEL[codec]}), {_coherent(match)}")
        guess = f"guessed {codecs.lookup(matches[0].encoding).name}" if matches else "found nothing"
        return Detected(
            codec,
            confidence,
            f"{codec}: the non-ASCII characters read as {_LABEL[codec]} words (charset-normalizer {guess})",
        )

    rejected = {text for codec, text in readings.items() if codec not in {c for _, c in plausible}}
    least_chaos = min((m.chaos for m in matches), default=0.0)
    in_a_language = [
        m for m in matches if m.coherence >= _LANGUAGE_COHERENCE and m.chaos <= least_chaos + _CHAOS_MARGIN
    ]
    ordered = in_a_language + [m for m in matches if m not in in_a_language]
    for skip in (rejected, set()):  # rejected cp1251/cp1252 readings (under any name) only as a last resort
        for match in ordered:
            if codecs.lookup(match.encoding).name.startswith(("utf-16", "utf-32")):
                continue  # no NUL bytes, so not UTF-16/32 text
            text = _decoded(sample, match.encoding, complete)
            if text is None or text in skip or _too_many(_C1, text):
                continue
            codec = next((c for c, reading in readings.items() if reading == text), None)
            return _charset_normalizer_says(match, codec, non_ascii)
    return None


def _overruling(
    sample: bytes, complete: bool, matches: list[CharsetMatch], preferred: CharsetMatch | None, reading: str
) -> CharsetMatch | None:
    """charset-normalizer's match, if any, that recognised a language in another codec reading the sample
    differently, much better than in the preferred one (or that did not list the preferred one at all), and with
    no more chaos."""
    coherence = preferred.coherence if preferred is not None else 0.0
    for other in matches:
        if (
            other.coherence >= max(_LANGUAGE_COHERENCE, coherence + _LANGUAGE_COHERENCE)
            and (preferred is None or other.chaos <= preferred.chaos)
            and (text := _decoded(sample, other.encoding, complete)) not in (None, reading)
            and not _too_many(_CONTROLS, text)
        ):
            return other
    return None


def _wide_unicode(sample: bytes, complete: bool) -> Detected | None:
    """UTF-16/32 without a BOM: many NUL bytes. charset-normalizer gets the raw sample (lines mean nothing)."""
    for match in charset_normalizer.from_bytes(sample[:FOCUS_BYTES]):
        if not codecs.lookup(match.encoding).name.startswith(("utf-16", "utf-32")):
            continue
        text = _decoded(sample, match.encoding, complete)
        if text is not None and not _too_many(_CONTROLS, text):
            return _charset_normalizer_says(match, None, non_ascii=len(sample))  # every character is evidence
    return None


def _charset_normalizer_says(match: CharsetMatch, codec: str | None, non_ascii: int) -> Detected:
    codec = codec or codecs.lookup(match.encoding).name
    what = match.language if match.language != "Unknown" else ", ".join(match.alphabets[:2]) or "no script"
    return Detected(
        codec, _confidence(match.chaos, non_ascii), f"charset-normalizer: {codec} ({what}), {_coherent(match)}"
    )


def _non_ascii_lines(sample: bytes) -> bytes:
    """The lines of the sample that contain a non-ASCII byte, joined, up to about FOCUS_BYTES."""
    lines: list[bytes] = []
    size = 0
    position = 0
    while size < FOCUS_BYTES and (found := _NON_ASCII_BYTE.search(sample, position)):
        start = sample.rfind(b"\n", 0, found.start()) + 1
        end = sample.find(b"\n", found.start())
        end = len(sample) if end < 0 else end
        lines.append(sample[start:end])
        size += end - start + 1
        position = end + 1
    return b"\n".join(lines)[:FOCUS_BYTES]


def _decoded(sample: bytes, codec: str, complete: bool) -> str | None:
    """The sample as text, or None when it is not valid in `codec` (an incomplete last character is fine unless
    the sample is the whole file)."""
    try:
        return codecs.getincrementaldecoder(codec)(errors="strict").decode(sample, final=complete)
    except (UnicodeDecodeError, LookupError):
        return None


def _too_many(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None and len(pattern.findall(text)) > _BINARY_SHARE * len(text)


def _confidence(chaos: float, non_ascii: int, factor: float = 1.0) -> float:
    evidence = min(1.0, 0.5 + non_ascii / 400)
    return round(max(0.0, 1.0 - chaos) * evidence * factor, 2)


def _coherent(match: CharsetMatch) -> str:
    return f"{round(100 * (1 - match.chaos))}% coherent"


def _oddities(text: str, script: str) -> tuple[int, int]:
    """How many distinct words with non-ASCII letters and symbols inside words `text` has, and how many of those
    look odd for a text in `script`."""
    distinct = {word for word in _WORD.findall(text) if not word.isascii()}  # exports repeat names and cities
    sandwiched = len(_SANDWICHED.findall(text))
    return len(distinct) + sandwiched, sum(_odd_word(word, script) for word in distinct) + sandwiched


def _odd_word(word: str, script: str) -> bool:
    letters = word.rstrip(_WORD_END_MARKS) or word
    previous = ""
    non_ascii = run = longest = 0
    for ch in letters:
        if ch.isascii():
            run = 0
        else:
            if not ch.isalpha() or not unicodedata.name(ch, "").startswith(script):
                return True  # ² ³ inside a word, or a letter of another script
            if script == "CYRILLIC" and ch not in _SLAVIC:
                return True
            non_ascii += 1
            run += 1
            longest = max(longest, run)
        if previous.islower() and ch.isupper() and not (previous.isascii() and ch.isascii()):
            return True
        previous = ch
    if script == "CYRILLIC":
        return any(ch.isascii() and ch.isalpha() for ch in letters)  # Cyrillic and Latin in one word
    alpha = sum(ch.isalpha() for ch in letters)
    return longest >= 3 or (alpha >= 4 and 2 * non_ascii > alpha) or (alpha >= 2 and non_ascii == alpha)
