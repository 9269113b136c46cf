"""sink.py: a function's new columns copied into the result as partitions finish (map_partitions over
from_pandas, compute() in this process), against pandas over several partitionings; the fallbacks
(row counts that change, other kinds of output, other processes); results writable, the source never
changed, and a second compute of the same graph never writing into the first's result."""

import pickle
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd
from graphflow.dataframe.sink import ResultSink, SunkFrame


def _frame(n, seed, index=None):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"k": rng.integers(0, 9, n), "a": rng.random(n), "b": rng.random(n)}, index=index)


def add_columns(pdf):
    return pdf.assign(c=pdf.a * 2 + pdf.b, d=pdf.k + 1)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), nparts=st.integers(1, 9), seed=st.integers(0, 99), named=st.booleans(),
       scheduler=st.sampled_from(["threads", "sync"]))
def test_new_columns_placed_equal_pandas(n, nparts, seed, named, scheduler):
    index = pd.RangeIndex(10, 10 + 2 * n, 2, name="r") if named else None
    pdf = _frame(n, seed, index)
    df = gd.from_pandas(pdf, npartitions=nparts)
    got = df.map_partitions(add_columns).compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got, add_columns(pdf))
    assert np.shares_memory(got["a"].to_numpy(), pdf["a"].to_numpy())  # passed through: a view


def test_each_partition_is_placed_and_the_result_owns_the_new_columns():
    pdf = _frame(1000, 1)
    df = gd.from_pandas(pdf, npartitions=4)
    edge = df.map_partitions(add_columns).for_compute()
    assert isinstance(edge.optimized_plan().op.sink, ResultSink)
    out = edge.compute(scheduler="threads")
    pd.testing.assert_frame_equal(out, add_columns(pdf))
    assert not any(np.shares_memory(out["c"].to_numpy(), pdf[k].to_numpy()) for k in pdf)
    out.loc[0, "c"] = -1.0
    out.loc[1, "a"] = -1.0
    assert out.loc[0, "c"] == -1.0 and out.loc[1, "a"] == -1.0 and pdf.loc[1, "a"] != -1.0


def test_the_same_graph_computed_twice_keeps_the_first_result():
    pdf = _frame(500, 2)
    edge = gd.from_pandas(pdf, npartitions=3).map_partitions(add_columns).for_compute()
    first = edge.compute(scheduler="threads")
    kept = first.copy(deep=True)
    second = edge.compute(scheduler="threads")
    pd.testing.assert_frame_equal(first, kept)
    pd.testing.assert_frame_equal(second, kept)
    assert not np.shares_memory(first["c"].to_numpy(), second["c"].to_numpy())


def test_the_same_graph_computed_by_threads_at_once_gives_each_its_own_result():
    """Six threads compute one edge graph five times each: every result equals pandas and no two share
    their new columns (before, one thread's assembly took the arrays another was still filling)."""
    pdf = _frame(20_000, 4)
    edge = gd.from_pandas(pdf, npartitions=8).map_partitions(add_columns).for_compute()
    results, errors = [], []

    def run():
        try:
            for _ in range(5):
                results.append(edge.compute(scheduler="threads"))
        except Exception as e:  # noqa: BLE001 -- reported below with the others
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 30
    want = add_columns(pdf)
    for got in results:
        pd.testing.assert_frame_equal(got, want)
    arrays = [got["c"].to_numpy() for got in results]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])


@pytest.mark.parametrize("nparts", [1, 3, 5])
def test_row_counts_that_change_fall_back_to_concatenation(nparts):
    pdf = _frame(400, 3)

    def some_rows(p):  # the first partition keeps every row, the others lose some
        out = add_columns(p)
        return out if p.index[0] == 0 else out[out.a > 0.3]

    got = gd.from_pandas(pdf, npartitions=nparts).map_partitions(some_rows, meta=add_columns(pdf.iloc[:0]))
    parts = [some_rows(pdf.iloc[s:s + -(-400 // nparts)]) for s in range(0, 400, -(-400 // nparts))]
    pd.testing.assert_frame_equal(got.compute(scheduler="threads"), pd.concat(parts))


def test_strings_and_series_results_are_left_alone():
    pdf = _frame(200, 4)
    df = gd.from_pandas(pdf, npartitions=3)
    got = df.map_partitions(lambda p: p.assign(s=p.k.astype(str))).compute(scheduler="threads")
    pd.testing.assert_frame_equal(got, pdf.assign(s=pdf.k.astype(str)), check_dtype=False)
    s = df.map_partitions(lambda p: p.a * 3).compute(scheduler="threads")
    pd.testing.assert_series_equal(s, pdf.a * 3)


def test_place_and_rebuild_a_partition():
    """A placed partition rebuilt as a frame (the fallback) is the function's frame; a pickled sink (another
    process) places nothing; a partition not from the source is not placed."""
    parts = [pa.table({"a": [1.0, 2.0, 3.0]}), pa.table({"a": [4.0]})]
    sink = ResultSink(parts)
    out = pd.DataFrame({"a": [1.0, 2.0, 3.0], "n": [7, 8, 9]}, index=[5, 6, 7])
    placed = sink.place(parts[0], out)
    assert isinstance(placed, SunkFrame) and placed.placed == (0, 1)
    pd.testing.assert_frame_equal(placed.to_frame(), out)
    assert sink.place(pa.table({"a": [1.0]}), out.iloc[:1]) is not None
    assert not isinstance(sink.place(pa.table({"a": [1.0]}), out.iloc[:1]), SunkFrame)
    assert sink.place(parts[1], out) is out  # 3 rows for a 1-row partition
    copy = pickle.loads(pickle.dumps(sink))
    assert copy.place(parts[0], out) is out


def test_processes_scheduler_takes_the_frames_as_they_are():
    pdf = _frame(300, 5)
    got = gd.from_pandas(pdf, npartitions=3).map_partitions(add_columns).compute(scheduler="processes")
    pd.testing.assert_frame_equal(got, add_columns(pdf))
