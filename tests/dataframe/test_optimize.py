"""Plan rewrites: each checked by inspecting the optimized plan and by comparing the result."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.io.parquet import ReadParquet
from graphflow.dataframe.optimize import optimize_plan
from graphflow.dataframe.optimize.projection import pushdown_projection
from graphflow.dataframe.plan import Blockwise, Chain, walk

from .data import random_table


@pytest.fixture(scope="module")
def table():
    return random_table(n=2000, seed=51)


@pytest.fixture(scope="module")
def path(tmp_path_factory, table):
    d = tmp_path_factory.mktemp("opt")
    pq.write_table(table, d / "t.parquet", row_group_size=500)
    return str(d)


def reads(plan):
    return [n for n in walk(plan) if isinstance(n, ReadParquet)]


def test_projection_pushdown(path, table):
    df = gd.read_parquet(path)
    q = df[df.x > 0][["k", "y"]]
    [read] = reads(pushdown_projection(q.expr))  # the rule alone: the filter still needs x
    assert list(read.schema.names) == ["k", "x", "y"]
    [read] = reads(optimize_plan(q.expr))  # after predicate pushdown the reader filters on x itself
    assert list(read.schema.names) == ["k", "y"] and read.predicate.columns() == {"x"}
    got = q.to_arrow()
    assert got.equals(table.filter(pc.greater(table["x"], 0)).select(["k", "y"]))
    [read] = reads(optimize_plan(df.groupby("k2").y.sum().expr))
    assert list(read.schema.names) == ["k2", "y"]


def test_predicate_pushdown(path, table):
    df = gd.read_parquet(path, columns=["k", "x", "s"])
    q = df[df.k < 4][df.s.str.startswith("a")]
    plan = optimize_plan(q.expr, until="predicates")
    [read] = reads(plan)
    assert read is plan  # both filters are now inside the read
    assert "less" in repr(read.predicate) or "<" in repr(read.predicate)
    expect = table.select(["k", "x", "s"])
    expect = expect.filter(pc.and_kleene(pc.less(expect["k"], 4), pc.starts_with(expect["s"], "a")))
    assert q.to_arrow().equals(expect)


def test_predicate_pushed_through_projection(path, table):
    df = gd.read_parquet(path)
    q = df[["k", "y"]]
    q = q[q.y > 10]
    plan = optimize_plan(q.expr)
    [read] = reads(plan)
    assert read.predicate is not None and list(read.schema.names) == ["k", "y"]
    assert q.to_arrow().equals(table.select(["k", "y"]).filter(pc.greater(table["y"], 10)))


def test_filter_on_computed_column_not_pushed(path, table):
    df = gd.read_parquet(path)
    q = df.assign(z=df.y * 2)
    q = q[q.z > 10]
    [read] = reads(optimize_plan(q.expr))
    assert read.predicate is None  # z does not exist in the file
    assert q.to_arrow().num_rows == pc.sum(pc.greater(table["y"], 5)).as_py()


def test_fusion_one_task_per_partition(table):
    df = gd.from_arrow(table, npartitions=4)
    q = df[df.x > 0].assign(z=df.y + 1).rename(columns={"z": "w"})[["k", "w"]]
    plan = optimize_plan(q.expr)
    assert isinstance(plan, Blockwise) and isinstance(plan.op, Chain) and len(plan.op.ops) == 2
    graph = q.__graphflow_graph__()
    assert len(graph) == 4 + 4  # data + one fused task per partition
    exp = table.filter(pc.greater(table["x"], 0))
    assert q.to_arrow().column("w").equals(pc.add(exp["y"], 1))


def test_shared_node_not_fused(table):
    df = gd.from_arrow(table, npartitions=2)
    base = df[df.x > 0]
    both = gd.concat([base.assign(a=1), base.assign(a=2)])
    plan = optimize_plan(both.expr)
    ops = [n.op for n in walk(plan) if isinstance(n, Blockwise)]
    assert [type(op).__name__ for op in ops].count("Filter") == 1  # the shared filter stays one node
    assert not any(isinstance(op, Chain) for op in ops)  # nothing was fused into it
    assert both.to_arrow().num_rows == 2 * pc.sum(pc.greater(table["x"], 0)).as_py()


def test_explain_prints_plan(path, capsys):
    df = gd.read_parquet(path)
    text = df[df.k > 3][["x"]].explain()
    assert "ReadParquet[4] columns=[x] filter=((k > 3))" in text
    assert text == capsys.readouterr().out.strip()
    raw = df[df.k > 3][["x"]].explain(optimized=False)
    assert "columns=[k, k2, x, y, s, t]" in raw


def test_optimization_keeps_result_of_persisted(table):
    df = gd.from_arrow(table, npartitions=3).persist(scheduler="sync")
    q = df[df.y > 0]
    assert q.to_arrow().equals(table.filter(pc.greater(table["y"], 0)))
    assert isinstance(q.schema, pa.Schema)


def test_row_groups_skipped_by_statistics(tmp_path, monkeypatch):
    t = pa.table({"a": list(range(100)), "b": [float(i) for i in range(100)]})
    pq.write_table(t, tmp_path / "s.parquet", row_group_size=10)
    df = gd.read_parquet(str(tmp_path))
    q = df[(df.a >= 35) & (df.a < 52)][["b"]]
    decoded = []
    original = pq.ParquetFile.read_row_group

    def counting(self, i, *args, **kwargs):
        decoded.append(i)
        return original(self, i, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", counting)
    sizes = [q.partitions[i].to_arrow(scheduler="sync").num_rows for i in range(q.npartitions)]
    assert sizes == [0, 0, 0, 5, 10, 2, 0, 0, 0, 0]
    assert sorted(decoded) == [3, 4, 5]  # the other seven row groups were never decoded
    assert q.to_arrow()["b"].to_pylist() == [float(i) for i in range(35, 52)]
    assert df[df.b > 1e9].to_arrow().num_rows == 0  # every group skipped: an empty table of the schema


def test_shuffle_pruned_to_the_partitions_read(table):
    """Partitions[1, 2] <- Blockwise <- Shuffle[4 -> 4]  ==>  Blockwise <- Shuffle keeping [1, 2]

    A shuffle another node also reads keeps all its outputs."""
    from graphflow.dataframe.plan import Concat, Partitions
    from graphflow.dataframe.shuffle import Shuffle, shuffle

    df = gd.from_arrow(table, npartitions=4)
    some = df.sort_values("x").partitions[1:3]
    plan = optimize_plan(some.expr, until="partitions")
    assert not any(isinstance(n, Partitions) for n in walk(plan))
    assert [n.only for n in walk(plan) if isinstance(n, Shuffle)] == [(1, 2)]
    full = df.sort_values("x").to_arrow()["x"].to_pylist()
    got = some.to_arrow()["x"].to_pylist()
    assert got == sorted(got) and all(v in full for v in got[:5])

    hashed = shuffle(df.expr, ["k"], 4)
    both = Concat([Partitions(hashed, [0]), hashed], hashed.schema)
    kept = optimize_plan(both, until="partitions")
    assert [n.only for n in walk(kept) if isinstance(n, Shuffle)] == [None]
    assert optimize_plan(Partitions(hashed, [3]), until="partitions").only == (3,)


def test_pushdown_asks_the_source_not_its_type():
    """The rules know no source by name: a node that answers ``with_predicate``/``with_columns`` gets the
    filter and the narrowed columns; one that does not (``FromTables``) keeps them above it::

        Blockwise[Project(a)] <- Blockwise[Filter(b > 1)] <- source(a, b, c)
    """
    from graphflow.dataframe.plan import FromTables

    class Narrowing(FromTables):
        def with_columns(self, columns):
            return Narrowing([t.select(columns) for t in self.parts])

        def with_predicate(self, predicate):
            from graphflow.dataframe.colexpr import evaluate_on

            return Narrowing([t.filter(evaluate_on(predicate, t)) for t in self.parts])

    t = pa.table({"a": [1, 2, 3], "b": [0, 2, 4], "c": ["x", "y", "z"]})
    for source, pushed in ((FromTables([t]), False), (Narrowing([t]), True)):
        df = gd.DataFrame(source)
        plan = optimize_plan(df[df.b > 1][["a"]].expr, until="projection")
        [leaf] = [n for n in walk(plan) if not n.children]
        assert (leaf is not source) is pushed
        assert leaf.schema.names == (["a"] if pushed else ["a", "b", "c"])  # b is read by the source's filter
        assert (leaf.parts[0].num_rows == 2) is pushed
        assert df[df.b > 1][["a"]].to_arrow(scheduler="sync").to_pydict() == {"a": [2, 3]}
