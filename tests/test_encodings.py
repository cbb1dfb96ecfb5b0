"""`encoding: auto`: detect_encoding on realistic CSV exports in the encodings our vendors use.

Every detected codec must read the sample back exactly as it was written: a wrong guess that decodes
without an error (mojibake) is the failure that matters.
"""

from __future__ import annotations

import codecs
import gzip
import random
import time

import pytest

from etl.sources.encodings import SAMPLE_BYTES, Detected, EncodingNotDetected, detect_encoding

HEADER = "id,name,city,email,comment\n"
UKRAINIAN = [
    "1,Іван Петренко,Київ,ivan@example.com,Доставка до під'їзду\n",
    "2,Євгенія Коваленко,Львів,yevheniia@example.com,Залишити на ґанку\n",
    "3,Олег Шевчук,Харків,oleh@example.com,Оплата карткою\n",
    "4,Ганна Їжакевич,Одеса,hanna@example.com,Подзвонити заздалегідь — дякую!\n",
    "5,Юрій Бондар,Дніпро,yurii@example.com,«Нова пошта» № 12\n",
]
RUSSIAN = [
    "1,Пётр Иванов,Москва,petr@example.com,Съешь же ещё этих мягких французских булок\n",
    "2,Анна Смирнова,Санкт-Петербург,anna@example.com,да выпей чаю\n",
    "3,Сергей Кузнецов,Новосибирск,sergei@example.com,Доставка после 18:00\n",
    "4,Ольга Попова,Екатеринбург,olga@example.com,Позвонить заранее\n",
]
WESTERN = [
    "1,Hans Müller,Köln,hans@example.com,Straße 5\n",
    "2,François Dupont,Français,francois@example.com,crème brûlée\n",
    "3,João Silva,São Paulo,joao@example.com,Ação\n",
    "4,Søren Ærø,Ærø,soren@example.com,Smørrebrød\n",
    "5,José Núñez,Málaga,jose@example.com,10 € “pagado”\n",  # € “ ” exist in cp1252 only
]
LATIN_1 = [row.replace("€ “pagado”", "EUR") for row in WESTERN]
KOI8_U = [row for row in UKRAINIAN if "—" not in row and "«" not in row]  # koi8-u has no em dash or guillemets
ASCII_ROWS = "".join(f"{i},John Smith,London,john{i}@example.com,note {i}\n" for i in range(100, 5100))


def csv(rows: list[str]) -> str:
    return HEADER + "".join(rows)


def mostly_ascii(*rows: str) -> str:
    """A long ASCII export (~270 KB) with `rows` spread through it: the common case of a few accented names."""
    ascii_lines = ASCII_ROWS.splitlines(keepends=True)
    step = len(ascii_lines) // (len(rows) + 1)
    lines = list(ascii_lines)
    for n, row in reversed(list(enumerate(rows, 1))):
        lines.insert(n * step, row)
    return HEADER + "".join(lines)


def decoded(sample: bytes, detected: Detected, *, complete: bool = True) -> str:
    return codecs.getincrementaldecoder(detected.codec)(errors="strict").decode(sample, final=complete)


# (case, text, how the file is written, the codec detection must report)
WHOLE_FILES = [
    ("cp1251 Ukrainian", csv(UKRAINIAN), "cp1251", "cp1251"),
    ("cp1251 Russian", csv(RUSSIAN), "cp1251", "cp1251"),
    ("cp1251 Ukrainian and Russian", csv(UKRAINIAN + RUSSIAN), "cp1251", "cp1251"),
    ("cp1251 upper case", csv(UKRAINIAN).upper(), "cp1251", "cp1251"),
    ("cp1251 one Ukrainian row", csv(UKRAINIAN[1:2]), "cp1251", "cp1251"),
    ("cp1251 one Russian row", csv(RUSSIAN[:1]), "cp1251", "cp1251"),
    ("koi8-u Ukrainian", csv(KOI8_U), "koi8_u", "koi8-u"),
    ("koi8-r Russian in lower case", csv(RUSSIAN).lower(), "koi8_r", "koi8-r"),
    # read as cp1251 this is plausible upper-case Cyrillic; charset-normalizer finds Russian words in KOI8-R only
    ("koi8-r lower case without ё", csv(RUSSIAN[1:]).lower(), "koi8_r", "koi8-r"),
    (
        "cp1251 with a few codes mixing alphabets",
        csv([f"{i},Іван Петренко,Київ,АА{i:04d}ВС,Товар {i}\n" for i in range(40)] + ["41,Олег,Львів,AА1234BС,x\n"]),
        "cp1251",
        "cp1251",
    ),
    ("cp1252 with € and quotes", csv(WESTERN), "cp1252", "cp1252"),
    ("cp1252 one row", csv(WESTERN[2:3]), "cp1252", "cp1252"),
    ("latin-1 is reported as cp1252", csv(LATIN_1), "latin-1", "cp1252"),
    (
        "cp1250 Polish is not cp1252",
        csv(["1,Łukasz Wójcik,Łódź,l@example.com,zażółć gęślą jaźń\n"]),
        "cp1250",
        "cp1250",
    ),
    ("cp1253 Greek", csv(["1,Γιώργος Παπαδόπουλος,Αθήνα,g@example.com,Θεσσαλονίκη\n"]), "cp1253", "cp1253"),
    ("UTF-16 LE without BOM", csv(UKRAINIAN), "utf-16-le", "utf-16-le"),
    ("plain UTF-8", csv(UKRAINIAN + WESTERN + ["6,山田太郎,東京,t@example.com,👍\n"]), "utf-8", "utf-8"),
    ("pure ASCII", HEADER + ASCII_ROWS, "ascii", "utf-8"),
    ("UTF-8 with a stray NUL", csv(UKRAINIAN) + "6,\x00,x,x@example.com,x\n", "utf-8", "utf-8"),
    ("empty file", "", "ascii", "utf-8"),
]

FEW_NON_ASCII_LINES = [
    ("one Ukrainian city", mostly_ascii("5100,Ivan,Київ,i@example.com,x\n"), "cp1251", "cp1251"),
    ("one Russian city", mostly_ascii("5100,Petr,Москва,p@example.com,x\n"), "cp1251", "cp1251"),
    (
        "two Ukrainian names",
        mostly_ascii("5100,Євгенія,Lviv,e@example.com,x\n", "5101,Іван Петренко,Kyiv,i@e.com,ґанок\n"),
        "cp1251",
        "cp1251",
    ),
    ("three Russian rows", mostly_ascii(*RUSSIAN[:3]), "cp1251", "cp1251"),
    (
        "Ukrainian abbreviations",
        mostly_ascii("5100,ТОВ,Kyiv,t@example.com,x\n", "5101,ПП,Lviv,p@e.com,x\n"),
        "cp1251",
        "cp1251",
    ),
    ("one ПП", mostly_ascii("5100,ПП,Kyiv,t@example.com,x\n"), "cp1251", "cp1251"),
    ("one German name", mostly_ascii("5100,Hans Müller,Köln,h@example.com,x\n"), "cp1252", "cp1252"),
    ("one Brazilian city", mostly_ascii("5100,Joao,São Paulo,j@example.com,x\n"), "cp1252", "cp1252"),
    ("one Danish island", mostly_ascii("5100,Soren,Ærø,s@example.com,x\n"), "cp1252", "cp1252"),
    ("one euro sign", mostly_ascii("5100,Jose,Madrid,j@example.com,10 €\n"), "cp1252", "cp1252"),
    ("a few latin-1 rows", mostly_ascii(*LATIN_1[:3]), "latin-1", "cp1252"),
    ("a few cp1252 rows", mostly_ascii(*WESTERN), "cp1252", "cp1252"),
]


@pytest.mark.parametrize(
    ("text", "written", "expected"),
    [case[1:] for case in WHOLE_FILES + FEW_NON_ASCII_LINES],
    ids=[case[0] for case in WHOLE_FILES + FEW_NON_ASCII_LINES],
)
def test_detects_the_codec_and_reads_the_text_back_exactly(text: str, written: str, expected: str) -> None:
    sample = text.encode(written)
    detected = detect_encoding(sample, complete=True)
    assert detected.codec == expected, detected.reason
    assert decoded(sample, detected) == text
    assert 0.0 <= detected.confidence <= 1.0
    assert detected.reason and "\n" not in detected.reason


# (case, byte-order mark, how the text after it is written, codec, what the reason names)
BOM_FILES = [
    ("UTF-8 BOM", codecs.BOM_UTF8, "utf-8", "utf-8-sig", "UTF-8"),
    ("UTF-16 LE BOM", codecs.BOM_UTF16_LE, "utf-16-le", "utf-16", "UTF-16 LE"),
    ("UTF-16 BE BOM", codecs.BOM_UTF16_BE, "utf-16-be", "utf-16", "UTF-16 BE"),
    ("UTF-32 LE BOM", codecs.BOM_UTF32_LE, "utf-32-le", "utf-32", "UTF-32 LE"),
    ("UTF-32 BE BOM", codecs.BOM_UTF32_BE, "utf-32-be", "utf-32", "UTF-32 BE"),
]


@pytest.mark.parametrize(
    ("bom", "written", "expected", "label"), [case[1:] for case in BOM_FILES], ids=[case[0] for case in BOM_FILES]
)
def test_a_byte_order_mark_decides(bom: bytes, written: str, expected: str, label: str) -> None:
    text = csv(UKRAINIAN + WESTERN)
    sample = bom + text.encode(written)
    detected = detect_encoding(sample, complete=True)
    assert detected == Detected(expected, 1.0, f"byte-order mark ({label})")
    assert decoded(sample, detected) == text  # the codec drops the BOM


@pytest.mark.parametrize("complete", [True, False])
def test_utf8_and_ascii_are_certain(complete: bool) -> None:
    assert detect_encoding(csv(UKRAINIAN).encode(), complete=complete) == Detected("utf-8", 1.0, "valid UTF-8")
    ascii_sample = (HEADER + ASCII_ROWS).encode()
    assert detect_encoding(ascii_sample, complete=complete) == Detected("utf-8", 1.0, "pure ASCII (read as UTF-8)")


CUT_UTF8 = [  # (case, text ending in a multi-byte character, how many of its bytes the sample keeps)
    ("Cyrillic, 1 of 2 bytes", csv(UKRAINIAN) + "6,Олег,Київ", 1),
    ("euro sign, 2 of 3 bytes", csv(WESTERN) + "6,Ana,Lisboa,a@example.com,5 €", 2),
    ("emoji, 3 of 4 bytes", HEADER + "1,Ok,Kyiv,o@example.com,Дякую 👍", 3),
]


@pytest.mark.parametrize(("text", "kept"), [case[1:] for case in CUT_UTF8], ids=[case[0] for case in CUT_UTF8])
def test_utf8_cut_inside_a_character(text: str, kept: int) -> None:
    last = text[-1].encode()
    assert 0 < kept < len(last)
    sample = text.encode()[: -len(last) + kept]

    # part of a longer file: the rest of the character is in the next bytes
    detected = detect_encoding(sample, complete=False)
    assert detected == Detected("utf-8", 1.0, "valid UTF-8")
    assert decoded(sample, detected, complete=False) == text[:-1]

    # the whole file: it is damaged, and no code page reads it without mojibake
    with pytest.raises(EncodingNotDetected, match=r"UTF-8 except for 1 invalid byte sequence.*set `encoding:`"):
        detect_encoding(sample, complete=True)


def test_utf8_with_lines_in_another_encoding_is_refused_with_the_line() -> None:
    sample = csv(WESTERN).encode("utf-8") + "6,Zoë Noël,Genève,z@example.com,x\n".encode("cp1252")
    with pytest.raises(EncodingNotDetected, match=r"the first at line 7 \(bytes eb 20 4e 6f"):
        detect_encoding(sample, complete=True)


FULL_SIZE = [  # (case, rows repeated to fill SAMPLE_BYTES, how they are written)
    ("cp1251", UKRAINIAN + RUSSIAN, "cp1251"),
    ("cp1252", WESTERN, "cp1252"),
    ("cp1251 in a few lines", [ASCII_ROWS, UKRAINIAN[0]], "cp1251"),
    ("cp1252 in a few lines", [ASCII_ROWS, WESTERN[0]], "cp1252"),
]


@pytest.mark.parametrize(("rows", "written"), [case[1:] for case in FULL_SIZE], ids=[case[0] for case in FULL_SIZE])
def test_a_full_size_sample_cut_anywhere(rows: list[str], written: str) -> None:
    whole = (HEADER + "".join(rows) * (SAMPLE_BYTES // len("".join(rows).encode(written)) + 1)).encode(written)
    sample = whole[:SAMPLE_BYTES]  # ends in the middle of a line
    assert len(sample) == SAMPLE_BYTES
    started = time.perf_counter()
    detected = detect_encoding(sample, complete=False)
    elapsed = time.perf_counter() - started
    assert detected.codec == written
    assert decoded(sample, detected, complete=False) == sample.decode(written)
    assert elapsed < 2.0  # ~0.1 s: only the non-ASCII lines, capped, are analysed


def test_few_non_ascii_characters_are_less_certain() -> None:
    few = detect_encoding(mostly_ascii("5100,Ivan,Київ,i@example.com,x\n").encode("cp1251"), complete=True)
    many = detect_encoding(csv(UKRAINIAN * 10).encode("cp1251"), complete=True)
    assert few.confidence < 0.7 < many.confidence


def test_one_letter_both_code_pages_read_as_a_word_is_uncertain() -> None:
    sample = mostly_ascii("5100,Marie,Paris,m@example.com,à demain\n").encode("cp1252")  # cp1251: "а demain"
    detected = detect_encoding(sample, complete=True)
    assert {detected.codec, detected.runner_up} == {"cp1252", "cp1251"}
    assert detected.low_confidence


def test_a_cp1251_reason_for_the_report() -> None:
    detected = detect_encoding(csv(UKRAINIAN).encode("cp1251"), complete=True)
    assert detected.reason.startswith("chardet: cp1251 (uk); runner-up ")
    assert not detected.low_confidence


JUNK = [
    ("random bytes", random.Random(1).randbytes(64 << 10)),
    ("a few random bytes", random.Random(2).randbytes(200)),
    ("random bytes 0x80-0xFF", bytes(random.Random(3).choices(range(0x80, 0x100), k=4096))),
    ("NUL padding", b"\x00" * 4096),
    ("control characters", bytes(random.Random(4).choices(range(0x20), k=1000))),
    ("a gzip file", gzip.compress((HEADER + ASCII_ROWS).encode())),
    ("a PNG", b"\x89PNG\r\n\x1a\n" + random.Random(5).randbytes(4096)),
]


@pytest.mark.parametrize("sample", [case[1] for case in JUNK], ids=[case[0] for case in JUNK])
@pytest.mark.parametrize("complete", [True, False])
def test_junk_is_not_detected(sample: bytes, complete: bool) -> None:
    with pytest.raises(EncodingNotDetected, match=r"set `encoding:` in the import spec explicitly, e\.g\. utf-8"):
        detect_encoding(sample, complete=complete)


def test_encoding_not_detected_is_a_value_error() -> None:
    assert issubclass(EncodingNotDetected, ValueError)
