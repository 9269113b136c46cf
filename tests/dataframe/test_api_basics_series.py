"""The everyday Series names give what pandas gives on the same random data (nulls, strings, timestamps),
over one and three partitions; the names pandas lacks (``dask``, ``explain``, ``visualize``, ``persist``,
``npartitions``, ``known_divisions``, ``clear_divisions``) give what Dask gives on the same input; and the
module's classes (``dd.DataFrame``, ``dd.Series``, ``dd.Index``, ``dd.Scalar``) are what operations return
where Dask's return Dask's.  Each test names the Dask API it proves (``@pytest.mark.api``).
"""

import io
import os
from collections.abc import Mapping
from contextlib import redirect_stdout

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import graphflow.dataframe as gd

from .data import random_table, same

SYNC = {"scheduler": "sync"}


def frames(nparts, n=80, seed=5):
    pdf = random_table(n, seed).to_pandas()
    return pdf, gd.from_pandas(pdf, npartitions=nparts)


def same_scalar(lazy, expected):
    got = lazy.compute(**SYNC)
    if pd.isna(expected):
        assert pd.isna(got), got
    elif isinstance(expected, (float, np.floating)):
        assert got == pytest.approx(expected, rel=1e-12), (got, expected)
    elif isinstance(expected, (int, np.integer)):
        assert got == expected and isinstance(got, (int, np.integer)), (got, expected)
    else:
        assert got == expected, (got, expected)


parts = pytest.mark.parametrize("nparts", [1, 3])


@pytest.mark.api("Series.sum", "Series.mean", "Series.std", "Series.var", "Series.max", "Series.min",
                 "Series.count", "Series.nunique")
@parts
def test_series_reductions_match_pandas(nparts):
    pdf, df = frames(nparts)
    for col in ("x", "k"):
        for how in ("sum", "mean", "std", "var", "max", "min", "count", "nunique"):
            same_scalar(getattr(df[col], how)(), getattr(pdf[col], how)())
    for col in ("s", "t"):  # strings and timestamps
        for how in ("max", "min", "count", "nunique"):
            same_scalar(getattr(df[col], how)(), getattr(pdf[col], how)())
    same_scalar(df.x.var(ddof=0), pdf.x.var(ddof=0))
    same_scalar(df.x.std(ddof=0), pdf.x.std(ddof=0))
    same_scalar(df.x[df.x > 99].mean(), pdf.x[pdf.x > 99].mean())  # no values: NaN, as pandas


@pytest.mark.api("Series.all", "Series.any")
@parts
def test_series_all_any_read_truth_as_pandas(nparts):
    pdf, df = frames(nparts)
    for expr in (lambda d: d.x > -5, lambda d: d.x > 2, lambda d: d.k, lambda d: d.k + 1, lambda d: d.x,
                 lambda d: d.k * 0):
        for how in ("all", "any"):
            got = getattr(expr(df), how)().compute(**SYNC)
            assert bool(got) == getattr(expr(pdf), how)(), how
    for col in ("s", "k2"):  # strings: true unless empty, nulls skipped (pandas' str dtype)
        for how in ("all", "any"):
            assert bool(getattr(df[col], how)().compute(**SYNC)) == getattr(pdf[col], how)()
    empties = pd.Series(["a", "", None, "b"], dtype="str")
    lazy = gd.from_pandas(empties.to_frame("e"), npartitions=2).e
    assert bool(lazy.all().compute(**SYNC)) == empties.all() and bool(lazy.any().compute(**SYNC)) == empties.any()


@pytest.mark.api("Series.between")
@parts
def test_between_matches_pandas(nparts):
    pdf, df = frames(nparts)
    for inclusive in ("both", "neither", "left", "right"):
        same(df.x.between(-0.5, 0.5, inclusive=inclusive), pdf.x.between(-0.5, 0.5, inclusive=inclusive))
    same(df.k.between(3, 9), pdf.k.between(3, 9))


@pytest.mark.api("Series.case_when")
@parts
def test_case_when_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.x.case_when([(df.x > 0, 1.0), (df.x < -1, -1.0)]),
         pdf.x.case_when([(pdf.x > 0, 1.0), (pdf.x < -1, -1.0)]))
    same(df.y.case_when([(df.k > 8, df.k * 10)]), pdf.y.case_when([(pdf.k > 8, pdf.k * 10)]), check_dtype=False)


@pytest.mark.api("Series.describe")
@parts
def test_series_describe_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.x.describe(), pdf.x.describe())
    same(df.y.describe(), pdf.y.describe())


@pytest.mark.api("Series.dropna", "Series.fillna")
@parts
def test_dropna_and_fillna_match_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.x.dropna(), pdf.x.dropna())
    same(df.s.dropna(), pdf.s.dropna())
    same(df.x.fillna(0.5), pdf.x.fillna(0.5))
    same(df.s.fillna("none"), pdf.s.fillna("none"))


@pytest.mark.api("Series.dtype", "Series.dtypes", "Series.name")
@parts
def test_dtypes_and_name_match_pandas(nparts):
    pdf, df = frames(nparts)
    for col in pdf.columns:
        assert df[col].dtypes == pdf[col].dtypes == df[col].compute(**SYNC).dtypes, col
        assert df[col].dtype == pdf[col].dtype == df[col].compute(**SYNC).dtype, col  # pandas', before computing
        assert df[col].name == pdf[col].name == col
    assert (df.x + 1).name == (pdf.x + 1).name
    assert (df.x > df.y).name == (pdf.x > pdf.y).name
    assert df.x.rename("z").name == "z" and (df.x > 0).dtypes == (pdf.x > 0).dtypes
    assert (df.x * 2).dtype == (pdf.x * 2).dtype and (df.x > 0).dtype == (pdf.x > 0).dtype


@pytest.mark.api("Series.head", "Series.tail")
@parts
def test_series_head_and_tail_match_pandas(nparts):
    pdf, df = frames(nparts)
    for n in (1, 5, 20):
        pd.testing.assert_series_equal(df.x.head(n), pdf.x.head(n))
        pd.testing.assert_series_equal(df.s.tail(n), pdf.s.tail(n))
    same(df.t.head(6, compute=False), pdf.t.head(6))
    same(df.t.tail(6, compute=False), pdf.t.tail(6))


@pytest.mark.api("Series.map_partitions")
@parts
def test_series_map_partitions_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.x.map_partitions(lambda s: s * 2 + 1), pdf.x * 2 + 1)
    same(df.s.map_partitions(lambda s, suffix: s.str.upper() + suffix, "!"), pdf.s.str.upper() + "!")
    counts = df.x.map_partitions(lambda s: pd.Series([len(s)], name="n"), meta=("n", "int64")).compute(**SYNC)
    assert counts.sum() == len(pdf) and len(counts) == nparts


@pytest.mark.api("Series.rename", "Series.rename_axis", "Series.reset_index", "Series.to_frame")
@parts
def test_rename_reset_index_and_to_frame_match_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.x.rename("z"), pdf.x.rename("z"))
    same(df.x.rename_axis("row"), pdf.x.rename_axis("row"))
    same(df.x.reset_index(), pdf.x.reset_index())
    same(df.x.reset_index(drop=True), pdf.x.reset_index(drop=True))
    same(df.x.rename_axis("row").reset_index(), pdf.x.rename_axis("row").reset_index())
    same(df.s.to_frame(), pdf.s.to_frame())
    same(df.s.to_frame("name"), pdf.s.to_frame("name"))


@pytest.mark.api("Series.unique")
@parts
def test_unique_matches_pandas(nparts):
    """The distinct values (null once), as pandas; the order follows the partitions, as Dask's does."""
    pdf, df = frames(nparts)
    for col in ("k2", "s", "k"):
        got = df[col].unique().compute(**SYNC)
        assert got.name == col
        want = pd.Series(pdf[col].unique())
        assert sorted(got.dropna().tolist()) == sorted(want.dropna().tolist())
        assert got.isna().sum() == want.isna().sum()
        assert str(got.dtype) == str(pdf[col].dtype)


@pytest.mark.api("Series.npartitions", "Series.known_divisions", "Series.clear_divisions")
@parts
def test_partitions_and_divisions_are_dasks(nparts):
    pdf, df = frames(nparts)
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    assert df.x.npartitions == ddf.x.npartitions == nparts
    assert df.x.known_divisions is ddf.x.known_divisions is True
    assert df.x.divisions == ddf.x.divisions
    cleared, dcleared = df.x.clear_divisions(), ddf.x.clear_divisions()
    assert cleared.known_divisions is dcleared.known_divisions is False
    assert cleared.divisions == dcleared.divisions == (None,) * (nparts + 1)
    assert cleared.npartitions == nparts
    same(cleared, pdf.x)  # the data is untouched


def _held(node):
    """A graph entry that is a value, not a task to run (Dask holds the bare value, we wrap it in DataNode)."""
    return type(node).__name__ not in ("Task", "Alias")


@pytest.mark.api("Series.persist")
@parts
def test_persist_keeps_the_computed_partitions(nparts):
    """persist computes once: the persisted graph holds one ready value per partition, as Dask's does."""
    pdf, df = frames(nparts)
    lazy = (df.x * 2)[df.k > 3]
    kept = lazy.persist(**SYNC)
    dkept = ((dd.from_pandas(pdf, npartitions=nparts).x * 2)[dd.from_pandas(pdf, npartitions=nparts).k > 3]
             ).persist(scheduler="sync")
    assert isinstance(kept, gd.Series) and kept.npartitions == dkept.npartitions == nparts
    graph, dgraph = dict(kept.dask), dict(dkept.dask)
    assert sum(_held(v) for v in graph.values()) == nparts  # the values, held
    assert sum(_held(v) for v in dgraph.values()) == nparts
    assert len(graph) <= 2 * nparts and len(dgraph) <= 2 * nparts  # no chain back to the source left
    same(kept, (pdf.x * 2)[pdf.k > 3])
    same(kept + 1, (pdf.x * 2)[pdf.k > 3] + 1)  # a persisted Series builds on as any


@pytest.mark.api("Series.dask")
def test_series_dask_is_a_graph_that_computes_it():
    pdf, df = frames(3)
    lazy = df.x + df.y
    graph = lazy.dask
    assert isinstance(graph, Mapping) and all(k in graph for k in lazy.__dask_keys__())
    finalize, extra = lazy.__dask_postcompute__()
    got = finalize(dask.get(dict(graph), lazy.__dask_keys__()), *extra)
    pd.testing.assert_series_equal(got, pdf.x + pdf.y)


@pytest.mark.api("Series.explain")
def test_series_explain_prints_the_plan():
    _, df = frames(3)
    lazy = df[df.k > 2].x
    buf = io.StringIO()
    with redirect_stdout(buf):
        text = lazy.explain()
    assert text and buf.getvalue() == text + "\n"
    assert lazy.explain(optimized=False, file=io.StringIO()) != text


@pytest.mark.api("Series.visualize")
def test_series_visualize_writes_the_graph(tmp_path):
    _, df = frames(3)
    dot = str(tmp_path / "s.dot")
    (df.x + 1).visualize(dot)
    assert "digraph" in open(dot).read()
    if os.system("command -v dot >/dev/null 2>&1") == 0:
        svg = str(tmp_path / "s.svg")
        (df.x + 1).visualize(svg)
        assert "<svg" in open(svg).read()


# ------------------------------------------------------------------ the module's names


@pytest.mark.api("dd.DataFrame", "dd.Series", "dd.Index", "dd.Scalar")
def test_operations_return_the_classes_dask_returns():
    """Each operation returns the class of ours named as the class Dask's same operation returns."""
    pdf, df = frames(3)
    ddf = dd.from_pandas(pdf, npartitions=3)
    ops = [lambda d: d, lambda d: d[["x", "k"]], lambda d: d[d.x > 0], lambda d: d.x, lambda d: d.x + d.y,
           lambda d: d.index, lambda d: d.x.sum(), lambda d: d.x.max() - d.x.min(), lambda d: d[["x", "y"]].sum(),
           lambda d: d.groupby("k").x.sum(), lambda d: d.groupby("k").agg({"x": "sum"}),
           lambda d: d.set_index("k").index, lambda d: d.x.to_frame()]
    ours = {"DataFrame": gd.DataFrame, "Series": gd.Series, "Index": gd.Index, "Scalar": gd.Scalar}
    theirs = {"DataFrame": dd.DataFrame, "Series": dd.Series, "Index": dd.Index, "Scalar": dd.Scalar}
    for op in ops:
        name = next(n for n in ("Index", "DataFrame", "Series", "Scalar") if isinstance(op(ddf), theirs[n]))
        assert isinstance(op(df), ours[name]), (name, type(op(df)))
        if name != "Index":
            assert not isinstance(op(df), gd.Index)
    assert issubclass(gd.Index, gd.Series) == issubclass(dd.Index, dd.Series)
    pd.testing.assert_index_equal(df.index.compute(**SYNC), pdf.index, exact="equiv")
    assert gd.get_collection_type(pdf) is gd.DataFrame and gd.get_collection_type(pdf.x) is gd.Series


@pytest.mark.api("dd.from_dict")
@pytest.mark.parametrize("nparts", [1, 3])
def test_from_dict_matches_pandas(nparts):
    data = random_table(40, 9).to_pandas().to_dict("list")
    df = gd.from_dict(data, npartitions=nparts)
    assert df.npartitions == dd.from_dict(data, npartitions=nparts).npartitions
    same(df, pd.DataFrame(data), check_dtype=False)
    same(gd.from_dict({"a": [1, 2, 3], "b": ["x", None, "z"]}, chunksize=2),
         pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]}), check_dtype=False)


def _ss_chunk(g):
    return g.sum(), g.agg(lambda v: (v * v).sum()), g.count()


def _ss_agg(s, ss, n):
    return s.sum(), ss.sum(), n.sum()


def _ss_finalize(s, ss, n):
    return (ss - s * s / n) / (n - 1)


@pytest.mark.api("dd.Aggregation")
@parts
def test_custom_aggregation_matches_pandas(nparts):
    """A variance written as chunk/agg/finalize equals pandas' groupby var."""
    pdf, df = frames(nparts)
    var = gd.Aggregation("myvar", _ss_chunk, _ss_agg, _ss_finalize)
    got = df.groupby("k").x.agg(var).compute(**SYNC)
    want = pdf.groupby("k").x.var()
    pd.testing.assert_series_equal(got.sort_index(), want, check_names=False, rtol=1e-9)
    got = df.groupby("k2").agg({"x": var, "y": "sum"}).compute(**SYNC).sort_index()
    want = pdf.groupby("k2").agg({"x": "var", "y": "sum"})
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9)
    # the same aggregation through Dask's Aggregation gives the same
    dvar = dd.Aggregation("myvar", _ss_chunk, _ss_agg, _ss_finalize)
    theirs = dd.from_pandas(pdf, npartitions=nparts).groupby("k").x.agg(dvar).compute(scheduler="sync")
    pd.testing.assert_series_equal(df.groupby("k").x.agg(var).compute(**SYNC).sort_index(), theirs.sort_index(),
                                   check_names=False, rtol=1e-9)
