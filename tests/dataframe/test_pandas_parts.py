"""pandas_parts: a function over from_pandas partitions gets slices of the frame (no conversion back),
which equal the conversion; writes into them never reach the user's frame, nor later writes into the
user's frame the partitions; frames of other kinds are converted as before."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import graphflow.dataframe as gd
from graphflow.dataframe import pandas_parts
from graphflow.dataframe.pandas_edge import to_pandas_frame


def _frame(n=300, index=None):
    rng = np.random.default_rng(7)
    return pd.DataFrame({"k": rng.integers(0, 5, n), "a": rng.random(n), "f": rng.random(n).astype("float32")},
                        index=index)


@pytest.mark.parametrize("index", [None, pd.RangeIndex(5, 905, 3, name="r"), pd.Index(np.arange(300) * 2, name="i")])
@pytest.mark.parametrize("nparts", [1, 4, 7])
def test_slices_equal_the_conversion(index, nparts):
    pdf = _frame(index=index)
    df = gd.from_pandas(pdf, npartitions=nparts)
    for part in df.expr.parts:
        got = pandas_parts.frame_of(part, df.expr.schema)
        assert got is not None
        pd.testing.assert_frame_equal(got, to_pandas_frame(part, df.expr.schema))
    seen = []
    out = df.map_partitions(lambda p: seen.append(type(p)) or p.assign(c=p.a + p.k)).compute(scheduler="sync")
    pd.testing.assert_frame_equal(out, pdf.assign(c=pdf.a + pdf.k))
    assert seen and all(t is pd.DataFrame for t in seen)
    arrow = df.map_partitions(lambda p: p.assign(c=p.a)).to_arrow(scheduler="sync")
    pd.testing.assert_frame_equal(arrow.select(["k", "a", "f", "c"]).to_pandas(),
                                  pdf.assign(c=pdf.a).reset_index(drop=True))


def test_writes_stay_where_they_are_made():
    pdf = _frame()
    before = pdf.copy(deep=True)
    df = gd.from_pandas(pdf, npartitions=3)

    def scribble(p):
        p.loc[p.index[0], "a"] = -1.0  # into the function's own partition
        p["z"] = 1.0
        return p

    out = df.map_partitions(scribble, meta=before.assign(z=1.0).iloc[:0]).compute(scheduler="threads")
    assert (out.a == -1.0).sum() == 3 and "z" in out
    pd.testing.assert_frame_equal(pdf, before)  # the user's frame never changes
    pd.testing.assert_frame_equal(df.compute(scheduler="threads"), before)  # nor the partitions
    pdf.loc[0, "a"] = 99.0  # a later write into the user's frame does not reach the collection
    assert df.compute(scheduler="threads").loc[0, "a"] == before.loc[0, "a"]
    assert df.map_partitions(lambda p: p).compute(scheduler="threads").loc[0, "a"] == before.loc[0, "a"]


def test_frames_of_other_kinds_are_converted():
    assert not pandas_parts.slices_alike(pd.DataFrame({"s": ["x", "y"]}))
    assert not pandas_parts.slices_alike(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    assert not pandas_parts.slices_alike(
        pd.DataFrame({"a": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples([(1, 2), (3, 4)])))
    pdf = pd.DataFrame({"s": list("abcdef"), "a": np.arange(6.0)})
    df = gd.from_pandas(pdf, npartitions=2)
    assert pandas_parts.frame_of(df.expr.parts[0], df.expr.schema) is None
    pd.testing.assert_frame_equal(df.map_partitions(lambda p: p.assign(b=p.a * 2)).compute(scheduler="sync"),
                                  pdf.assign(b=pdf.a * 2), check_dtype=False)
    other = pa.table({"a": [1.0]})
    assert pandas_parts.frame_of(other, other.schema) is None


def test_columns_passed_through_from_a_pyarrow_made_frame_are_views():
    """A frame from pyarrow's to_pandas keeps its columns in a 2-D block owned by an opaque capsule: the
    slices a function passed through still join into one view of it (assemble.joined_view), no copy."""
    n = 1000
    main = pa.table({"k": np.arange(n), "a": np.random.default_rng(1).random(n), "b": np.ones(n)}).to_pandas()
    out = gd.from_pandas(main, npartitions=4).map_partitions(lambda p: p.assign(c=p.a * 2)).compute(
        scheduler="threads")
    pd.testing.assert_frame_equal(out, main.assign(c=main.a * 2))
    assert all(np.shares_memory(out[c].to_numpy(), main[c].to_numpy()) for c in ("k", "a", "b"))
