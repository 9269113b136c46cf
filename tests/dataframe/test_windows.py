"""shift, diff, the cumulative methods, rolling and map_overlap against pandas on the same data, over
partitionings down to one row per partition, so windows reach back through several partitions."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow as gf
import graphflow.dataframe as gd

PARTITIONS = [1, 2, 5, 13]  # 13 partitions of 40 rows: 3 rows each, the last smaller
SIZES = [dict(chunksize=1), dict(chunksize=2)]  # one or two rows per partition


def frame(n=40, seed=0, nulls=True):
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({
        "x": rng.normal(size=n),
        "i": rng.integers(-5, 6, n),
        "s": pd.array([f"s{v}" for v in rng.integers(0, 4, n)], dtype="str"),
        "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    })
    if nulls and n:
        pdf.loc[rng.choice(n, size=max(n // 8, 1), replace=False), "x"] = np.nan
    return pdf


def split(pdf, how):
    return gd.from_pandas(pdf, **({"npartitions": how} if isinstance(how, int) else how))


LAYOUTS = PARTITIONS + SIZES


@pytest.mark.api("DataFrame.shift", "Series.shift")
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("periods", [1, 3, -1, -4, 0, 50])
def test_shift_matches_pandas(layout, periods):
    pdf = frame()
    df = split(pdf, layout)
    pd.testing.assert_frame_equal(df.shift(periods).compute(), pdf.shift(periods))
    pd.testing.assert_series_equal(df.x.shift(periods).compute(), pdf.x.shift(periods))
    pd.testing.assert_series_equal(df.i.shift(periods).compute(), pdf.i.shift(periods))


@pytest.mark.api("DataFrame.diff", "Series.diff")
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("periods", [1, 2, -3, 0])
def test_diff_matches_pandas(layout, periods):
    pdf = frame()[["x", "i", "t"]]
    df = split(pdf, layout)
    pd.testing.assert_frame_equal(df.diff(periods).compute(), pdf.diff(periods))
    pd.testing.assert_series_equal(df.t.diff(periods).compute(), pdf.t.diff(periods))


def test_shift_and_diff_errors_as_pandas():
    df = split(frame(), 3)
    with pytest.raises(TypeError, match="periods must be an integer"):
        df.shift(1.5)
    with pytest.raises(TypeError, match="not supported"):
        df.diff()  # a string column, as pandas
    with pytest.raises(NotImplementedError, match="map_partitions"):
        df.shift(1, axis=1)


@pytest.mark.api("DataFrame.cumsum", "Series.cumsum", "DataFrame.cumprod", "Series.cumprod",
                 "DataFrame.cummax", "Series.cummax", "DataFrame.cummin", "Series.cummin")
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("how", ["cumsum", "cumprod", "cummax", "cummin"])
@pytest.mark.parametrize("skipna", [True, False])
def test_cumulative_matches_pandas(layout, how, skipna):
    pdf = frame()[["x", "i"]]
    if how == "cumprod":
        pdf = pdf.assign(x=pdf.x / 2 + 1, i=pdf.i.clip(-2, 2))  # stays finite and in int64
    df = split(pdf, layout)
    pd.testing.assert_frame_equal(getattr(df, how)(skipna=skipna).compute(), getattr(pdf, how)(skipna=skipna))
    pd.testing.assert_series_equal(getattr(df.x, how)(skipna=skipna).compute(),
                                   getattr(pdf.x, how)(skipna=skipna))


@pytest.mark.api("Series.cummax", "Series.cummin", "Series.cumsum")
def test_cumulative_times_and_bools():
    pdf = frame()
    df = split(pdf, dict(chunksize=3))
    pd.testing.assert_series_equal(df.t.cummax().compute(), pdf.t.cummax())
    pd.testing.assert_series_equal(df.t.cummin().compute(), pdf.t.cummin())
    pd.testing.assert_series_equal((df.i > 0).cumsum().compute(), (pdf.i > 0).cumsum())
    with pytest.raises(TypeError, match="cumsum is not supported for column 's'"):
        df.cumsum()


ROLLING = ["mean", "sum", "min", "max", "std", "var", "count", "median"]


@pytest.mark.api("DataFrame.rolling", "Series.rolling")
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("window", [1, 3, 7])
def test_rolling_matches_pandas(layout, window):
    pdf = frame()[["x", "i"]]
    df = split(pdf, layout)
    for how in ROLLING:
        pd.testing.assert_series_equal(getattr(df.x.rolling(window), how)().compute(),
                                       getattr(pdf.x.rolling(window), how)())
        pd.testing.assert_frame_equal(getattr(df.rolling(window, min_periods=min(2, window)), how)().compute(),
                                      getattr(pdf.rolling(window, min_periods=min(2, window)), how)())


@pytest.mark.api("Series.rolling")
@pytest.mark.parametrize("layout", [dict(chunksize=1), 4])
@pytest.mark.parametrize("window", [2, 4, 5])
def test_rolling_center_apply_agg(layout, window):
    pdf = frame()[["x", "i"]]
    df = split(pdf, layout)
    pd.testing.assert_frame_equal(df.rolling(window, center=True, min_periods=1).mean().compute(),
                                  pdf.rolling(window, center=True, min_periods=1).mean())
    f = lambda a: float(np.nanmax(a) - np.nanmin(a)) if len(a) else np.nan  # noqa: E731
    pd.testing.assert_series_equal(df.x.rolling(window).apply(f, raw=True).compute(),
                                   pdf.x.rolling(window).apply(f, raw=True))
    pd.testing.assert_frame_equal(df.x.rolling(window).agg(["sum", "max"]).compute(),
                                  pdf.x.rolling(window).agg(["sum", "max"]))


@pytest.mark.api("Series.rolling", "DataFrame.rolling")
@pytest.mark.parametrize("npartitions", [1, 3, 10])
def test_rolling_time_window_on_datetime_index(npartitions):
    pdf = frame().set_index("t").sort_index()[["x", "i"]]
    df = gd.from_pandas(pdf, npartitions=npartitions)
    for window in ["1D", "3D", "12h"]:
        pd.testing.assert_frame_equal(df.rolling(window).sum().compute(), pdf.rolling(window).sum())
        pd.testing.assert_series_equal(df.x.rolling(window).mean().compute(), pdf.x.rolling(window).mean())


def test_rolling_errors_as_pandas():
    df = split(frame(), 3)
    with pytest.raises(ValueError, match="window must be an integer 0 or greater"):
        df.x.rolling(-1)
    with pytest.raises(ValueError, match="window must be an integer 0 or greater"):
        df.x.rolling("2D")  # no datetime index: pandas refuses, before anything runs
    with pytest.raises(TypeError, match="unexpected keyword"):
        df.x.rolling(3, bogus=1)


@pytest.mark.api("DataFrame.map_overlap", "Series.map_overlap")
@pytest.mark.parametrize("layout", LAYOUTS)
def test_map_overlap_matches_pandas(layout):
    pdf = frame()[["x", "i"]]
    df = split(pdf, layout)
    got = df.map_overlap(lambda p: p.rolling(3).sum() + p.shift(-2), 2, 2).compute()
    pd.testing.assert_frame_equal(got, pdf.rolling(3).sum() + pdf.shift(-2))
    got = df.x.map_overlap(lambda s, k: s.diff(k), 2, 0, 2, meta=("x", "f8")).compute()
    pd.testing.assert_series_equal(got, pdf.x.diff(2))


@pytest.mark.api("DataFrame.map_overlap")
def test_map_overlap_timedelta_and_errors():
    pdf = frame().set_index("t").sort_index()[["x"]]
    df = gd.from_pandas(pdf, npartitions=7)
    got = df.map_overlap(lambda p: p.rolling("2D").count(), "2D", 0).compute()
    pd.testing.assert_frame_equal(got, pdf.rolling("2D").count())
    with pytest.raises(ValueError, match="before must be a non-negative"):
        df.map_overlap(lambda p: p, -1, 0)
    with pytest.raises(ValueError, match="one row per input row"):
        df.map_overlap(lambda p: p.iloc[:1], 1, 0, meta=pdf.iloc[:0]).compute()


@pytest.mark.api("Series.shift", "Series.cumsum", "Series.rolling")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 30), chunk=st.integers(1, 7), periods=st.integers(-8, 8), window=st.integers(1, 9),
       seed=st.integers(0, 10**6))
def test_windows_random_partitionings(n, chunk, periods, window, seed):
    pdf = frame(n=n, seed=seed)[["x", "i"]]
    df = gd.from_pandas(pdf, chunksize=chunk) if n else gd.from_pandas(pdf, npartitions=1)
    # an empty int column shifted stays int in pandas; graphflow (as Dask's meta) says float64
    check_dtype = bool(n) or not periods
    pd.testing.assert_frame_equal(df.shift(periods).compute(), pdf.shift(periods), check_dtype=check_dtype)
    pd.testing.assert_frame_equal(df.cumsum().compute(), pdf.cumsum())
    pd.testing.assert_frame_equal(df.diff(periods).compute(), pdf.diff(periods), check_dtype=bool(n))
    pd.testing.assert_series_equal(df.x.rolling(window, min_periods=1).mean().compute(),
                                   pdf.x.rolling(window, min_periods=1).mean())


def test_windows_keep_index_and_divisions():
    pdf = frame().set_index("t").sort_index()
    df = gd.from_pandas(pdf, npartitions=4)
    assert df.x.shift(1).divisions == df.divisions
    assert df.x.cumsum().divisions == df.divisions


def test_windows_on_processes_scheduler():
    """Every op and chain task pickles: shift, cumsum, rolling and map_overlap on worker processes."""
    pdf = frame()[["x", "i"]]
    df = split(pdf, dict(chunksize=3))
    a, b, c = gf.compute(df.shift(2), df.x.cumsum(), df.x.rolling(5).mean(), scheduler="processes")
    pd.testing.assert_frame_equal(a, pdf.shift(2))
    pd.testing.assert_series_equal(b, pdf.x.cumsum())
    pd.testing.assert_series_equal(c, pdf.x.rolling(5).mean())


@pytest.mark.api("Series.rolling", "DataFrame.rolling")
@pytest.mark.parametrize("window, min_periods", [(35, None), (35, 0), (40, 3), (2, 0)])
def test_rolling_sum_mean_long_windows_and_min_periods(window, min_periods):
    """The numpy path of sum/mean: windows past 32 rows difference a running sum; min_periods=0 sums to 0."""
    pdf = frame(n=80, seed=5)[["x", "i"]]
    df = split(pdf, dict(chunksize=3))
    for how in ("sum", "mean"):
        pd.testing.assert_frame_equal(getattr(df.rolling(window, min_periods=min_periods), how)().compute(),
                                      getattr(pdf.rolling(window, min_periods=min_periods), how)())
