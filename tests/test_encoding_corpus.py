"""The labelled corpus of tests/encoding_corpus.py (issue 14): what it holds, and what the
detector already gets right on it. bench/encodings.py measures every detector on all of it."""

from __future__ import annotations

from collections import Counter

from encoding_corpus import CODEPAGES, UNICODE, corpus

from etl.encodings import SAMPLE_BYTES, detect_encoding


def test_the_corpus_covers_the_languages_and_code_pages_shops_export_in():
    files = list(corpus())
    languages = Counter(sample.language for sample, _, _ in files)
    assert len(languages) >= 12
    assert {"ukrainian", "turkish", "polish", "greek", "italian", "lithuanian", "bulgarian"} <= set(languages)
    for sample, data, text in files:  # labelled right: the bytes are the text in the sample's codec
        assert data.decode(sample.codec).removeprefix("\ufeff") == text
    assert {s.rows for s, _, _ in files} == {1, 3, 20, 200, 10_000}
    assert {codec for codecs in CODEPAGES.values() for codec in codecs} >= {"cp1251", "koi8_u", "cp1254", "cp1125"}


def test_utf8_with_and_without_a_bom_is_always_read_right():
    for sample, data, text in corpus():
        if sample.codec in UNICODE:
            found = detect_encoding(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES)
            assert data.decode(found.codec) == text, sample.label
