"""The readers and writers take pandas'/Dask's keywords: each one compared with pandas on the same file.

Every read is checked against ``pandas.read_*`` with the same keywords (over
several partitions, so the block boundaries are crossed), every write by
reading the files back with pandas; bad input gets pandas' exception type
and, where pandas has one, its message.
"""

import gzip
import json
import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe.io.index import set_index_columns, stored_index
from graphflow.errors import MissingExtraError

from .data import needs_pandas, pd

pytestmark = needs_pandas

_LEVEL = re.compile(r"^__index_level_\d+__$")


def _pd(x, df=None):
    """A computed result as pandas: converted only if it is still Arrow (index columns become the index,
    named as ``df``'s plan says); once ``compute()`` returns pandas this returns ``x`` unchanged."""
    if isinstance(x, pa.ChunkedArray):
        return x.to_pandas()
    if not isinstance(x, pa.Table):
        return x
    out = x.to_pandas()
    levels = [c for c in out.columns if _LEVEL.match(str(c))]
    if levels:
        out = out.set_index(levels)
        names = dict(stored_index(df.schema)) if df is not None else {}
        out.index.names = [names.get(c) for c in levels]
    return out


def _norm(frame):
    """Missing values as None in text and boolean columns, so pandas' str/boolean dtypes and Arrow-backed
    columns (or object columns holding None) compare."""
    frame = frame.copy()
    for c in frame.columns:
        s = frame[c]
        textual = pd.api.types.is_string_dtype(s.dtype) or s.dtype == object or s.dtype == "boolean"
        if textual and not isinstance(s.dtype, pd.CategoricalDtype):
            frame[c] = s.astype(object).where(s.notna(), None)
    return frame


def _same(df, expected, **kw):
    """``df`` (lazy) computes to the pandas frame ``expected`` (values, labels, index)."""
    got = _pd(df.compute(), df)
    pd.testing.assert_frame_equal(_norm(got), _norm(expected), check_dtype=False, **kw)


def _written(n=300, seed=0):
    """`_rows` with real nulls instead of the text pandas reads as null ("NA", ""): what writers write."""
    frame = _rows(n, seed)
    frame["s"] = frame["s"].where(~frame["s"].isin(["NA", ""]), None)
    return frame


def _rows(n=300, seed=0):
    rng = np.random.default_rng(seed)
    words = np.array(["apple", "Banana", "cherry, ripe", 'say "hi"', "NA", ""])
    return pd.DataFrame({
        "k": rng.integers(0, 5, n),
        "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n).round(4)),
        "s": words[rng.integers(0, len(words), n)],
        "t": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "b": rng.random(n) < 0.5,
    })


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("csv")
    path = d / "data.csv"
    _rows().to_csv(path, index=False)
    return str(path)


# ---------------------------------------------------------------- read_csv


@pytest.mark.parametrize("kw", [
    {},
    {"usecols": ["s", "k"]},
    {"usecols": [0, 2]},
    {"usecols": lambda c: c in ("x", "b")},
    {"dtype": {"k": "float32", "x": np.float64, "s": "string", "b": "boolean"}},
    {"dtype": {"k": "Int64", "s": "category", "nope": "int8"}},
    {"dtype": str},
    {"parse_dates": ["t"]},
    {"parse_dates": ["t"], "usecols": ["t", "k"]},
    {"na_values": ["apple", "Banana"]},
    {"na_values": {"s": ["cherry, ripe"]}},
    {"keep_default_na": False},
    {"na_values": {"s": ["apple"]}, "keep_default_na": False},
    {"skiprows": 1, "header": None},
    {"header": None, "names": ["a1", "a2", "a3", "a4", "a5"], "skiprows": 1},
    {"names": ["a1", "a2", "a3", "a4", "a5"], "header": 0},
    {"index_col": "k"},
    {"index_col": 1},
    {"index_col": ["k", "b"]},
    {"index_col": "t", "parse_dates": True},
    {"true_values": ["apple"], "false_values": ["Banana"], "usecols": ["s"], "dtype": {"s": "boolean"},
     "na_values": ["cherry, ripe", 'say "hi"']},
])
@pytest.mark.api("dd.read_csv")
def test_read_csv_keywords_match_pandas(csv_file, kw):
    """Each keyword, over several blocks: the same frame as pandas.read_csv with the same keywords."""
    df = gd.read_csv(csv_file, blocksize=2000, **kw)
    assert df.npartitions > 3
    expected = pd.read_csv(csv_file, **kw)
    if kw.get("header", 0) is None and "names" not in kw:  # Arrow names are strings: "0", "1", ...
        expected.columns = [str(c) for c in expected.columns]
    # categories come in the order they are met, partition by partition (pandas sorts them): compare values
    _same(df, expected, check_categorical=False)


def test_read_csv_dtypes_known_before_compute(csv_file):
    df = gd.read_csv(csv_file, dtype={"k": "Int32", "s": "category"}, parse_dates=["t"], blocksize=2000)
    types = {f.name: f.type for f in df.schema}
    assert types["k"] == pa.int32()
    assert types["s"] == pa.dictionary(pa.int32(), pa.string())
    assert types["t"] == pa.timestamp("us")
    assert types["x"] == pa.float64() and types["b"] == pa.bool_()
    assert str(df.dtypes["s"]) == "category" and str(df.dtypes["t"]).startswith("datetime64")
    # pyarrow would read ISO timestamps as timestamps; pandas (and so read_csv) keeps them text
    assert gd.read_csv(csv_file).schema.field("t").type == pa.string()


@pytest.mark.parametrize("text, kw", [
    ("a;b;c\n1;x;2.5\n2;;3.5\n", {"sep": ";"}),
    ("a;b;c\n1;x;2.5\n2;;3.5\n", {"delimiter": ";"}),
    ("a\tb\tc\n1\tx\t2.5\n2\t\t3.5\n", {"sep": "\t"}),
    ("junk line\na,b,c\n1,x,2.5\n2,,3.5\n", {"header": 1}),
    ("junk\n\nmore junk\na,b,c\n1,x,2.5\n", {"skiprows": 3}),
    ("# comment\na,b,c\n1,x,2.5 # trailing\n# whole line\n2,\"y # not a comment\",3.5\n", {"comment": "#"}),
    ("a,b,c\n1,x,2.5\n2,y,3.5\n", {"names": ["p", "q"]}),  # fewer names: the leading column is the index
    ("a,b,c\n1,x,\"2,5\"\n2,y,\"3,5\"\n", {"decimal": ","}),
    ("a,b\n1,'x,y'\n2,'z'\n", {"quotechar": "'"}),
    ("d,v\n01/02/2024,1\n03/04/2024,2\n", {"parse_dates": ["d"]}),
    ("d,v\n02.01.2024,1\n04.03.2024,2\n", {"parse_dates": ["d"], "date_format": "%d.%m.%Y"}),
    ("d,v\nnot a date,1\n2024-01-01,2\n", {"parse_dates": ["d"]}),  # does not parse: stays text, as pandas
    ("a,a,,b\n1,2,3,4\n", {}),  # repeated and empty header cells: a, a.1, Unnamed: 2
    ("a,b\n1,NA\n2,null\n3,\n4,<NA>\n", {"dtype": {"b": "string"}}),
])
@pytest.mark.filterwarnings("ignore:Could not infer format")  # pandas, on the date that does not parse
@pytest.mark.api("dd.read_csv")
def test_read_csv_text_keywords_match_pandas(tmp_path, text, kw):
    path = tmp_path / "f.csv"
    path.write_text(text)
    _same(gd.read_csv(str(path), **kw), pd.read_csv(path, **kw))


def test_read_csv_blocksize_splits_on_lines_and_files(tmp_path):
    frame = _rows(2000, seed=3)
    frame.iloc[:1000].to_csv(tmp_path / "a.csv", index=False)
    frame.iloc[1000:].to_csv(tmp_path / "b.csv", index=False)
    size = os.path.getsize(tmp_path / "a.csv")
    df = gd.read_csv(str(tmp_path / "*.csv"), blocksize="10kB")
    assert df.npartitions >= 2 * (size // 10_000)
    expected = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    _same(df, pd.concat(expected, ignore_index=True))
    assert gd.read_csv(str(tmp_path), blocksize=None).npartitions == 2
    assert gd.read_csv(str(tmp_path / "a.csv")).npartitions == 1  # the 64 MiB default


@pytest.mark.parametrize("suffix, opener", [(".csv.gz", gzip.open), (".csv.bz2", None), (".csv.xz", None)])
def test_read_csv_compression_inferred(tmp_path, suffix, opener):
    frame = _rows(500)
    path = tmp_path / f"c{suffix}"
    frame.to_csv(path, index=False)  # pandas infers the compression from the suffix too
    df = gd.read_csv(str(path), blocksize=1000)
    assert df.npartitions == 1  # a compressed file cannot be cut into byte ranges
    _same(df, pd.read_csv(path))
    plain = tmp_path / "noext"
    frame.to_csv(plain, index=False, compression="gzip")
    _same(gd.read_csv(str(plain), compression="gzip"), pd.read_csv(plain, compression="gzip"))


def test_read_csv_include_path_column_and_assume_missing(tmp_path):
    (tmp_path / "a.csv").write_text("k,x\n1,2\n")
    (tmp_path / "b.csv").write_text("k,x\n3,\n")
    df = gd.read_csv(str(tmp_path / "*.csv"), include_path_column=True, assume_missing=True)
    assert df.dtypes["k"] == "float64" and df.schema.field("k").type == pa.float64()
    got = _pd(df.compute())
    assert list(got["path"].astype(str)) == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    assert list(got["k"]) == [1.0, 3.0]
    named = gd.read_csv(str(tmp_path / "*.csv"), include_path_column="src")
    assert list(named.columns) == ["k", "x", "src"]


def _pandas_error(func, *args, **kw):
    with pytest.raises(Exception) as info:
        func(*args, **kw)
    return info.value


@pytest.mark.parametrize("kw", [
    {"bogus": 1},
    {"sep": ";", "delimiter": ","},
    {"usecols": ["k", "zz"]},
    {"usecols": [0, 9]},
    {"parse_dates": ["zz"]},
    {"dtype": {"k": "notatype"}},
    {"names": ["a", "a", "b", "c", "d"]},
    {"index_col": "zz"},
])
def test_read_csv_bad_keywords_raise_as_pandas(csv_file, kw):
    """pandas' exception type and message, raised when the frame is made (nothing is computed)."""
    expected = _pandas_error(pd.read_csv, csv_file, **kw)
    with pytest.raises(type(expected)) as info:
        gd.read_csv(csv_file, **kw)
    assert str(info.value).startswith(str(expected))  # some add which column it was about


def test_read_csv_empty_file_as_pandas(tmp_path):
    (tmp_path / "e.csv").write_text("")
    expected = _pandas_error(pd.read_csv, tmp_path / "e.csv")
    with pytest.raises(type(expected), match=str(expected)):
        gd.read_csv(str(tmp_path / "e.csv"))
    (tmp_path / "h.csv").write_text("a,b\n")  # a header and no rows: an empty frame with those columns
    _same(gd.read_csv(str(tmp_path / "h.csv")), pd.read_csv(tmp_path / "h.csv"))


@pytest.mark.parametrize("kw, error, match", [
    ({"nrows": 5}, TypeError, "nrows.*head"),
    ({"skiprows": [1, 2]}, ValueError, "skiprows"),
    ({"sep": r"\s+"}, ValueError, "one-character separator"),
    ({"header": [0, 1]}, ValueError, "several header rows"),
    ({"compression": "zip"}, ValueError, "compression='zip'"),
    ({"storage_options": {"anon": True}}, ValueError, "local files"),
    ({"encoding": "utf-16"}, ValueError, "ASCII-compatible"),
    ({"blocksize": "lots"}, ValueError, "byte size"),
])
def test_read_csv_unsupported_keywords_say_what_to_do(csv_file, kw, error, match):
    with pytest.raises(error, match=match):
        gd.read_csv(csv_file, **kw)


def test_read_csv_later_value_of_another_type_names_dtype(tmp_path):
    """Types come from the head of the first file (Dask's ``sample``); a later misfit says what to pass."""
    rows = "".join(f"{i},{i}\n" for i in range(20_000))
    (tmp_path / "late.csv").write_text("k,v\n" + rows + "1,oops\n")
    df = gd.read_csv(str(tmp_path / "late.csv"), blocksize=50_000, sample=10_000)
    assert df.dtypes["v"] == "int64" and df.schema.field("v").type == pa.int64()
    with pytest.raises(ValueError, match=r"dtype=\{column: type\}"):
        df.compute(scheduler="sync")
    fixed = gd.read_csv(str(tmp_path / "late.csv"), blocksize=50_000, sample=10_000, dtype={"v": "string"})
    assert _pd(fixed.compute())["v"].iloc[-1] == "oops"


# ---------------------------------------------------------------- to_csv


@pytest.mark.api("dd.to_csv", "DataFrame.to_csv", "dd.read_csv")
def test_to_csv_names_like_dask_and_reads_back(tmp_path):
    frame = _written(400)
    df = gd.from_pandas(frame, npartitions=12)
    paths = gd.to_csv(df, str(tmp_path / "out"), index=False)
    assert [os.path.basename(p) for p in paths] == [f"{i:02d}.part" for i in range(12)]
    back = pd.concat([pd.read_csv(p, parse_dates=["t"]) for p in paths], ignore_index=True)
    pd.testing.assert_frame_equal(_norm(back), _norm(frame))
    _same(gd.read_csv(str(tmp_path / "out"), parse_dates=["t"]), frame)  # directories are read in order
    named = df.to_csv(str(tmp_path / "export-*.csv"), name_function=lambda i: f"day{i + 1}")
    assert os.path.basename(named[0]) == "export-day1.csv" and len(named) == 12


@pytest.mark.api("DataFrame.to_csv")
def test_to_csv_single_file_in_partition_order(tmp_path):
    frame = _written(500)
    df = gd.from_pandas(frame, npartitions=5)
    out = df.to_csv(str(tmp_path / "one.csv"), single_file=True)
    assert out == [str(tmp_path / "one.csv")]
    text = (tmp_path / "one.csv").read_text()
    assert text.count("k,x,s,t,b") + text.count('"k","x","s","t","b"') == 1  # the header once
    # the index from_pandas kept is written first, unnamed, as Dask writes it (index=True by default)
    pd.testing.assert_frame_equal(_norm(pd.read_csv(out[0], parse_dates=["t"], index_col=0)), _norm(frame))
    gz = df.to_csv(str(tmp_path / "one.csv.gz"), single_file=True, compression="gzip", index=False)
    pd.testing.assert_frame_equal(_norm(pd.read_csv(gz[0], parse_dates=["t"])), _norm(frame))
    every = df.to_csv(str(tmp_path / "h-*.csv"), header_first_partition_only=True)
    assert pd.read_csv(every[1], header=None).shape[0] == 100


@pytest.mark.api("DataFrame.to_csv")
def test_to_csv_keywords_match_pandas(tmp_path):
    frame = _written(60)
    df = gd.from_pandas(frame, npartitions=1)
    kw = {"sep": ";", "na_rep": "MISSING", "columns": ["x", "s"], "header": ["X", "S"]}
    path = df.to_csv(str(tmp_path / "a-*.csv"), index=False, **kw)[0]
    mine = pd.read_csv(path, sep=";", na_values=["MISSING"], keep_default_na=False)
    pandas_out = tmp_path / "pandas.csv"
    frame.to_csv(pandas_out, index=False, **kw)
    theirs = pd.read_csv(pandas_out, sep=";", na_values=["MISSING"], keep_default_na=False)
    pd.testing.assert_frame_equal(mine, theirs)
    # a pandas-only keyword: the partition goes through pandas' writer, byte for byte
    fmt = df.to_csv(str(tmp_path / "f-*.csv"), index=False, float_format="%.2f", date_format="%Y/%m/%d")[0]
    assert open(fmt).read() == frame.to_csv(index=False, float_format="%.2f", date_format="%Y/%m/%d")


def test_to_csv_index_writes_the_stored_index(tmp_path):
    frame = _written(50)
    indexed = set_index_columns(gd.from_pandas(frame, npartitions=2), ["k"])
    path = indexed.to_csv(str(tmp_path / "i-*.csv"))[0]
    assert open(path).readline().strip().replace('"', "").startswith("k,")
    back = pd.read_csv(path, index_col=0)
    assert back.index.name == "k" and "k" not in back.columns
    no_index = indexed.to_csv(str(tmp_path / "n-*.csv"), index=False)[0]
    assert "k" not in pd.read_csv(no_index).columns
    ranged = gd.from_pandas(frame, npartitions=2).to_csv(str(tmp_path / "r-*.csv"))  # from_pandas keeps the index
    back = pd.concat([pd.read_csv(p, index_col=0, parse_dates=["t"]) for p in ranged])
    assert back.index.name is None
    pd.testing.assert_frame_equal(_norm(back), _norm(frame), check_index_type=False)
    plain = gd.from_arrow(pa.Table.from_pandas(frame, preserve_index=False))  # no stored index: none written
    assert list(pd.read_csv(plain.to_csv(str(tmp_path / "p-*.csv"))[0]).columns) == list(frame.columns)


def test_to_csv_bad_input(tmp_path):
    df = gd.from_pandas(_rows(10), npartitions=2)
    with pytest.raises(ValueError, match="name_function is not supported under the single file mode"):
        df.to_csv(str(tmp_path / "x.csv"), single_file=True, name_function=str)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        df.to_csv(str(tmp_path / "x"), bogus=1)
    with pytest.raises(ValueError, match="more than one"):
        df.to_csv(str(tmp_path / "*-*.csv"))
    with pytest.raises(ValueError, match="same name"):
        df.to_csv(str(tmp_path / "*.csv"), name_function=lambda i: "same")
    with pytest.raises(KeyError, match="zz"):
        df.to_csv(str(tmp_path / "x"), columns=["zz"])


# ---------------------------------------------------------------- read_parquet / to_parquet


@pytest.fixture(scope="module")
def pq_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("pq")
    frame = _rows(600, seed=1)
    frame.loc[::7, "k"] = None
    frame.iloc[:300].to_parquet(d / "part.0.parquet", index=False, row_group_size=100)
    frame.iloc[300:].to_parquet(d / "part.1.parquet", index=False, row_group_size=100)
    return str(d)


@pytest.mark.parametrize("filters", [
    [("k", ">", 2)],
    [("k", "==", 1), ("x", "<", 0)],
    [[("k", "=", 1)], [("s", "in", ["apple", "NA"])]],
    [("s", "not in", ["apple", ""])],
    [("k", "!=", 3)],
    [("t", ">=", pd.Timestamp("2024-01-06").to_pydatetime())],
    [("b", "==", True)],
])
@pytest.mark.api("dd.read_parquet")
def test_read_parquet_filters_match_pandas(pq_dir, filters):
    df = gd.read_parquet(pq_dir, filters=filters)
    assert "filter=" in df.explain(file=open(os.devnull, "w"))  # pushed into the read
    _same(df, pd.read_parquet(pq_dir, filters=filters).reset_index(drop=True))


@pytest.mark.parametrize("filters, error, match", [
    ([("k", "~", 1)], ValueError, '"~" is not a valid operator in predicates.'),
    ([("k", ">")], ValueError, r"\(column, op, value\)"),
    ([("k", "in", 3)], TypeError, "must be a list"),
    ([("zz", "==", 1)], KeyError, "zz"),
    ([("s", ">", 1)], NotImplementedError, "no kernel matching input types"),  # pandas' error, at once
    ("k > 1", TypeError, "list of"),
])
def test_read_parquet_bad_filters(pq_dir, filters, error, match):
    with pytest.raises(error, match=match):
        gd.read_parquet(pq_dir, filters=filters)


def test_read_parquet_engine(pq_dir):
    for engine in ("pyarrow", "auto", None):
        assert gd.read_parquet(pq_dir, engine=engine).npartitions == 6
    with pytest.raises(ValueError, match="Unsupported engine: 'fastparquet'.*'pyarrow' or 'auto'"):
        gd.read_parquet(pq_dir, engine="fastparquet")
    with pytest.raises(ValueError, match="Unsupported engine"):
        gd.from_pandas(_rows(5)).to_parquet(pq_dir + "-out", engine="fastparquet")
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        gd.read_parquet(pq_dir, bogus=1)


@pytest.mark.api("dd.read_parquet")
def test_read_parquet_columns_and_index(pq_dir):
    frame = pd.read_parquet(pq_dir)
    s = gd.read_parquet(pq_dir, columns="x")
    assert isinstance(s, gd.Series)
    pd.testing.assert_series_equal(_pd(s.compute()), frame["x"], check_names=False)
    df = gd.read_parquet(pq_dir, columns=["x", "s"], index="t")
    _same(df, frame.set_index("t")[["x", "s"]])
    _same(gd.read_parquet(pq_dir, index=["k", "s"]), frame.set_index(["k", "s"]))
    with pytest.raises(KeyError, match="index column 'zz' not found"):
        gd.read_parquet(pq_dir, index="zz")


def test_read_parquet_uses_the_index_pandas_recorded(tmp_path):
    frame = _rows(40).set_index("s")
    frame.to_parquet(tmp_path / "p.parquet")
    _same(gd.read_parquet(str(tmp_path)), pd.read_parquet(tmp_path))
    no_index = gd.read_parquet(str(tmp_path), index=False)
    assert "s" in no_index.columns
    _same(no_index, pd.read_parquet(tmp_path).reset_index()[list(no_index.columns)])


@pytest.mark.api("DataFrame.to_parquet", "dd.read_parquet")
def test_to_parquet_partition_on_reads_back_as_pandas_does(tmp_path):
    frame = _rows(300).assign(k=lambda f: f.k.astype("int64"), region=lambda f: np.where(f.k % 2, "eu", "us"))
    df = gd.from_pandas(frame, npartitions=3)
    paths = df.to_parquet(str(tmp_path / "hive"), partition_on=["region", "k"])
    assert all(re.search(r"/region=(eu|us)/k=\d/part\.\d\.parquet$", p) for p in paths)
    assert "region" not in pq.read_schema(paths[0]).names  # the values live in the directory names
    expected = pd.read_parquet(tmp_path / "hive")
    back = gd.read_parquet(str(tmp_path / "hive"))
    assert back.schema.field("k").type == pa.dictionary(pa.int32(), pa.int32())
    assert back.schema.field("region").type == pa.dictionary(pa.int32(), pa.string())
    assert str(back.dtypes["k"]) == str(back.dtypes["region"]) == "category"  # as pandas reads them
    got = _pd(back.compute())
    key = ["region", "k", "x", "s"]
    norm = [_norm(f.astype({"k": "int64", "region": str}).sort_values(key, na_position="first")
                  .reset_index(drop=True)) for f in (got, expected)]
    pd.testing.assert_frame_equal(norm[0][list(expected.columns)], norm[1], check_dtype=False)
    pruned = gd.read_parquet(str(tmp_path / "hive"), filters=[("region", "==", "eu"), ("k", ">", 1)])
    assert set(_pd(pruned.compute())["k"].astype(int)) == {3}
    where = gd.read_parquet(str(tmp_path / "hive"))
    assert len(_pd(where[where.region == "us"].compute())) == int((frame.region == "us").sum())


@pytest.mark.api("DataFrame.to_parquet")
def test_to_parquet_write_index_as_pandas(tmp_path):
    frame = _rows(80)
    indexed = set_index_columns(gd.from_pandas(frame, npartitions=2), ["s", "k"])
    indexed.to_parquet(str(tmp_path / "i"))
    expected = frame.set_index(["s", "k"])
    pd.testing.assert_frame_equal(_norm(pd.read_parquet(tmp_path / "i")), _norm(expected), check_dtype=False)
    _same(gd.read_parquet(str(tmp_path / "i")), expected)  # read back as the index
    indexed.to_parquet(str(tmp_path / "n"), write_index=False)
    assert list(pd.read_parquet(tmp_path / "n").columns) == ["x", "t", "b"]
    unnamed = set_index_columns(gd.from_pandas(frame, npartitions=1), ["k"], [None])
    unnamed.to_parquet(str(tmp_path / "u"))
    back = pd.read_parquet(tmp_path / "u")
    assert back.index.name is None and list(back.index) == list(frame.k)


@pytest.mark.api("DataFrame.to_parquet", "dd.to_parquet")
def test_to_parquet_options(tmp_path):
    frame = _rows(120)
    df = gd.from_pandas(frame, npartitions=12)
    paths = df.to_parquet(str(tmp_path / "o"), compression="gzip", row_group_size=4,
                          custom_metadata={"owner": "me"})
    assert [os.path.basename(p) for p in paths] == [f"part.{i}.parquet" for i in range(12)]
    meta = pq.ParquetFile(paths[0]).metadata
    assert meta.row_group(0).column(0).compression == "GZIP" and meta.num_row_groups == 3
    assert pq.read_schema(paths[0]).metadata[b"owner"] == b"me"
    _same(gd.read_parquet(str(tmp_path / "o")), frame)  # part.10 after part.9
    more = df.partitions[:2].to_parquet(str(tmp_path / "o"), append=True)
    assert [os.path.basename(p) for p in more] == ["part.12.parquet", "part.13.parquet"]
    assert len(pd.read_parquet(tmp_path / "o")) == 140
    with pytest.raises(ValueError, match="Appended columns not the same"):
        df[["x"]].to_parquet(str(tmp_path / "o"), append=True)
    df.partitions[0].to_parquet(str(tmp_path / "o"), overwrite=True)
    assert len(pd.read_parquet(tmp_path / "o")) == 10
    named = df.to_parquet(str(tmp_path / "nf"), name_function=lambda i: f"chunk-{i:03d}.parquet")
    assert os.path.basename(named[-1]) == "chunk-011.parquet"
    typed = df.to_parquet(str(tmp_path / "ty"), schema={"k": pa.int32()})
    assert pq.read_schema(typed[0]).field("k").type == pa.int32()


def test_to_parquet_bad_input(tmp_path):
    df = gd.from_pandas(_rows(10), npartitions=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        df.to_parquet(str(tmp_path / "x"), bogus=1)
    with pytest.raises(KeyError, match="zz"):
        df.to_parquet(str(tmp_path / "x"), partition_on=["zz"])
    with pytest.raises(ValueError, match="overwrite=True.*append=True"):
        df.to_parquet(str(tmp_path / "x"), append=True, overwrite=True)
    with pytest.raises(ValueError, match="b'pandas' key"):
        df.to_parquet(str(tmp_path / "x"), custom_metadata={b"pandas": b"{}"})


# ---------------------------------------------------------------- JSON


@pytest.mark.filterwarnings("ignore:The 'convert_dates' keyword")  # pandas 3.1 deprecates it; Dask passes it
@pytest.mark.api("dd.read_json")
def test_read_json_lines_matches_pandas(tmp_path):
    lines = []
    for i in range(300):
        rec = {"id": i, "x": None if i % 9 == 0 else i / 4, "s": "text\nwith newline" if i % 5 == 0 else "w",
               "created_at": 1704067200000 + i * 1000, "when": "2024-01-02T00:00:00"}
        if i % 3:
            rec["maybe"] = i
        lines.append(json.dumps(rec))
    path = tmp_path / "r.json"
    path.write_text("\n".join(lines) + "\n")
    df = gd.read_json(str(path), blocksize=2000)
    assert df.npartitions > 5
    assert df.schema.field("created_at").type == pa.timestamp("us") and df.schema.field("when").type == pa.string()
    theirs = pd.read_json(path, lines=True)
    assert df.dtypes["created_at"] == theirs.created_at.dtype and df.dtypes["when"] == theirs.when.dtype
    _same(df, pd.read_json(path, lines=True))
    _same(gd.read_json(str(path), convert_dates=False), pd.read_json(path, lines=True, convert_dates=False))
    typed = gd.read_json(str(path), dtype={"id": "float32"})
    assert typed.dtypes["id"] == "float32" and typed.schema.field("id").type == pa.float32()


@pytest.mark.api("DataFrame.to_json", "dd.to_json", "dd.read_json")
def test_json_round_trip_and_layouts(tmp_path):
    frame = _rows(90).drop(columns=["t"])
    df = gd.from_pandas(frame, npartitions=3)
    paths = df.to_json(str(tmp_path / "j"))
    assert [os.path.basename(p) for p in paths] == ["0.part", "1.part", "2.part"]
    back = pd.concat([pd.read_json(p, lines=True) for p in paths], ignore_index=True)
    pd.testing.assert_frame_equal(_norm(back), _norm(frame), check_dtype=False)
    _same(gd.read_json(str(tmp_path / "j")), frame)
    split = gd.to_json(df, str(tmp_path / "s-*.json"), orient="split")
    assert json.loads(open(split[0]).read())["columns"] == list(frame.columns)
    _same(gd.read_json(str(tmp_path / "s-*.json"), orient="split"),
          pd.concat([pd.read_json(p, orient="split") for p in split], ignore_index=True))


def test_json_bad_input(tmp_path):
    (tmp_path / "a.json").write_text('{"a": 1}\n')
    with pytest.raises(ValueError, match='Line-delimited JSON is only available with orient="records".'):
        gd.read_json(str(tmp_path / "a.json"), orient="split", lines=True)
    with pytest.raises(ValueError, match="chunking only allowed for JSON-lines"):
        gd.read_json(str(tmp_path / "a.json"), lines=False, blocksize=100)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        gd.read_json(str(tmp_path / "a.json"), bogus=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        gd.from_pandas(_rows(3)).to_json(str(tmp_path / "o"), bogus=1)
    (tmp_path / "b.json").write_text('{"a": 1}\n' * 2000 + '{"a": 1, "new": 2}\n')
    late = gd.read_json(str(tmp_path / "b.json"), blocksize=4000, sample=1000)
    with pytest.raises(ValueError, match="meta="):
        late.compute(scheduler="sync")


# ---------------------------------------------------------------- ORC


@pytest.mark.api("dd.to_orc", "DataFrame.to_orc", "dd.read_orc")
def test_orc_round_trip(tmp_path):
    frame = _rows(200)
    df = gd.from_pandas(frame, npartitions=4)
    paths = gd.to_orc(df, str(tmp_path / "o"))
    assert [os.path.basename(p) for p in paths] == [f"part.{i}.orc" for i in range(4)]
    expected = pd.concat([pd.read_orc(p) for p in paths], ignore_index=True)
    _same(gd.read_orc(str(tmp_path / "o")), expected)
    cols = gd.read_orc(str(tmp_path / "o"), columns=["s", "x"])
    _same(cols, expected[["s", "x"]])
    _same(gd.read_orc(str(tmp_path / "o"), index="k"), expected.set_index("k"))
    indexed = set_index_columns(df, ["k"])
    indexed.to_orc(str(tmp_path / "i"))
    assert "k" in pd.read_orc(tmp_path / "i" / "part.0.orc").columns  # the index as a named column
    with pytest.raises(ValueError, match="Unsupported engine"):
        gd.read_orc(str(tmp_path / "o"), engine="other")


def test_read_orc_splits_stripes(tmp_path):
    from pyarrow import orc

    table = pa.table({"a": np.arange(200_000), "s": np.arange(200_000).astype(str)})
    orc.write_table(table, str(tmp_path / "big.orc"), stripe_size=64 * 1024)
    n = orc.ORCFile(str(tmp_path / "big.orc")).nstripes
    assert n > 1
    df = gd.read_orc(str(tmp_path / "big.orc"))
    assert df.npartitions == n
    assert gd.read_orc(str(tmp_path / "big.orc"), split_stripes=False).npartitions == 1
    _same(df, pd.read_orc(tmp_path / "big.orc"))


# ---------------------------------------------------------------- formats needing other libraries


@pytest.mark.parametrize("call, library", [
    (lambda df, d: gd.read_hdf(d + "/x.h5", "/data"), "tables"),
    (lambda df, d: gd.to_hdf(df, d + "/x.h5", "/data"), "tables"),
    (lambda df, d: df.to_hdf(d + "/x.h5", "/data"), "tables"),
    (lambda df, d: gd.read_sql("select 1", "sqlite://", index_col="a"), "sqlalchemy"),
    (lambda df, d: gd.read_sql_table("t", "sqlite://", index_col="a"), "sqlalchemy"),
    (lambda df, d: gd.read_sql_query("select 1", "sqlite://", index_col="a"), "sqlalchemy"),
    (lambda df, d: df.to_sql("t", "sqlite://"), "sqlalchemy"),
])
def test_formats_needing_other_libraries_say_what_to_install(tmp_path, call, library):
    import importlib.util

    df = gd.from_pandas(_rows(3))
    if importlib.util.find_spec(library) is not None:
        with pytest.raises(NotImplementedError, match="from_pandas|compute"):
            call(df, str(tmp_path))
        return
    with pytest.raises(MissingExtraError, match=f"install {library}") as info:
        call(df, str(tmp_path))
    assert isinstance(info.value, ImportError) and info.value.library == library


def test_module_names_and_methods():
    for name in ("read_json", "to_json", "read_orc", "to_orc", "read_hdf", "to_hdf", "read_sql",
                 "read_sql_table", "read_sql_query", "to_sql", "read_csv", "to_csv", "read_parquet", "to_parquet"):
        assert callable(getattr(gd, name)) and name in gd.__all__
    for method in ("to_json", "to_orc", "to_hdf", "to_sql", "to_csv", "to_parquet"):
        assert callable(getattr(gd.DataFrame, method))


def test_readers_and_writers_on_worker_processes(tmp_path):
    """Every reader's and writer's task pickles: the same results on the processes scheduler."""
    import graphflow as gf

    frame = _written(200)
    df = gd.from_pandas(frame, npartitions=3)
    df.to_csv(str(tmp_path / "c"), index=False, compute_kwargs={"scheduler": "processes"})
    df.to_csv(str(tmp_path / "one.csv"), single_file=True, scheduler="processes")
    df.to_parquet(str(tmp_path / "p"), partition_on=["k"], compute_kwargs={"scheduler": "processes"})
    df.to_json(str(tmp_path / "j"), compute_kwargs={"scheduler": "processes"})
    csv = gd.read_csv(str(tmp_path / "c"), parse_dates=["t"], na_values={"s": ["apple"]}, usecols=["s", "t", "k"],
                      blocksize=3000)
    hive = gd.read_parquet(str(tmp_path / "p"), filters=[("k", ">=", 2)], columns=["x", "k"])
    lines = gd.read_json(str(tmp_path / "j"), blocksize=2000, include_path_column=True)
    one = gd.read_csv(str(tmp_path / "one.csv"), index_col="k")
    got = gf.compute(csv, hive, lines, one, scheduler="processes")
    expected = pd.read_csv(tmp_path / "one.csv", parse_dates=["t"], na_values={"s": ["apple"]}, usecols=["s", "t", "k"])
    pd.testing.assert_frame_equal(_norm(_pd(got[0])), _norm(expected), check_dtype=False)
    assert sorted(_pd(got[1])["k"].astype(int)) == sorted(frame.k[frame.k >= 2])
    assert len(_pd(got[2])) == 200 and _pd(got[2])["path"].nunique() == 3
    pd.testing.assert_frame_equal(_norm(_pd(got[3], one)), _norm(pd.read_csv(tmp_path / "one.csv", index_col="k")),
                                  check_dtype=False)
