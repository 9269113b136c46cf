"""melt, explode, pivot_table, to_datetime, to_numeric against pandas over several partitionings."""

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest

import graphflow.dataframe as gd


def _frame(seed, n=37):
    rng = np.random.default_rng(seed)
    v = pd.Series(rng.normal(size=n)).where(rng.random(n) > 0.2)
    c = pd.Series(rng.choice(["x", "y", "z"], n), dtype="str")
    lists = [None if rng.random() < 0.15 else list(rng.integers(0, 9, rng.integers(0, 4))) for _ in range(n)]
    dates = pd.Series(pd.to_datetime(rng.integers(0, 2 * 10 ** 9, n), unit="s").strftime("%Y-%m-%d %H:%M:%S"),
                      dtype="str").where(rng.random(n) > 0.2)
    nums = pd.Series([str(x) for x in rng.integers(-50, 50, n)], dtype="str").where(rng.random(n) > 0.2)
    return pd.DataFrame({"k": rng.integers(0, 5, n), "c": c, "v": v, "w": rng.integers(0, 9, n).astype(float),
                         "l": lists, "d": dates, "n": nums})


@pytest.mark.api("DataFrame.melt", "dd.melt")
@pytest.mark.parametrize("npartitions", [1, 3, 5])
def test_melt_matches_pandas(npartitions):
    pdf = _frame(npartitions)[["k", "v", "w"]]
    df = gd.from_pandas(pdf, npartitions=npartitions)
    for kw in ({"id_vars": ["k"], "value_vars": ["v", "w"]}, {"id_vars": "k", "var_name": "what", "value_name": "x"}):
        # partition by partition, as Dask: the same rows, in partition order
        cuts = np.cumsum([0] + [p.num_rows for p in df.expr.parts])
        want = pd.concat([pdf.iloc[a:b].melt(**kw) for a, b in zip(cuts[:-1], cuts[1:])]).reset_index(drop=True)
        tm.assert_frame_equal(df.melt(**kw).compute(scheduler="sync").reset_index(drop=True), want)
        tm.assert_frame_equal(gd.melt(df, **kw).compute(scheduler="sync").reset_index(drop=True), want)


@pytest.mark.api("DataFrame.explode", "Series.explode")
@pytest.mark.parametrize("npartitions", [1, 4])
def test_explode_matches_pandas(npartitions):
    pdf = _frame(10 + npartitions)[["k", "l"]]
    df = gd.from_pandas(pdf, npartitions=npartitions)
    want = pdf.explode("l")
    got = df.explode("l").compute(scheduler="sync")
    tm.assert_frame_equal(got, want.astype({"l": "float64"}))  # Arrow's int list: float with NaN, as pandas casts
    tm.assert_series_equal(df.l.explode().compute(scheduler="sync"), pdf.l.explode().astype("float64"))


def _pivot_frame(seed):
    pdf = _frame(seed)[["k", "c", "v", "w"]].astype({"c": "category"})
    rng = np.random.default_rng(seed)
    return pdf.assign(i=rng.integers(-5, 5, len(pdf)), b=rng.random(len(pdf)) > 0.5)


@pytest.mark.api("dd.pivot_table", "DataFrame.pivot_table")
@pytest.mark.parametrize("aggfunc", ["mean", "sum", "count", "first", "last"])
@pytest.mark.parametrize("npartitions", [1, 3, 9])
def test_pivot_table_matches_pandas(aggfunc, npartitions):
    """Every cell, its dtype, the index's name and the columns' CategoricalIndex named ``c`` (a level of
    a MultiIndex for several values) are pandas' (``observed=False, dropna=False``: one column per category,
    as Dask makes them)."""
    pdf = _pivot_frame(20 + npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions).categorize(columns=["c"])
    for values in ("v", "i", "b", ["v", "w", "i"]):
        want = pd.pivot_table(pdf, index="k", columns="c", values=values, aggfunc=aggfunc, observed=False,
                              dropna=False)
        if aggfunc in ("first", "last"):  # pandas: int/bool when no cell is empty (data-dependent); lazily float
            want = want.astype({c: "float64" for c in want.columns if want[c].dtype.kind in "iub"})
        pivot = gd.pivot_table(df, index="k", columns="c", values=values, aggfunc=aggfunc)
        got = pivot.compute(scheduler="sync")
        tm.assert_frame_equal(got, want)
        tm.assert_frame_equal(pivot._meta, want.iloc[:0])
        assert got.columns.names == pivot.columns.names == want.columns.names
    method = df.pivot_table(index="k", columns="c", values="v", aggfunc=aggfunc).compute(scheduler="sync")
    tm.assert_frame_equal(method, gd.pivot_table(df, "k", "c", "v", aggfunc).compute(scheduler="sync"))


@pytest.mark.api("dd.pivot_table")
@pytest.mark.parametrize("npartitions", [1, 2, 4])
def test_pivot_table_matches_dask(npartitions):
    """Dask's own pivot on the same input, for the layouts pandas and Dask share: the columns' name and
    categories (``from_pandas`` of a categorical knows its categories, as in Dask), the index's name, the
    cells.  Dask's count is float64 where pandas (and graphflow) give int64."""
    dd = pytest.importorskip("dask.dataframe")
    pdf = _pivot_frame(5)[["k", "c", "v", "i"]]
    pdf["c"] = pdf.c.cat.set_categories(["x", "y", "z", "unused"])
    for aggfunc in ("mean", "sum", "count", "first", "last"):
        for values in ("v", ["v", "i"]):
            want = dd.pivot_table(dd.from_pandas(pdf, npartitions=npartitions), index="k", columns="c",
                                  values=values, aggfunc=aggfunc).compute()
            got = gd.pivot_table(gd.from_pandas(pdf, npartitions=npartitions), index="k", columns="c",
                                 values=values, aggfunc=aggfunc).compute(scheduler="sync")
            tm.assert_frame_equal(got, want, check_dtype=aggfunc != "count")
            assert got.columns.names == want.columns.names
            assert list(got.columns.get_level_values(-1).categories) == ["x", "y", "z", "unused"]


@pytest.mark.api("dd.pivot_table")
def test_pivot_table_arguments_dask_refuses():
    """Dask's pivot_table takes scalar arguments only: a list of aggfuncs or indexes is Dask's ValueError."""
    df = gd.from_pandas(_pivot_frame(1), npartitions=2)
    with pytest.raises(ValueError, match="aggfunc must be either"):
        gd.pivot_table(df, index="k", columns="c", values="v", aggfunc=["sum", "mean"])
    with pytest.raises(ValueError, match="'index' must be the name of an existing column"):
        gd.pivot_table(df, index=["k", "i"], columns="c", values="v")
    with pytest.raises(TypeError):
        df.pivot_table(index="k", columns="c", values="v", fill_value=0)  # not in Dask's signature either


@pytest.mark.api("dd.pivot_table")
def test_pivot_table_errors_as_dask():
    df = gd.from_pandas(_frame(0)[["k", "c", "v"]], npartitions=2)
    with pytest.raises(ValueError, match="'columns' must be category dtype"):
        gd.pivot_table(df, index="k", columns="c", values="v")
    with pytest.raises(ValueError, match="'columns' must have known categories"):
        gd.pivot_table(df.astype({"c": "category"}), index="k", columns="c", values="v")
    known = df.categorize()
    with pytest.raises(ValueError, match="aggfunc must be either 'mean', 'sum', 'count', 'first', 'last'"):
        gd.pivot_table(known, index="k", columns="c", values="v", aggfunc="median")
    with pytest.raises(ValueError, match="'index' must be the name of an existing column"):
        gd.pivot_table(known, index="nope", columns="c", values="v")


@pytest.mark.api("dd.to_datetime")
@pytest.mark.parametrize("npartitions", [1, 4])
def test_to_datetime_matches_pandas(npartitions):
    pdf = _frame(30 + npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    tm.assert_series_equal(gd.to_datetime(df.d).compute(scheduler="sync"), pd.to_datetime(pdf.d))
    tm.assert_series_equal(gd.to_datetime(df.d, format="%Y-%m-%d %H:%M:%S", utc=True).compute(scheduler="sync"),
                           pd.to_datetime(pdf.d, format="%Y-%m-%d %H:%M:%S", utc=True))
    secs = pdf.w * 1000
    tm.assert_series_equal(gd.to_datetime(gd.from_pandas(secs, npartitions=2), unit="s").compute(scheduler="sync"),
                           pd.to_datetime(secs, unit="s"))
    assert gd.to_datetime("2024-01-02") == pd.Timestamp("2024-01-02")
    tm.assert_index_equal(gd.to_datetime(["2024-01-02", None]), pd.to_datetime(["2024-01-02", None]))


@pytest.mark.api("dd.to_numeric")
@pytest.mark.parametrize("npartitions", [1, 4])
def test_to_numeric_matches_pandas(npartitions):
    pdf = _frame(40 + npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    # strings become float64 (the int-or-float answer would need all values): pandas' values, float dtype
    tm.assert_series_equal(gd.to_numeric(df.n).compute(scheduler="sync"), pd.to_numeric(pdf.n).astype("float64"))
    bad = pdf.n.where(pdf.k != 0, "oops")
    tm.assert_series_equal(gd.to_numeric(gd.from_pandas(bad, npartitions=3), errors="coerce").compute(scheduler="sync"),
                           pd.to_numeric(bad, errors="coerce").astype("float64"))
    tm.assert_series_equal(gd.to_numeric(df.w).compute(scheduler="sync"), pd.to_numeric(pdf.w))
    assert gd.to_numeric("1.5") == 1.5
    with pytest.raises(ValueError, match="invalid error value specified"):
        gd.to_numeric(df.n, errors="ignore")
    with pytest.raises(ValueError):
        gd.to_numeric(gd.from_pandas(bad, npartitions=3)).compute(scheduler="sync")
