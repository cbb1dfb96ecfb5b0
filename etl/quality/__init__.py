"""Data quality: the gate, expectation suites, validation, Great Expectations, Data Docs, store invariants."""
