"""TPC-H queries 9-15 at SF 0.01: graphflow's answers (threads scheduler) and dask's equal DuckDB's.

The tables and DuckDB's answers come from ``conftest.py``; `benchmarks.tpch.check.compare` is the
judge (same columns, same rows, numbers within 1e-6 relative).
"""

import pytest

from benchmarks.tpch.check import compare
from benchmarks.tpch.queries_09_15 import QUERIES


def test_answers_are_not_empty(duckdb_answers):
    """The validation parameters select rows at SF 0.01: an empty answer would check nothing."""
    for n in sorted(QUERIES):
        assert len(duckdb_answers(n)) > 0, n


@pytest.mark.parametrize("n", sorted(QUERIES))
def test_graphflow_matches_duckdb(n, gf_tables, duckdb_answers):
    got = QUERIES[n](gf_tables).compute(scheduler="threads")
    compare(got, duckdb_answers(n), n)


def test_same_functions_on_dask_match_duckdb(dask_tables, duckdb_answers):
    """Each query function is plain Dask code: dask.dataframe runs it and gets DuckDB's answer."""
    for n in sorted(QUERIES):
        got = QUERIES[n](dask_tables).compute(scheduler="threads")
        compare(got, duckdb_answers(n), n)
