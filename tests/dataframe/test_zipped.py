"""Series made by pandas functions from a frame (apply, map, accessors, map_partitions) put back beside it:
assign, setitem, boolean masks and arithmetic, against pandas; rows matched by position or by index label
inside each partition; a clear error where nothing can match them."""

import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd


def frame():
    pdf = pd.DataFrame({"s": ["ab", "cd", "ef", "gh"] * 25, "x": np.arange(100),
                        "t": pd.date_range("2024-01-01", periods=100, freq="h")})
    return pdf, gd.from_pandas(pdf, npartitions=3)


def made(d, kind):
    """A Series a pandas function makes from ``d`` (graphflow or pandas), as a Dask user writes it."""
    lazy = isinstance(d, gd.DataFrame)
    if kind == "apply":
        return d.x.apply(lambda v: v * 3 + 1, **({"meta": ("x", "i8")} if lazy else {}))
    if kind == "map":
        return d.x.map({1: 10, 13: 20})
    if kind == "dt.date":
        return d.t.dt.date
    if kind == "dt.strftime":
        return d.t.dt.strftime("%Y-%m-%d %H")
    if kind == "str.pad":
        return d.s.str.pad(4, fillchar="_")
    if kind == "map_partitions":
        return d.x.map_partitions(lambda s: s * 2) if lazy else d.x * 2
    raise AssertionError(kind)


KINDS = ["apply", "map", "dt.date", "dt.strftime", "str.pad", "map_partitions"]


@pytest.mark.api("DataFrame.assign")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("filtered", [False, True])
def test_assign_a_series_a_pandas_function_made(kind, filtered):
    pdf, df = frame()
    if filtered:
        pdf, df = pdf[pdf.x % 3 > 0], df[df.x % 3 > 0]
    got = df.assign(u=made(df, kind)).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.assign(u=made(pdf, kind)), check_dtype=False)


@pytest.mark.api("DataFrame.__setitem__")
def test_setitem_then_use_the_new_column():
    pdf, df = frame()
    for d in (pdf, df):
        d["day"] = d.t.dt.strftime("%d")
        d["y"] = d.x.apply(lambda v: v % 7, **({"meta": ("x", "i8")} if d is df else {}))
        d["z"] = d.y + d.x  # a formula over the attached column
    got = df[df.y > 2].compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf[pdf.y > 2], check_dtype=False)


@pytest.mark.api("DataFrame.__getitem__")
def test_mask_a_pandas_function_made():
    pdf, df = frame()
    mask = lambda d: d.s.str.pad(3, fillchar="x") == "xcd"  # noqa: E731
    pd.testing.assert_frame_equal(df[mask(df)].compute(scheduler="sync"), pdf[mask(pdf)])


@pytest.mark.api("Series.add")
def test_arithmetic_with_a_series_a_pandas_function_made():
    pdf, df = frame()
    got = (df.x + made(df, "apply")).compute(scheduler="sync")
    pd.testing.assert_series_equal(got, pdf.x + made(pdf, "apply"), check_dtype=False)
    got = (made(df, "map_partitions") / df.x).compute(scheduler="sync")
    pd.testing.assert_series_equal(got, made(pdf, "map_partitions") / pdf.x, check_dtype=False)


def test_rows_matched_by_index_label_when_the_function_drops_rows():
    """map_partitions dropping rows: pandas aligns by label, the missing ones are NaN (assign) or the
    union's (arithmetic)."""
    pdf, df = frame()
    drop = lambda s: s[s % 4 != 0] * 10  # noqa: E731
    got = df.assign(u=df.x.map_partitions(drop)).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.assign(u=drop(pdf.x)), check_dtype=False)
    got = (df.x + df.x.map_partitions(drop)).compute(scheduler="sync")
    pd.testing.assert_series_equal(got, pdf.x + drop(pdf.x), check_dtype=False)


def test_no_index_and_different_rows_is_a_clear_error():
    import pyarrow as pa

    df = gd.from_arrow(pa.table({"x": np.arange(20)}), npartitions=2)
    short = df.x.map_partitions(lambda s: s.iloc[:3], meta=("x", "i8"))
    with pytest.raises(ValueError, match="no index to match them on"):
        df.assign(u=short).compute(scheduler="sync")


def test_unrelated_frames_still_refused():
    _, df = frame()
    _, other = frame()
    other = other[other.x > 5].reset_index(drop=True)
    with pytest.raises(ValueError, match="cannot align"):
        df.assign(u=other.x.apply(lambda v: v, meta=("x", "i8"))).compute(scheduler="sync")


@pytest.mark.api("Series.astype", "DataFrame.astype")
def test_astype_str_writes_as_pandas():
    pdf = pd.DataFrame({"f": [1.0, 2.5, np.nan, 4.0] * 3, "b": [True, False] * 6, "i": range(12),
                        "t": pd.date_range("2024", periods=12, freq="D")})
    df = gd.from_pandas(pdf, npartitions=3)

    def same(got, want):
        assert got.astype(object).where(got.notna(), None).tolist() == \
            want.astype(object).where(want.notna(), None).tolist()

    for c in pdf.columns:
        for dtype in (str, "str"):
            same(df[c].astype(dtype).compute(scheduler="sync"), pdf[c].astype(dtype))
    got = df.astype(str).compute(scheduler="sync")
    assert list(got.columns) == list(pdf.columns)
    for c in pdf.columns:
        same(got[c], pdf[c].astype(str))


@pytest.mark.api("Series.__getitem__")
def test_series_masked_by_a_pandas_function_made():
    pdf, df = frame()
    mask = lambda d: d.t.dt.strftime("%H") < "05"  # noqa: E731
    pd.testing.assert_series_equal(df.x[mask(df)].compute(scheduler="sync"), pdf.x[mask(pdf)])
