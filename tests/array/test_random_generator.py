"""graphflow.array.random's Generator API against numpy's generator, and its independence from chunking.

The reference is numpy itself: `_numpy_reference` rebuilds the documented
scheme (a generator's n-th call uses sub-seed n of ``default_rng(seed)``;
tile t draws ``default_rng([sub, TAG, *t]).<method>(tile shape)``) with numpy
alone and the graphflow array must equal it bit for bit, over chunkings that
do and do not line up with the tiles.  Then: dtypes as numpy's, numpy's
errors for bad parameters, empty and 0-d sizes, the global-draw methods
(choice without replacement, permutation), the module functions and ``seed``,
and the per-block ``random()`` the benchmarks rely on.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.array as ga
from graphflow.array import random_tiles
from graphflow.array.generator import DISTRIBUTIONS

# One valid argument tuple per distribution (numpy's positional order).
ARGS = {
    "beta": (2.0, 3.0), "binomial": (10, 0.3), "chisquare": (3.0,), "exponential": (2.0,), "f": (3.0, 5.0),
    "gamma": (2.0, 1.5), "geometric": (0.3,), "gumbel": (1.0, 2.0), "hypergeometric": (5, 7, 4),
    "laplace": (0.0, 2.0), "logistic": (1.0, 0.5), "lognormal": (0.0, 0.5), "logseries": (0.6,),
    "negative_binomial": (3, 0.4), "noncentral_chisquare": (3.0, 1.0), "noncentral_f": (3.0, 5.0, 1.0),
    "normal": (10.0, 2.0), "pareto": (3.0,), "poisson": (4.0,), "power": (2.0,), "rayleigh": (2.0,),
    "standard_cauchy": (), "standard_exponential": (), "standard_gamma": (2.0,), "standard_normal": (),
    "standard_t": (5.0,), "triangular": (0.0, 1.0, 3.0), "uniform": (-1.0, 2.0), "vonmises": (0.0, 2.0),
    "wald": (1.0, 2.0), "weibull": (1.5,), "zipf": (2.0,), "random": (),
}
# A parameter numpy rejects, per distribution that has one to reject.
BAD = {"normal": (0.0, -1.0), "beta": (-1.0, 2.0), "poisson": (-1.0,), "binomial": (10, 1.5),
       "uniform": (0.0, np.inf), "gamma": (-1.0,), "triangular": (2.0, 1.0, 0.0)}
CHUNKINGS = [(30, 29), (10, 10), (7, 29), (8, 13), (1, 29)]


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 8 x 8 (64 elements): many tiles, and blocks that do and do not line up with them, in a small array."""
    monkeypatch.setattr(random_tiles, "TILE_ELEMENTS", 64)


def _numpy_reference(seed, call, method, shape, *args, params=None, **fixed):
    """Call number ``call`` of ``default_rng(seed).<method>(*args, size=shape)``, built with numpy alone.

    ``params`` broadcast to ``shape`` (each tile reads its part); ``fixed`` keywords go to every tile as they are.
    """
    seeds = np.random.default_rng(seed)
    for _ in range(call + 1):
        sub = int(seeds.integers(0, 2**63))
    tile = random_tiles.tile_shape(shape)
    out = None
    for t in itertools.product(*[range(-(-s // ts)) for s, ts in zip(shape, tile)]):
        lo = [i * ts for i, ts in zip(t, tile)]
        hi = [min(a + ts, s) for a, ts, s in zip(lo, tile, shape)]
        region = tuple(slice(a, b) for a, b in zip(lo, hi))
        kw = {k: (np.broadcast_to(v, shape)[region] if np.ndim(v) else v) for k, v in (params or {}).items()}
        vals = getattr(np.random.default_rng([sub, random_tiles.TILE_TAG, *t]), method)(
            *args, size=tuple(b - a for a, b in zip(lo, hi)), **kw, **fixed)
        if out is None:
            out = np.empty(shape + vals.shape[len(shape):], dtype=vals.dtype)
        out[region] = vals
    return out


@pytest.mark.parametrize("method", sorted(DISTRIBUTIONS))
@pytest.mark.api(*[f"Generator.{m}" for m in DISTRIBUTIONS], "random.default_rng", "random.Generator")
def test_every_distribution_equals_numpys_tiles_for_any_chunking(method, small_tiles):
    shape = (30, 29)                                        # 4 x 4 tiles of 8 x 8
    expected = _numpy_reference(11, 0, method, shape, *ARGS[method])
    for chunks in CHUNKINGS:
        got = ga.random.default_rng(11).__getattribute__(method)(*ARGS[method], size=shape, chunks=chunks)
        assert got.shape == shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got.compute(), expected)


@pytest.mark.parametrize("method", sorted(BAD))
@pytest.mark.api(*[f"Generator.{m}" for m in BAD])
def test_bad_parameters_raise_numpys_error_when_built(method):
    with pytest.raises((ValueError, OverflowError)) as numpys:
        getattr(np.random.default_rng(0), method)(*BAD[method], size=3)
    with pytest.raises(type(numpys.value)):                           # numpy's own type, when the array is built
        getattr(ga.random.default_rng(0), method)(*BAD[method], size=3, chunks=2)


@pytest.mark.api("Generator.normal", "Generator.uniform")
def test_array_parameters_broadcast_like_numpy_and_stay_chunking_independent(small_tiles):
    loc = np.arange(290.0)
    scale = np.linspace(0.5, 2.0, 300)[:, None]
    expected = _numpy_reference(5, 0, "normal", (300, 290), params={"loc": loc, "scale": scale})
    for chunks in [(300, 290), (64, 50), (150, 7)]:
        got = ga.random.default_rng(5).normal(loc=loc, scale=scale, size=(300, 290), chunks=chunks)
        np.testing.assert_array_equal(got.compute(), expected)
    lazy_loc = ga.from_array(loc, chunks=100)                          # a graphflow Array parameter
    got = ga.random.default_rng(5).normal(loc=lazy_loc, scale=scale, size=(300, 290), chunks=(64, 50))
    np.testing.assert_array_equal(got.compute(), expected)
    assert ga.random.default_rng(0).uniform([0.0, 10.0], [1.0, 11.0]).shape == (2,)   # size from the parameters
    with pytest.raises(ValueError, match="shape mismatch"):
        ga.random.default_rng(0).normal(np.zeros(4), size=3)


@pytest.mark.api("Generator.integers", "random.default_rng")
def test_integers_dtypes_endpoint_and_chunking():
    for dtype, endpoint in [(np.int64, False), (np.int8, True), (np.uint16, False)]:
        expected = _numpy_reference(3, 0, "integers", (500,), 2, 9, dtype=dtype, endpoint=endpoint)
        for chunks in [500, 64, 33]:
            got = ga.random.default_rng(3).integers(2, 9, size=500, dtype=dtype, endpoint=endpoint, chunks=chunks)
            assert got.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(got.compute(), expected)
    assert ga.random.default_rng(3).integers(5, size=400).compute().max() < 5      # [0, low) without high
    with pytest.raises(ValueError):
        ga.random.default_rng(3).integers(5, 2, size=3)


@pytest.mark.api("Generator.random", "Generator.standard_normal", "Generator.normal")
def test_successive_calls_differ_and_repeat_from_the_seed():
    rng = ga.random.default_rng(8)
    a, b = rng.random(size=50, chunks=7), rng.random(size=50, chunks=7)
    assert not np.array_equal(a.compute(), b.compute())
    np.testing.assert_array_equal(b.compute(), _numpy_reference(8, 1, "random", (50,)))
    assert rng.standard_normal(size=4, dtype=np.float32).dtype == np.float32
    assert ga.random.default_rng(None).normal(size=3).compute().shape == (3,)
    child = ga.random.default_rng(ga.random.default_rng(1))        # a Generator seeds a new one
    assert child.random(size=3).compute().shape == (3,)


@pytest.mark.parametrize("size", [(), (0,), (0, 5), (3, 0)])
@pytest.mark.api("Generator.normal", "Generator.integers", "Generator.choice")
def test_empty_and_0_d_sizes(size):
    rng = ga.random.default_rng(2)
    for arr, ref in [(rng.normal(size=size), np.random.default_rng(0).normal(size=size)),
                     (rng.integers(0, 5, size=size), np.random.default_rng(0).integers(0, 5, size=size)),
                     (rng.choice(4, size=size), np.random.default_rng(0).choice(4, size=size))]:
        got = arr.compute()
        assert got.shape == np.shape(ref) and got.dtype == np.asarray(ref).dtype


@pytest.mark.api("Generator.choice")
def test_choice_with_replacement_and_weights():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    pop = np.array([10, 20, 30, 40])
    expected = _numpy_reference(4, 0, "choice", (2000,), pop, p=p)
    for chunks in [2000, 300, 7]:
        got = ga.random.default_rng(4).choice(pop, size=2000, p=p, chunks=chunks).compute()
        np.testing.assert_array_equal(got, expected)
    assert 20 not in expected and abs((expected == 30).mean() - 0.6) < 0.05
    population = ga.from_array(pop, chunks=2)                       # a graphflow population works too
    np.testing.assert_array_equal(ga.random.default_rng(4).choice(population, size=2000, p=p, chunks=300).compute(),
                                  expected)
    with pytest.raises(ValueError):
        ga.random.default_rng(4).choice(pop, size=3, p=[0.5, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError):
        ga.random.default_rng(4).choice(np.zeros((2, 2)), size=3)


@pytest.mark.parametrize("chunks", [10, 3, 1])
@pytest.mark.api("Generator.choice")
def test_choice_without_replacement_is_a_sample_and_chunking_independent(chunks):
    got = ga.random.default_rng(6).choice(50, size=10, replace=False, chunks=chunks)
    ref = ga.random.default_rng(6).choice(50, size=10, replace=False, chunks=10).compute()
    out = got.compute()
    np.testing.assert_array_equal(out, ref)
    assert len(set(out.tolist())) == 10 and out.min() >= 0 and out.max() < 50 and got.chunks[0][0] == chunks
    with pytest.raises(ValueError, match="larger sample"):
        np.random.default_rng(0).choice(5, size=6, replace=False)
    with pytest.raises(ValueError, match="larger sample"):
        ga.random.default_rng(6).choice(5, size=6, replace=False)


@pytest.mark.parametrize("chunks", [(12, 3), (5, 3), (1, 2)])
@pytest.mark.api("Generator.permutation", "random.permutation")
def test_permutation_of_an_int_and_of_an_array(chunks):
    perm = ga.random.default_rng(9).permutation(12, chunks=chunks[0]).compute()
    assert sorted(perm.tolist()) == list(range(12))
    np.testing.assert_array_equal(perm, ga.random.default_rng(9).permutation(12).compute())
    x = np.arange(36).reshape(12, 3)
    shuffled = ga.random.default_rng(9).permutation(ga.from_array(x, chunks=chunks)).compute()
    np.testing.assert_array_equal(np.sort(shuffled, axis=0), x)      # rows moved whole
    assert not np.array_equal(shuffled, x)
    sub = int(np.random.default_rng(9).integers(0, 2**63))             # the documented index: numpy's permutation
    np.testing.assert_array_equal(shuffled, x[np.random.default_rng(sub).permutation(12)])
    with pytest.raises(np.exceptions.AxisError):
        ga.random.default_rng(9).permutation(ga.asarray(np.float64(1.0)))


@pytest.mark.api("Generator.multinomial", "Generator.multivariate_hypergeometric", "random.multinomial")
def test_draws_with_a_trailing_dimension():
    pvals = [0.2, 0.3, 0.5]
    expected = _numpy_reference(1, 0, "multinomial", (300, 4), 20, pvals)
    for chunks in [(300, 4), (50, 3)]:
        got = ga.random.default_rng(1).multinomial(20, pvals, size=(300, 4), chunks=chunks)
        assert got.shape == (300, 4, 3)
        np.testing.assert_array_equal(got.compute(), expected)
    mh = ga.random.default_rng(1).multivariate_hypergeometric([3, 4, 5], 6, size=40, chunks=7).compute()
    assert mh.shape == (40, 3) and (mh.sum(axis=1) == 6).all() and (mh <= [3, 4, 5]).all()
    with pytest.raises(ValueError):
        ga.random.default_rng(1).multinomial(5, [0.7, 0.7, 0.1], size=3)


@pytest.mark.parametrize("method", ["normal", "poisson", "exponential", "binomial"])
def test_moments_are_those_of_the_distribution(method):
    x = getattr(ga.random.default_rng(0), method)(*ARGS[method], size=200_000, chunks=30_000).compute()
    ref = getattr(np.random.default_rng(0), method)(*ARGS[method], size=200_000)
    assert abs(x.mean() - ref.mean()) < 6 * ref.std() / np.sqrt(len(x))      # two samples' means
    assert abs(x.std() - ref.std()) < 0.02 * ref.std()


PER_BLOCK = ("random", "normal", "standard_normal", "uniform")     # the module's chunk-dependent functions


@pytest.mark.api(*[f"random.{m}" for m in DISTRIBUTIONS if m not in PER_BLOCK],
                 "random.seed", "random.choice", "random.permutation", "random.random_integers", "random.randint",
                 "random.random_sample", "random.random", "random.normal", "random.standard_normal",
                 "random.uniform", "random.RandomState")
def test_module_functions_and_seed():
    for method in DISTRIBUTIONS:
        ga.random.seed(21)
        a = getattr(ga.random, method)(*ARGS[method], size=40, chunks=9).compute()
        ga.random.seed(21)
        b = getattr(ga.random, method)(*ARGS[method], size=40, chunks=9).compute()
        np.testing.assert_array_equal(a, b)                          # seed() makes unseeded calls repeat
        ref = getattr(np.random.default_rng(0), method)(*ARGS[method], size=40)
        assert a.dtype == ref.dtype and a.shape == ref.shape
        c = getattr(ga.random, method)(*ARGS[method], size=40, chunks=9, seed=3).compute()
        np.testing.assert_array_equal(c, getattr(ga.random, method)(*ARGS[method], size=40, chunks=9, seed=3))
    for name, args in [("choice", (5,)), ("permutation", (7,)), ("random_integers", (1, 6)), ("randint", (1, 6)),
                       ("random_sample", ())]:
        kwargs = {} if name == "permutation" else {"size": 30}
        ga.random.seed(4)
        first = getattr(ga.random, name)(*args, **kwargs).compute()
        ga.random.seed(4)
        np.testing.assert_array_equal(getattr(ga.random, name)(*args, **kwargs).compute(), first)
    r = ga.random.random_integers(1, 6, size=2000, seed=1).compute()
    assert r.min() == 1 and r.max() == 6                              # both ends included
    state = ga.random.RandomState(5)
    x = state.randint(0, 10, size=20, chunks=6).compute()
    state.seed(5)
    np.testing.assert_array_equal(state.randint(0, 10, size=20, chunks=20).compute(), x)
    assert state.random_sample(size=3).dtype == np.float64 and state.tomaxint(size=3).compute().min() >= 0


@pytest.mark.parametrize("chunks", [(2, 2), (3, 1), (4, 4)])
@pytest.mark.api("random.random", "random.random_sample")
def test_per_block_random_keeps_its_documented_blocks(chunks):
    """The benchmarks (benchmarks/workloads/array.py) rebuild block (i, j) as Generator(SFC64([seed, i, j])).random
    (graphflow.array.blockrng)."""
    x = ga.random.random((4, 4), chunks=chunks, seed=7)
    got = x.compute()
    for i, j in itertools.product(range(len(x.chunks[0])), range(len(x.chunks[1]))):
        r0, c0 = sum(x.chunks[0][:i]), sum(x.chunks[1][:j])
        block = np.random.Generator(np.random.SFC64([7, i, j])).random((x.chunks[0][i], x.chunks[1][j]))
        np.testing.assert_array_equal(got[r0:r0 + block.shape[0], c0:c0 + block.shape[1]], block)
    np.testing.assert_allclose(x.sum().compute(), got.sum())            # the streamed reduction agrees


@settings(max_examples=20)
@given(shape=st.lists(st.integers(0, 300), min_size=1, max_size=2).map(tuple), data=st.data())
@pytest.mark.api("Generator.standard_normal")
def test_hypothesis_chunking_never_changes_the_numbers(shape, data):
    chunks = tuple(data.draw(st.integers(1, max(s, 1))) for s in shape)
    got = ga.random.default_rng(13).standard_normal(size=shape, chunks=chunks).compute()
    np.testing.assert_array_equal(got, _numpy_reference(13, 0, "standard_normal", shape))


@pytest.mark.api("Generator.normal", "Generator.choice", "fft.rfft")
def test_draws_and_their_fft_on_a_real_two_worker_cluster():
    """Tile tasks and fft blocks travel to worker processes; the numbers are those drawn in this process."""
    import graphflow as gf

    with gf.Client(n_workers=2, threads_per_worker=1) as client:
        x = ga.random.default_rng(17).normal(size=(600, 64), chunks=(150, 64))
        local = x.compute(scheduler="sync")
        np.testing.assert_array_equal(client.compute(x).result(), local)
        np.testing.assert_allclose(client.compute(ga.fft.rfft(x)).result(), np.fft.rfft(local))
        sample = ga.random.default_rng(3).choice(100, size=40, replace=False, chunks=7)
        np.testing.assert_array_equal(client.compute(sample).result(), sample.compute(scheduler="sync"))
