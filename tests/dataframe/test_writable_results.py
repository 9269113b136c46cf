"""Computed results and the pandas objects handed to user functions are writable, as pandas' and Dask's
are, and writing into them never changes the frame they were made from (copy on the first write)."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import graphflow.dataframe as gd


def source():
    return pd.DataFrame({"a": np.arange(12.0), "b": np.arange(12), "s": list("abcdefghijkl")})


def zero_negative(pdf):
    pdf.loc[pdf.a > 3, "a"] = 0.0  # a Dask user's in-place edit of its partition
    return pdf


def mapped(df, func):
    return df.map_partitions(func) if isinstance(df, gd.DataFrame) else func(df)


RESULTS = {
    "frame": lambda df: df,
    "filtered": lambda df: df[df.b % 2 == 0],
    "map_partitions": lambda df: mapped(df, lambda p: p.assign(c=p.a * 2)),
    "edited in map_partitions": lambda df: mapped(df, zero_negative),
    "series": lambda df: df.a,
    "cumsum": lambda df: df.a.cumsum(),
    "diff": lambda df: df.b.diff(),
}


@pytest.mark.parametrize("npartitions", [1, 3])
@pytest.mark.parametrize("kind", list(RESULTS))
def test_results_take_writes_and_leave_the_source_alone(kind, npartitions):
    pdf = source()
    kept = pdf.copy()
    got = RESULTS[kind](gd.from_pandas(pdf, npartitions=npartitions)).compute(scheduler="sync")
    want = RESULTS[kind](source())
    if isinstance(got, pd.DataFrame):
        got.iloc[0, 0] = 99.0
        got.loc[got.index[1], "b"] = 77
        want.iloc[0, 0] = 99.0
        want.loc[want.index[1], "b"] = 77
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
    else:
        got.iloc[0] = 99
        want.iloc[0] = 99
        pd.testing.assert_series_equal(got, want, check_dtype=False)
    pd.testing.assert_frame_equal(pdf, kept)


def test_results_from_arrow_partitions_take_writes():
    table = pa.table({"a": np.arange(8.0), "b": np.arange(8)})
    got = gd.from_arrow(table, npartitions=2).compute(scheduler="sync")
    got.loc[0, "a"] = 5.0
    got["b"] += 1
    assert got.a.tolist()[:2] == [5.0, 1.0] and got.b.tolist()[:2] == [1, 2]
    assert table.column("a")[0].as_py() == 0.0
