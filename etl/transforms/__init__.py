"""Transformations declared in an import spec's `transforms:` list, compiled to Polars.

steps: the pydantic models of the steps and the checks that run when a spec loads;
compile: the steps as a pure function LazyFrame -> LazyFrame over the raw records;
timestamp, cast: the value transformations that need more than one expression.
"""
