"""TPC-H at scale factor 0.01, generated once per test session, and DuckDB's answers to check against.

``tpch_paths`` generates the tables with tpchgen-cli (`benchmarks.tpch.data`) into a session temp
directory, in files of 10,000 rows so that lineitem (60k rows) and orders (15k) have several
partitions and the joins and group-bys really shuffle.  ``duckdb_answers`` runs a query's SQL text on
those files once per session and caches the pandas answer; ``gf_tables`` / ``dask_tables`` are the
lazy frames a query function takes.
"""

import pytest

from benchmarks.tpch import data, engines

SF = 0.01
ROWS_PER_FILE = 10_000


@pytest.fixture(scope="session")
def tpch_paths(tmp_path_factory):
    """``{table: directory of Parquet files}`` at SF 0.01."""
    return data.generate(SF, str(tmp_path_factory.mktemp("tpch") / "sf0.01"), rows_per_file=ROWS_PER_FILE)


@pytest.fixture(scope="session")
def tpch_sql():
    """SQL text of every query module present, by query number."""
    return engines.all_queries()[1]


@pytest.fixture(scope="session")
def tpch_queries():
    """Query functions of every query module present, by query number."""
    return engines.all_queries()[0]


@pytest.fixture(scope="session")
def duckdb_answers(tpch_paths, tpch_sql):
    """A function ``n -> DuckDB's answer to query n`` (pandas), computed once per query per session."""
    con = engines.duckdb_connection(tpch_paths, threads=2)
    cache = {}

    def answer(n):
        if n not in cache:
            cache[n] = engines.duckdb_answer(con, tpch_sql[n])
        return cache[n]

    yield answer
    con.close()


@pytest.fixture(scope="session")
def gf_tables(tpch_paths):
    import graphflow.dataframe as gdd

    return engines.load_tables(gdd, tpch_paths)


@pytest.fixture(scope="session")
def dask_tables(tpch_paths):
    import dask.dataframe as dd

    return engines.load_tables(dd, tpch_paths)
