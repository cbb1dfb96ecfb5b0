"""How much a decoded text looks like mojibake: what tells the right code page from a wrong one that also
decodes the bytes.

chardet ranks code pages by the byte statistics of languages, and a few short product names do not pin those
down: Italian "caffè città" scores as well in Mac Cyrillic ("caffш cittа") as in cp1252. A wrong code page,
though, leaves marks that no shop's text has, whatever its language:

- a word whose letters come from two scripts ("caffш", "Mьller"); ASCII letters next to CJK are allowed
  ("iPhoneケース"), but not a CJK character between two ASCII letters ("M羹ller" is Big5 read from cp1252);
- an upper-case non-ASCII letter inside a word that is not all upper case ("KŸche", "MÅnchen"), or a switch
  from lower to upper case at a non-ASCII letter ("Löffel" read as "LĂ¶ffel");
- a symbol glued to a letter ("Ки∙в", "¶wieca"), except those real text has there (’ « » ™ ° € № ² ...),
  and between two letters only an apostrophe or a dash ("Êè¿â" is cp1251 "Київ" read as cp1252);
- box-drawing and block characters anywhere (DOS and KOI8 code pages keep them where others keep letters).

`odd_share` is the share of the text's distinct non-ASCII words and glued symbols that look like that.
Combining marks (Thai vowels, Hebrew points) belong to the letter before them; a word cannot start with one.
"""

from __future__ import annotations

import re
import unicodedata

# Combining marks of the scripts shops write (Latin, Cyrillic, Hebrew, Arabic, Thai, kana): part of words.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u3099\u309a"
)
_WORD = re.compile(rf"(?:[^\W_]|[{_MARKS}])+")  # letters, digits and marks
_SHOP_SYMBOLS = "’‘´\u00ad–—™®©°€£¥§№«»¿¡„“”ªº²³¹µ"  # symbols real names have next to letters
_NOT_A_LETTER = r"[^\w\s\x00-\x7f" + _SHOP_SYMBOLS + r"]"
_IN_WORDS = "’‘´\u00ad–—"  # and of those, only these between two letters ("Êè¿â" is "Київ" read as cp1252)
_GLUED = re.compile(
    rf"(?<=[^\W\d_])[^\w\s\x00-\x7f{_IN_WORDS}](?=[^\W\d_])|(?<=[^\W\d_]){_NOT_A_LETTER}|{_NOT_A_LETTER}(?=[^\W\d_])"
)
_BOX = re.compile(r"[\u2219\u221a\u2320\u2321\u2500-\u25ff]")  # box drawing, blocks, ∙ √ ⌠ ⌡ of DOS pages
_CJK_BETWEEN_ASCII = re.compile(r"[a-zA-Z][\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff][a-zA-Z]")
_CJK_PREFIXES = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC")


def odd_share(text: str) -> float:
    """The share (0..1) of the distinct non-ASCII words and the glued symbols of `text` that look like mojibake;
    0 for a text without any."""
    words = {word for word in _WORD.findall(text) if not word.isascii()}  # exports repeat names and cities
    glued = [ch for ch in _GLUED.findall(text) if not unicodedata.category(ch).startswith("M")]
    boxes = set(_BOX.findall(text))
    considered = len(words) + len(glued) + len(boxes)
    if not considered:
        return 0.0
    return (sum(map(_odd_word, words)) + len(glued) + len(boxes)) / considered


def distinct_non_ascii_words(text: str) -> int:
    """How many distinct words with a non-ASCII letter the text has: the evidence a detection rests on."""
    return len({word for word in _WORD.findall(text) if not word.isascii()})


def _odd_word(word: str) -> bool:
    if unicodedata.category(word[0]).startswith("M"):
        return True  # a combining mark with no letter before it (Cyrillic capitals read as Hebrew points)
    scripts: set[str] = set()
    previous = ""
    upper_word = word.isupper()
    for ch in word:
        if unicodedata.category(ch).startswith("M"):
            continue
        if ch.isalpha():
            scripts.add(_script(ch))
            if previous.isalpha() and ch.isupper() and not ch.isascii() and not upper_word:
                return True  # "KŸche": an upper-case letter inside a word
            if previous.islower() and ch.isupper() and not (previous.isascii() and ch.isascii()):
                return True
        elif not ch.isascii() and not ch.isdigit():
            return True  # "²" inside a word
        previous = ch
    if scripts == {"LATIN"} and len(word) >= 2 and word.isupper() and not any(ch.isascii() for ch in word):
        return True  # "ÏÏ", "ÒÎÂ": Cyrillic capitals read as Latin; no Latin word is only accented capitals
    if len(scripts) < 2:
        return False
    if _CJK_BETWEEN_ASCII.search(word):
        return True
    ascii_latin_and_cjk = scripts == {"LATIN", "CJK"} and all(
        ch.isascii() for ch in word if ch.isalpha() and _script(ch) == "LATIN"
    )
    return not ascii_latin_and_cjk


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "UNKNOWN").split(" ")[0]
    return "CJK" if name.startswith(_CJK_PREFIXES) else name
