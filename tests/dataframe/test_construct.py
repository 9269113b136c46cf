"""from_arrow / from_pandas / from_dict / from_delayed."""

import pyarrow as pa
import pytest

import graphflow as gf
import graphflow.dataframe as gd

from .data import needs_pandas, pd, random_table


def test_from_arrow_partitions():
    t = random_table(n=103)
    df = gd.from_arrow(t, npartitions=4)
    assert df.npartitions == 4 and df.to_arrow().equals(t)
    pd.testing.assert_frame_equal(df.compute(), t.to_pandas())
    assert gd.from_arrow(t, chunksize=10).npartitions == 11
    with pytest.raises(TypeError):
        gd.from_arrow({"a": [1]})


def test_from_dict_and_empty():
    df = gd.from_dict({"a": [1, 2, 3], "b": ["x", None, "z"]}, npartitions=2)
    pd.testing.assert_frame_equal(df.compute(), pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]}))
    empty = gd.from_dict({"a": pa.array([], pa.int64())})
    assert empty.npartitions == 1 and len(empty) == 0
    pd.testing.assert_frame_equal(empty.compute(), pd.DataFrame({"a": pd.Series([], dtype="int64")}))


def test_from_delayed():
    @gf.delayed
    def part(i):
        return pa.table({"i": [i, i + 1]})

    df = gd.from_delayed([part(0), part(10)], meta=pa.schema([("i", pa.int64())]))
    assert df.npartitions == 2
    pd.testing.assert_frame_equal(df.compute(), pd.DataFrame({"i": [0, 1, 10, 11]}))
    assert (df.i * 2).sum().compute() == 44
    inferred = gd.from_delayed([part(5)])
    assert list(inferred.columns) == ["i"]


def test_same_computation_same_keys():
    t = random_table(n=50)
    a = gd.from_arrow(t, npartitions=2)
    assert (a.x + 1).__graphflow_keys__() == (a.x + 1).__graphflow_keys__()
    assert (a.x + 1).__graphflow_keys__() != (a.x + 2).__graphflow_keys__()
    # in-memory data is named by a unique token, not a hash of its bytes
    assert gd.from_arrow(t).__graphflow_keys__() != gd.from_arrow(t).__graphflow_keys__()


@needs_pandas
def test_from_pandas_roundtrip():
    pdf = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, None, 1.5]}, index=[10, 11, 12])
    df = gd.from_pandas(pdf, npartitions=2)
    assert list(df.columns) == ["a", "b"]
    assert df.divisions == (10, 12, 12)
    pd.testing.assert_frame_equal(df.compute(), pdf)  # the index is kept, as in Dask
    pd.testing.assert_frame_equal(df.to_pandas(), pdf)
