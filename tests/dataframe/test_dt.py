"""The ``.dt`` accessor against pandas on random timestamps (and durations) with nulls."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest

import graphflow.dataframe as gd


def _frame(seed, n=29, tz=None):
    rng = np.random.default_rng(seed)
    t = pd.to_datetime(rng.integers(0, 2 * 10 ** 9, n), unit="s").as_unit("us")
    t = pd.Series(t).where(rng.random(n) > 0.2)
    if tz:
        t = t.dt.tz_localize(tz)
    d = t - pd.Timestamp("2000-01-01", tz=tz)
    return pd.DataFrame({"t": t, "d": d})


PROPS = ["year", "month", "day", "hour", "minute", "second", "microsecond", "nanosecond", "dayofweek",
         "day_of_week", "weekday", "dayofyear", "day_of_year", "quarter", "is_month_start", "is_month_end",
         "is_quarter_start", "is_quarter_end", "is_year_start", "is_year_end", "is_leap_year", "days_in_month",
         "daysinmonth"]
METHODS = [("strftime", lambda s: s.dt.strftime("%Y-%m-%d %H")), ("floor", lambda s: s.dt.floor("h")),
           ("ceil", lambda s: s.dt.ceil("D")), ("round", lambda s: s.dt.round("15min")),
           ("normalize", lambda s: s.dt.normalize()), ("tz_localize", lambda s: s.dt.tz_localize("UTC")),
           ("tz_convert", lambda s: s.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")),
           ("day_name", lambda s: s.dt.day_name()), ("month_name", lambda s: s.dt.month_name()),
           ("to_period", lambda s: s.dt.to_period("M")),
           ("to_timestamp", lambda s: s.dt.to_period("D").dt.to_timestamp()),
           ("qyear", lambda s: s.dt.to_period("Q").dt.qyear),
           ("start_time", lambda s: s.dt.to_period("M").dt.start_time),
           ("end_time", lambda s: s.dt.to_period("M").dt.end_time),
           ("to_pydatetime", lambda s: s.dt.to_pydatetime() if isinstance(s, gd.Series) else s)]
DURATION = [("total_seconds", lambda s: s.dt.total_seconds()), ("days", lambda s: s.dt.days),
            ("seconds", lambda s: s.dt.seconds), ("microseconds", lambda s: s.dt.microseconds),
            ("nanoseconds", lambda s: s.dt.nanoseconds), ("components", lambda s: s.dt.components),
            ("to_pytimedelta", lambda s: s.dt.to_pytimedelta() if isinstance(s, gd.Series) else s)]


def _same(got, want, **kw):
    (tm.assert_frame_equal if isinstance(want, pd.DataFrame) else tm.assert_series_equal)(got, want, **kw)


@pytest.mark.api("Series.dt")
@pytest.mark.parametrize("name", PROPS)
@pytest.mark.parametrize("npartitions", [1, 4])
def test_dt_property_matches_pandas(name, npartitions):
    pdf = _frame(npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    _same(getattr(df.t.dt, name).compute(scheduler="sync"), getattr(pdf.t.dt, name))


@pytest.mark.api("Series.dt")
@pytest.mark.parametrize("name,call", METHODS + DURATION, ids=[m[0] for m in METHODS + DURATION])
@pytest.mark.parametrize("npartitions", [1, 3])
def test_dt_method_matches_pandas(name, call, npartitions):
    pdf = _frame(7 + npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    col = "d" if (name, call) in DURATION else "t"
    _same(call(df[col]).compute(scheduler="sync"), call(pdf[col]))


@pytest.mark.api("Series.dt")
def test_dt_date_time_isocalendar_week_tz():
    pdf = _frame(3, tz="Asia/Tokyo")
    df = gd.from_pandas(pdf, npartitions=3)
    for name in ("date", "time", "timetz"):
        got, want = getattr(df.t.dt, name).compute(scheduler="sync"), getattr(pdf.t.dt, name)
        assert got.isna().tolist() == want.isna().tolist()  # ours: None where pandas has NaT
        assert got.dropna().tolist() == want.dropna().tolist()
    iso = pdf.t.dt.isocalendar()
    tm.assert_frame_equal(df.t.dt.isocalendar().compute(scheduler="sync"), iso, check_dtype=False)
    for name in ("week", "weekofyear"):
        tm.assert_series_equal(getattr(df.t.dt, name).compute(scheduler="sync"), iso.week.rename("t"),
                               check_dtype=False)
    assert str(df.t.dt.tz) == "Asia/Tokyo"
    with pytest.raises(NotImplementedError, match="compute"):
        df.t.dt.freq
    with pytest.raises(AttributeError, match="datetimelike"):
        gd.from_pandas(pd.DataFrame({"x": [1]}), npartitions=1).x.dt


OTHERS = {"date", "time", "timetz", "isocalendar", "week", "weekofyear", "tz", "freq"}
TESTED = set(PROPS) | {m[0] for m in METHODS + DURATION} | OTHERS


@pytest.mark.api("Series.dt")
@pytest.mark.parametrize("name", sorted(n for n in dir(type(dd.from_pandas(_frame(0), 1).t.dt))
                                        if not n.startswith("_")))
def test_every_dask_dt_name_exists_and_is_compared(name):
    assert name in TESTED, f"dt.{name} has no comparison with pandas in this file"
    acc = gd.from_pandas(_frame(0), npartitions=2).t.dt
    assert name in dir(acc)
