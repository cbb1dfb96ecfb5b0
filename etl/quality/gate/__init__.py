"""The quality gate: expectation suites evaluated in DuckDB, with Great Expectations' verdicts.

kinds (the types and their kwargs) -> plan (SQL for one scan) -> evaluate (run it) -> results
(GE's result shapes). Great Expectations itself checks what the gate does not know
(etl.quality.gx_run) and renders Data Docs from the results (etl.quality.data_docs).
"""
