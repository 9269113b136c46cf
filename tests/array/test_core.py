"""Arrays against numpy: metadata, creation, elementwise, reductions, indexing, linalg, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow as gf
import graphflow.array as ga
from graphflow.optimize import optimize_graph
from graphflow.spec import FusedTask

FAST = settings(max_examples=25, deadline=None)


@st.composite
def array_and_chunks(draw, max_ndim=3):
    ndim = draw(st.integers(1, max_ndim))
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, 4)) for _ in shape)
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    return rng.standard_normal(shape), chunks


def test_metadata_without_compute():
    x = ga.ones((5, 7), chunks=(2, 3))
    assert x.shape == (5, 7) and x.chunks == ((2, 2, 1), (3, 3, 1)) and x.ndim == 2
    assert x.size == 35 and x.nbytes == 280 and x.numblocks == (3, 3) and x.npartitions == 9
    assert len(x) == 5 and x.T.shape == (7, 5)
    assert "shape=(5, 7)" in repr(x) and "tasks=9" in repr(x) and "<table>" in x._repr_html_()
    np.testing.assert_array_equal(np.asarray(x), np.ones((5, 7)))


def test_issue_example():
    x = ga.random.random((200, 200), chunks=(60, 60), seed=0)
    xn = x.compute()
    np.testing.assert_allclose((x + x.T).mean(axis=0).compute(), (xn + xn.T).mean(axis=0))
    assert np.isclose(np.sin(x).sum().compute(), np.sin(xn).sum())
    np.testing.assert_allclose((x @ x.T)[::10, :5].compute(), (xn @ xn.T)[::10, :5])


def test_random_reproducible_and_distinct():
    a = ga.random.random((10, 10), chunks=5, seed=3).compute()
    np.testing.assert_array_equal(a, ga.random.random((10, 10), chunks=5, seed=3).compute())
    assert not np.array_equal(a, ga.random.random((10, 10), chunks=5, seed=4).compute())
    r = ga.random.randint(0, 5, size=100, chunks=30, seed=1).compute()
    assert r.min() >= 0 and r.max() < 5 and r.dtype == np.int64
    assert abs(ga.random.normal(size=10000, chunks=1000, seed=0).mean().compute()) < 0.05


def test_creation_functions():
    np.testing.assert_array_equal(ga.arange(3, 20, 4, chunks=2).compute(), np.arange(3, 20, 4))
    np.testing.assert_allclose(ga.linspace(0, 1, 11, chunks=4).compute(), np.linspace(0, 1, 11))
    np.testing.assert_array_equal(ga.eye(5, k=1, chunks=2).compute(), np.eye(5, k=1))
    np.testing.assert_array_equal(ga.full((3, 2), 7, chunks=2).compute(), np.full((3, 2), 7))
    z = ga.zeros_like(ga.ones((4, 4), chunks=3))
    assert z.chunks == ((3, 1), (3, 1)) and z.compute().sum() == 0


def test_npy_roundtrip(tmp_path):
    data = np.arange(30.0).reshape(5, 6)
    ga.to_npy(tmp_path / "a.npy", ga.from_array(data, chunks=(2, 4)) * 2)
    back = ga.from_npy(tmp_path / "a.npy", chunks=(3, 3))
    assert back.chunks == ((3, 2), (3, 3))
    np.testing.assert_array_equal(back.compute(), data * 2)


@FAST
@given(array_and_chunks())
def test_elementwise_matches_numpy(case):
    a, chunks = case
    x = ga.from_array(a, chunks=chunks)
    np.testing.assert_allclose((((x + 1) * 2 - x) / 3).compute(), ((a + 1) * 2 - a) / 3)
    np.testing.assert_array_equal((x > 0).compute(), a > 0)
    np.testing.assert_allclose(np.exp(x).compute(), np.exp(a))
    np.testing.assert_allclose(ga.where(x > 0, x, -1).compute(), np.where(a > 0, a, -1))


def test_broadcast_across_different_chunks():
    a, b = np.arange(24.0).reshape(4, 6), np.arange(6.0)
    x, y = ga.from_array(a, chunks=(3, 4)), ga.from_array(b, chunks=5)
    np.testing.assert_array_equal((x * y).compute(), a * b)
    np.testing.assert_array_equal((x[:, :1] + y).compute(), a[:, :1] + b)
    np.testing.assert_array_equal((x ^ 3 if False else (x.astype(int) & 3)).compute(), a.astype(int) & 3)
    np.testing.assert_array_equal(x.clip(2, 9).round().compute(), a.clip(2, 9))


@FAST
@given(array_and_chunks(), st.data())
def test_reductions_match_numpy(case, data):
    a, chunks = case
    x = ga.from_array(a, chunks=chunks)
    axis = data.draw(st.sampled_from([None, 0, -1, tuple(range(a.ndim))]))
    keep = data.draw(st.booleans())
    split = data.draw(st.sampled_from([2, 3, None]))
    np.testing.assert_allclose(x.sum(axis=axis, keepdims=keep, split_every=split).compute(),
                               a.sum(axis=axis, keepdims=keep), atol=1e-12)
    if a.size:
        np.testing.assert_allclose(x.var(axis=axis, split_every=split).compute(), a.var(axis=axis), atol=1e-12)
        np.testing.assert_allclose(x.max(axis=axis).compute(), a.max(axis=axis))
        if axis is None or isinstance(axis, int):
            np.testing.assert_array_equal(x.argmin(axis=axis, split_every=split).compute(), a.argmin(axis=axis))
            np.testing.assert_array_equal(x.argmax(axis=axis).compute(), a.argmax(axis=axis))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(x.mean(axis=axis).compute(), a.mean(axis=axis), atol=1e-12)
    np.testing.assert_allclose(x.cumsum(axis=-1).compute(), a.cumsum(axis=-1), atol=1e-12)


def test_std_is_numerically_sound():
    a = 1e9 + np.random.default_rng(0).random(10000)
    x = ga.from_array(a, chunks=999)
    assert np.isclose(x.std().compute(), a.std(), rtol=1e-6)


def test_array_function_dispatch():
    a = np.arange(12.0).reshape(3, 4)
    x = ga.from_array(a, chunks=2)
    for f in (np.sum, np.mean, np.std, np.prod, np.nansum, np.nanmean, np.any, np.all):
        out = f(x, axis=0)
        assert isinstance(out, ga.Array)
        np.testing.assert_allclose(out.compute(), f(a, axis=0))
    np.testing.assert_array_equal(np.concatenate([x, x], axis=1).compute(), np.concatenate([a, a], axis=1))
    np.testing.assert_array_equal(np.stack([x, x]).compute(), np.stack([a, a]))
    np.testing.assert_array_equal(np.reshape(x, (12,)).compute(), a.reshape(12))
    np.testing.assert_allclose(np.dot(x, x.T).compute(), a @ a.T)
    assert bool(np.allclose(x, a)) and np.isclose(x, a).compute().all()


@pytest.mark.parametrize("index", [
    (slice(None, None, -1),), (slice(1, 9, 3), 2), (Ellipsis, None, slice(-2, None)), (-1,),
    (slice(8, 0, -2), slice(None, None, -3)), (np.array([4, 0, 9, 4]),), (slice(None), [1, -1]),
    (slice(3, 3),),
])
def test_getitem_matches_numpy(index):
    a = np.arange(120).reshape(10, 12)
    x = ga.from_array(a, chunks=(3, 5))
    np.testing.assert_array_equal(x[index].compute(), a[index])


def test_boolean_mask_and_setitem():
    a = np.random.default_rng(1).standard_normal((7, 5))
    x = ga.from_array(a, chunks=3)
    m = x[x > 0]
    assert np.isnan(m.shape[0])
    np.testing.assert_array_equal(np.sort(m.compute()), np.sort(a[a > 0]))
    with pytest.raises(ValueError, match="unknown"):
        len(m)
    with pytest.raises(ValueError, match="unknown"):
        m.rechunk(2)
    assert m.compute_chunk_sizes().shape == ((a > 0).sum(),)
    x[x < 0] = 0
    b = a.copy()
    b[b < 0] = 0
    np.testing.assert_array_equal(x.compute(), b)
    x[1:3, ::2] = 5
    b[1:3, ::2] = 5
    np.testing.assert_array_equal(x.compute(), b)


def test_linalg_matches_numpy():
    rng = np.random.default_rng(2)
    a, b = rng.random((9, 13)), rng.random((13, 4))
    x, y = ga.from_array(a, chunks=(4, 2)), ga.from_array(b, chunks=(3, 3))
    np.testing.assert_allclose((x @ y).compute(), a @ b)
    np.testing.assert_allclose(ga.tensordot(x, y, axes=1, split_every=2).compute(), a @ b)
    np.testing.assert_allclose(ga.outer(x[0], y[:, 0]).compute(), np.outer(a[0], b[:, 0]))
    np.testing.assert_allclose((x[0] @ y).compute(), a[0] @ b)


def test_rechunk_reshape_squeeze_expand():
    a = np.arange(60.0).reshape(6, 10)
    x = ga.from_array(a, chunks=(4, 3))
    r = x.rechunk((5, 10))
    assert r.chunks == ((5, 1), (10,))
    np.testing.assert_array_equal(r.compute(), a)
    assert x.rechunk("auto").chunks == ((6,), (10,))
    np.testing.assert_array_equal(x.reshape(60).compute(), a.ravel())
    np.testing.assert_array_equal(x.reshape(3, 2, 10).compute(), a.reshape(3, 2, 10))
    np.testing.assert_array_equal(ga.expand_dims(x, 0).squeeze().compute(), a)
    # blocks of 5 do not hold whole rows of 4: the leading axis is regrouped (as numpy and Dask accept it)
    np.testing.assert_array_equal(ga.arange(24, chunks=5).reshape(6, 4).compute(), np.arange(24).reshape(6, 4))


def test_empty_and_zero_d():
    e = ga.from_array(np.ones((0, 3)), chunks=2)
    assert e.sum().compute() == 0 and e.sum(axis=0).compute().shape == (3,)
    s = ga.from_array(np.array(5.0))
    assert s.ndim == 0 and (s + 1).compute() == 6.0 and s.sum().compute() == 5.0


def test_bad_input_raises_at_build_time():
    x = ga.ones((4, 3), chunks=2)
    with pytest.raises(ValueError, match="broadcast"):
        x + ga.ones((4, 4), chunks=2)
    with pytest.raises(np.exceptions.AxisError):
        x.sum(axis=2)
    with pytest.raises(IndexError, match="out of bounds"):
        x[4]
    with pytest.raises(IndexError):
        x[:, [0, 5]]
    with pytest.raises(TypeError):
        ga.from_array(np.array(["a", "b"])) + 1
    with pytest.raises(TypeError, match="numeric"):
        ga.from_array(np.array(["a", "b"])).sum()
    with pytest.raises(ValueError, match="mismatch"):
        x @ x


def test_blockwise_fusion_one_task_per_chunk():
    x = ga.random.random((40, 40), chunks=10, seed=0)
    y = ((x + 1) * 2 - x).sum(split_every=16)
    g = optimize_graph(gf.base.collections_to_graph([y]), [(y.name,)])
    assert len(g) == 16 + 1  # one task per chunk, one aggregate
    # The chain is streamed into the chunk step when the graph is built: one task per chunk already.
    before = optimize_graph(gf.base.collections_to_graph([y]), [(y.name,)], stages=["cull"])
    assert len(before) == 16 + 1
    xn = x.compute()
    assert np.isclose(y.compute(), ((xn + 1) * 2 - xn).sum())
    # A map_blocks in the chain is opaque to streaming: the optimizer's blockwise rule fuses it instead.
    z = ((x + 1).map_blocks(lambda b: b * 2) - x).sum(split_every=16)
    before = optimize_graph(gf.base.collections_to_graph([z]), [(z.name,)], stages=["cull"])
    assert len(before) == 16 * 4 + 1  # random, add, map_blocks, streamed sub + sum chunk; aggregate
    assert len(optimize_graph(gf.base.collections_to_graph([z]), [(z.name,)])) == 16 + 1
    assert np.isclose(z.compute(), ((xn + 1) * 2 - xn).sum())


def test_transpose_input_is_not_duplicated():
    x = ga.random.random((20, 20), chunks=10, seed=0)
    y = (x + x.T).mean(axis=0)
    g = optimize_graph(gf.base.collections_to_graph([y]), y.__graphflow_keys__())
    drawn = []
    for node in g.values():
        inner = node.tasks if isinstance(node, FusedTask) else (node,)
        drawn += [t.key[1:] for t in inner if t.key[0].startswith("random")]
    assert sorted(drawn) == [(0, 0), (0, 1), (1, 0), (1, 1)]  # each block drawn once, wherever it runs


def test_persist_and_threads_vs_sync():
    x = (ga.arange(100, chunks=7) * 2).persist()
    assert x.sum().compute(scheduler="sync") == 9900
    assert x.sum().compute(scheduler="threads") == 9900


def test_numpy_functions_of_the_issue_dispatch_and_match_numpy():
    a = np.random.default_rng(0).random((7, 5))
    a[1, 2] = np.nan
    b = np.random.default_rng(1).random((7, 5))
    x, y = ga.from_array(a, chunks=(3, 2)), ga.from_array(b, chunks=(2, 3))
    cases = [
        lambda m, p, q: m.sum(q, axis=0), lambda m, p, q: m.mean(q, axis=1), lambda m, p, q: m.std(q),
        lambda m, p, q: m.var(q, axis=0, ddof=1), lambda m, p, q: m.min(q), lambda m, p, q: m.argmin(q),
        lambda m, p, q: m.argmax(q, axis=0), lambda m, p, q: m.prod(q, axis=1), lambda m, p, q: m.all(q > 0.01),
        lambda m, p, q: m.any(q > 0.9, axis=0), lambda m, p, q: m.nansum(p, axis=0), lambda m, p, q: m.nanmean(p),
        lambda m, p, q: m.cumsum(q, axis=1), lambda m, p, q: m.dot(q, q.T), lambda m, p, q: m.matmul(q.T, q),
        lambda m, p, q: m.concatenate([q, q], axis=1), lambda m, p, q: m.stack([q, q]),
        lambda m, p, q: m.reshape(q, (35,)), lambda m, p, q: m.where(q > 0.5, q, 0),
        lambda m, p, q: m.clip(q, 0.2, 0.8), lambda m, p, q: m.isclose(q, q + 1e-12),
        lambda m, p, q: m.allclose(q, q + 1e-12), lambda m, p, q: m.transpose(q),
    ]
    for case in cases:
        got, want = case(np, x, y), case(np, a, b)
        assert isinstance(got, ga.Array)  # dispatched, lazy
        np.testing.assert_allclose(np.asarray(got), want, equal_nan=True)  # np.asarray of 0-d results too


def test_methods_reach_the_operation_modules_through_one_bound_table():
    """core imports no operation module: Array's methods call core.OPERATIONS, which graphflow.array fills once."""
    from graphflow.array import core, elementwise, reductions, slicing

    ops = core.OPERATIONS
    assert ops.getitem is slicing.getitem and ops.elemwise is elementwise.elemwise and ops.sum is reductions.sum
    assert all(callable(getattr(ops, name)) for name in core.ArrayOperations.__slots__)
    with pytest.raises(RuntimeError, match="not bound yet"):
        core.ArrayOperations().getitem
    with pytest.raises(TypeError, match=r"missing \[.*'transpose'.*unknown \['typo'\]"):
        core.bind_operations(getitem=slicing.getitem, typo=len)
    assert ops.getitem is slicing.getitem  # a refused binding changes nothing
    x = ga.ones((4, 4), chunks=2)
    assert (x + 1)[0].sum().compute() == 8.0 and float(np.sum(np.sin(x) * 0)) == 0.0
