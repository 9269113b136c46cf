"""The index with Dask's semantics: set_index, divisions, repartition, loc/iloc, joins on the index,
aligned arithmetic; each result compared with pandas on the same data."""

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.dataframe as gd

SYNC = {"scheduler": "sync"}


def frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    words = np.array(["apple", "Banana", "cherry", "date", "Elder", "fig"])
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "k": rng.integers(0, 60, n),
        "s": pd.array(words[rng.integers(0, len(words), n)], dtype="str"),
        "x": x,
        "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400 * 24, n), unit="h"),
    })


def same(result, expected, by_index=True):
    """Compare ignoring row order among equal index values (Dask gives no order within a partition)."""
    if by_index:
        result, expected = _canon(result), _canon(expected)
    pdt.assert_frame_equal(result, expected, check_index_type=False)


def _canon(df):
    name = df.index.name
    r = df.reset_index(names="__i__")
    r = r.sort_values(["__i__"] + [c for c in r.columns if c != "__i__"]).set_index("__i__")
    r.index.name = name
    return r


def check_divisions(df):
    """Every row of partition i has divisions[i] <= index < divisions[i+1] (the last one inclusive)."""
    divs = df.divisions
    assert df.known_divisions and len(divs) == df.npartitions + 1
    for i in range(df.npartitions):
        idx = df.partitions[i].compute(**SYNC).index
        idx = idx[~pd.isna(idx)]
        if len(idx):
            assert idx.min() >= divs[i]
            assert idx.max() < divs[i + 1] or (i == df.npartitions - 1 and idx.max() <= divs[i + 1])


parts = st.integers(min_value=1, max_value=7)


@pytest.mark.api("DataFrame.set_index", "DataFrame.divisions", "DataFrame.known_divisions")
@settings(max_examples=15, deadline=None)
@given(nin=parts, nout=st.one_of(st.none(), parts), col=st.sampled_from(["k", "s", "t"]))
def test_set_index_matches_pandas(nin, nout, col):
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=nin).set_index(col, npartitions=nout)
    out = ts.compute(**SYNC)
    assert out.index.is_monotonic_increasing
    same(out, pdf.set_index(col))
    check_divisions(ts)


@pytest.mark.api("DataFrame.set_index")
def test_set_index_options():
    pdf = frame()
    df = gd.from_pandas(pdf, npartitions=4)
    kept = df.set_index("k", drop=False).compute(**SYNC)
    same(kept, pdf.set_index("k", drop=False))
    by_series = df.set_index(df.k).compute(**SYNC)
    same(by_series, pdf.set_index(pdf.k))
    given_divs = df.set_index("k", divisions=[0, 10, 30, 59])
    assert given_divs.divisions == (0, 10, 30, 59) and given_divs.npartitions == 3
    check_divisions(given_divs)
    same(given_divs.compute(**SYNC), pdf.set_index("k"))
    with pytest.raises(NotImplementedError, match="multi-indexes"):
        df.set_index(["k", "s"])
    with pytest.raises(KeyError):
        df.set_index("nope")
    other = gd.from_pandas(pdf, npartitions=4)
    with pytest.raises(ValueError, match="does not come from this frame"):
        df.set_index(other.k)


@pytest.mark.api("DataFrame.set_index")
def test_set_index_sorted():
    pdf = frame().sort_values("t").reset_index(drop=True)
    df = gd.from_pandas(pdf, npartitions=4, sort=False)
    ts = df.set_index("t", sorted=True)
    assert ts.npartitions == 4
    check_divisions(ts)
    assert ts.divisions[0] == pdf.t.min() and ts.divisions[-1] == pdf.t.max()
    pdt.assert_frame_equal(ts.compute(**SYNC), pdf.set_index("t"))
    shuffled = gd.from_pandas(frame(), npartitions=4, sort=False)
    with pytest.raises(ValueError, match="overlapping"):
        shuffled.set_index("k", sorted=True)


@pytest.mark.api("DataFrame.clear_divisions", "DataFrame.divisions", "Series.divisions")
def test_divisions_survive_row_local_operations_only():
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=3).set_index("k")
    divs = ts.divisions
    assert ts[ts.x > 0].divisions == divs
    assert ts[["x", "s"]].divisions == divs
    assert ts.x.divisions == divs
    assert ts.assign(y=ts.x * 2).divisions == divs
    assert ts.map_partitions(lambda p: p.assign(z=1)).divisions == divs
    unknown = (None,) * (ts.npartitions + 1)
    assert ts.clear_divisions().divisions == unknown and not ts.clear_divisions().known_divisions
    assert ts.reset_index().divisions == unknown
    assert ts.groupby("s").x.sum().divisions == (None, None) or not ts.groupby("s").x.sum().known_divisions
    assert ts.merge(ts, on="s").divisions[0] is None
    assert ts.sort_values("x").divisions[0] is None


@pytest.mark.api("from_pandas", "DataFrame.divisions")
def test_from_pandas_duplicated_index_across_boundaries():
    pdf = pd.DataFrame({"x": range(12)}, index=pd.Index([1, 1, 1, 2, 2, 2, 2, 3, 3, 5, 5, 5], name="i"))
    for n in (1, 2, 3, 4, 6):
        df = gd.from_pandas(pdf, npartitions=n)
        pdt.assert_frame_equal(df.compute(**SYNC), pdf)
        if df.known_divisions:
            check_divisions(df)
        pdt.assert_frame_equal(df.loc[2].compute(**SYNC), pdf.loc[[2]])
        pdt.assert_frame_equal(df.loc[2:3].compute(**SYNC), pdf.loc[2:3])


@pytest.mark.api("DataFrame.repartition")
@settings(max_examples=15, deadline=None)
@given(nin=parts, nout=st.integers(min_value=1, max_value=9))
def test_repartition_npartitions_keeps_rows_and_divisions(nin, nout):
    pdf = frame(100)
    ts = gd.from_pandas(pdf, npartitions=nin).set_index("k")
    out = ts.repartition(npartitions=nout)
    same(out.compute(**SYNC), pdf.set_index("k"))
    if out.known_divisions:
        check_divisions(out)
    if nout <= ts.npartitions:
        assert out.npartitions == nout and out.known_divisions
    plain = gd.from_pandas(pdf, npartitions=nin).clear_divisions().repartition(nout)
    assert plain.npartitions == nout
    pdt.assert_frame_equal(plain.compute(**SYNC), pdf)


@pytest.mark.api("DataFrame.repartition")
def test_repartition_divisions_and_size():
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=3).set_index("k")
    cut = ts.repartition(divisions=[0, 5, 6, 40, 59])
    assert cut.divisions == (0, 5, 6, 40, 59)
    check_divisions(cut)
    same(cut.compute(**SYNC), pdf.set_index("k"))
    with pytest.raises(ValueError, match="left side"):
        ts.repartition(divisions=[3, 59])
    with pytest.raises(ValueError, match="sorted"):
        ts.repartition(divisions=[0, 30, 20, 59])
    with pytest.raises(ValueError, match="unknown divisions"):
        ts.clear_divisions().repartition(divisions=[0, 59])
    with pytest.raises(ValueError, match="exactly one"):
        ts.repartition(npartitions=2, divisions=[0, 59])
    small = ts.repartition(partition_size=ts.to_arrow().nbytes // 4 + 1)
    assert small.npartitions >= 4
    same(small.compute(**SYNC), pdf.set_index("k"))
    assert ts.repartition(partition_size="1GB").npartitions == 1


@pytest.mark.api("DataFrame.loc", "Series.loc")
@settings(max_examples=20, deadline=None)
@given(n=parts, lo=st.one_of(st.none(), st.integers(-5, 65)), width=st.integers(0, 30), known=st.booleans())
def test_loc_slices_and_labels(n, lo, width, known):
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=3).set_index("k", npartitions=n)
    if not known:
        ts = ts.clear_divisions()
    e = pdf.set_index("k").sort_index()
    hi = None if lo is None else lo + width
    got = ts.loc[lo:hi]
    same(got.compute(**SYNC), e.loc[lo:hi])
    if known and got.known_divisions:
        check_divisions(got)
    if lo is not None:
        if lo in e.index:
            same(ts.loc[lo].compute(**SYNC), e.loc[[lo]])
        labels = sorted({lo, hi, 7} & set(e.index))
        same(ts.loc[labels].compute(**SYNC), e.loc[labels])
        ser = ts.x.loc[lo:hi].compute(**SYNC)
        pdt.assert_series_equal(ser.sort_index(kind="stable").sort_values(kind="stable"),
                                e.x.loc[lo:hi].sort_index(kind="stable").sort_values(kind="stable"))


@pytest.mark.api("DataFrame.loc")
def test_loc_prunes_with_divisions_and_takes_columns():
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=1).set_index("k", divisions=[0, 10, 20, 30, 40, 59])
    e = pdf.set_index("k").sort_index()
    assert ts.loc[12:25].npartitions == 2 and ts.loc[12:25].divisions == (12, 20, 25)
    assert ts.loc[15].npartitions == 1
    same(ts.loc[ts.x > 0].compute(**SYNC), e.loc[e.x > 0])
    same(ts.loc[12:25, ["x", "s"]].compute(**SYNC), e.loc[12:25, ["x", "s"]])
    same(ts.loc[:, "s":"x"].compute(**SYNC), e.loc[:, "s":"x"])
    got = ts.loc[12:25, "x"].compute(**SYNC)
    pdt.assert_series_equal(got.sort_values(), e.loc[12:25, "x"].sort_values())


@pytest.mark.api("DataFrame.loc")
def test_loc_on_a_time_index_with_partial_dates():
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=3).set_index("t")
    e = pdf.set_index("t").sort_index()
    pdt.assert_frame_equal(ts.loc["2024-01":"2024-03"].compute(**SYNC), e.loc["2024-01":"2024-03"])
    pdt.assert_frame_equal(ts.loc["2024-02-03"].compute(**SYNC), e.loc["2024-02-03"])


@pytest.mark.api("DataFrame.iloc")
def test_iloc_columns_only():
    pdf = frame()
    df = gd.from_pandas(pdf, npartitions=3)
    pdt.assert_frame_equal(df.iloc[:, [0, 2]].compute(**SYNC), pdf.iloc[:, [0, 2]])
    pdt.assert_frame_equal(df.iloc[:, 1:].compute(**SYNC), pdf.iloc[:, 1:])
    pdt.assert_series_equal(df.iloc[:, 0].compute(**SYNC), pdf.iloc[:, 0])
    with pytest.raises(NotImplementedError, match="only supports selecting columns"):
        df.iloc[3]
    with pytest.raises(NotImplementedError, match="head"):
        df.iloc[0:5, 1]


def _sides(n_left, n_right, known):
    rng = np.random.default_rng(1)
    a = pd.DataFrame({"v": rng.normal(size=80), "s": rng.choice(["a", "b"], 80)},
                     index=pd.Index(rng.integers(0, 50, 80), name="i"))
    b = pd.DataFrame({"w": rng.integers(0, 9, 30), "s": rng.choice(["c", "d"], 30)},
                     index=pd.Index(rng.choice(np.arange(20, 70), 30, replace=False), name="i"))
    ga, gb = gd.from_pandas(a, npartitions=n_left), gd.from_pandas(b, npartitions=n_right)
    if not known:
        ga, gb = ga.clear_divisions(), gb.clear_divisions()
    return a, b, ga, gb


@pytest.mark.api("DataFrame.join", "DataFrame.merge", "merge")
@settings(max_examples=20, deadline=None)
@given(nl=parts, nr=parts, known=st.booleans(), how=st.sampled_from(["inner", "left", "right", "outer"]))
def test_join_on_index(nl, nr, known, how):
    a, b, ga, gb = _sides(nl, nr, known)
    j = ga.join(gb, how=how, lsuffix="_l", rsuffix="_r")
    assert j.known_divisions == known
    same(j.compute(**SYNC), a.join(b, how=how, suffixes=("_l", "_r")))
    m = ga.merge(gb, left_index=True, right_index=True, how=how)
    same(m.compute(**SYNC), a.merge(b, left_index=True, right_index=True, how=how))
    if known:
        check_divisions(j)


@pytest.mark.api("DataFrame.join", "DataFrame.merge")
def test_join_on_a_column_and_errors():
    a, b, ga, gb = _sides(3, 2, True)
    a = a.assign(key=np.arange(len(a)) % 70)
    ga = gd.from_pandas(a, npartitions=3)
    for how in ("inner", "left"):
        same(ga.merge(gb, left_on="key", right_index=True, how=how).compute(**SYNC),
             a.merge(b, left_on="key", right_index=True, how=how))
        same(ga.join(gb, on="key", how=how, rsuffix="_r").compute(**SYNC),
             a.join(b, on="key", how=how, rsuffix="_r"))
    same(ga.join(b[["w"]]).compute(**SYNC), a.join(b[["w"]]))  # a pandas frame on the right
    with pytest.raises(ValueError, match="columns overlap but no suffix specified"):
        ga.join(gb)
    with pytest.raises(ValueError, match="must have a name"):
        ga.join(gb.w.rename(None))


@pytest.mark.api("Series.add", "DataFrame.add", "Series.truediv")
@settings(max_examples=15, deadline=None)
@given(nl=parts, nr=parts, known=st.booleans())
def test_arithmetic_aligns_on_the_index(nl, nr, known):
    a, b, ga, gb = _sides(nl, nr, known)
    a, b = a[~a.index.duplicated()].sort_index(), b[~b.index.duplicated()].sort_index()
    ga, gb = gd.from_pandas(a, npartitions=nl), gd.from_pandas(b, npartitions=nr)
    got = (ga.v + gb.w).compute(**SYNC).sort_index()
    pdt.assert_series_equal(got, (a.v + b.w).sort_index(), check_dtype=False)
    got = (ga.v / gb.w.rename("v")).compute(**SYNC).sort_index()
    pdt.assert_series_equal(got, (a.v / b.w.rename("v")).sort_index(), check_dtype=False)
    fa, fb = ga[["v"]], gb[["w"]].rename(columns={"w": "v"})
    got = (fa - fb).compute(**SYNC).sort_index()
    pdt.assert_frame_equal(got, (a[["v"]] - b[["w"]].rename(columns={"w": "v"})).sort_index(), check_dtype=False)
    same_origin = ga.v * 2 + ga.v  # the fast formula path: no join
    pdt.assert_series_equal(same_origin.compute(**SYNC), a.v * 2 + a.v)
    pdt.assert_frame_equal((ga[["v"]] * 3).compute(**SYNC), a[["v"]] * 3)


@pytest.mark.api("DataFrame.index", "Series.index", "Index.min", "Index.max")
def test_index_after_set_index():
    pdf = frame()
    ts = gd.from_pandas(pdf, npartitions=3).set_index("t")
    e = pdf.set_index("t").sort_index()
    pdt.assert_index_equal(ts.index.compute(**SYNC), e.index)
    pdt.assert_index_equal(ts.x.index.compute(**SYNC), e.x.index)
    assert ts.index.min().compute(**SYNC) == e.index.min()
    assert ts.index.max().compute(**SYNC) == e.index.max()


@pytest.mark.api("Series.value_counts")
@pytest.mark.parametrize("npartitions", [1, 3])
def test_value_counts_normalize(npartitions):
    """``value_counts(normalize=True)``: shares named "proportion", nulls counted with ``dropna=False``."""
    rng = np.random.default_rng(npartitions)
    pdf = pd.DataFrame({"n": pd.array(rng.choice(["a", "b", "c", None], 60), dtype="str")})
    df = gd.from_pandas(pdf, npartitions=npartitions)
    for dropna in (True, False):
        got = df.n.value_counts(normalize=True, dropna=dropna).compute(scheduler="sync")
        pd.testing.assert_series_equal(got, pdf.n.value_counts(normalize=True, dropna=dropna))


@pytest.mark.api("DataFrame.groupby", "DataFrame.index")
@pytest.mark.parametrize("npartitions", [1, 4])
def test_datetime_index_fields(npartitions):
    """``df.index.hour`` and the other DatetimeIndex fields are lazy Indexes (Dask's timeseries tutorial:
    ``df.groupby(df.index.hour).x.mean()``); other names, and fields of a non-datetime index, are
    AttributeErrors as in pandas."""
    idx = pd.date_range("2000-01-01", periods=90, freq="37min", name="timestamp")
    pdf = pd.DataFrame({"x": np.arange(90.0)}, index=idx)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    for field in ("hour", "day_of_week", "day", "month"):
        got = getattr(df.index, field)
        assert isinstance(got, gd.Index)
        pd.testing.assert_index_equal(got.compute(scheduler="sync"), getattr(pdf.index, field))
    starts = df.index.is_month_start.compute(scheduler="sync")  # pandas: a numpy array of booleans
    assert np.asarray(starts).tolist() == pdf.index.is_month_start.tolist()
    got = df.groupby(df.index.hour).x.mean().compute(scheduler="sync")
    pd.testing.assert_series_equal(got, pdf.groupby(pdf.index.hour).x.mean(), check_index_type=False)
    with pytest.raises(AttributeError, match="no attribute 'foo'"):
        df.index.foo
    with pytest.raises(AttributeError):
        gd.from_pandas(pd.DataFrame({"x": [1, 2]}), npartitions=1).index.hour
