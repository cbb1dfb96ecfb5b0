"""Readers: a local UTF-8 file (what etl.read's sources hand over: listed, opened, decompressed and
transcoded) -> records with their line numbers. csv is read by etl.read today; jsonl is here."""
