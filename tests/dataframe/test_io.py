"""read_parquet / to_parquet / read_csv / to_csv."""

import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd

from .data import pd, random_table


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
    assert df.to_arrow().equals(table)
    pd.testing.assert_frame_equal(df.compute(), pd.read_parquet(pqdir))
    pd.testing.assert_frame_equal(gd.read_parquet(str(pqdir / "*.parquet")).compute(), table.to_pandas())
    pd.testing.assert_frame_equal(gd.read_parquet(str(pqdir / "b.parquet")).compute(),
                                  pd.read_parquet(pqdir / "b.parquet"))
    assert gd.read_parquet(str(pqdir), split_row_groups=False).npartitions == 2


def test_read_parquet_columns_and_filters(pqdir, table):
    df = gd.read_parquet(str(pqdir), columns=["k", "x"], filters=[("k", "<", 5), ("x", ">", 0)])
    expect = table.select(["k", "x"]).filter(pc.and_(pc.less(table["k"], 5), pc.greater(table["x"], 0)))
    assert list(df.columns) == ["k", "x"]
    assert df.to_arrow().equals(expect)
    pd.testing.assert_frame_equal(
        df.compute(), pd.read_parquet(pqdir, columns=["k", "x"], filters=[("k", "<", 5), ("x", ">", 0)]))
    ors = gd.read_parquet(str(pqdir), columns=["k"], filters=[[("k", "=", 1)], [("k", "in", [2, 3])]])
    assert sorted(set(ors.compute()["k"].tolist())) == [1, 2, 3]
    with pytest.raises(KeyError, match="zz"):
        gd.read_parquet(str(pqdir), columns=["zz"])
    with pytest.raises(FileNotFoundError):
        gd.read_parquet(str(pqdir / "missing"))


def test_to_parquet_roundtrip(tmp_path, table):
    df = gd.from_arrow(table, npartitions=3)
    paths = df.to_parquet(str(tmp_path / "out"))
    assert len(paths) == 3 and all(os.path.exists(p) for p in paths)
    pd.testing.assert_frame_equal(gd.read_parquet(str(tmp_path / "out")).compute(), table.to_pandas())
    assert gd.read_parquet(str(tmp_path / "out")).to_arrow().equals(table)


def test_read_csv_blocks_and_types(tmp_path, table):
    t = table.select(["k", "k2", "x", "y"])
    for i in range(2):
        pacsv.write_csv(t.slice(i * 1500, 1500), tmp_path / f"f{i}.csv")
    df = gd.read_csv(str(tmp_path / "*.csv"), blocksize=4000)
    assert df.npartitions > 4
    assert df.dtypes["x"] == "float64" and df.dtypes["k2"] == "str"
    assert df.schema.field("x").type == pa.float64() and df.schema.field("k2").type == pa.string()
    out = df.compute()
    expect = pd.concat([pd.read_csv(tmp_path / f"f{i}.csv") for i in range(2)], ignore_index=True)
    pd.testing.assert_frame_equal(out, expect)
    forced = gd.read_csv(str(tmp_path / "f0.csv"), dtype={"k": pa.float32()}, blocksize=None)
    assert forced.npartitions == 1 and forced.to_arrow().schema.field("k").type == pa.float32()
    assert forced.compute().k.dtype == "float32"


def test_to_csv_roundtrip(tmp_path):
    t = pa.table({"a": [1, 2, 3, 4], "b": ["x", "y", None, "w"]})
    paths = gd.from_arrow(t, npartitions=2).to_csv(str(tmp_path / "c"))
    assert len(paths) == 2
    back = gd.read_csv(str(tmp_path / "c")).compute()
    assert back.a.tolist() == [1, 2, 3, 4]
    # a null string is written as an empty field, which pandas (and so read_csv) reads as missing
    assert back.b.tolist()[:2] == ["x", "y"] and back.b[3] == "w" and pd.isna(back.b[2])
    pd.testing.assert_frame_equal(back, pd.concat([pd.read_csv(p) for p in paths], ignore_index=True))


def test_writers_keep_the_index(tmp_path):
    """A frame with an index is written with it, as Dask writes it: pandas reads it back."""
    pdf = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, None, 2.0]}, index=pd.Index([5, 6, 7], name="i"))
    df = gd.from_pandas(pdf, npartitions=2)
    df.to_parquet(str(tmp_path / "p"))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p"), pdf)
    paths = df.to_csv(str(tmp_path / "c"))
    pd.testing.assert_frame_equal(pd.concat([pd.read_csv(p, index_col="i") for p in paths]), pdf)


def test_read_csv_quoted_newlines(tmp_path):
    """A quoted newline in the sample: one partition for the file; one found only later: a clear error."""
    rows = "".join(f'{i},"line {i}\nmore"\n' for i in range(200))
    (tmp_path / "q.csv").write_text("k,s\n" + rows)
    df = gd.read_csv(str(tmp_path / "q.csv"), blocksize=100)
    assert df.npartitions == 1
    got = df.compute(scheduler="sync")
    assert len(got) == 200 and got["s"][5] == "line 5\nmore"
    pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "q.csv"))
    plain = "".join(f'{i},"x{i:08d}"\n' for i in range(90_000))
    (tmp_path / "late.csv").write_text("k,s\n" + plain + '7,"a\nb"\n' + plain)
    late = gd.read_csv(str(tmp_path / "late.csv"), blocksize=400_000)
    assert late.npartitions > 1
    with pytest.raises(ValueError, match="quoted field spans lines"):
        late.compute(scheduler="sync")
    whole = gd.read_csv(str(tmp_path / "late.csv"), blocksize=None).compute(scheduler="sync")
    assert len(whole) == 180_001


def test_read_csv_stray_quotes_are_values(tmp_path):
    rows = "".join(f'{i},{i}"\n' for i in range(30_000))
    (tmp_path / "s.csv").write_text("k,s\n" + rows)
    df = gd.read_csv(str(tmp_path / "s.csv"), blocksize=50_000)
    assert df.npartitions > 1
    got = df.compute(scheduler="sync")
    assert len(got) == 30_000 and got["s"][7] == '7"'
    assert got.s.tolist() == [f'{i}"' for i in range(30_000)]
