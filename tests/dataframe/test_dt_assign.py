"""``Series.dt`` fields that run as pyarrow kernels: they stay formulas on their own frame, so they can be
assigned next to that frame's columns (``j.assign(o_year=j.o_orderdate.dt.year)``, TPC-H q9), and they
give pandas' numbers and dtypes (int32; float64 once a value is missing), naive or time-zone aware."""

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest

import graphflow.dataframe as gd

FIELDS = ["year", "month", "day", "hour", "minute", "second", "day_of_week", "day_of_year", "quarter"]


def _frame(seed, n=40, tz=None, nulls=True):
    rng = np.random.default_rng(seed)
    t = pd.Series(pd.to_datetime(rng.integers(0, 2 * 10 ** 9, n), unit="s"))
    if nulls:
        t = t.where(rng.random(n) > 0.2)
    if tz:
        t = t.dt.tz_localize("UTC").dt.tz_convert(tz)
    return pd.DataFrame({"t": t, "x": rng.integers(0, 9, n)})


@pytest.mark.api("Series.dt")
@pytest.mark.parametrize("tz", [None, "America/New_York"])
@pytest.mark.parametrize("nulls", [True, False])
def test_dt_fields_assign_next_to_their_frame(tz, nulls):
    pdf = _frame(5, tz=tz, nulls=nulls)
    df = gd.from_pandas(pdf, npartitions=3)
    flt = df[df.x > 2]
    got = flt.assign(**{f: getattr(flt.t.dt, f) for f in FIELDS}).compute(scheduler="sync")
    pflt = pdf[pdf.x > 2]
    want = pflt.assign(**{f: getattr(pflt.t.dt, f) for f in FIELDS})
    tm.assert_frame_equal(got, want)


def test_dt_year_is_a_projection_not_a_partition_call():
    df = gd.from_pandas(_frame(1), npartitions=2)
    text = df.assign(y=df.t.dt.year).explain()
    assert "y=cast(year(t)" in text and "MapPartitions" not in text
