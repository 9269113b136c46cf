"""TPC-H queries 1-22 at SF 0.01: graphflow's answers are DuckDB's (`benchmarks.tpch.check.compare`:
same column names, same rows, numbers within 1e-6 relative).

Each query runs on graphflow with the threads scheduler; once more with every join shuffled and every
groupby shuffled (the paths SF1 takes, which SF 0.01's small tables would never reach); and the same
query code once on dask.dataframe.  The tables and DuckDB's answers come from ``conftest.py``.
"""

import pytest

from benchmarks.tpch import queries_01_08, queries_09_15, queries_16_22
from benchmarks.tpch.check import compare

QUERIES = {**queries_01_08.QUERIES, **queries_09_15.QUERIES, **queries_16_22.QUERIES}
QUERY_IDS = sorted(QUERIES)
# The spec's substitution parameters select no rows (q20) or only a null (q17) at SF 0.01.
EMPTY_AT_SF001 = {17, 20}


def test_all_22_queries():
    assert QUERY_IDS == list(range(1, 23))


def test_answers_are_not_trivial(duckdb_answers):
    """An empty or all-null answer would check nothing: only the queries named above may be."""
    trivial = {n for n in QUERY_IDS if not (len(a := duckdb_answers(n)) > 0 and a.notna().all(axis=None))}
    assert trivial <= EMPTY_AT_SF001, trivial


@pytest.mark.parametrize("query", QUERY_IDS)
def test_query_matches_duckdb(query, gf_tables, duckdb_answers):
    got = QUERIES[query](gf_tables).compute(scheduler="threads")
    compare(got, duckdb_answers(query), query)


@pytest.mark.parametrize("query", QUERY_IDS)
def test_query_matches_duckdb_with_shuffles(query, gf_tables, duckdb_answers, monkeypatch):
    """Every join hash-shuffles both sides and every groupby shuffles its partials (the SF1 paths)."""
    from graphflow.dataframe import groupby, join

    monkeypatch.setattr(join, "BROADCAST_BYTES", 0)
    monkeypatch.setattr(groupby, "SHUFFLE_GROUPS", 0)
    got = QUERIES[query](gf_tables).compute(scheduler="threads")
    compare(got, duckdb_answers(query), query)


@pytest.mark.parametrize("query", QUERY_IDS)
def test_same_code_on_dask(query, dask_tables, duckdb_answers):
    """The query code is Dask's too: dask.dataframe gives DuckDB's answers."""
    got = QUERIES[query](dask_tables).compute(scheduler="threads")
    compare(got, duckdb_answers(query), query)
