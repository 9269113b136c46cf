"""frame_to_arrow's numpy fast path gives exactly the table pyarrow's general path gives.

frame_to_arrow builds int/uint/bool/float32/float64 columns straight from their numpy buffers (NaN as null)
and hands any other frame to ``pa.Table.from_pandas``.  Each case below is converted by frame_to_arrow and
by the reference (``pa.Table.from_pandas`` on the same flattened frame, pandas metadata dropped), and the
two tables must agree in column names, types, nulls and values; the round trip back to pandas must give
the original frame.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphflow.dataframe.labels import index_column
from graphflow.dataframe.pandas_edge import frame_to_arrow, series_to_arrow, to_pandas_frame, to_pandas_series

N = 50


def _reference(pdf, keep_index):
    """The table of pyarrow's general conversion (the path before the fast path existed)."""
    flat = pdf.copy()
    if keep_index:
        flat = flat.set_axis(pdf.index.set_names([index_column(i) for i in range(pdf.index.nlevels)]), axis=0)
    return pa.Table.from_pandas(flat, preserve_index=keep_index, nthreads=1).replace_schema_metadata(None)


def _same(table, ref):
    assert table.column_names == ref.column_names
    assert table.schema.remove_metadata() == ref.schema.remove_metadata()  # types and nullability
    for name in ref.column_names:
        assert table.column(name).null_count == ref.column(name).null_count, name
    assert table.equals(ref)


rng = np.random.default_rng(1)
floats = rng.normal(size=N)
floats_nan = floats.copy()
floats_nan[::7] = np.nan
COLUMNS = {
    "f64": floats,
    "f64_nan": floats_nan,
    "f64_all_nan": np.full(N, np.nan),
    "f32_nan": floats_nan.astype(np.float32),
    "f16": floats.astype(np.float16),
    "i64": rng.integers(-9, 9, N),
    "i32": rng.integers(-9, 9, N).astype(np.int32),
    "i8": rng.integers(-9, 9, N).astype(np.int8),
    "u16": rng.integers(0, 9, N).astype(np.uint16),
    "u64": rng.integers(0, 9, N).astype(np.uint64),
    "b": rng.random(N) > 0.5,
    "s": pd.array([f"s{i % 5}" for i in range(N)], dtype="str"),
    "t": pd.date_range("2024-01-01", periods=N, freq="h"),
    "t_tz": pd.date_range("2024-01-01", periods=N, freq="h", tz="UTC"),
    "td": pd.to_timedelta(np.arange(N), unit="s"),
    "cat": pd.Categorical([["x", "y", None][i % 3] for i in range(N)]),
    "obj": pd.Series([{"k": i} if i % 2 else None for i in range(N)], dtype=object).map(lambda v: str(v)),
    "Int64": pd.array([None if i % 4 == 0 else i for i in range(N)], dtype="Int64"),
    "boolean": pd.array([None if i % 4 == 0 else bool(i % 2) for i in range(N)], dtype="boolean"),
}
INDEXES = {
    "range": pd.RangeIndex(N),
    "range_named": pd.RangeIndex(5, 5 + N, name="r"),
    "int": pd.Index(rng.integers(0, 100, N), name="k"),
    "float_nan": pd.Index(floats_nan),
    "str": pd.Index([f"r{i}" for i in range(N)], dtype="str"),
    "datetime": pd.date_range("2020-01-01", periods=N, freq="s", name="when"),
    "multi": pd.MultiIndex.from_arrays([np.arange(N) % 3, floats], names=["a", None]),
    "multi_str": pd.MultiIndex.from_arrays([np.arange(N), [f"x{i}" for i in range(N)]]),
}


@pytest.mark.parametrize("index", list(INDEXES))
@pytest.mark.parametrize("column", list(COLUMNS))
def test_one_column_matches_pyarrow(column, index):
    pdf = pd.DataFrame({column: COLUMNS[column]}).set_axis(INDEXES[index], axis=0)
    for keep in (True, False):
        table, schema = frame_to_arrow(pdf, keep_index=keep)
        _same(table, _reference(pdf, keep))
    table, schema = frame_to_arrow(pdf)
    back = to_pandas_frame(table, schema)
    if index != "range" and column not in ("Int64", "boolean"):  # nullable ints/bools come back as numpy/object
        pd.testing.assert_frame_equal(back, pdf, check_index_type=index not in ("range_named",), check_freq=False)


@pytest.mark.parametrize("index", ["range", "int", "datetime", "multi"])
def test_mixed_frames_match_pyarrow(index):
    """Fast columns beside slow ones (the whole frame then takes the general path) and all-fast frames."""
    fast = {k: v for k, v in COLUMNS.items() if k in ("f64", "f64_nan", "i64", "b", "u16", "f32_nan")}
    for cols in (COLUMNS, fast):
        pdf = pd.DataFrame(cols).set_axis(INDEXES[index], axis=0)
        for keep in (True, False):
            _same(frame_to_arrow(pdf, keep_index=keep)[0], _reference(pdf, keep))


def test_non_string_labels_and_empty_frames():
    pdf = pd.DataFrame(np.arange(12.0).reshape(4, 3))
    pdf.iloc[1, 2] = np.nan
    table, schema = frame_to_arrow(pdf)
    assert table.column_names == ["0", "1", "2"] and table.column("2").null_count == 1
    pd.testing.assert_frame_equal(to_pandas_frame(table, schema), pdf)
    empty = pd.DataFrame({"a": np.array([], np.float64), "b": np.array([], np.int64)})
    table, schema = frame_to_arrow(empty, keep_index=True)
    _same(table, _reference(empty, True))
    no_columns = pd.DataFrame(index=pd.Index([3, 1, 2], name="k"))
    for keep in (True, False):
        _same(frame_to_arrow(no_columns, keep_index=keep)[0], _reference(no_columns, keep))


def test_series_and_strided_columns():
    """A column taken from a 2-D block (a strided view) and a Series convert like pyarrow's path."""
    block = pd.DataFrame(rng.normal(size=(N, 4)), columns=list("abcd"))
    block.iloc[3, 1] = np.nan
    _same(frame_to_arrow(block)[0], _reference(block, False))
    s = block["b"].rename("b")
    table, schema = series_to_arrow(s, keep_index=True)
    pd.testing.assert_series_equal(to_pandas_series(table, schema), s)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.none()), max_size=30),
       st.booleans())
def test_random_floats_match_pyarrow(values, keep):
    pdf = pd.DataFrame({"x": np.array([np.nan if v is None else v for v in values], dtype=np.float64)})
    _same(frame_to_arrow(pdf, keep_index=keep)[0], _reference(pdf, keep))
