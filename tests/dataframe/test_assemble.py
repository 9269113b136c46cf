"""graphflow/dataframe/assemble.py: numeric partitions become the same pandas frame pyarrow's path gives
(values, dtypes, nulls as NaN, the index a RangeIndex exactly when pandas' set_index makes one), whether
the chunks are copied on one thread or two, or viewed without a copy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from graphflow.dataframe import assemble
from graphflow.dataframe.assemble import numeric_frame

IDX = "__index_level_0__"


def pyarrow_path(table, data, index, names):
    pdf = table.select(data + index).to_pandas(split_blocks=True)
    if index:
        pdf = pdf.set_index(index)
        pdf.index.names = names
    return pdf


def check(table, data, index, names=(None,)):
    names = list(names)[:len(index)]
    got = numeric_frame(table, data, index, names)
    assert got is not None
    want = pyarrow_path(table, data, index, names)
    pd.testing.assert_frame_equal(got, want, check_index_type=True)
    assert type(got.index) is type(want.index)
    return got


def chunked(values, cuts, type_):
    pieces = np.split(np.asarray(values, dtype=object), cuts) if cuts else [values]
    return pa.chunked_array([pa.array(list(p), type_) for p in pieces if len(p)] or [pa.array([], type_)], type_)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), cuts=st.lists(st.integers(1, 59), max_size=4, unique=True),
       start=st.integers(-5, 5), step=st.sampled_from([1, 2, -1, -3]), nulls=st.booleans(),
       broken=st.booleans(), seed=st.integers(0, 1000))
def test_same_frame_as_pyarrow(n, cuts, start, step, nulls, broken, seed):
    """Random chunkings of a float (with NaN/nulls), an int and a float32 column over an int index that is a
    range unless ``broken``: one frame, equal to pyarrow + set_index's, RangeIndex where pandas has one."""
    rng = np.random.default_rng(seed)
    cuts = sorted(c for c in cuts if c < n)
    x = [None if nulls and rng.random() < 0.3 else float(v) for v in rng.random(n)]
    index = [start + step * i for i in range(n)]
    if broken and n > 2:
        index[rng.integers(1, n)] += 1
    table = pa.table({"x": chunked(x, cuts, pa.float64()), "k": chunked(rng.integers(-9, 9, n).tolist(), cuts,
                      pa.int64()), "f": chunked(rng.random(n).tolist(), cuts, pa.float32()),
                      IDX: chunked(index, cuts, pa.int64())})
    check(table, ["x", "k", "f"], [IDX], ["when"])
    check(table, ["x"], [])


def test_range_index_and_views():
    """A consecutive int index over chunks is a RangeIndex without a copy; a lone null-free chunk is a view."""
    t = pa.table({"x": pa.chunked_array([[1.0, 2.0], [3.0]]), IDX: pa.chunked_array([[4, 5], [6]])})
    got = check(t, ["x"], [IDX])
    assert got.index.equals(pd.RangeIndex(4, 7))
    one = pa.table({"x": [1.0, 2.0, 3.0], IDX: [7, 1, 2]})
    got = check(one, ["x"], [IDX])
    assert not isinstance(got.index, pd.RangeIndex)
    assert np.shares_memory(got["x"].to_numpy(), np.frombuffer(one.column("x").chunk(0).buffers()[1]))


def test_float_index_and_single_row():
    check(pa.table({"x": [1, 2], IDX: [0.5, 0.25]}), ["x"], [IDX], ["v"])
    check(pa.table({"x": [1], IDX: [3]}), ["x"], [IDX])


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timestamps_keep_their_unit_and_nulls_are_nat(unit):
    t = pa.timestamp(unit)
    when = pa.chunked_array([pa.array([0, None, 7200], t), pa.array([3600], t)])
    table = pa.table({"x": pa.chunked_array([[1.0, 2.0, None], [4.0]]), "w": when,
                      IDX: pa.chunked_array([pa.array([0, 60, 120], t), pa.array([180], t)])})
    got = check(table, ["x", "w"], [IDX], ["when"])
    assert isinstance(got.index, pd.DatetimeIndex) and got.index.dtype == np.dtype(f"datetime64[{unit}]")


def test_big_frames_copy_on_two_threads(monkeypatch):
    """Past PARALLEL_BYTES the copies are split between two threads: the same frame."""
    monkeypatch.setattr(assemble, "PARALLEL_BYTES", 1)
    n = 10_000
    rng = np.random.default_rng(1)
    a = rng.random(n)
    a[::7] = np.nan
    parts = [pa.table({"a": pa.array(a[i:i + 1000], from_pandas=True), "b": np.arange(i, i + 1000),
                       IDX: np.arange(i, i + 1000) * 3}) for i in range(0, n, 1000)]
    check(pa.concat_tables(parts), ["a", "b"], [IDX])


@pytest.mark.parametrize("table, index", [
    (pa.table({"x": pa.array([1, None], pa.int64())}), []),  # ints with nulls: pandas makes floats
    (pa.table({"x": ["a", "b"]}), []),
    (pa.table({"x": [True, False]}), []),
    (pa.table({"x": [1.0, 2.0], IDX: pa.array([1, 2], pa.int32())}), [IDX]),
    (pa.table({"x": pa.array([1, 2], pa.timestamp("ns", tz="UTC"))}), []),
    (pa.table({"x": pa.array([1, 2], pa.date32())}), []),
    (pa.table({"x": pa.array([], pa.float64())}), []),
])
def test_other_tables_are_left_to_pyarrow(table, index):
    assert numeric_frame(table, ["x"], index, [None] * len(index)) is None


@pytest.mark.api("Series.cumsum", "Series.cumprod", "DataFrame.cumsum", "DataFrame.cumprod")
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 40), parts=st.integers(1, 6), seed=st.integers(0, 100))
def test_dense_cumulative_matches_pandas(n, parts, seed):
    """Null-free int64/float64 columns take numpy's running sum/product with the carry folded in place
    (cumulative.py): the same as pandas across partition boundaries, ints wrapping as both do."""
    import graphflow.dataframe as gd

    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({"x": rng.random(n) + 0.5, "i": rng.integers(-3, 4, n)})
    df = gd.from_pandas(pdf, npartitions=parts)
    pd.testing.assert_frame_equal(df.cumsum().compute(scheduler="sync"), pdf.cumsum())
    pd.testing.assert_frame_equal(df.cumprod().compute(scheduler="sync"), pdf.cumprod())
    pd.testing.assert_series_equal(df.x.cumsum().compute(scheduler="sync"), pdf.x.cumsum())


def test_pieces_end_to_end_in_one_buffer_are_joined_without_a_copy():
    """Consecutive slices of one array (numpy or an Arrow buffer) become one read-only view; a gap, a
    reordering or a mixed dtype is left to copying (None)."""
    base = np.arange(12.0)
    got = assemble.joined_view([base[:3], base[3:7], base[7:]])
    np.testing.assert_array_equal(got, base)
    assert np.shares_memory(got, base) and not got.flags.writeable
    assert assemble.joined_view([base[:3], base[4:]]) is None
    assert assemble.joined_view([base[3:6], base[:3]]) is None
    assert assemble.joined_view([base[:3], base[3:].astype(np.float32)]) is None
    arrow = pa.array(base)
    views = [np.frombuffer(arrow.buffers()[1], np.float64, count=4, offset=8 * s) for s in (0, 4, 8)]
    np.testing.assert_array_equal(assemble.joined_view(views), base)
    two = [np.arange(3.0), np.arange(3.0)]  # separate allocations: never one view
    assert assemble.joined_view(two) is None


def test_map_partitions_result_views_the_columns_it_passed_through():
    """from_pandas -> map_partitions(assign) -> compute: pandas' answer; the untouched columns are the input's
    memory (not copied) until a write into the result copies them first, so the user's frame never changes."""
    import graphflow.dataframe as gd

    rng = np.random.default_rng(3)
    pdf = pd.DataFrame({"k": rng.integers(0, 9, 1000), "a": rng.random(1000)})
    out = gd.from_pandas(pdf, npartitions=4).map_partitions(lambda d: d.assign(c=d.a * 2)).compute(
        scheduler="threads")
    pd.testing.assert_frame_equal(out, pdf.assign(c=pdf.a * 2))
    assert np.shares_memory(out["a"].to_numpy(), pdf["a"].to_numpy())
    out.loc[0, "a"] = 5.0
    assert out.loc[0, "a"] == 5.0 and pdf.loc[0, "a"] != 5.0
    assert not np.shares_memory(out["a"].to_numpy(), pdf["a"].to_numpy())
