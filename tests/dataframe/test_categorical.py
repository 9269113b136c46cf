"""Categoricals against pandas: categorize, astype("category"), the cat accessor, get_dummies."""

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest

import graphflow.dataframe as gd


def _frame(seed, n=31):
    rng = np.random.default_rng(seed)
    c = pd.Series(rng.choice(["b", "a", "d", "c"], n), dtype="str").where(rng.random(n) > 0.2)
    return pd.DataFrame({"c": c, "k": rng.integers(0, 4, n), "v": rng.normal(size=n)})


@pytest.mark.api("DataFrame.categorize", "DataFrame.astype", "Series.astype")
@pytest.mark.parametrize("npartitions", [1, 3, 6])
def test_categorize_gives_pandas_categories(npartitions):
    pdf = _frame(npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    known = df.categorize()
    assert known.c.cat.known and list(known.c.cat.categories) == ["a", "b", "c", "d"]
    assert list(known.meta.c.cat.categories) == ["a", "b", "c", "d"]
    tm.assert_frame_equal(known.compute(scheduler="sync"), pdf.astype({"c": "category"}))
    tm.assert_frame_equal(known[["c", "v"]].compute(scheduler="sync"), pdf[["c", "v"]].astype({"c": "category"}))
    assert known[["c"]].c.cat.known  # projections keep the known categories
    unknown = df.c.astype("category")
    assert not unknown.cat.known
    got = unknown.compute(scheduler="sync")
    assert got.astype("str").tolist() == pdf.c.astype("str").tolist()
    assert set(got.cat.categories) == set(pdf.c.dropna())
    cats = pd.CategoricalDtype(["d", "a", "z"])
    tm.assert_series_equal(df.c.astype(cats).compute(scheduler="sync"), pdf.c.astype(cats))
    assert df.c.astype(cats).cat.known


CAT_CASES = [
    ("codes", lambda s: s.cat.codes), ("add_categories", lambda s: s.cat.add_categories(["z"])),
    ("remove_categories", lambda s: s.cat.remove_categories(["a"])),
    ("rename_categories", lambda s: s.cat.rename_categories(["A", "B", "C", "D"])),
    ("reorder_categories", lambda s: s.cat.reorder_categories(["d", "c", "b", "a"], ordered=True)),
    ("set_categories", lambda s: s.cat.set_categories(["a", "b", "x"])),
    ("as_ordered", lambda s: s.cat.as_ordered()), ("as_unordered", lambda s: s.cat.as_ordered().cat.as_unordered()),
    ("remove_unused_categories", lambda s: s.cat.add_categories(["q"]).cat.remove_unused_categories()),
    ("as_known", lambda s: s.cat.as_unknown().cat.as_known() if isinstance(s, gd.Series) else s),
    ("as_unknown", lambda s: s.cat.as_unknown() if isinstance(s, gd.Series) else s),
]


@pytest.mark.api("Series.cat")
@pytest.mark.parametrize("name,call", CAT_CASES, ids=[c[0] for c in CAT_CASES])
@pytest.mark.parametrize("npartitions", [1, 4])
def test_cat_accessor_matches_pandas(name, call, npartitions):
    pdf = _frame(10 + npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions).categorize(columns=["c"])
    want = call(pdf.c.astype("category"))
    got = call(df.c)
    tm.assert_series_equal(got.compute(scheduler="sync"), want)
    if name not in ("codes", "as_unknown"):
        assert got.cat.known and list(got.cat.categories) == list(want.cat.categories)
        assert got.cat.ordered == want.cat.ordered


@pytest.mark.api("Series.cat")
def test_unknown_categories_errors_as_dask():
    df = gd.from_pandas(_frame(1), npartitions=2)
    s = df.c.astype("category")
    for what in ("categories", "codes"):
        with pytest.raises(NotImplementedError, match=f"cat.{what}` with unknown categories"):
            getattr(s.cat, what)
    with pytest.raises(AttributeError, match="'category' dtype"):
        df.v.cat
    assert s.cat.as_known().cat.known and not s.cat.as_known().cat.as_unknown().cat.known


@pytest.mark.api("dd.get_dummies")
@pytest.mark.parametrize("npartitions", [1, 3])
def test_get_dummies_matches_pandas(npartitions):
    pdf = _frame(20 + npartitions)
    df = gd.from_pandas(pdf, npartitions=npartitions)
    known, pknown = df.categorize(columns=["c"]), pdf.astype({"c": "category"})
    tm.assert_frame_equal(gd.get_dummies(known).compute(scheduler="sync"), pd.get_dummies(pknown))
    tm.assert_frame_equal(gd.get_dummies(known, columns=["c"], prefix="p", dtype=int).compute(scheduler="sync"),
                          pd.get_dummies(pknown, columns=["c"], prefix="p", dtype=int))
    want = pd.get_dummies(pknown.c, drop_first=True)  # pandas' columns are a CategoricalIndex, ours plain labels
    tm.assert_frame_equal(gd.get_dummies(known.c, drop_first=True).compute(scheduler="sync"),
                          want.set_axis(pd.Index(list(want.columns), dtype="str"), axis=1))
    tm.assert_frame_equal(gd.get_dummies(pknown), pd.get_dummies(pknown))  # pandas in, pandas out
    with pytest.raises(NotImplementedError, match="non-categorical dtypes"):
        gd.get_dummies(df)
    with pytest.raises(NotImplementedError, match="unknown categories"):
        gd.get_dummies(df.c.astype("category"))


@pytest.mark.api("Series.cat")
@pytest.mark.parametrize("name", sorted(n for n in dir(dd.from_pandas(_frame(0).astype({"c": "category"}), 1).c.cat)
                                        if not n.startswith("_")))
def test_every_dask_cat_name_exists_and_is_compared(name):
    tested = {c[0] for c in CAT_CASES} | {"categories", "known", "ordered"}
    assert name in tested
    assert hasattr(gd.from_pandas(_frame(0), npartitions=2).categorize().c.cat, name)


@pytest.mark.api("dd.from_pandas")
@pytest.mark.parametrize("npartitions", [1, 3])
def test_from_pandas_knows_a_categoricals_categories(npartitions):
    """As Dask: a pandas categorical's categories (unused ones too) are known without computing; categories
    the schema cannot hold (timestamps) stay unknown rather than wrong."""
    pdf = pd.DataFrame({"c": pd.Categorical(list("abab"), categories=["b", "a", "z"]), "x": range(4),
                        "t": pd.Categorical(pd.to_datetime(["2020-01-01"] * 4))})
    df = gd.from_pandas(pdf, npartitions=npartitions)
    assert df.c.cat.known and list(df.c.cat.categories) == ["b", "a", "z"]
    assert not df.t.cat.known
    tm.assert_series_equal(df.c.compute(scheduler="sync"), pdf.c)
    s = gd.from_pandas(pdf.c, npartitions=npartitions)
    assert s.cat.known and list(s.cat.categories) == ["b", "a", "z"]
    tm.assert_frame_equal(gd.get_dummies(df[["c"]]).compute(scheduler="sync"), pd.get_dummies(pdf[["c"]]))
