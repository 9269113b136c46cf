"""DataFrame objects: schema without computing, repr, len, head/tail, bad input at build time."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow as gf
import graphflow.dataframe as gd

from .data import needs_pandas, pd, random_table


@pytest.fixture(scope="module")
def table():
    return random_table()


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=7)


def test_schema_without_compute(df, table):
    assert list(df.columns) == table.column_names
    assert isinstance(df.columns, pd.Index) and isinstance(df.dtypes, pd.Series)
    expect = table.slice(0, 0).to_pandas().dtypes  # pandas' dtypes of the Arrow types (int64 without nulls)
    pd.testing.assert_series_equal(df.dtypes, expect)
    assert df.dtypes["t"] == "datetime64[us]" and df.schema.field("t").type == pa.timestamp("us")
    assert df.npartitions == 7
    assert df.divisions == (None,) * 8 and not df.known_divisions
    assert "npartitions=7" in repr(df) and "k2: string" in repr(df)
    assert "<table>" in df._repr_html_() and "7 partitions" in df._repr_html_()


def test_compute_returns_pandas(df, table):
    out = df.compute()
    assert isinstance(out, pd.DataFrame)
    pd.testing.assert_frame_equal(out, table.to_pandas())
    assert isinstance(df.to_arrow(), pa.Table) and df.to_arrow().equals(table)
    assert len(df) == table.num_rows


def test_head_tail_read_only_needed_partitions(df, table):
    # pandas' own conversion of the same rows (a slice whose int column has no nulls stays int64);
    # no stored index (from_arrow): the result has a fresh RangeIndex
    pd.testing.assert_frame_equal(df.head(3), table.slice(0, 3).to_pandas())
    pd.testing.assert_frame_equal(df.tail(4), table.slice(table.num_rows - 4).to_pandas())
    assert df.head(3, compute=False).to_arrow().equals(table.slice(0, 3))
    calls = []

    def spy(p):
        calls.append(len(p))
        return p

    df.map_partitions(spy, meta=df.schema).head(5)
    assert len(calls) == 1  # only the first partition was read


def test_head_spans_partitions():
    small = gd.from_dict({"a": list(range(10))}, npartitions=5)
    assert small.head(7).a.tolist() == list(range(7))
    assert small.tail(7).a.tolist() == list(range(3, 10))


def test_missing_column_is_keyerror_at_build(df):
    with pytest.raises(KeyError, match="'nope' not found.*k: int64"):
        df["nope"]
    with pytest.raises(KeyError, match="nope"):
        df[["k", "nope"]]
    with pytest.raises(AttributeError):
        df.nope


def test_incompatible_types_at_build(df):
    with pytest.raises(TypeError, match="incompatible types"):
        df.s + 1
    with pytest.raises(TypeError):
        df.t * df.s


def test_unrelated_series_refused_without_divisions(df):
    """Series of different frames align on the index only when both know their divisions (as Dask); rows
    are never zipped by position (test_index covers the aligned case)."""
    other = gd.from_arrow(random_table(seed=1), npartitions=7)
    with pytest.raises(ValueError, match="unrelated frames: not all divisions are known"):
        df.x + other.x
    with pytest.raises(ValueError, match="set_index"):
        df[["x"]] + other[["x"]]


def test_assign_rename_drop_astype(df, table):
    pdf = table.to_pandas()
    out = df.assign(z=df.x * 2, c=1).rename(columns={"k": "key"}).drop(columns=["s"]).compute()
    expect = pdf.assign(z=pdf.x * 2, c=1).rename(columns={"k": "key"}).drop(columns=["s"])
    assert list(out.columns) == ["key", "k2", "x", "y", "t", "z", "c"]
    pd.testing.assert_frame_equal(out, expect)
    cast = df.astype({"y": "float64"})
    assert cast.schema.field("y").type == pa.float64() and cast.dtypes["y"] == "float64"
    pd.testing.assert_frame_equal(cast.compute(), pdf.astype({"y": "float64"}))


def test_filter_then_assign_from_parent_series(df, table):
    """The issue's example: a Series of the unfiltered frame used on the filtered one."""
    pdf = table.to_pandas()
    out = df[df.x > 0].assign(r=df.y / df.x).compute()
    expect = pdf[pdf.x > 0].assign(r=pdf.y / pdf.x).reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expect)


def test_fillna_dropna_where(df, table):
    pdf = table.to_pandas()
    filled = df.fillna({"x": 0.0, "s": "?"}).compute()
    assert filled.x.isna().sum() == 0 and filled.s.isna().sum() == 0
    pd.testing.assert_frame_equal(filled, pdf.fillna({"x": 0.0, "s": "?"}))
    dropped = df.dropna(subset=["x", "y"]).compute()
    # y's nulls are gone: Arrow's int64 stays int64 (pandas keeps the float64 it made for the nulls)
    no_null_y = {"y": "int64"}
    pd.testing.assert_frame_equal(dropped, pdf.dropna(subset=["x", "y"]).reset_index(drop=True).astype(no_null_y))
    assert len(df.dropna().compute()) == len(pdf.dropna()) == table.drop_null().num_rows
    pd.testing.assert_frame_equal(df.dropna().compute(), pdf.dropna().reset_index(drop=True).astype(no_null_y))
    w = df[["x", "y"]].where(df.y > 0).compute()
    pd.testing.assert_frame_equal(w, pdf[["x", "y"]].where(pdf.y > 0))


def test_map_partitions_infers_schema(df, table):
    out = df.map_partitions(lambda p: p[["k"]].assign(n=len(p)))
    assert list(out.columns) == ["k", "n"]
    sizes = [df.partitions[i].to_arrow().num_rows for i in range(df.npartitions)]
    got = out.compute()
    assert len(got) == table.num_rows
    assert got.n.tolist() == [n for n in sizes for _ in range(n)]
    assert got.k.tolist() == table["k"].to_pylist()


def test_concat_and_repartition(df, table):
    pdf = table.to_pandas()
    both = gd.concat([df, df[["k", "x"]]])
    assert both.npartitions == 14
    out = both.compute()
    assert len(out) == 2 * table.num_rows and out.s.isna().sum() > pdf.s.isna().sum()
    pd.testing.assert_frame_equal(out, pd.concat([pdf, pdf[["k", "x"]]], ignore_index=True))
    assert df.repartition(3).npartitions == 3 and df.repartition(3).to_arrow().equals(table)
    pd.testing.assert_frame_equal(df.repartition(3).compute(), pdf)
    assert df.repartition(20).to_arrow().equals(table)


def test_persist_keeps_values(df, table):
    pdf = table.to_pandas()
    p = df[df.y > 0].persist(scheduler="sync")
    assert p.to_arrow().equals(table.filter(pc.greater(table["y"], 0)))
    # no null y left: int64, as Arrow has it
    pd.testing.assert_frame_equal(p.compute(), pdf[pdf.y > 0].reset_index(drop=True).astype({"y": "int64"}))
    assert p.npartitions == 7


def test_gf_optimize_and_visualize_protocol(df, table, tmp_path):
    q = df[df.y > 0][["k", "y"]]
    (opt,) = gf.optimize(q)
    assert opt.compute().equals(q.compute())
    s = df.y.sum()
    (opt_s,) = gf.optimize(s)
    assert opt_s.compute() == s.compute() == pc.sum(table["y"]).as_py()
    assert gf.persist(s, scheduler="sync")[0].compute() == s.compute()
    assert len(gf.to_networkx(q)) == len(q.__graphflow_graph__())


def test_schedulers_agree(df):
    q = df[df.x > 0][["k", "x"]]
    pd.testing.assert_frame_equal(q.compute(scheduler="sync"), q.compute(scheduler="threads"))
    assert len(gf.compute(q, scheduler="sync")[0]) > 0


@needs_pandas
def test_to_pandas(df, table):
    pdf = df.to_pandas()
    assert list(pdf.columns) == table.column_names and len(pdf) == table.num_rows


def test_methods_reach_the_operation_modules_through_one_bound_table(df):
    """frame and series import no operation module: their methods call collection.OPERATIONS, bound once."""
    from graphflow.dataframe import collection, groupby, join, reductions

    ops = collection.OPERATIONS
    assert ops.GroupBy is groupby.GroupBy and ops.merge is join.merge and ops.reduce is reductions.reduce_collection
    assert ops.DataFrame is gd.DataFrame
    assert all(getattr(ops, name) is not None for name in collection.CollectionOperations.__slots__)
    with pytest.raises(RuntimeError, match="not bound yet"):
        collection.CollectionOperations().merge
    with pytest.raises(TypeError, match=r"missing \[.*'merge'.*unknown \['typo'\]"):
        collection.bind_operations(DataFrame=gd.DataFrame, typo=len)
    assert ops.DataFrame is gd.DataFrame
    assert isinstance(df.x.to_frame(), gd.DataFrame) and isinstance(df.groupby("k").x, groupby.GroupBy)


def test_meta_is_converted_once_per_schema(monkeypatch):
    """``columns``, ``dtypes`` and ``_meta`` of a 100-column frame, 1000 times each: one Arrow-to-pandas
    conversion (counted), not one per call (~10 ms each on a wide frame); a new plan (``df[...] = ``,
    ``pop``) converts again, and a caller's change to ``_meta`` does not reach the cache."""
    import graphflow.dataframe.frame as frame_module

    calls = []
    real = frame_module.to_pandas_frame
    monkeypatch.setattr(frame_module, "to_pandas_frame", lambda *a: calls.append(1) or real(*a))
    wide = gd.from_arrow(pa.table({f"c{i}": pa.array([i, i + 1], pa.int64()) for i in range(100)}), npartitions=2)
    for _ in range(1000):
        assert len(wide.columns) == 100
        assert wide.dtypes.iloc[0] == "int64"
    assert len(calls) == 1
    meta = wide._meta
    meta.columns = [f"x{i}" for i in range(100)]
    meta.index.name = "changed"
    assert wide.columns[0] == "c0" and wide._meta.columns[0] == "c0" and wide._meta.index.name is None
    wide["c100"] = wide.c0 + 1
    assert list(wide.columns[-2:]) == ["c99", "c100"] and len(calls) == 2
    wide.pop("c0")
    assert wide.columns[0] == "c1" and len(calls) == 3
    series = wide.c1
    assert all(series.dtype == "int64" for _ in range(1000))
