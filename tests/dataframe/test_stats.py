"""Higher moments, exact quantiles, arg-extremes, mode, correlation and nlargest (graphflow/dataframe/stats.py)
against pandas on the same data."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

SYNC = {"scheduler": "sync"}


def data(n=80, seed=0, nparts=4, offset=0.0):
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({
        "a": rng.normal(size=n) * 3 + offset,
        "b": rng.integers(-5, 9, n),
        "c": rng.exponential(size=n),
        "s": rng.choice(["x", "y", "z"], n),
    }, index=pd.Index(rng.permutation(n) * 10, name="i"))
    pdf.loc[pdf.index[rng.random(n) < 0.1], "a"] = np.nan
    pdf.loc[pdf.index[rng.random(n) < 0.1], "c"] = np.nan
    pdf = pdf.sort_index()  # from_pandas sorts by the index (as Dask); "first" must mean the same row
    return pdf, gd.from_pandas(pdf, npartitions=nparts)


def close(got, want, rtol=1e-9):
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got.compute(**SYNC), want, check_exact=False, rtol=rtol)
    elif isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got.compute(**SYNC), want, check_exact=False, rtol=rtol)
    else:
        value = got.compute(**SYNC)
        assert value == pytest.approx(want, rel=rtol, nan_ok=True)


parts = st.integers(min_value=1, max_value=9)


@pytest.mark.api("Series.skew", "Series.kurtosis", "Series.kurt", "Series.sem", "DataFrame.skew",
                 "DataFrame.kurtosis", "DataFrame.kurt", "DataFrame.sem")
@settings(max_examples=15, deadline=None)
@given(nparts=parts, seed=st.integers(0, 50), offset=st.sampled_from([0.0, 1e9]))
def test_moments_match_pandas(nparts, seed, offset):
    pdf, df = data(seed=seed, nparts=nparts, offset=offset)
    for name in ("skew", "kurtosis", "kurt", "sem"):
        tol = 1e-9 if offset == 0 else 1e-4  # 1e9 +- 3: pandas' own sums lose digits there too
        got = getattr(df.a, name)().compute(**SYNC)
        assert got == pytest.approx(getattr(pdf.a, name)(), rel=tol, abs=tol)
    close(df[["a", "b", "c"]].skew(), pdf[["a", "b", "c"]].skew(), rtol=tol)
    close(df[["a", "b", "c"]].sem(), pdf[["a", "b", "c"]].sem(), rtol=tol)


def test_moments_of_tiny_and_constant_columns_are_nan_or_zero_as_pandas():
    for values in ([1.0], [1.0, 2.0], [2.0, 2.0, 2.0, 2.0], [1.0, 5.0, 2.0, 8.0]):
        pdf = pd.DataFrame({"a": values})
        df = gd.from_pandas(pdf, npartitions=2)
        for name in ("skew", "kurt", "sem"):
            assert getattr(df.a, name)().compute(**SYNC) == pytest.approx(getattr(pdf.a, name)(), nan_ok=True)


@pytest.mark.api("Series.median", "Series.quantile", "DataFrame.median", "DataFrame.quantile",
                 "Series.median_approximate", "DataFrame.median_approximate")
@settings(max_examples=15, deadline=None)
@given(nparts=parts, seed=st.integers(0, 50))
def test_exact_quantiles_match_pandas(nparts, seed):
    pdf, df = data(seed=seed, nparts=nparts)
    close(df.a.median(), pdf.a.median())
    close(df.a.quantile(0.3), pdf.a.quantile(0.3))
    close(df.a.quantile([0.1, 0.5, 0.95]), pdf.a.quantile([0.1, 0.5, 0.95]))
    num = ["a", "b", "c"]
    close(df[num].median(), pdf[num].median())
    close(df[num].quantile([0.25, 0.75]), pdf[num].quantile([0.25, 0.75]))
    approx = df.a.median_approximate().compute(**SYNC)
    assert abs(approx - pdf.a.median()) < 0.5  # sampled order statistics: close, not exact


@pytest.mark.api("Series.idxmax", "Series.idxmin", "DataFrame.idxmax", "DataFrame.idxmin")
@settings(max_examples=15, deadline=None)
@given(nparts=parts, seed=st.integers(0, 50))
def test_arg_extremes_match_pandas(nparts, seed):
    pdf, df = data(seed=seed, nparts=nparts)
    assert df.a.idxmax().compute(**SYNC) == pdf.a.idxmax()
    assert df.b.idxmin().compute(**SYNC) == pdf.b.idxmin()  # ties: the first label in order, as pandas
    pd.testing.assert_series_equal(df[["a", "b"]].idxmax().compute(**SYNC), pdf[["a", "b"]].idxmax())


@pytest.mark.api("Series.mode")
@settings(max_examples=10, deadline=None)
@given(nparts=parts, seed=st.integers(0, 50))
def test_mode_matches_pandas(nparts, seed):
    pdf, df = data(seed=seed, nparts=nparts)
    pd.testing.assert_series_equal(df.b.mode().compute(**SYNC), pdf.b.mode())
    pd.testing.assert_series_equal(df.s.mode().compute(**SYNC), pdf.s.mode())


@pytest.mark.api("DataFrame.corr", "DataFrame.cov", "Series.corr", "Series.cov")
@settings(max_examples=15, deadline=None)
@given(nparts=parts, seed=st.integers(0, 50), offset=st.sampled_from([0.0, 1e6]))
def test_correlation_matches_pandas(nparts, seed, offset):
    pdf, df = data(seed=seed, nparts=nparts, offset=offset)
    num = ["a", "b", "c"]
    tol = 1e-9 if offset == 0 else 1e-6  # far from zero the two algorithms round differently
    close(df[num].corr(), pdf[num].corr(), tol)
    close(df[num].cov(), pdf[num].cov(), tol)
    close(df.a.corr(df.c), pdf.a.corr(pdf.c), tol)
    close(df.a.cov(df.b, ddof=0), pdf.a.cov(pdf.b, ddof=0), tol)
    with pytest.raises(ValueError, match="numeric_only"):
        df.corr()
    close(df.corr(numeric_only=True), pdf.corr(numeric_only=True))


@pytest.mark.api("DataFrame.nlargest", "DataFrame.nsmallest", "Series.nlargest", "Series.nsmallest")
@settings(max_examples=15, deadline=None)
@given(nparts=parts, seed=st.integers(0, 50), n=st.integers(1, 12))
def test_nlargest_matches_pandas(nparts, seed, n):
    pdf, df = data(seed=seed, nparts=nparts)
    pd.testing.assert_frame_equal(df.nlargest(n, "a").compute(**SYNC), pdf.nlargest(n, "a"))
    pd.testing.assert_frame_equal(df.nsmallest(n, ["b", "a"]).compute(**SYNC), pdf.nsmallest(n, ["b", "a"]))
    pd.testing.assert_series_equal(df.b.nlargest(n).compute(**SYNC), pdf.b.nlargest(n))
    pd.testing.assert_series_equal(df.c.nsmallest(n).compute(**SYNC), pdf.c.nsmallest(n))


@pytest.mark.api("Series.nunique_approx", "DataFrame.nunique_approx")
def test_nunique_approx_is_within_any_bound():
    pdf, df = data()
    assert df.b.nunique_approx().compute(**SYNC) == pdf.b.nunique()
    assert df.nunique_approx().compute(**SYNC) == len(pdf.drop_duplicates())
