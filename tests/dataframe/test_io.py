"""read_parquet / to_parquet / read_csv / to_csv."""

import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd

from .data import random_table


@pytest.fixture(scope="module")
def table():
    return random_table(n=3000, seed=5)


@pytest.fixture(scope="module")
def pqdir(tmp_path_factory, table):
    d = tmp_path_factory.mktemp("pq")
    pq.write_table(table.slice(0, 1500), d / "a.parquet", row_group_size=500)
    pq.write_table(table.slice(1500), d / "b.parquet", row_group_size=1500)
    return d


def test_read_parquet_dir_glob_file(pqdir, table):
    df = gd.read_parquet(str(pqdir))
    assert df.npartitions == 4  # three row groups + one
    assert df.compute().equals(table)
    assert gd.read_parquet(str(pqdir / "*.parquet")).compute().equals(table)
    assert gd.read_parquet(str(pqdir / "b.parquet")).compute().equals(table.slice(1500))
    assert gd.read_parquet(str(pqdir), split_row_groups=False).npartitions == 2


def test_read_parquet_columns_and_filters(pqdir, table):
    df = gd.read_parquet(str(pqdir), columns=["k", "x"], filters=[("k", "<", 5), ("x", ">", 0)])
    expect = table.select(["k", "x"]).filter(pc.and_(pc.less(table["k"], 5), pc.greater(table["x"], 0)))
    assert df.columns == ["k", "x"]
    assert df.compute().equals(expect)
    ors = gd.read_parquet(str(pqdir), columns=["k"], filters=[[("k", "=", 1)], [("k", "in", [2, 3])]])
    assert sorted(set(ors.compute()["k"].to_pylist())) == [1, 2, 3]
    with pytest.raises(KeyError, match="zz"):
        gd.read_parquet(str(pqdir), columns=["zz"])
    with pytest.raises(FileNotFoundError):
        gd.read_parquet(str(pqdir / "missing"))


def test_to_parquet_roundtrip(tmp_path, table):
    df = gd.from_arrow(table, npartitions=3)
    paths = df.to_parquet(str(tmp_path / "out"))
    assert len(paths) == 3 and all(os.path.exists(p) for p in paths)
    assert gd.read_parquet(str(tmp_path / "out")).compute().equals(table)


def test_read_csv_blocks_and_types(tmp_path, table):
    t = table.select(["k", "k2", "x", "y"])
    for i in range(2):
        pacsv.write_csv(t.slice(i * 1500, 1500), tmp_path / f"f{i}.csv")
    df = gd.read_csv(str(tmp_path / "*.csv"), blocksize=4000)
    assert df.npartitions > 4
    assert df.dtypes["x"] == pa.float64() and df.dtypes["k2"] == pa.string()
    out = df.compute()
    assert out.num_rows == t.num_rows
    assert out.column("k").to_pylist() == t["k"].to_pylist()
    assert out.column("y").to_pylist() == t["y"].to_pylist()
    forced = gd.read_csv(str(tmp_path / "f0.csv"), dtype={"k": pa.float32()}, blocksize=None)
    assert forced.npartitions == 1 and forced.compute().schema.field("k").type == pa.float32()


def test_to_csv_roundtrip(tmp_path):
    t = pa.table({"a": [1, 2, 3, 4], "b": ["x", "y", None, "w"]})
    paths = gd.from_arrow(t, npartitions=2).to_csv(str(tmp_path / "c"))
    assert len(paths) == 2
    back = gd.read_csv(str(tmp_path / "c")).compute()
    assert back.column("a").to_pylist() == [1, 2, 3, 4]


def test_read_csv_quoted_newlines(tmp_path):
    """A quoted newline in the sample: one partition for the file; one found only later: a clear error."""
    rows = "".join(f'{i},"line {i}\nmore"\n' for i in range(200))
    (tmp_path / "q.csv").write_text("k,s\n" + rows)
    df = gd.read_csv(str(tmp_path / "q.csv"), blocksize=100)
    assert df.npartitions == 1
    got = df.compute(scheduler="sync")
    assert got.num_rows == 200 and got["s"][5].as_py() == "line 5\nmore"
    plain = "".join(f'{i},"x{i:08d}"\n' for i in range(90_000))
    (tmp_path / "late.csv").write_text("k,s\n" + plain + '7,"a\nb"\n' + plain)
    late = gd.read_csv(str(tmp_path / "late.csv"), blocksize=400_000)
    assert late.npartitions > 1
    with pytest.raises(ValueError, match="quoted field spans lines"):
        late.compute(scheduler="sync")
    whole = gd.read_csv(str(tmp_path / "late.csv"), blocksize=None).compute(scheduler="sync")
    assert whole.num_rows == 180_001


def test_read_csv_stray_quotes_are_values(tmp_path):
    rows = "".join(f'{i},{i}"\n' for i in range(30_000))
    (tmp_path / "s.csv").write_text("k,s\n" + rows)
    df = gd.read_csv(str(tmp_path / "s.csv"), blocksize=50_000)
    assert df.npartitions > 1
    got = df.compute(scheduler="sync")
    assert got.num_rows == 30_000 and got["s"][7].as_py() == '7"'
