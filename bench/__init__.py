"""Benchmarks for `make bench`: each module has run() returning rows for the table."""
