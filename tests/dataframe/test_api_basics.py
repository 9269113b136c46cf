"""The everyday DataFrame names (reductions, assign/drop/rename, fillna, sort, head/tail, partitions,
describe) give what pandas gives on the same random data (nulls, strings, timestamps), over one and three
partitions; the names pandas lacks (``dask``, ``explain``, ``visualize``, ``npartitions``, ``partitions``,
``get_partition``) give what Dask gives on the same input.  Each test names the Dask API it proves
(``@pytest.mark.api``), counted by ``python -m benchmarks.api_coverage dataframe``.
The Series names and the module's classes are in test_api_basics_series.py.
"""

import io
import os
from collections.abc import Mapping
from contextlib import redirect_stdout

import dask
import dask.dataframe as dd
import pandas as pd
import pytest

import graphflow.dataframe as gd

from .data import random_table, same

SYNC = {"scheduler": "sync"}
NUMERIC = ["k", "x", "y"]


def frames(nparts, n=80, seed=3):
    pdf = random_table(n, seed).to_pandas()
    return pdf, gd.from_pandas(pdf, npartitions=nparts)


parts = pytest.mark.parametrize("nparts", [1, 3])


@pytest.mark.api("DataFrame.sum", "DataFrame.mean", "DataFrame.std", "DataFrame.var", "DataFrame.max",
                 "DataFrame.min", "DataFrame.count", "DataFrame.nunique")
@parts
def test_frame_reductions_match_pandas(nparts):
    pdf, df = frames(nparts)
    for how in ("sum", "mean", "std", "var", "max", "min", "count", "nunique"):
        same(getattr(df[NUMERIC], how)(), getattr(pdf[NUMERIC], how)(), check_dtype=False, obj=how)
    for how in ("count", "nunique"):  # strings and timestamps too
        same(getattr(df, how)(), getattr(pdf, how)(), obj=how)
    for how in ("max", "min"):  # one type per frame: timestamps stay timestamps
        same(getattr(df[["t"]], how)(), getattr(pdf[["t"]], how)(), check_dtype=False, obj=how)
    same(df[NUMERIC].var(ddof=0), pdf[NUMERIC].var(ddof=0))
    same(df[NUMERIC].std(ddof=0), pdf[NUMERIC].std(ddof=0))


@pytest.mark.api("DataFrame.all", "DataFrame.any")
@parts
def test_frame_all_any_read_truth_as_pandas(nparts):
    pdf, df = frames(nparts)
    pdf = pdf.assign(pos=pdf.k >= 0, big=pdf.x > 2, zero=pdf.k * 0, one=pdf.k * 0 + 1)
    df = df.assign(pos=df.k >= 0, big=df.x > 2, zero=df.k * 0, one=df.k * 0 + 1)
    cols = ["pos", "big", "zero", "one", "x", "y", "k"]  # booleans, zeros, floats with NaN, ints with nulls
    same(df[cols].all(), pdf[cols].all())
    same(df[cols].any(), pdf[cols].any())


@pytest.mark.api("DataFrame.assign")
@parts
def test_assign_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.assign(z=df.x * 2, w=1, u=df.s), pdf.assign(z=pdf.x * 2, w=1, u=pdf.s), check_dtype=False)
    same(df.assign(x=df.y), pdf.assign(x=pdf.y), check_dtype=False)  # replaces in place, keeps the order


@pytest.mark.api("DataFrame.columns", "DataFrame.dtypes")
@parts
def test_columns_and_dtypes_match_pandas(nparts):
    pdf, df = frames(nparts)
    pd.testing.assert_index_equal(df.columns, pdf.columns)
    pd.testing.assert_index_equal(df.assign(z=1).drop(columns=["x"]).columns,
                                  pdf.assign(z=1).drop(columns=["x"]).columns)
    # the lazy dtypes are the dtypes of what compute() gives, and Dask's on the same input
    pd.testing.assert_series_equal(df.dtypes, df.compute(**SYNC).dtypes)
    assert df.dtypes[NUMERIC + ["t"]].astype(str).tolist() == pdf.dtypes[NUMERIC + ["t"]].astype(str).tolist()
    pd.testing.assert_series_equal(df.dtypes, pdf.dtypes)
    pd.testing.assert_series_equal(df.assign(z=df.x > 0).dtypes, pdf.assign(z=pdf.x > 0).dtypes)


@pytest.mark.api("DataFrame.describe")
@parts
def test_describe_matches_pandas(nparts):
    pdf, df = frames(nparts)
    cols = ["k", "k2", "x", "y", "s"]  # strings are left out, as pandas does
    same(df[cols].describe(), pdf[cols].describe(), check_dtype=False)


@pytest.mark.api("DataFrame.drop")
@parts
def test_drop_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.drop(columns=["x", "s"]), pdf.drop(columns=["x", "s"]))
    same(df.drop("x", axis=1), pdf.drop("x", axis=1))
    same(df.drop(labels=["k", "t"], axis="columns"), pdf.drop(labels=["k", "t"], axis="columns"))
    same(df.drop(columns=["x", "nope"], errors="ignore"), pdf.drop(columns=["x", "nope"], errors="ignore"))
    with pytest.raises(KeyError) as want:
        pdf.drop(columns=["nope"])
    with pytest.raises(KeyError) as got:
        df.drop(columns=["nope"])
    assert str(got.value) == str(want.value)


@pytest.mark.api("DataFrame.empty")
def test_empty_refuses_as_dask_does():
    """Dask will not tell lazily whether a frame has rows (a pass over the data); neither do we, and both
    name the cheap alternative."""
    pdf, df = frames(3)
    with pytest.raises(NotImplementedError) as dask_err:
        dd.from_pandas(pdf, npartitions=3).empty
    with pytest.raises(NotImplementedError) as ours:
        df.empty
    assert "len(" in str(dask_err.value) and "len(" in str(ours.value)
    assert len(df) == len(pdf) and len(df.columns) == len(pdf.columns)  # the alternatives named
    assert (len(df[df.x > 99]) == 0) == pdf[pdf.x > 99].empty


@pytest.mark.api("DataFrame.fillna")
@parts
def test_frame_fillna_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df[["x", "y"]].fillna(0), pdf[["x", "y"]].fillna(0), check_dtype=False)
    fill = {"x": -1.5, "s": "none", "y": 7}
    same(df.fillna(fill), pdf.fillna(fill), check_dtype=False)


@pytest.mark.api("DataFrame.head", "DataFrame.tail")
@parts
def test_head_and_tail_match_pandas(nparts):
    pdf, df = frames(nparts)
    for n in (1, 5, 20):
        pd.testing.assert_frame_equal(df.head(n), pdf.head(n))
        pd.testing.assert_frame_equal(df.tail(n), pdf.tail(n))
    same(df.head(7, compute=False), pdf.head(7))
    same(df.tail(7, compute=False), pdf.tail(7))


@pytest.mark.api("DataFrame.rename", "DataFrame.rename_axis")
@parts
def test_rename_and_rename_axis_match_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.rename(columns={"x": "xx", "s": "ss"}), pdf.rename(columns={"x": "xx", "s": "ss"}))
    same(df.rename(columns={"nope": "z"}), pdf.rename(columns={"nope": "z"}))
    same(df.rename(columns=str.upper), pdf.rename(columns=str.upper))
    with pytest.raises(KeyError, match=r"\['nope'\] not found in axis"):
        pdf.rename(columns={"nope": "z"}, errors="raise")
    with pytest.raises(KeyError, match=r"\['nope'\] not found in axis"):
        df.rename(columns={"nope": "z"}, errors="raise")
    same(df.rename_axis("row"), pdf.rename_axis("row"))
    assert df.rename_axis("row").index.name == "row"


@pytest.mark.api("DataFrame.rename")
@parts
def test_rename_goes_by_label_not_by_storage_name(nparts):
    """After ``agg([...])`` the labels (count, sum) are not the stored names: rename must find them (TPC-H
    q22 renamed nothing and answered with the wrong column names); swaps and non-string labels too."""
    pdf, df = frames(nparts)
    agg, pagg = df.groupby("s").x.agg(["count", "sum"]), pdf.groupby("s").x.agg(["count", "sum"])
    mapping = {"count": "n", "sum": "total"}
    same(agg.reset_index().rename(columns=mapping), pagg.reset_index().rename(columns=mapping))
    same(agg.rename(columns=mapping), pagg.rename(columns=mapping))
    for mapping in ({"x": "s", "s": "x"}, {"x": 1}, {"x": "s2"}):
        same(df.rename(columns=mapping), pdf.rename(columns=mapping))


@pytest.mark.api("DataFrame.sort_values")
@parts
def test_sort_values_matches_pandas(nparts):
    pdf, df = frames(nparts)
    same(df.sort_values("x"), pdf.sort_values("x", kind="stable"))
    same(df.sort_values("x", ascending=False), pdf.sort_values("x", ascending=False, kind="stable"))
    same(df.sort_values(["k2", "y"]), pdf.sort_values(["k2", "y"], kind="stable"))
    same(df.sort_values("t"), pdf.sort_values("t", kind="stable"))


@pytest.mark.api("DataFrame.npartitions", "DataFrame.partitions", "DataFrame.get_partition")
@parts
def test_partitions_are_dasks_partitions(nparts):
    """from_pandas splits as Dask splits the same frame: the i-th partition is the same slice of pandas'."""
    pdf, df = frames(nparts)
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    assert df.npartitions == ddf.npartitions == nparts
    assert df[df.x > 0].npartitions == ddf[ddf.x > 0].npartitions
    assert df.repartition(npartitions=2).npartitions == ddf.repartition(npartitions=2).npartitions
    got = [df.get_partition(i).compute(**SYNC) for i in range(nparts)]
    for i in range(nparts):
        want = ddf.get_partition(i).compute()
        pd.testing.assert_frame_equal(got[i], pdf.loc[want.index], check_dtype=False)
        pd.testing.assert_frame_equal(df.partitions[i].compute(**SYNC), got[i])
    pd.testing.assert_frame_equal(pd.concat(got), pdf)
    tail = df.partitions[1:]
    assert tail.npartitions == nparts - 1
    if nparts > 1:
        pd.testing.assert_frame_equal(tail.compute(**SYNC), pd.concat(got[1:]))
    with pytest.raises(IndexError):
        df.get_partition(nparts)


@pytest.mark.api("DataFrame.dask")
@parts
def test_dask_is_a_graph_that_computes_the_frame(nparts):
    """``df.dask`` is a task-graph mapping; Dask's own scheduler runs it to the frame."""
    pdf, df = frames(nparts)
    lazy = df[df.x > 0].assign(z=df.y * 2)
    graph = lazy.dask
    assert isinstance(graph, Mapping) and len(graph) >= nparts
    assert all(k in graph for k in lazy.__dask_keys__())
    finalize, extra = lazy.__dask_postcompute__()
    got = finalize(dask.get(dict(graph), lazy.__dask_keys__()), *extra)
    pd.testing.assert_frame_equal(got, pdf[pdf.x > 0].assign(z=pdf.y * 2))
    (via_dask,) = dask.compute(lazy, scheduler="sync")
    pd.testing.assert_frame_equal(via_dask, got)


@pytest.mark.api("DataFrame.explain")
def test_explain_prints_the_plan():
    pdf, df = frames(3)
    lazy = df[df.x > 0][["x", "k"]]
    buf = io.StringIO()
    with redirect_stdout(buf):
        text = lazy.explain()
    assert buf.getvalue() == text + "\n"
    unoptimized = lazy.explain(optimized=False, file=io.StringIO())
    assert text and unoptimized and text != unoptimized  # the optimizer changed the plan ...
    pd.testing.assert_frame_equal(lazy.compute(**SYNC), pdf[pdf.x > 0][["x", "k"]])  # ... not the answer


@pytest.mark.api("DataFrame.visualize")
def test_visualize_writes_the_graph(tmp_path):
    _, df = frames(3)
    lazy = df.assign(z=df.x + 1)
    dot = str(tmp_path / "graph.dot")
    lazy.visualize(dot)
    text = open(dot).read()
    assert "digraph" in text and text.count("->") >= 1
    if os.system("command -v dot >/dev/null 2>&1") == 0:  # rendering needs graphviz's dot (make test installs it)
        svg = str(tmp_path / "graph.svg")
        lazy.visualize(svg)
        assert "<svg" in open(svg).read()
