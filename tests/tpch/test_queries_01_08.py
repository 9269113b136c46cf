"""TPC-H queries 1-8 at SF 0.01: graphflow's answers (threads scheduler) and dask's equal DuckDB's.

The tables and DuckDB's answers come from ``conftest.py``; `benchmarks.tpch.check.compare` is the
judge (same columns, same rows, numbers within 1e-6 relative).
"""

import pytest

from benchmarks.tpch.check import compare
from benchmarks.tpch.queries_01_08 import QUERIES


@pytest.mark.parametrize("n", sorted(QUERIES))
def test_graphflow_matches_duckdb(n, gf_tables, duckdb_answers):
    got = QUERIES[n](gf_tables).compute(scheduler="threads")
    compare(got, duckdb_answers(n), n)


def test_same_functions_on_dask_match_duckdb(dask_tables, duckdb_answers):
    """Each query function is plain Dask code: dask.dataframe runs it and gets DuckDB's answer."""
    for n in sorted(QUERIES):
        got = QUERIES[n](dask_tables).compute(scheduler="threads")
        compare(got, duckdb_answers(n), n)
