"""The labelled corpus of tests/encoding_corpus.py (issue 14): what it holds, and that `encoding: auto` reads
at least 99% of it back exactly, every miss flagged as low confidence. bench/encodings.py measures the other
detectors on it for docs/performance.md's table."""

from __future__ import annotations

from collections import Counter

from encoding_corpus import CODEPAGES, UNICODE, corpus

from etl.sources.encodings import SAMPLE_BYTES, detect_encoding


def test_the_corpus_covers_the_languages_and_code_pages_shops_export_in():
    files = list(corpus())
    languages = Counter(sample.language for sample, _, _ in files)
    assert len(languages) >= 12
    assert {"ukrainian", "turkish", "polish", "greek", "italian", "lithuanian", "bulgarian"} <= set(languages)
    for sample, data, text in files:  # labelled right: the bytes are the text in the sample's codec
        assert data.decode(sample.codec).removeprefix("\ufeff") == text
    assert {s.rows for s, _, _ in files} == {1, 3, 20, 200, 10_000}
    assert {codec for codecs in CODEPAGES.values() for codec in codecs} >= {"cp1251", "koi8_u", "cp1254", "cp1125"}


def test_auto_reads_99_percent_of_the_corpus_exactly_and_flags_every_miss():
    right, misses = 0, []
    for sample, data, text in corpus():
        found = detect_encoding(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES)
        if data.decode(found.codec) == text:
            right += 1
            if sample.codec in UNICODE:  # a BOM or valid UTF-8 is certain
                assert found.confidence == 1.0, sample.label
        else:
            misses.append((sample.label, found))
    assert right / (right + len(misses)) >= 0.99, misses
    # a miss is a file whose few words read as text in two code pages: the import warns, naming the runner-up
    assert all(found.low_confidence and found.runner_up for _, found in misses), misses
    assert all(sample_rows(label) <= 20 for label, _ in misses), misses


def sample_rows(label: str) -> int:
    return int(label.split("/")[2])
