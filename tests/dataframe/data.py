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


def _int_like(got, exp):
    """``exp`` (pandas' answer) with a float column/index cast to int64 where ``got`` has int64: pandas turns an
    int column with nulls into floats, Arrow keeps int64; the values must be whole numbers (checked)."""
    if str(got.dtype) == "int64" and str(exp.dtype) == "float64" and not exp.isna().any():
        assert (exp == exp.round()).all(), "pandas' floats are not whole numbers"
        return exp.astype("int64")
    return exp


def _index_like(got, exp):
    if isinstance(got, pd.MultiIndex) or isinstance(exp, pd.MultiIndex):
        if isinstance(got, pd.MultiIndex) and isinstance(exp, pd.MultiIndex):
            levels = [_int_like(got.get_level_values(i), exp.get_level_values(i)) for i in range(exp.nlevels)]
            return pd.MultiIndex.from_arrays(levels, names=exp.names)
        return exp
    return pd.Index(_int_like(got, exp), name=exp.name)


def assert_like_pandas(got, exp, sort=False, **kwargs):
    """``got`` (a graphflow result) equals ``exp`` (pandas doing the same on the same data), both sorted by
    their index when ``sort``; int64 where pandas made floats of ints because of nulls (see `_int_like`)."""
    if sort:
        got, exp = got.sort_index(), exp.sort_index()
    if isinstance(exp, pd.DataFrame):
        assert isinstance(got, pd.DataFrame), type(got)
        assert list(got.columns) == list(exp.columns), (list(got.columns), list(exp.columns))
        exp = exp.copy()
        for i in range(exp.shape[1]):
            exp.isetitem(i, _int_like(got.iloc[:, i], exp.iloc[:, i]))
        exp.index = _index_like(got.index, exp.index)
        pd.testing.assert_frame_equal(got, exp, **kwargs)
    else:
        assert isinstance(got, pd.Series), type(got)
        exp = _int_like(got, exp)
        exp.index = _index_like(got.index, exp.index)
        pd.testing.assert_series_equal(got, exp, **kwargs)


def same(lazy, expected, **kw):
    """Compute ``lazy`` on the sync scheduler and assert it equals the pandas ``expected`` (frame or series);
    keywords go to pandas' assert."""
    got = lazy.compute(scheduler="sync")
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, **kw)
    else:
        pd.testing.assert_series_equal(got, expected, **kw)
