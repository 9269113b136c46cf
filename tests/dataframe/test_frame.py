"""DataFrame objects: schema without computing, repr, len, head/tail, bad input at build time."""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import graphflow as gf
import graphflow.dataframe as gd

from .data import assert_tables_equal, needs_pandas, random_table


@pytest.fixture(scope="module")
def table():
    return random_table()


@pytest.fixture(scope="module")
def df(table):
    return gd.from_arrow(table, npartitions=7)


def test_schema_without_compute(df, table):
    assert df.columns == table.column_names
    assert df.dtypes["t"] == pa.timestamp("us")
    assert df.npartitions == 7
    assert df.divisions == (None,) * 8 and not df.known_divisions
    assert "npartitions=7" in repr(df) and "k2: string" in repr(df)
    assert "<table>" in df._repr_html_() and "7 partitions" in df._repr_html_()


def test_compute_returns_table(df, table):
    out = df.compute()
    assert isinstance(out, pa.Table)
    assert out.equals(table)
    assert len(df) == table.num_rows


def test_head_tail_read_only_needed_partitions(df, table):
    assert df.head(3).equals(table.slice(0, 3))
    assert df.tail(4).equals(table.slice(table.num_rows - 4))
    calls = []

    def spy(t):
        calls.append(t.num_rows)
        return t

    df.map_partitions(spy, meta=df.schema).head(5)
    assert len(calls) == 1  # only the first partition was read


def test_head_spans_partitions():
    small = gd.from_dict({"a": list(range(10))}, npartitions=5)
    assert small.head(7).column("a").to_pylist() == list(range(7))
    assert small.tail(7).column("a").to_pylist() == list(range(3, 10))


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


def test_unrelated_series_refused(df):
    other = gd.from_arrow(random_table(seed=1), npartitions=7)
    with pytest.raises(ValueError, match="unrelated"):
        df.x + other.x


def test_assign_rename_drop_astype(df, table):
    out = df.assign(z=df.x * 2, c=1).rename(columns={"k": "key"}).drop(columns=["s"]).compute()
    assert out.column_names == ["key", "k2", "x", "y", "t", "z", "c"]
    assert out.column("z").equals(pc.multiply(table.column("x"), 2))
    assert out.column("c").to_pylist() == [1] * table.num_rows
    cast = df.astype({"y": "float64"}).compute()
    assert cast.schema.field("y").type == pa.float64()


def test_filter_then_assign_from_parent_series(df, table):
    """The issue's example: a Series of the unfiltered frame used on the filtered one."""
    out = df[df.x > 0].assign(r=df.y / df.x).compute()
    mask = pc.greater(table.column("x"), 0)
    expect = table.filter(mask)
    expect = expect.append_column("r", pc.divide(expect.column("y").cast(pa.float64()), expect.column("x")))
    assert_tables_equal(out, expect, keys=["k", "x"])


def test_fillna_dropna_where(df, table):
    filled = df.fillna({"x": 0.0, "s": "?"}).compute()
    assert filled.column("x").null_count == 0 and filled.column("s").null_count == 0
    assert filled.column("s").to_pylist() == [v if v is not None else "?" for v in table.column("s").to_pylist()]
    dropped = df.dropna(subset=["x", "y"]).compute()
    assert dropped.equals(table.filter(pc.and_(pc.is_valid(table["x"]), pc.is_valid(table["y"]))))
    assert df.dropna().compute().num_rows == table.drop_null().num_rows
    w = df[["x", "y"]].where(df.y > 0).compute()
    assert w.column("y").to_pylist() == [v if v is not None and v > 0 else None for v in table["y"].to_pylist()]


def test_map_partitions_infers_schema(df, table):
    out = df.map_partitions(lambda t: t.select(["k"]).append_column("n", pa.repeat(t.num_rows, t.num_rows)))
    assert out.columns == ["k", "n"]
    assert out.compute().num_rows == table.num_rows


def test_concat_and_repartition(df, table):
    both = gd.concat([df, df[["k", "x"]]])
    assert both.npartitions == 14
    out = both.compute()
    assert out.num_rows == 2 * table.num_rows and out.column("s").null_count > table["s"].null_count
    assert df.repartition(3).npartitions == 3 and df.repartition(3).compute().equals(table)
    assert df.repartition(20).compute().equals(table)


def test_persist_keeps_values(df, table):
    p = df[df.y > 0].persist(scheduler="sync")
    assert p.compute().equals(table.filter(pc.greater(table["y"], 0)))
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
    assert q.compute(scheduler="sync").equals(q.compute(scheduler="threads"))
    assert gf.compute(q, scheduler="sync")[0].num_rows > 0


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
