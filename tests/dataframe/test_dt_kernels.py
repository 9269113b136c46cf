"""dt.<field> of timestamp columns as Arrow kernels (graphflow/dataframe/dt_kernels.py) equal pandas' fields,
and, being column formulas, can be assigned to the frame they came from after a filter or a merge."""

import pandas as pd
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.dt_kernels import DT_KERNELS

TIMES = ["1992-01-01 00:00:00", "1995-03-15 13:45:10", None, "1996-12-31 23:59:59", "2000-02-29 06:07:08",
         "1998-09-02 00:00:01"]


def _frame(tz=None):
    t = pd.to_datetime(pd.Series(TIMES))
    if tz:
        t = t.dt.tz_localize("UTC").dt.tz_convert(tz)
    return pd.DataFrame({"t": t, "x": range(len(TIMES))})


@pytest.mark.api("Series.dt.year", "Series.dt.month", "Series.dt.day", "Series.dt.quarter",
                 "Series.dt.dayofweek", "Series.dt.dayofyear")
@pytest.mark.parametrize("tz", [None, "America/New_York"])
@pytest.mark.parametrize("nparts", [1, 3])
@pytest.mark.parametrize("field", sorted(set(DT_KERNELS) - {"weekday"}))  # weekday: deprecated in pandas
def test_fields_equal_pandas(field, nparts, tz):
    pdf = _frame(tz)
    df = gd.from_pandas(pdf, npartitions=nparts)
    got = getattr(df.t.dt, field).compute(scheduler="sync")
    want = getattr(pdf.t.dt, field)
    pd.testing.assert_series_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    assert getattr(df.t.dt, field).dtype == getattr(pdf.t.dt, field).dropna().astype("int32").dtype


@pytest.mark.api("DataFrame.assign")
def test_field_assigned_after_filter_and_merge():
    """merge, then filter, then assign(year=j.t.dt.year): the field lines up with the rows of j."""
    pdf = _frame()
    other = pd.DataFrame({"x": [1, 3, 4, 5], "y": ["a", "b", "c", "d"]})
    j = gd.from_pandas(pdf, npartitions=2).merge(gd.from_pandas(other, npartitions=1), on="x")
    j = j[j.x > 1]
    got = j.assign(year=j.t.dt.year, month=j.t.dt.month).compute(scheduler="sync")
    want = pdf.merge(other, on="x")
    want = want[want.x > 1]
    want = want.assign(year=want.t.dt.year, month=want.t.dt.month)
    pd.testing.assert_frame_equal(got.sort_values("x").reset_index(drop=True),
                                  want.sort_values("x").reset_index(drop=True), check_dtype=False)
