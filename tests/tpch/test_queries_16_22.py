"""TPC-H queries 16-22 (benchmarks/tpch/queries_16_22.py) on SF 0.01: graphflow's answers are DuckDB's.

The tables are generated here with ``tpchgen-cli`` and normalized as the benchmark's data (decimals as
float64, dates as timestamps, plain strings), written several files per table so that the frames have
several partitions.  Each query runs on graphflow with the threads scheduler; once more with every join
shuffled and every groupby shuffled (the paths SF1 takes, which SF 0.01's small tables would never reach);
and the same query code once on dask.dataframe.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import dask.dataframe as dd
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmarks.tpch.queries_16_22 import QUERIES, SQL


TABLES = ("lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region")
ROWS_PER_FILE = 20_000  # SF 0.01: lineitem in 4 files, orders in 1
QUERY_IDS = sorted(QUERIES)


def _tpchgen():
    beside = os.path.join(os.path.dirname(sys.executable), "tpchgen-cli")
    found = beside if os.path.exists(beside) else shutil.which("tpchgen-cli")
    if found is None:
        pytest.fail("tpchgen-cli is not installed (it is in graphflow's test extra: pip install -e '.[test]')")
    return found


def _normal_type(t):
    if pa.types.is_decimal(t):
        return pa.float64()
    if pa.types.is_date(t):
        return pa.timestamp("ns")
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return pa.string()
    return t


@pytest.fixture(scope="session")
def tpch_tables(tmp_path_factory):
    """``{table: directory of Parquet files}`` of TPC-H SF 0.01."""
    root = tmp_path_factory.mktemp("tpch-sf0.01")
    raw = root / "raw"
    subprocess.run([_tpchgen(), "parquet", "-s", "0.01", "--output-dir", str(raw)], check=True,
                   capture_output=True, timeout=120)
    out = {}
    for name in TABLES:
        table = pq.read_table(raw / f"{name}.parquet")
        table = table.cast(pa.schema([pa.field(f.name, _normal_type(f.type)) for f in table.schema]))
        folder = root / name
        folder.mkdir()
        for i, start in enumerate(range(0, max(table.num_rows, 1), ROWS_PER_FILE)):
            pq.write_table(table.slice(start, ROWS_PER_FILE), folder / f"part.{i}.parquet")
        out[name] = str(folder)
    return out


@pytest.fixture(scope="session")
def duckdb_answers(tpch_tables):
    con = duckdb.connect()
    for name, folder in tpch_tables.items():
        con.execute(f"create view {name} as select * from read_parquet('{folder}/*.parquet')")
    return {q: con.execute(SQL[q]).df() for q in QUERY_IDS}


def compare(got: pd.DataFrame, want: pd.DataFrame, query: int):
    """Same shape, columns by position; rows after a stable sort on all columns; floats within 1e-6."""
    assert got.shape == want.shape, f"q{query}: shape {got.shape}, DuckDB's {want.shape}"
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    got.columns = want.columns = range(want.shape[1])
    order = list(want.columns)
    got = got.sort_values(order, kind="stable").reset_index(drop=True)
    want = want.sort_values(order, kind="stable").reset_index(drop=True)
    for c in order:
        a, b = got[c], want[c]
        if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-6,
                                       err_msg=f"q{query} column {c}")
        elif b.dtype.kind == "M":
            assert (pd.to_datetime(a) == pd.to_datetime(b)).all(), f"q{query} column {c}"
        else:
            bad = a.astype(str) != b.astype(str)
            assert not bad.any(), f"q{query} column {c} row {bad.idxmax()}: {a[bad.idxmax()]!r} != {b[bad.idxmax()]!r}"


def _tables(module, tpch_tables):
    return {name: module.read_parquet(folder) for name, folder in tpch_tables.items()}


def test_answers_are_not_trivial(duckdb_answers):
    """Most queries have rows at SF 0.01 (q17's and q20's are empty or null there: the spec's parameters)."""
    assert sum(len(a) > 0 and a.notna().all(axis=None) for a in duckdb_answers.values()) >= 5


@pytest.mark.parametrize("query", QUERY_IDS)
def test_query_matches_duckdb(query, tpch_tables, duckdb_answers):
    import graphflow.dataframe as gd

    got = QUERIES[query](_tables(gd, tpch_tables)).compute(scheduler="threads")
    compare(got, duckdb_answers[query], query)


@pytest.mark.parametrize("query", QUERY_IDS)
def test_query_matches_duckdb_with_shuffles(query, tpch_tables, duckdb_answers, monkeypatch):
    """Every join hash-shuffles both sides and every groupby shuffles its partials (the SF1 paths)."""
    import graphflow.dataframe as gd
    from graphflow.dataframe import groupby, join

    monkeypatch.setattr(join, "BROADCAST_BYTES", 0)
    monkeypatch.setattr(groupby, "SHUFFLE_GROUPS", 0)
    got = QUERIES[query](_tables(gd, tpch_tables)).compute(scheduler="threads")
    compare(got, duckdb_answers[query], query)


@pytest.mark.parametrize("query", QUERY_IDS)
def test_same_code_on_dask(query, tpch_tables, duckdb_answers):
    """The query code is Dask's too: dask.dataframe gives DuckDB's answers."""
    got = QUERIES[query](_tables(dd, tpch_tables)).compute(scheduler="threads")
    compare(got, duckdb_answers[query], query)
