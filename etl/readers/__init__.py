"""Readers: a local UTF-8 file (what etl.sources hands over: listed, opened, decompressed and
transcoded) -> records with their line numbers. csv is read by etl.sources today; jsonl is here."""
