"""graphflow.array.stream (reductions over elementwise/random blocks, band by band) and the
symmetric ``op(x, x.T)`` rewrite in graphflow.array.elementwise."""

import numpy as np
import pytest

import graphflow as gf
import graphflow.array as ga
from graphflow.array import stream
from graphflow.optimize import optimize_graph


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of a few rows, so blocks of tests' sizes are cut into many bands."""
    monkeypatch.setattr(stream, "BAND_BYTES", 3 * 8 * 7)


def _graph(y, stages=None):
    return optimize_graph(gf.base.collections_to_graph([y]), [k for k in _flat(y.__graphflow_keys__())],
                          stages=stages)


def _flat(keys):
    for k in keys:
        if isinstance(k, list):
            yield from _flat(k)
        else:
            yield k


@pytest.mark.parametrize("method, kwargs", [("random", {}), ("uniform", {"low": -1, "high": 3}),
                                            ("normal", {"loc": 1, "scale": 2}), ("standard_normal", {})])
def test_random_drawn_band_by_band_gives_the_same_numbers(small_bands, method, kwargs):
    x = getattr(ga.random, method)(size=(23, 9), chunks=(10, 5), seed=4, **kwargs)
    xn = x.compute()
    assert np.isclose(x.sum().compute(), xn.sum())
    np.testing.assert_allclose(x.sum(axis=1).compute(), xn.sum(axis=1))
    np.testing.assert_allclose((x * 2 - 1).max(axis=0).compute(), (xn * 2 - 1).max(axis=0))
    # the reduction reads no random block at all: each chunk task draws its own rows
    assert not [k for k in _graph(x.sum(), stages=["cull"]) if k[0].startswith(method)]


@pytest.mark.parametrize("reduce", [
    lambda v: v.sum(axis=0), lambda v: v.mean(axis=1), lambda v: v.var(axis=(0, 1)), lambda v: v.std(axis=0),
    lambda v: v.min(axis=1), lambda v: v.prod(axis=0), lambda v: (v > 0.5).any(axis=0),
    lambda v: v.sum(axis=0, dtype=np.float32), lambda v: v.mean(),
])
def test_streamed_reductions_match_numpy(small_bands, reduce):
    a = np.random.default_rng(0).random((17, 11))
    b = np.random.default_rng(1).random(11)
    x = ga.from_array(a, chunks=(6, 4))
    y = ga.from_array(b, chunks=4)
    expr = lambda u, w: np.sin(u) * 2 + (u - w) / 3  # noqa: E731 - one expression for both libraries
    np.testing.assert_allclose(reduce(expr(x, y)).compute(), reduce(expr(a, b)), rtol=1e-6)


def test_streamed_chain_is_one_task_per_chunk_before_optimizing():
    x = ga.random.random((40, 40), chunks=10, seed=0)
    y = (np.exp(x) * 2 - x).sum(split_every=16)
    assert len(_graph(y, stages=["cull"])) == 16 + 1


def test_array_used_elsewhere_is_not_streamed_twice():
    x = ga.random.random((20, 20), chunks=10, seed=0)
    y = (x + x[::-1]).sum()  # x is read by the slice too: its blocks stay tasks, drawn once
    assert len([k for k in _graph(y, stages=["cull"]) if k[0].startswith("random")]) == 4
    xn = x.compute()
    assert np.isclose(y.compute(), (xn + xn[::-1]).sum())


def test_symmetric_op_computes_the_upper_blocks_only():
    a = np.random.default_rng(0).random((9, 9))
    x = ga.from_array(a, chunks=3)
    for y, expect in [(x + x.T, a + a.T), (x.T * x, a.T * a), (x.T == x, a.T == a)]:
        np.testing.assert_array_equal(y.compute(), expect)
        ops = [k for k in _graph(y, stages=["cull"]) if k[0] == y.name]
        transposed = [k for k in ops if _graph(y, stages=["cull"])[k].label == "transpose"]
        assert len(ops) == 9 and len(transposed) == 3  # below the diagonal: views of the blocks above it
    np.testing.assert_array_equal((x - x.T).compute(), a - a.T)  # not commutative: computed as is
    np.testing.assert_allclose((x + x.T).mean(axis=0).compute(), (a + a.T).mean(axis=0))
    r = ga.from_array(a[:, :8], chunks=3)
    np.testing.assert_array_equal((r[:8] + r[:8].T).compute(), a[:8, :8] + a[:8, :8].T)


def test_histogram_of_a_random_draw_is_streamed_and_equals_numpy_s_counts(small_bands):
    """The arr-histogram graph at a small size: each chunk task draws and bins its block band by band; the
    counts are np.histogram's on the same numbers, including values placed exactly on the edges by the
    elementwise step (x rounded to the bin width lands on edges)."""
    x = ga.random.random((60, 50), chunks=(20, 25), seed=9)
    for expr, bins, rng in [(x, 100, (0.0, 1.0)), (ga.round(x * 10) / 10, 10, (0.0, 1.0)),
                            (x * 3 - 1, 7, (-0.5, 1.5))]:
        hist = ga.histogram(expr, bins=bins, range=rng)[0]
        graph = _graph(hist)
        assert not any(k[0] == x.name for k in graph.keys() if isinstance(k, tuple))  # no random block is a task
        np.testing.assert_array_equal(hist.compute(), np.histogram(expr.compute(), bins=bins, range=rng)[0])


def test_a_chunk_with_an_accumulator_gets_every_band_of_its_block(small_bands):
    """A chunk offering ``accumulator`` is fed the block's bands in order (no band partials are made), and
    its result is the chunk result; a histogram with edges given (no accumulator) still bins band by band."""
    fed = []

    class Summer:
        def __call__(self, block, axis, keepdims):
            raise AssertionError("the accumulator takes the bands")

        def accumulator(self, shape, dtype):
            class Acc:
                total = 0.0

                def add(self, band):
                    fed.append(band.shape)
                    self.total += float(band.sum())

                def result(self):
                    return np.full((1, 1), self.total)
            return Acc()

    x = ga.random.random((20, 6), chunks=(20, 6), seed=4)
    func = stream.StreamChunk((("random", "random", 4, (0, 0), {}),), Summer(), np.add.reduce, (0, 1),
                              (20, 6), 8)
    np.testing.assert_allclose(func(), x.compute().sum(keepdims=True))
    assert sum(s[0] for s in fed) == 20 and len(fed) > 1
    edges = np.array([0.0, 0.1, 0.5, 0.55, 1.0])
    hist = ga.histogram(x * 2 - 0.5, bins=edges)[0]
    np.testing.assert_array_equal(hist.compute(), np.histogram(x.compute() * 2 - 0.5, bins=edges)[0])
