"""known_ranges: a written-out RangeIndex is read back as a range without a scan, only while the array lives,
only for consecutive slices of it; from_pandas frames with any RangeIndex come back with pandas' index."""

import gc

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe import known_ranges
from graphflow.dataframe.assemble import numeric_frame


def _remembered(start, stop, step):
    values = np.arange(start, stop, step, dtype=np.int64)
    values.flags.writeable = False
    known_ranges.remember(values, start, step)
    return values


def test_consecutive_slices_are_a_range_and_gaps_are_not():
    arr = pa.array(_remembered(100, 0, -2))
    assert known_ranges.range_of(pa.chunked_array([arr.slice(1, 10), arr.slice(11, 5)])) == range(98, 68, -2)
    assert known_ranges.range_of(pa.chunked_array([arr.slice(0, 3), arr.slice(4, 3)])) is None  # a gap
    assert known_ranges.range_of(pa.chunked_array([arr.slice(3, 3), arr.slice(0, 3)])) is None  # reordered
    other = pa.array(np.arange(5, dtype=np.int64))
    assert known_ranges.range_of(pa.chunked_array([other])) is None  # never remembered


def test_writable_arrays_are_not_remembered_and_dead_ones_are_forgotten():
    values = np.arange(10, dtype=np.int64)  # writable: someone could change it
    known_ranges.remember(values, 0, 1)
    assert known_ranges.range_of(pa.chunked_array([pa.array(values)])) is None
    arr = pa.array(_remembered(0, 10, 1))
    address = arr.buffers()[1].address
    assert address in known_ranges.KNOWN
    del arr
    gc.collect()
    assert address not in known_ranges.KNOWN


def test_a_remembered_range_gives_the_same_frame_as_a_scan():
    values = _remembered(7, 7 + 3 * 50, 3)
    data = pa.array(np.random.default_rng(0).random(50))
    table = pa.table({"x": data, "__index_level_0__": pa.array(values)})
    got = numeric_frame(table.slice(4, 30), ["x"], ["__index_level_0__"], ["i"])
    assert isinstance(got.index, pd.RangeIndex) and got.index.equals(pd.RangeIndex(19, 109, 3, name="i"))
    copied = pa.table({"x": data, "__index_level_0__": pa.array(values.copy())})  # not remembered: scanned
    pd.testing.assert_frame_equal(numeric_frame(copied.slice(4, 30), ["x"], ["__index_level_0__"], ["i"]), got)


@pytest.mark.parametrize("index", [pd.RangeIndex(1000), pd.RangeIndex(5, 3005, 3, name="r"),
                                   pd.RangeIndex(999, -1, -1)])
@pytest.mark.parametrize("nparts", [1, 4, 7])
def test_from_pandas_results_keep_pandas_range_index(index, nparts):
    pdf = pd.DataFrame({"a": np.random.default_rng(nparts).random(1000)}, index=index)
    df = gd.from_pandas(pdf, npartitions=nparts, sort=False)
    got = df.compute(scheduler="threads")
    pd.testing.assert_frame_equal(got, pdf)
    assert isinstance(got.index, pd.RangeIndex)
    pd.testing.assert_series_equal(df.a.cumsum().compute(scheduler="threads"), pdf.a.cumsum())
    part = df.partitions[1 % nparts].compute(scheduler="sync")
    assert isinstance(part.index, pd.RangeIndex)
