"""Every numpy ufunc as ``ga.<name>`` (graphflow.array.ufuncs) and the elementwise non-ufuncs (elemfuncs).

Each ufunc runs on the same data in numpy and graphflow, over one-block, even and
uneven chunkings, and must give the same values and the same dtype.  Inputs are
picked from the ufunc's own type signatures (floats where it takes floats,
small ints for bit operations, booleans for logical ones, datetimes for isnat).
"""

import numpy as np
import pytest

import graphflow.array as ga
from graphflow.array.ufuncs import UFUNC_NAMES

CHUNKINGS = [(7, 5), (3, 2), (4, 5)]


def _kind(ufunc) -> str:
    inputs = {t.split("->")[0] for t in ufunc.types}
    first = {s[0] for s in inputs}
    if "d" in first:
        return "float"
    if "l" in first or "q" in first:
        return "int"
    if "?" in first:
        return "bool"
    if "M" in first:
        return "datetime"
    return "object"


def _data(kind, seed, shape=(7, 5)):
    rng = np.random.default_rng(seed)
    if kind == "float":
        return rng.uniform(0.05, 0.95, shape) * rng.choice([1.0, 1.0, 3.0], shape)
    if kind == "int":
        return rng.integers(1, 9, shape)
    if kind == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if kind == "datetime":
        d = rng.integers(0, 10_000, shape).astype("datetime64[D]")
        d.flat[0] = np.datetime64("NaT")
        return d
    raise AssertionError(kind)


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    if got.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


# numpy 2's ufuncs that dask.array does not export (tested all the same, not counted as Dask names).
NUMPY_ONLY = {"acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_count", "bitwise_invert",
              "bitwise_left_shift", "bitwise_right_shift", "conjugate", "gcd", "heaviside", "isnat", "lcm", "pow"}


def _ufunc_params():
    for name in UFUNC_NAMES:
        yield pytest.param(name, id=name, marks=() if name in NUMPY_ONLY else pytest.mark.api(f"da.{name}"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # arccos(3.0) is nan in both; blocks run in threads
@pytest.mark.parametrize("name", list(_ufunc_params()))
def test_every_ufunc_matches_numpy(name):
    """``ga.<name>`` on (7, 5) arrays (the second input (5,) when there are two) equals ``np.<name>``."""
    uf = getattr(np, name)
    kind = _kind(uf)
    xs = [_data(kind, 1, (7, 5)), _data(kind, 2, (5,))][:uf.nin]
    if uf.nin == 2 and name in ("ldexp",):
        xs[1] = np.arange(5) - 2
    if name in ("left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift"):
        xs[1] = np.arange(5)
    with np.errstate(all="ignore"):
        want = uf(*xs)
        for chunks in CHUNKINGS:
            args = [ga.from_array(xs[0], chunks=chunks)] + xs[1:]
            got = getattr(ga, name)(*args)
            if uf.nout > 1:
                assert isinstance(got, tuple) and len(got) == uf.nout
                for g, w in zip(got, want):
                    _same(g.compute(), w)
            else:
                assert isinstance(got, ga.Array)
                _same(got.compute(), want)


@pytest.mark.api("da.sin", "da.add", "da.frexp")
def test_numpy_calls_dispatch_and_numpy_inputs_stay_numpy():
    x = np.linspace(0.1, 3.0, 11)
    a = ga.from_array(x, chunks=4)
    assert isinstance(np.sin(a), ga.Array)
    _same(np.sin(a).compute(), np.sin(x))
    m, e = np.frexp(a)
    _same(m.compute(), np.frexp(x)[0])
    _same(e.compute(), np.frexp(x)[1])
    assert isinstance(ga.sin(x), np.ndarray)  # no graphflow Array: numpy's own answer
    _same(ga.add(x, 1), x + 1)


@pytest.mark.parametrize("chunks", [11, 4, 3])
@pytest.mark.api("da.sqrt", "da.divmod", "da.modf")
def test_out_replaces_the_arrays_recipe_and_where_keeps_out_values(chunks):
    x = np.linspace(-2.0, 3.0, 11)
    a = ga.from_array(x, chunks=chunks)
    out = ga.full(11, -1.0, chunks=chunks)
    res = ga.sqrt(a, out=out, where=a > 0)
    assert res is out
    want = np.full(11, -1.0)
    np.sqrt(x, out=want, where=x > 0)
    _same(out.compute(), want)
    q, r = ga.zeros(11, chunks=chunks), ga.zeros(11, chunks=chunks)
    got = ga.divmod(a, 0.75, out=(q, r))
    assert got[0] is q and got[1] is r
    _same(q.compute(), np.divmod(x, 0.75)[0])
    _same(r.compute(), np.divmod(x, 0.75)[1])
    # positional out, as numpy allows
    o = ga.zeros(11, chunks=chunks)
    assert ga.negative(a, o) is o
    _same(o.compute(), -x)
    # np.<ufunc>(..., out=Array) goes through the same path
    o2 = ga.zeros(11, chunks=chunks)
    np.multiply(a, 2, out=o2)
    _same(o2.compute(), x * 2)
    f, i = ga.modf(a)
    _same(f.compute(), np.modf(x)[0])
    _same(i.compute(), np.modf(x)[1])


@pytest.mark.api("da.exp", "da.multiply")
def test_where_without_out_fills_zeros_and_dtype_keyword_is_numpy_s():
    x = np.arange(10.0)
    a = ga.from_array(x, chunks=3)
    got = ga.exp(a, where=a > 4).compute()
    np.testing.assert_allclose(got[5:], np.exp(x[5:]))
    assert (got[:5] == 0).all()
    _same(ga.multiply(a, 2, dtype=np.float32).compute(), np.multiply(x, 2, dtype=np.float32))
    ints = ga.arange(10, chunks=3)
    _same(ga.true_divide(ints, 4, dtype="f4").compute(), np.true_divide(np.arange(10), 4, dtype="f4"))


def test_numpy_errors_for_bad_casting_shapes_and_arguments():
    a = ga.from_array(np.arange(6.0), chunks=4)
    with pytest.raises(TypeError, match="Cannot cast"):
        ga.add(a, 1, out=ga.zeros(6, dtype=int, chunks=3))
    with pytest.raises(TypeError, match="Cannot cast"):
        ga.add(a, 1, dtype=int, casting="safe")
    with pytest.raises(ValueError, match="non-broadcastable output"):
        ga.add(a, 1, out=ga.zeros(5, chunks=3))
    with pytest.raises(ValueError, match="could not be broadcast"):
        ga.add(a, ga.ones(5, chunks=2))
    with pytest.raises(TypeError, match="positional arguments"):
        ga.sin(a, a, a)
    with pytest.raises(TypeError, match="graphflow Arrays"):
        ga.sin(a, out=np.zeros(6))
    with pytest.raises(TypeError, match="unexpected keyword"):
        ga.sin(a, bogus=1)
    with pytest.raises(ValueError, match="2 outputs"):
        ga.frexp(a, out=ga.zeros(6, chunks=3))


@pytest.mark.api("da.cos", "da.maximum", "da.isnan")
@pytest.mark.parametrize("shape,chunks", [((0,), 3), ((0, 4), (2, 2)), ((), ())])
def test_empty_and_zero_dimensional(shape, chunks):
    x = np.random.default_rng(3).standard_normal(shape)
    a = ga.from_array(x, chunks=chunks)
    _same(ga.cos(a).compute(), np.cos(x))
    _same(ga.maximum(a, 0.5).compute(), np.maximum(x, 0.5))
    _same(ga.isnan(a).compute(), np.isnan(x))
    m, e = ga.frexp(a)
    _same(e.compute(), np.frexp(x)[1])


@pytest.mark.api("da.frompyfunc", "da.add", "da.maximum")
def test_outer_reduce_accumulate_and_frompyfunc():
    x = np.arange(1.0, 8.0)
    a = ga.from_array(x, chunks=3)
    _same(ga.add.outer(a, x[:4]).compute(), np.add.outer(x, x[:4]))
    _same(ga.maximum.reduce(a).compute(), np.maximum.reduce(x))
    _same(ga.add.accumulate(a).compute(), np.add.accumulate(x))
    with pytest.raises(NotImplementedError, match="hypot.reduce"):
        ga.hypot.reduce(a)
    assert ga.add.nin == 2 and ga.frexp.nout == 2 and ga.add.identity == 0
    f = ga.frompyfunc(lambda v: v * 2 + 1, 1, 1)
    _same(f(a).compute(), np.frompyfunc(lambda v: v * 2 + 1, 1, 1)(x))


ELEMFUNCS = [
    ("angle", (), {}), ("angle", (), {"deg": True}), ("around", (1,), {}), ("fix", (), {}), ("real", (), {}),
    ("imag", (), {}), ("iscomplex", (), {}), ("isreal", (), {}), ("nan_to_num", (), {"nan": -1.0, "posinf": 7.0}),
    ("i0", (), {}), ("sinc", (), {}), ("isneginf", (), {}), ("isposinf", (), {}), ("isnull", (), {}),
    ("notnull", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs",
                         [pytest.param(n, a, k, marks=pytest.mark.api(f"da.{n}"), id=f"{n}-{k}")
                          for n, a, k in ELEMFUNCS])
@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_elementwise_non_ufuncs_match_numpy(name, args, kwargs, dtype):
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, (9, 4)).astype(dtype)
    if dtype is complex:
        x = x + 1j * rng.uniform(-1, 1, (9, 4)) * (rng.uniform(size=(9, 4)) > 0.5)
    x[0, 0], x[1, 1], x[2, 2] = np.nan, np.inf, -np.inf
    if name == "i0" and dtype is complex:
        return  # numpy.i0 does not take complex input either
    import pandas as pd

    npfunc = {"isnull": pd.isnull, "notnull": pd.notnull}.get(name) or getattr(np, name)
    with np.errstate(all="ignore"):
        try:
            want = np.asarray(npfunc(x, *args, **kwargs))
        except TypeError:  # numpy refuses (fix/isposinf of complex): so must graphflow, when building
            with pytest.raises(TypeError):
                getattr(ga, name)(ga.from_array(x, chunks=3), *args, **kwargs)
            return
        for chunks in [(9, 4), (4, 3), (2, 4)]:
            a = ga.from_array(x, chunks=chunks)
            _same(getattr(ga, name)(a, *args, **kwargs).compute(), want)
    if getattr(np, name, None) is npfunc:  # numpy's function dispatches to graphflow's
        assert isinstance(npfunc(ga.from_array(x, chunks=3), *args, **kwargs), ga.Array)
