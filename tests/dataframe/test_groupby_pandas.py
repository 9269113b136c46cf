"""GroupBy methods against pandas on the same data: random keys with nulls, strings, several partitionings.

Row-wise results (transform, cumulative ops, shift, head...) must match pandas row for row, in pandas'
order and with its index; per-group results must match pandas' keyed result exactly (sorted keys).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_series_equal

import graphflow.dataframe as gd

SETTINGS = settings(max_examples=20, deadline=None)


def make_frame(seed, n):
    rng = np.random.default_rng(seed)
    keys = np.array(["a", "b", "c", "dd", None], dtype=object)
    x = rng.normal(size=n).round(3)
    x[rng.random(n) < 0.15] = np.nan
    return pd.DataFrame({
        "k": pd.array(keys[rng.integers(0, 5, n)], dtype="str"),
        "j": rng.integers(0, 3, n),
        "x": x,
        "y": rng.integers(-5, 6, n),
        "s": pd.array(np.array(["p", "q", "r"], dtype=object)[rng.integers(0, 3, n)], dtype="str"),
    })


frames = st.builds(make_frame, st.integers(0, 10_000), st.integers(1, 40))
parts = st.integers(1, 5)


def same(got, want, sort=False):
    if sort:
        got, want = got.sort_index(), want.sort_index()
    if isinstance(want, pd.Series):
        assert_series_equal(got, want, check_index_type="equiv")
    else:
        assert_frame_equal(got, want, check_index_type="equiv")


def check(op, pdf, n, sort=False):
    df = gd.from_pandas(pdf, npartitions=n)
    same(op(df).compute(scheduler="sync"), op(pdf), sort)


ROWWISE = {
    "cumsum": lambda g: g.cumsum(),
    "cumprod": lambda g: g.cumprod(),
    "cummax": lambda g: g.cummax(),
    "cummin": lambda g: g.cummin(),
    "cumcount": lambda g: g.cumcount(),
    "shift": lambda g: g.shift(),
    "shift-2": lambda g: g.shift(-2),
    "diff": lambda g: g.diff(),
    "transform-name": lambda g: g.transform("mean"),
    "transform-func": lambda g: g.transform(lambda v: v - v.mean()),
    "ffill": lambda g: g.ffill(),
    "bfill": lambda g: g.bfill(),
    "head": lambda g: g.head(2),
    "tail": lambda g: g.tail(2),
}


@pytest.mark.api("GroupBy.cumsum", "GroupBy.cumprod", "GroupBy.cumcount", "GroupBy.shift", "GroupBy.transform",
                 "GroupBy.ffill", "GroupBy.bfill", "GroupBy.head", "GroupBy.tail")
@pytest.mark.parametrize("name", sorted(ROWWISE))
@SETTINGS
@given(pdf=frames, n=parts)
def test_rowwise_series_and_frame(name, pdf, n):
    op = ROWWISE[name]
    if name.startswith("transform") and pdf.k.isna().all():
        # pandas has no one answer here: transform("mean") over several keys raises IndexError, a function
        # gives an empty Series; with some keys present it gives NaN on the null-key rows, as we always do
        reject()
    check(lambda d: op(d.groupby("k").x), pdf, n)
    if name not in ("cumprod", "cummax", "cummin", "cumsum", "diff", "transform-func", "transform-name"):
        check(lambda d: op(d.groupby(["k", "j"])), pdf, n)  # strings too
    else:
        check(lambda d: op(d.groupby(["k", "j"])[["x", "y"]]), pdf, n)


@pytest.mark.api("GroupBy.cumsum", "GroupBy.shift")
def test_rowwise_keeps_partitions_and_crosses_boundaries():
    pdf = pd.DataFrame({"k": ["a", "b"] * 10, "x": np.arange(20.0)}, index=pd.Index(np.arange(20) * 3, name="i"))
    df = gd.from_pandas(pdf, npartitions=4)
    out = df.groupby("k").x.cumsum()
    assert out.npartitions == 4
    same(out.compute(scheduler="sync"), pdf.groupby("k").x.cumsum())
    same(df.groupby("k").x.shift(3).compute(scheduler="sync"), pdf.groupby("k").x.shift(3))


PER_GROUP = {
    "median": lambda g: g.median(),
    "quantile": lambda g: g.quantile(0.3),
    "prod": lambda g: g.prod(),
    "sem": lambda g: g.sem(),
    "std0": lambda g: g.std(ddof=0),
    "var2": lambda g: g.var(ddof=2),
    "std": lambda g: g.std(),
    "var": lambda g: g.var(),
    "idxmax": lambda g: g.idxmax(),
    "idxmin": lambda g: g.idxmin(),
    "nunique": lambda g: g.nunique(),
    "count": lambda g: g.count(),
    "size": lambda g: g.size(),
    "first": lambda g: g.first(),
    "last": lambda g: g.last(),
    "sum": lambda g: g.sum(),
    "mean": lambda g: g.mean(),
    "min": lambda g: g.min(),
    "max": lambda g: g.max(),
}


@pytest.mark.api("GroupBy.median", "GroupBy.prod", "GroupBy.std", "GroupBy.var", "GroupBy.idxmax",
                 "GroupBy.idxmin", "GroupBy.nunique", "GroupBy.count", "GroupBy.size", "GroupBy.first",
                 "GroupBy.last", "GroupBy.sum", "GroupBy.mean", "GroupBy.min", "GroupBy.max")
@pytest.mark.parametrize("name", sorted(PER_GROUP))
@SETTINGS
@given(pdf=frames, n=parts)
def test_per_group(name, pdf, n):
    op = PER_GROUP[name]
    if name in ("idxmax", "idxmin"):  # pandas raises on an all-NaN group: keep values present
        pdf = pdf.assign(x=pdf.x.fillna(0.5))
    check(lambda d: op(d.groupby("k").x), pdf, n)
    check(lambda d: op(d.groupby(["k", "j"])[["x", "y"]]), pdf, n)
    check(lambda d: op(d.groupby("k", dropna=False).x), pdf, n)


@pytest.mark.api("GroupBy.value_counts", "GroupBy.unique", "GroupBy.nunique")
@SETTINGS
@given(pdf=frames, n=parts)
def test_value_counts_unique(pdf, n):
    check(lambda d: d.groupby("k").s.value_counts(), pdf, n)
    check(lambda d: d.groupby(["k", "j"]).y.value_counts(normalize=True), pdf, n)
    df = gd.from_pandas(pdf, npartitions=n)
    got = df.groupby("k").y.unique().compute(scheduler="sync")
    want = pdf.groupby("k").y.unique()
    assert list(got.index) == list(want.index)
    assert [list(v) for v in got] == [list(v) for v in want]


@pytest.mark.api("GroupBy.rolling")
@SETTINGS
@given(pdf=frames, n=parts)
def test_rolling(pdf, n):
    if pdf.k.isna().all():
        reject()  # pandas raises on a rolling over no groups at all (every key null); ours is empty
    check(lambda d: d.groupby("k").x.rolling(3).mean(), pdf, n)
    check(lambda d: d.groupby("k").y.rolling(2, min_periods=1).sum(), pdf, n)
    check(lambda d: d.groupby(["k", "j"])[["x", "y"]].rolling(2).max(), pdf, n)


@pytest.mark.api("GroupBy.apply")
@SETTINGS
@given(pdf=frames, n=parts)
def test_apply(pdf, n):
    if pdf.k.isna().all():
        reject()  # no groups: pandas cannot tell what apply returns (an empty frame); ours follows the meta
    check(lambda d: d.groupby("k").x.apply(lambda v: v.max() - v.min()), pdf, n, sort=True)
    check(lambda d: d.groupby("k")[["x", "y"]].apply(lambda f: f.y.sum() * 2), pdf, n, sort=True)
    df = gd.from_pandas(pdf, npartitions=n)
    meta = pd.Series([], dtype="float64", name="x")
    got = df.groupby("k").x.apply(lambda v: v.cumsum(), meta=meta).compute(scheduler="sync")
    same(got, pdf.groupby("k").x.apply(lambda v: v.cumsum()), sort=True)


@pytest.mark.api("GroupBy.agg", "GroupBy.aggregate")
@SETTINGS
@given(pdf=frames, n=parts)
def test_agg_callables_and_aggregation(pdf, n):
    spread = gd.Aggregation("spread", lambda g: (g.max(), g.min()), lambda mx, mn: (mx.max(), mn.min()),
                            lambda mx, mn: mx - mn)
    plain = {"x": ["sum", "median"], "y": ["max", "min"]}
    check(lambda d: d.groupby("k").agg(plain), pdf, n)

    def rng(v):
        return v.max() - v.min()

    df = gd.from_pandas(pdf, npartitions=n)
    got = df.groupby("k").agg({"x": ["sum", spread], "y": [rng, "median"]}).compute(scheduler="sync")
    want = pdf.groupby("k").agg({"x": ["sum", lambda v: v.max() - v.min()], "y": [rng, "median"]})
    want.columns = pd.MultiIndex.from_tuples([("x", "sum"), ("x", "spread"), ("y", "rng"), ("y", "median")])
    same(got, want)
    got = df.groupby("k").y.agg(spread).compute(scheduler="sync")
    same(got, pdf.groupby("k").y.agg(lambda v: v.max() - v.min()))
    check(lambda d: d.groupby("k").agg(total=("y", "sum"), mid=("x", "median")), pdf, n)


@pytest.mark.api("GroupBy.get_group")
@SETTINGS
@given(pdf=frames, n=parts)
def test_get_group(pdf, n):
    key = pdf.k.dropna().iloc[0] if pdf.k.notna().any() else None
    if key is None:
        return
    check(lambda d: d.groupby("k").get_group(key), pdf, n)
    check(lambda d: d.groupby("k").x.get_group(key), pdf, n)
    check(lambda d: d.groupby(["k", "j"]).get_group((key, int(pdf.j[pdf.k == key].iloc[0]))), pdf, n)


@pytest.mark.api("GroupBy.median", "GroupBy.sum", "GroupBy.cumsum")
def test_level_and_index_name_keys():
    pdf = make_frame(3, 30).set_index("j").sort_index(kind="stable")  # from_pandas sorts the index, as Dask
    for n in (1, 3):
        check(lambda d: d.groupby(level=0).x.sum(), pdf, n)
        check(lambda d: d.groupby("j").x.median(), pdf, n)
        check(lambda d: d.groupby(level="j").y.cumsum(), pdf, n)
        check(lambda d: d.groupby(["k", "j"]).y.max(), pdf, n)


@pytest.mark.api("GroupBy.median", "GroupBy.sum", "GroupBy.size")
def test_as_index_false_and_keywords():
    pdf = make_frame(5, 40)
    check(lambda d: d.groupby("k", as_index=False).x.median(), pdf, 3)
    check(lambda d: d.groupby("k", as_index=False).agg({"x": "sum"}), pdf, 3)
    check(lambda d: d.groupby("k", as_index=False)[["x", "y"]].median(), pdf, 3)
    df = gd.from_pandas(pdf, npartitions=3)
    grouped = df.groupby("k", observed=True, dropna=True, sort=True)
    out = grouped.x.sum(split_out=1, split_every=4, shuffle_method="tasks")
    same(out.compute(scheduler="sync"), pdf.groupby("k").x.sum())
    many = df.groupby("k").x.median(split_out=2)
    assert many.npartitions == 2
    same(many.compute(scheduler="sync"), pdf.groupby("k").x.median(), sort=True)


def test_as_index_false_drops_a_key_an_aggregation_replaces():
    """As pandas: with as_index=False, a key whose label an output column takes is not repeated."""
    pdf = make_frame(6, 40)
    for n in (1, 3):
        check(lambda d: d.groupby("j", as_index=False).j.count(), pdf, n)
        check(lambda d: d.groupby("j", as_index=False)[["j", "x"]].sum(), pdf, n)
        check(lambda d: d.groupby(["k", "j"], as_index=False).j.count(), pdf, n)
        check(lambda d: d.groupby("j", as_index=False).agg({"j": "count", "y": "sum"}), pdf, n)


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint16", "uint32"])
def test_small_int_keys_keep_their_dtype_in_the_index(dtype):
    """pandas' groupby keeps an int32 key's dtype in the index, though set_index would make a RangeIndex
    of sorted consecutive keys; meta and result agree with it."""
    pdf = pd.DataFrame({"k": np.array([2, 1, 3, 1, 2], dtype=dtype), "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    df = gd.from_pandas(pdf, npartitions=2)
    for op in (lambda d: d.groupby("k").x.sum(), lambda d: d.groupby("k").agg({"x": "mean"})):
        got, want = op(df), op(pdf)
        assert got._meta.index.dtype == want.index.dtype
        same(got.compute(scheduler="sync"), want)


@pytest.mark.api("GroupBy.ohlc", "GroupBy.corr", "GroupBy.cov")
def test_ohlc_corr_cov():
    pdf = make_frame(8, 40)
    check(lambda d: d.groupby("k").x.ohlc(), pdf, 3)
    check(lambda d: d.groupby("k")[["x", "y"]].corr(), pdf, 3)
    check(lambda d: d.groupby("k")[["x", "y"]].cov(), pdf, 3)


def test_errors_as_pandas():
    pdf = make_frame(1, 10)
    df = gd.from_pandas(pdf, npartitions=2)
    with pytest.raises(KeyError):
        df.groupby("nope")
    with pytest.raises(TypeError, match="supply one of 'by' and 'level'"):
        df.groupby()
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        df.groupby("k").agg("bogus")
    with pytest.raises(NotImplementedError, match="single column"):
        df.groupby("k").ohlc()
    with pytest.raises(TypeError, match="name must be a str"):
        gd.Aggregation(3, sum, sum)


def _spread_chunk(g):
    return g.max(), g.min()


def _spread_agg(mx, mn):
    return mx.max(), mn.min()


def _spread_finalize(mx, mn):
    return mx - mn


def _demean(v):
    return v - v.mean()


@pytest.mark.api("GroupBy.transform", "GroupBy.cumsum", "GroupBy.median", "GroupBy.agg", "GroupBy.apply")
def test_on_a_cluster():
    """The same calls on worker processes (every op pickles; the shuffles go through the cluster)."""
    import graphflow as gf

    pdf = make_frame(21, 400)
    df = gd.from_pandas(pdf, npartitions=4)
    spread = gd.Aggregation("spread", _spread_chunk, _spread_agg, _spread_finalize)
    with gf.Client(n_workers=2, threads_per_worker=1):
        same(df.groupby("k").x.transform(_demean).compute(), pdf.groupby("k").x.transform(_demean))
        same(df.groupby(["k", "j"]).y.cumsum().compute(), pdf.groupby(["k", "j"]).y.cumsum())
        same(df.groupby("k").x.median().compute(), pdf.groupby("k").x.median())
        same(df.groupby("k").y.agg(spread).compute(), pdf.groupby("k").y.agg(lambda v: v.max() - v.min()))
        same(df.groupby("k").y.apply(lambda v: v.sum() * 2).compute(), pdf.groupby("k").y.sum() * 2, sort=True)


@pytest.mark.api("GroupBy.count", "GroupBy.agg")
@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_aggregating_the_key_column_itself(npartitions):
    """``df[~df.c].groupby("k").k.count()`` (Dask's flights tutorial): the key column is also the value."""
    pdf = make_frame(npartitions, 60)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    for d, p in ((df, pdf), (df[df.y > 0], pdf[pdf.y > 0])):
        assert_series_equal(d.groupby("k").k.count().compute(scheduler="sync"), p.groupby("k").k.count())
        assert_series_equal(d.groupby("j").j.max().compute(scheduler="sync"), p.groupby("j").j.max())
        assert_frame_equal(d.groupby("k").agg({"k": "count", "x": "sum"}).compute(scheduler="sync"),
                           p.groupby("k").agg({"k": "count", "x": "sum"}))


@pytest.mark.api("GroupBy.apply")
@pytest.mark.parametrize("npartitions", [1, 4])
def test_apply_renamed_to_its_meta(npartitions):
    """A function giving an unnamed Series per group, with ``meta=("x", "f8")``: Dask names the result as
    meta says; without meta, pandas' unnamed result."""
    pdf = make_frame(10 + npartitions, 50)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    spread = lambda g: g.x.max() - g.x.min()  # noqa: E731
    want = pdf.groupby("k").apply(spread)
    got = df.groupby("k").apply(spread, meta=("x", "f8")).compute(scheduler="sync")
    assert_series_equal(got.sort_index(), want.rename("x"))
    assert_series_equal(df.groupby("k").apply(spread).compute(scheduler="sync").sort_index(), want)
