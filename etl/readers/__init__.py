"""Readers: a local UTF-8 file (what etl.sources.files hands over: listed, opened, decompressed and
transcoded) -> records with their line numbers. csv is read by etl.sources.files today; jsonl is here."""
