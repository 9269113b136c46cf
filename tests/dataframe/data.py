"""Random test tables with nulls, strings and timestamps, shared by the dataframe tests."""

import datetime

import numpy as np
import pyarrow as pa
import pytest

pd = None
try:  # pandas is only in the bench extra: comparisons against it are skipped without it
    import pandas as pd  # noqa: F811
except ImportError:  # pragma: no cover
    pass

needs_pandas = pytest.mark.skipif(pd is None, reason="pandas not installed")


def random_table(n=2000, seed=0, groups=17):
    rng = np.random.default_rng(seed)
    null = rng.random(n) < 0.1
    x = rng.normal(size=n)
    words = np.array(["apple", "Banana", "cherry", "date", "Elder", "fig"])
    base = datetime.datetime(2024, 1, 1)
    ts = [base + datetime.timedelta(minutes=int(m)) for m in rng.integers(0, 60 * 24 * 400, n)]
    return pa.table({
        "k": pa.array(rng.integers(0, groups, n)),
        "k2": pa.array(words[rng.integers(0, 3, n)]),
        "x": pa.array(x, mask=null),
        "y": pa.array(rng.integers(-50, 50, n).astype("int64"), mask=rng.random(n) < 0.05),
        "s": pa.array(words[rng.integers(0, len(words), n)], mask=rng.random(n) < 0.1),
        "t": pa.array(ts, pa.timestamp("us"), mask=rng.random(n) < 0.05),
    })


def sort_table(t, keys=None):
    keys = keys or t.column_names
    return t.sort_by([(k, "ascending") for k in keys])


def assert_tables_equal(a, b, keys=None, rtol=1e-9):
    """Equal up to row order (both sorted by ``keys``), floats compared with a tolerance."""
    assert a.column_names == b.column_names
    assert a.num_rows == b.num_rows
    a, b = sort_table(a, keys), sort_table(b, keys)
    for name in a.column_names:
        ca, cb = a.column(name), b.column(name)
        assert ca.type == cb.type, (name, ca.type, cb.type)
        if pa.types.is_floating(ca.type):
            va, vb = ca.to_numpy(zero_copy_only=False), cb.to_numpy(zero_copy_only=False)
            np.testing.assert_allclose(va, vb, rtol=rtol, equal_nan=True, err_msg=name)
        else:
            assert ca.to_pylist() == cb.to_pylist(), name
