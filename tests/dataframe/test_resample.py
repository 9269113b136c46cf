"""resample on a datetime index with known divisions, against pandas: bins that straddle partitions
(partitions of one or two rows inside one bin), empty bins between partitions, rules finer and coarser
than the partitions."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

HOWS = ["sum", "mean", "count", "min", "max", "first", "last", "median", "prod", "std", "var", "nunique"]


def timed(n=60, seed=0, span_s=10 * 3600):
    rng = np.random.default_rng(seed)
    idx = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, span_s, n)), unit="s")
    pdf = pd.DataFrame({"x": rng.normal(size=n), "i": rng.integers(0, 9, n)}, index=pd.DatetimeIndex(idx, name="t"))
    if n:
        pdf.loc[pdf.index[rng.choice(n, size=max(n // 8, 1), replace=False)], "x"] = np.nan
    return pdf


def check(got, exp):
    # empty bins make ints float in pandas only when a bin is empty: compare values, names and index
    if isinstance(exp, pd.DataFrame):
        pd.testing.assert_frame_equal(got, exp, check_freq=False, check_dtype=False)
    else:
        pd.testing.assert_series_equal(got, exp, check_freq=False, check_dtype=False)


@pytest.mark.api("DataFrame.resample", "Series.resample")
@pytest.mark.parametrize("layout", [dict(npartitions=1), dict(npartitions=4), dict(chunksize=1), dict(chunksize=2)])
@pytest.mark.parametrize("rule", ["1h", "17min", "1D"])
def test_resample_matches_pandas(layout, rule):
    pdf = timed()
    df = gd.from_pandas(pdf, **layout)
    for how in HOWS:
        check(getattr(df.resample(rule), how)().compute(), getattr(pdf.resample(rule), how)())
        check(getattr(df.x.resample(rule), how)().compute(), getattr(pdf.x.resample(rule), how)())
    pd.testing.assert_series_equal(df.resample(rule).size().compute(), pdf.resample(rule).size(), check_freq=False)


@pytest.mark.api("DataFrame.resample")
@pytest.mark.parametrize("closed, label", [("right", None), ("left", "right"), ("right", "right")])
def test_resample_closed_label_and_agg(closed, label):
    pdf = timed(seed=3)
    pdf.index = pdf.index.floor("30min")  # rows exactly on bin edges: closed= decides their bin
    pdf = pdf[~pdf.index.duplicated()]  # (from_pandas knows no divisions when equal values straddle partitions)
    df = gd.from_pandas(pdf, chunksize=3)
    r, pr = df.resample("1h", closed=closed, label=label), pdf.resample("1h", closed=closed, label=label)
    check(r.sum().compute(), pr.sum())
    check(r.agg({"x": "mean", "i": "max"}).compute(), pr.agg({"x": "mean", "i": "max"}))
    check(r.agg(["sum", "count"]).compute(), pr.agg(["sum", "count"]))
    check(df.x.resample("1h", closed=closed, label=label).agg("last").compute(),
          pdf.x.resample("1h", closed=closed, label=label).agg("last"))


def test_resample_gap_across_partitions_gets_empty_bins():
    """Rows only at 00:xx and at 05:xx, in different partitions: pandas fills 01:00..04:00."""
    idx = pd.DatetimeIndex(["2024-01-01 00:10", "2024-01-01 00:20", "2024-01-01 05:30", "2024-01-01 05:40"])
    pdf = pd.DataFrame({"x": [1, 2, 3, 4]}, index=idx)
    df = gd.from_pandas(pdf, npartitions=2)
    got = df.resample("1h").sum().compute()
    pd.testing.assert_frame_equal(got, pdf.resample("1h").sum(), check_freq=False)
    assert got.x.tolist() == [3, 0, 0, 0, 0, 7]
    assert df.resample("1h").sum().divisions[0] == pd.Timestamp("2024-01-01 00:00")


def test_resample_needs_known_divisions_and_a_datetime_index():
    pdf = timed()
    with pytest.raises(ValueError, match="known divisions"):
        gd.from_pandas(pdf.sample(frac=1, random_state=1), npartitions=2, sort=False).resample("1h")
    with pytest.raises(TypeError, match="Only valid with DatetimeIndex"):
        gd.from_pandas(pdf.reset_index(), npartitions=2).resample("1h")
    with pytest.raises(ValueError):
        gd.from_pandas(pdf, npartitions=2).resample("not-a-rule")


@pytest.mark.api("Series.resample")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), chunk=st.integers(1, 9), minutes=st.sampled_from([7, 30, 60, 180]),
       seed=st.integers(0, 10**6))
def test_resample_random_partitionings(n, chunk, minutes, seed):
    pdf = timed(n=n, seed=seed, span_s=6 * 3600)
    df = gd.from_pandas(pdf, chunksize=chunk)
    rule = f"{minutes}min"
    check(df.resample(rule).sum().compute(), pdf.resample(rule).sum())
    check(df.x.resample(rule).mean().compute(), pdf.x.resample(rule).mean())
    check(df.i.resample(rule).count().compute(), pdf.i.resample(rule).count())


@pytest.mark.api("DataFrame.resample")
@pytest.mark.parametrize("rule", ["2D", "3D", "7h", "5h", "W", "W-WED", "ME"])
@pytest.mark.parametrize("how", ["sum", "max", "mean"])
def test_resample_rules_that_do_not_divide_a_partition_day(rule, how):
    """Multi-day and non-day-dividing widths bin from the frame's first midnight, not each partition's;
    weekly and month-end bins hold the whole of their last day (pandas moves closed-right anchored edges to
    the day's end): partitions that start mid-bin or mid-day must not shift or cut bins."""
    idx = pd.date_range("2024-01-01 00:03", periods=3000, freq="57min", name="t")
    pdf = pd.DataFrame({"x": np.arange(3000.0), "i": np.arange(3000) % 7}, index=idx)
    df = gd.from_pandas(pdf, npartitions=5)
    check(getattr(df.resample(rule), how)().compute(), getattr(pdf.resample(rule), how)())
    check(getattr(df.x.resample(rule, closed="right"), how)().compute(),
          getattr(pdf.x.resample(rule, closed="right"), how)())
