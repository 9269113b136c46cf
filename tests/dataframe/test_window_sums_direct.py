"""WindowSumOp's dense path (sums written straight into the output, the preceding rows read in place) gives
bit-identical values to its general path (preceding rows and partition joined, then summed), for windows
reaching into one or several preceding rows, partitions shorter than the window and every min_periods."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphflow.dataframe.windows import WindowSumOp


def _general(op, prev, part):
    """The general path: one array of the preceding rows and the partition, then `arrow_column`."""
    arrays = ([prev.column("x")] if prev is not None else []) + [part.column("x")]
    x = pa.chunked_array([c for a in arrays for c in a.chunks], pa.float64()).to_numpy()
    return op.arrow_column(x, True, prev.num_rows if prev is not None else 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 12), st.integers(0, 40), st.integers(1, 12), st.sampled_from(["sum", "mean"]),
       st.integers(0, 12), st.integers(0, 10**6))
def test_dense_path_is_bit_identical(n_prev, n, window, how, min_periods, seed):
    rng = np.random.default_rng(seed)
    schema = pa.schema([("x", pa.float64())])
    prev = pa.table({"x": rng.normal(size=n_prev) * 1e3}, schema=schema) if n_prev else None
    part = pa.table({"x": rng.normal(size=n) * 1e3}, schema=schema)
    op = WindowSumOp(how, window, min(min_periods, window), ["x"], schema)
    got = op(prev, part, None).column("x")
    want = _general(op, prev, part)
    assert got.null_count == want.null_count
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())  # NaN where null, exact elsewhere


@pytest.mark.parametrize("dtype", [pa.int64(), pa.float32()])
def test_dense_path_casts_like_the_general_path(dtype):
    prev = pa.table({"x": pa.array([1, 2, 3], dtype)})
    part = pa.table({"x": pa.array([4, 5, 6, 7], dtype)})
    op = WindowSumOp("mean", 3, 1, ["x"], pa.schema([("x", pa.float64())]))
    got = op(prev, part, None).column("x").to_numpy()
    np.testing.assert_array_equal(got, [3.0, 4.0, 5.0, 6.0])
