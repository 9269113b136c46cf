"""Comparisons with pandas that name the Dask API they cover (``@pytest.mark.api``).

``python -m benchmarks.api_coverage dataframe`` runs the tests marked ``api``
and counts a Dask name for graphflow only when one of them naming it passed.
Each test builds the same random data (nulls, strings, timestamps) in pandas
and in graphflow over several partitions and compares the answers.  Results
go through `_pandas`, which accepts both what ``compute()`` gave before issue
18 (pyarrow) and what it gives after (pandas); rows are compared in order,
labels aside (the index is issue 18's part 2).
"""

import numpy as np
import pyarrow as pa
import pytest

import graphflow.dataframe as gd

from .data import needs_pandas, pd, random_table

pytestmark = needs_pandas


@pytest.fixture(scope="module")
def table():
    return random_table(n=500, seed=11)


@pytest.fixture(scope="module")
def pdf(table):
    return table.to_pandas()


@pytest.fixture(scope="module", params=[1, 3, 7])
def df(request, table):
    return gd.from_arrow(table, npartitions=request.param)


def _pandas(result):
    """A computed result as numpy-backed pandas with a fresh RangeIndex, whether ``compute()`` gave pyarrow
    or pandas (possibly Arrow-backed): both go through Arrow, as the expected side (``table.to_pandas()``) did."""
    if isinstance(result, pd.Series):
        result = pa.chunked_array([pa.Array.from_pandas(result)])
    elif isinstance(result, pd.DataFrame):
        result = pa.Table.from_pandas(result, preserve_index=False)
    if isinstance(result, pa.Table):
        return result.to_pandas(ignore_metadata=True)
    return result.to_pandas()


def _grouped(result, key: str, column: str):
    """A groupby aggregation as a float Series indexed by ``key`` (from a table or frame with the key as a
    column, or a Series indexed by it), sorted by key."""
    if isinstance(result, (pa.Table, pa.ChunkedArray)):
        result = result.to_pandas()
    if isinstance(result, pd.DataFrame):
        result = result.set_index(key)[column] if key in result.columns else result[column]
    values = result.to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(values, index=result.index.to_numpy()).sort_index()


@pytest.mark.api("Series.isin")
def test_isin_matches_pandas(df, pdf):
    values = ["apple", "fig", "nope"]
    got = _pandas(df.s.isin(values).compute())
    pd.testing.assert_series_equal(got, pdf.s.isin(values), check_names=False)


@pytest.mark.api("DataFrame.dropna")
def test_dropna_matches_pandas(df, pdf):
    got = _pandas(df.dropna().compute())
    pd.testing.assert_frame_equal(got, pdf.dropna().reset_index(drop=True), check_dtype=False)


@pytest.mark.api("GroupBy.sum", "GroupBy.mean")
def test_groupby_sum_and_mean_match_pandas(df, pdf):
    for how in ("sum", "mean"):
        got = _grouped(getattr(df.groupby("k").x, how)().compute(), "k", "x")
        want = getattr(pdf.groupby("k").x, how)()
        pd.testing.assert_series_equal(got, want, check_names=False, check_index_type=False)


@pytest.mark.api("dd.from_pandas")
def test_from_pandas_round_trip(pdf):
    got = _pandas(gd.from_pandas(pdf, npartitions=4).compute())
    pd.testing.assert_frame_equal(got, pdf, check_dtype=False)
