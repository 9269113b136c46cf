"""Dataframes meeting `graphflow.array` (graphflow/dataframe/to_array.py), compared with pandas and numpy.

``to_dask_array`` / ``values`` / ``to_records`` of a frame computed over several partitionings give what
pandas' ``to_numpy()`` / ``to_records(index=False)`` give on the same data (nulls, strings, timestamps),
and ``from_dask_array`` gives what ``pd.DataFrame(np_array)`` / ``pd.Series(np_array)`` give, with
Dask's divisions; a chunked array operation runs after the conversion.
"""

import math

import numpy as np
import pyarrow as pa
import pytest

import graphflow.array as ga
import graphflow.dataframe as gd

from .data import needs_pandas, pd, random_table

pytestmark = needs_pandas

NPARTS = (1, 3)


def source_frame(n=60, seed=3):
    """Floats, integers (nulls make them floats, as pandas does), strings, timestamps and booleans with
    nulls, built in pandas."""
    rng = np.random.default_rng(seed)
    words = np.array(["apple", "Banana", "cherry", "date"], dtype=object)
    s = words[rng.integers(0, len(words), n)]
    s[rng.random(n) < 0.15] = None
    t = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10_000, n), unit="min"))
    t[rng.random(n) < 0.1] = pd.NaT
    b = pd.Series(rng.random(n) < 0.5, dtype=object)
    b[rng.random(n) < 0.1] = None
    x = rng.normal(size=n)
    x[rng.random(n) < 0.15] = np.nan
    i = rng.integers(-5, 5, n).astype("float64")
    i[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"x": x, "i": i, "s": pd.Series(s, dtype="str"), "t": t, "b": b})


@pytest.fixture(scope="module")
def pdf():
    return source_frame()


def assert_same_array(got, want):
    """Same type, shape, dtype and values (NaN/None/NaT where pandas puts them)."""
    assert isinstance(got, np.ndarray), type(got)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    if got.ndim == 1 and got.dtype.names is None:
        pd.testing.assert_series_equal(pd.Series(got), pd.Series(want))
    else:
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want))


def partition_lengths(df):
    return tuple(len(df.get_partition(i).compute()) for i in range(df.npartitions))


# ------------------------------------------------------------------ to_dask_array / values


@pytest.mark.api("DataFrame.to_dask_array", "DataFrame.values")
@pytest.mark.parametrize("npartitions", NPARTS)
@pytest.mark.parametrize("columns", [["x", "i"], ["x", "i", "s", "t", "b"]])
def test_frame_to_dask_array_matches_to_numpy(pdf, npartitions, columns):
    df = gd.from_pandas(pdf, npartitions=npartitions)[columns]
    want = pdf[columns].to_numpy()
    x = df.to_dask_array()
    assert isinstance(x, ga.Array) and x.ndim == 2
    assert len(x.chunks[0]) == npartitions and all(math.isnan(c) for c in x.chunks[0])  # unknown, as Dask
    assert x.chunks[1] == (len(columns),) and x.dtype == want.dtype
    assert_same_array(x.compute(), want)
    assert_same_array(df.values.compute(), want)
    counted = df.to_dask_array(lengths=True)
    assert counted.chunks[0] == partition_lengths(df) and counted.shape == want.shape
    assert_same_array(counted.compute(), want)
    given = df.to_dask_array(lengths=list(partition_lengths(df)))
    assert given.chunks == counted.chunks
    assert_same_array(given.compute(), want)


@pytest.mark.api("Series.to_dask_array", "Series.values")
@pytest.mark.parametrize("npartitions", NPARTS)
@pytest.mark.parametrize("column", ["x", "i", "s", "t", "b"])
def test_series_to_dask_array_matches_to_numpy(pdf, npartitions, column):
    s = gd.from_pandas(pdf, npartitions=npartitions)[column]
    want = pdf[column].to_numpy()
    x = s.to_dask_array()
    assert x.ndim == 1 and x.numblocks == (npartitions,) and math.isnan(x.shape[0])
    # the lazy dtype is the meta's: a boolean column is bool, its partitions with nulls object (as pandas)
    assert x.dtype == (np.dtype(bool) if column == "b" else want.dtype)
    assert_same_array(x.compute(), want)
    assert_same_array(s.values.compute(), want)
    counted = s.to_dask_array(lengths=True)
    assert counted.shape == want.shape
    assert_same_array(counted.compute(), want)


@pytest.mark.api("DataFrame.to_dask_array", "DataFrame.values")
@pytest.mark.parametrize("npartitions", (1, 4))
def test_arrow_integers_with_nulls_promote_as_pandas_does(npartitions):
    """An Arrow int64 column with nulls: the lazy dtype is the meta's (int64), partitions holding nulls
    convert to float64 as pandas converts them, and the computed array is pandas' ``to_numpy()``."""
    table = random_table(n=300, seed=5).select(["k", "x", "y"])
    want = table.to_pandas().to_numpy()
    df = gd.from_arrow(table, npartitions=npartitions)
    assert df[["k", "y"]].values.dtype == np.dtype("int64")
    assert_same_array(df.values.compute(), want)
    assert_same_array(df.y.values.compute(), table.column("y").to_pandas().to_numpy())
    np.testing.assert_allclose(df.values.sum(axis=0).compute(), want.sum(axis=0))


@pytest.mark.api("DataFrame.to_dask_array", "DataFrame.values", "Series.values")
@pytest.mark.parametrize("npartitions", NPARTS)
def test_chunked_array_ops_after_conversion(pdf, npartitions):
    df = gd.from_pandas(pdf, npartitions=npartitions)
    want = pdf[["x", "i"]].to_numpy()
    x = df[["x", "i"]].values
    np.testing.assert_array_equal(x.sum(axis=0).compute(), want.sum(axis=0))  # NaN propagates, as numpy
    np.testing.assert_allclose(ga.nansum(x, axis=0).compute(), np.nansum(want, axis=0))
    np.testing.assert_allclose(ga.nanmean(x, axis=0).compute(), np.nanmean(want, axis=0))
    np.testing.assert_allclose((x * 2 + 1).max(axis=1).compute(), (want * 2 + 1).max(axis=1), equal_nan=True)
    known = df[["x", "i"]].to_dask_array(lengths=True)
    np.testing.assert_allclose(known[5:20].compute(), want[5:20], equal_nan=True)
    np.testing.assert_allclose(known.rechunk((7, 1)).T.compute(), want.T, equal_nan=True)
    np.testing.assert_allclose(ga.nansum(df.x.values).compute(), np.nansum(pdf.x.to_numpy()))


@pytest.mark.api("DataFrame.to_dask_array")
def test_to_dask_array_meta_casts_every_block(pdf):
    df = gd.from_pandas(pdf, npartitions=3)[["x", "i"]]
    x = df.to_dask_array(meta=np.empty((0, 0), dtype="float32"))
    assert x.dtype == np.dtype("float32")
    assert_same_array(x.compute(), pdf[["x", "i"]].to_numpy().astype("float32"))


def test_to_dask_array_bad_lengths(pdf):
    df = gd.from_pandas(pdf, npartitions=3)
    with pytest.raises(ValueError, match=r"does not match the number of partitions. 2 != 3"):
        df.to_dask_array(lengths=[1, 2])
    wrong = df.to_dask_array(lengths=[1, 1, 1])  # not checked while building, as in Dask ...
    with pytest.raises(ValueError, match=r"partition 0 has \d+ rows but lengths= gave 1"):
        wrong.compute()  # ... but never a silently wrong array


# ------------------------------------------------------------------ to_records


@pytest.mark.api("DataFrame.to_records", "dd.to_records")
@pytest.mark.parametrize("npartitions", NPARTS)
@pytest.mark.parametrize("index", [False, True])
def test_to_records_matches_pandas(pdf, npartitions, index):
    df = gd.from_pandas(pdf, npartitions=npartitions)
    want = pdf.to_records(index=index)
    rec = df.to_records(index=index)
    # the lazy dtype is the meta's (the boolean field bool); computed, the partitions with nulls make it object
    assert isinstance(rec, ga.Array) and rec.ndim == 1 and rec.dtype.names == want.dtype.names
    assert_same_array(rec.compute(), want)
    if not index:
        assert_same_array(gd.to_records(df).compute(), want)
        counted = df.to_records(lengths=True)
        assert counted.chunks == (partition_lengths(df),)
        assert_same_array(counted.compute(), want)


@pytest.mark.api("Series.to_records")
@pytest.mark.parametrize("npartitions", NPARTS)
def test_series_to_records_is_its_frame_s(pdf, npartitions):
    """pandas' Series has no ``to_records``; graphflow's gives the records of the one-column frame."""
    s = gd.from_pandas(pdf, npartitions=npartitions).s
    assert_same_array(s.to_records().compute(), pdf.s.to_frame().to_records(index=False))
    assert_same_array(s.to_records(index=True).compute(), pdf.s.to_frame().to_records(index=True))


# ------------------------------------------------------------------ from_dask_array


@pytest.mark.api("dd.from_dask_array")
@pytest.mark.parametrize("chunks", [(40, 3), (7, 2), ((10, 0, 30), (1, 2))])
def test_from_dask_array_2d_matches_pandas(chunks):
    rng = np.random.default_rng(7)
    arr = rng.normal(size=(40, 3))
    arr[rng.random((40, 3)) < 0.1] = np.nan
    x = ga.from_array(arr, chunks=chunks)
    df = gd.from_dask_array(x)
    assert df.npartitions == x.numblocks[0]
    rows = x.chunks[0]
    starts = np.cumsum((0,) + rows[:-1])
    assert df.divisions == tuple(int(s) for s in starts) + (39,)  # Dask's: first rows, then the last row
    pd.testing.assert_frame_equal(df.compute(), pd.DataFrame(arr))
    named = gd.from_dask_array(x, columns=["a", "b", "c"])
    pd.testing.assert_frame_equal(named.compute(), pd.DataFrame(arr, columns=["a", "b", "c"]))
    pd.testing.assert_frame_equal(named.loc[12:30].compute(), pd.DataFrame(arr, columns=["a", "b", "c"]).loc[12:30])


@pytest.mark.api("dd.from_dask_array")
@pytest.mark.parametrize("chunks", [50, 9])
def test_from_dask_array_1d_is_a_series(chunks):
    arr = np.arange(50) * 1.5
    arr[::7] = np.nan
    x = ga.from_array(arr, chunks=chunks)
    s = gd.from_dask_array(x, columns="v")
    assert isinstance(s, gd.Series)
    pd.testing.assert_series_equal(s.compute(), pd.Series(arr, name="v"))
    pd.testing.assert_series_equal(gd.from_dask_array(x).compute(), pd.Series(arr))
    one = gd.from_dask_array(x, columns=["only"])
    pd.testing.assert_frame_equal(one.compute(), pd.DataFrame({"only": arr}))


@pytest.mark.api("dd.from_dask_array", "DataFrame.to_dask_array", "DataFrame.to_records")
@pytest.mark.parametrize("npartitions", NPARTS)
def test_from_dask_array_round_trips(pdf, npartitions):
    df = gd.from_pandas(pdf[["x", "i"]], npartitions=npartitions)
    back = gd.from_dask_array(df.to_dask_array(), columns=["x", "i"])  # unknown chunks: divisions unknown
    assert not back.known_divisions
    pd.testing.assert_frame_equal(back.compute(), pdf[["x", "i"]])  # the index is still each row's position
    known = gd.from_dask_array(df.to_dask_array(lengths=True), columns=["x", "i"])
    assert known.known_divisions
    pd.testing.assert_frame_equal(known.compute(), pdf[["x", "i"]])
    pd.testing.assert_frame_equal(gd.from_dask_array(df.to_records(lengths=True)).compute(),
                                  pd.DataFrame(pdf[["x", "i"]].to_records(index=False)))


@pytest.mark.api("dd.from_dask_array")
@pytest.mark.parametrize("npartitions", NPARTS)
def test_from_dask_array_with_an_index(pdf, npartitions):
    indexed = pdf.set_axis(pd.Index(np.arange(len(pdf)) * 3, name="ix"), axis=0)
    df = gd.from_pandas(indexed, npartitions=npartitions)
    s = gd.from_dask_array(df.x.values * 2, columns="dbl", index=df.index)
    assert s.divisions == df.divisions
    pd.testing.assert_series_equal(s.compute(), (indexed.x * 2).rename("dbl"))
    frame = gd.from_dask_array(df[["x", "i"]].values, columns=["p", "q"], index=df.index)
    want = pd.DataFrame(indexed[["x", "i"]].to_numpy(), columns=["p", "q"], index=indexed.index)
    pd.testing.assert_frame_equal(frame.compute(), want)


@pytest.mark.api("dd.from_dask_array")
def test_from_dask_array_meta_gives_the_dtypes():
    arr = np.arange(12.0).reshape(6, 2)
    meta = pd.DataFrame({"a": pd.Series([], dtype="float32"), "b": pd.Series([], dtype="float64")})
    out = gd.from_dask_array(ga.from_array(arr, chunks=(4, 1)), meta=meta).compute()
    pd.testing.assert_frame_equal(out, pd.DataFrame(arr, columns=["a", "b"]).astype({"a": "float32"}))


def test_from_dask_array_errors():
    x = ga.from_array(np.ones((6, 2)), chunks=(2, 2))
    with pytest.raises(ValueError, match="Number of column names does not match width of array"):
        gd.from_dask_array(x, columns=["a"])
    with pytest.raises(ValueError, match="more than 2D"):
        gd.from_dask_array(ga.ones((2, 2, 2), chunks=1))
    with pytest.raises(ValueError, match="'index' must be an instance"):
        gd.from_dask_array(x, index=pd.Index(range(6)))
    four = gd.from_pandas(pd.Series(range(12)), npartitions=4)
    with pytest.raises(ValueError, match=r"different numbers of blocks. \(4 != 3\)"):
        gd.from_dask_array(x, index=four.index)
    with pytest.raises(TypeError, match="use from_array"):
        gd.from_dask_array(np.ones(3))
    short = gd.from_pandas(pd.Series(range(9)), npartitions=3)
    with pytest.raises(ValueError, match="the index has 3 rows but the array block has 2"):
        gd.from_dask_array(x, index=short.index).compute()


def test_arrow_types_survive_a_round_trip():
    table = pa.table({"a": pa.array([1.0, None, 3.0]), "b": pa.array([4.0, 5.0, None])})
    df = gd.from_arrow(table, npartitions=2)
    back = gd.from_dask_array(df.to_dask_array(lengths=True), columns=["a", "b"])
    assert back.to_arrow().select(["a", "b"]).equals(table)
