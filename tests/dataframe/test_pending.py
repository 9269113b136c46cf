"""graphflow/dataframe/pending.py: a compute's last diff/cumsum runs inside the result's assembly, and gives
pandas' answer (and bit for bit the Arrow path's) over any partitioning; persist, to_arrow and results
computed together keep Arrow partitions."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import graphflow.dataframe as gd
from graphflow.dataframe.plan import FromKeys
from graphflow.dataframe.pending import CumulativeInto, DiffInto, PendingTable


def frame(n, seed, nulls=False):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    if nulls and n:
        a[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({"a": a, "k": rng.integers(-5, 5, n), "f": rng.random(n).astype("float32")})


@pytest.mark.api("Series.diff", "DataFrame.diff")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), nparts=st.integers(1, 9), periods=st.integers(-12, 12), seed=st.integers(0, 99),
       nulls=st.booleans())
def test_diff_at_edge_is_pandas(n, nparts, periods, seed, nulls):
    """diff(periods) crossing partition boundaries (periods longer than partitions too), with and without
    NaN, equal to pandas; the float64 column's values equal the Arrow path's bit for bit."""
    pdf = frame(n, seed, nulls)
    df = gd.from_pandas(pdf, npartitions=nparts)
    pd.testing.assert_series_equal(df.a.diff(periods).compute(scheduler="sync"), pdf.a.diff(periods))
    pd.testing.assert_frame_equal(df.diff(periods).compute(scheduler="sync"), pdf.diff(periods))
    arrow = df.a.diff(periods).to_arrow(scheduler="sync").to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(df.a.diff(periods).compute(scheduler="sync").to_numpy(), arrow)


@pytest.mark.api("Series.cumsum", "DataFrame.cumsum", "DataFrame.cumprod")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 80), nparts=st.integers(1, 9), seed=st.integers(0, 99), nulls=st.booleans())
def test_cumulative_at_edge_is_pandas(n, nparts, seed, nulls):
    pdf = frame(n, seed, nulls)
    df = gd.from_pandas(pdf, npartitions=nparts)
    pd.testing.assert_series_equal(df.a.cumsum().compute(scheduler="sync"), pdf.a.cumsum())
    pd.testing.assert_frame_equal(df.cumsum().compute(scheduler="sync"), pdf.cumsum())
    pd.testing.assert_frame_equal(df[["a", "k"]].cumprod().compute(scheduler="sync"), pdf[["a", "k"]].cumprod())
    arrow = df.a.cumsum().to_arrow(scheduler="sync").to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(df.a.cumsum().compute(scheduler="sync").to_numpy(), arrow)


def test_long_partitions_cross_the_block_size():
    """CumulativeInto works block by block (32768 rows): a partition of 100k rows, carried, is exact."""
    pdf = frame(200_003, 3)[["a", "k"]]  # (float32 sums of 100k rows drift apart from any split: not here)
    df = gd.from_pandas(pdf, npartitions=2)
    got = df.cumsum().compute(scheduler="threads")
    pd.testing.assert_frame_equal(got, pdf.cumsum())
    np.testing.assert_array_equal(got.k.to_numpy(), np.cumsum(pdf.k.to_numpy()))


def test_compute_runs_the_edge_form_and_persist_keeps_arrow():
    pdf = frame(40, 1)
    df = gd.from_pandas(pdf, npartitions=4)
    d = df.a.diff()
    assert "DiffAtEdge" in d.for_compute().explain(file=io.StringIO())
    assert "DiffAtEdge" not in d.explain(file=io.StringIO())
    kept = d.persist(scheduler="sync")
    source = kept.expr
    while not isinstance(source, FromKeys):
        source = source.children[0]
    parts = list(source.nodes.values())
    assert parts and all(isinstance(getattr(p, "value", None), pa.Table) for p in parts)
    pd.testing.assert_series_equal(kept.compute(scheduler="sync"), pdf.a.diff())
    # a result built on the diff reads Arrow partitions
    assert float((d * 2).sum().compute(scheduler="sync")) == pytest.approx(float((pdf.a.diff() * 2).sum()))
    both = gd.compute(d, df.a.cumsum(), scheduler="sync")
    pd.testing.assert_series_equal(both[0], pdf.a.diff())
    pd.testing.assert_series_equal(both[1], pdf.a.cumsum())


def test_string_index_takes_the_general_path():
    """An index the numeric assembly does not take: the pending partitions are materialized first."""
    pdf = pd.DataFrame({"a": np.arange(20.0) ** 2}, index=pd.Index([f"k{i:02d}" for i in range(20)], name="key"))
    df = gd.from_pandas(pdf, npartitions=4)
    pd.testing.assert_series_equal(df.a.diff(2).compute(scheduler="sync"), pdf.a.diff(2))
    pd.testing.assert_series_equal(df.a.cumsum().compute(scheduler="sync"), pdf.a.cumsum())


def test_pending_table_materializes_with_nulls_where_pandas_has_nan():
    deferred = {"x": DiffInto(np.array([1.0, 4.0, 9.0]), np.array([]), 2),
                "c": CumulativeInto(np.array([1, 2, 3]), 10, "sum")}
    part = PendingTable(pa.table({"i": [0, 1, 2]}), deferred, ["x", "c", "i"])
    t = part.materialize()
    assert t.column("x").to_pylist() == [None, None, 8.0]
    assert t.column("c").to_pylist() == [11, 13, 16]
    assert part.select(["c", "i"]).materialize().column_names == ["c", "i"]


def _assign(p):
    return p.assign(c=p.a * 2 + p.k)


def _as_ints(p):
    return p.assign(a=p.k * 2)


def _with_text(p):
    return p.assign(s=p.a.astype(str))


@pytest.mark.api("DataFrame.map_partitions", "Series.map_partitions")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 40), nparts=st.integers(1, 6), seed=st.integers(0, 99), named=st.booleans(),
       func=st.sampled_from([_assign, _as_ints, _with_text]))
def test_map_partitions_at_edge_is_pandas(n, nparts, seed, named, func):
    """map_partitions' pandas results are concatenated as they are (number columns) or through Arrow
    (others, or a result whose dtypes differ from meta): the same frame as pandas' on the whole."""
    pdf = frame(max(n, 1), seed, nulls=True)
    if named:
        pdf = pdf.set_axis(pd.Index(np.arange(len(pdf)) * 3 + 1, name="w"))
    df = gd.from_pandas(pdf, npartitions=nparts)
    pd.testing.assert_frame_equal(df.map_partitions(func).compute(scheduler="sync"), func(pdf))
    pd.testing.assert_series_equal(df.map_partitions(lambda p: p.a - p.k).compute(scheduler="sync"), pdf.a - pdf.k)
    # meta says float: an int result is cast, as without the edge form
    got = df.map_partitions(_as_ints, meta=pdf.iloc[:0]).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, _as_ints(pdf).astype(pdf.dtypes.to_dict()))


def _timed(n, seed, span_s):
    rng = np.random.default_rng(seed)
    idx = pd.Timestamp("2024-01-01 05:00") + pd.to_timedelta(np.sort(rng.choice(span_s, n, replace=False)), unit="s")
    return pd.DataFrame({"x": rng.normal(size=n), "i": rng.integers(0, 9, n)}, index=pd.DatetimeIndex(idx, name="t"))


@pytest.mark.api("DataFrame.resample", "Series.resample")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 80), nparts=st.integers(1, 12), seed=st.integers(0, 99),
       rule=st.sampled_from(["1h", "20min", "6h", "1D"]), how=st.sampled_from(["sum", "mean", "count", "max", "last"]),
       closed=st.sampled_from([None, "right"]))
def test_resample_over_pieces_is_pandas(n, nparts, seed, rule, how, closed):
    """An output partition's rows come from several input partitions: each is resampled alone and only
    the bins straddling them again (`resample._BinAgg.over_pieces`); the same as pandas on the whole."""
    pdf = _timed(n, seed, 3 * 86400)
    df = gd.from_pandas(pdf, npartitions=nparts)
    got = getattr(df.resample(rule, closed=closed), how)().compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, getattr(pdf.resample(rule, closed=closed), how)(), check_freq=False,
                                  check_dtype=False)
    got = getattr(df.x.resample(rule, closed=closed), how)().compute(scheduler="sync")
    pd.testing.assert_series_equal(got, getattr(pdf.x.resample(rule, closed=closed), how)(), check_freq=False,
                                   check_dtype=False)


def test_pending_partitions_cross_processes_and_clusters():
    """Partitions left pending travel: from worker processes and from a cluster's workers to the client."""
    import graphflow as gf

    pdf = frame(3000, 5)
    df = gd.from_pandas(pdf, npartitions=4)
    pd.testing.assert_series_equal(df.a.diff(3).compute(scheduler="processes"), pdf.a.diff(3))
    with gf.Client(n_workers=2, threads_per_worker=1) as client:
        pd.testing.assert_frame_equal(df.cumsum().compute(), pdf.cumsum())
        pd.testing.assert_frame_equal(df.map_partitions(_assign).compute(scheduler=client), _assign(pdf))
        pd.testing.assert_series_equal(df.a.diff().compute(scheduler=client), pdf.a.diff())
