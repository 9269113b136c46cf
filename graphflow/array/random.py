"""Random Arrays: each block draws from its own generator, seeded by ``(seed, block index)``.

Block ``(i, j)`` of ``random(shape, chunks=c, seed=s)`` is
``Generator(SFC64([s, i, j])).random(block_shape)`` (`blockrng`), so the same seed and
chunks give the same numbers in any process, on any scheduler, and blocks draw
in parallel (numpy's generators release the GIL while filling).  Without a seed
one is drawn from the module's `RandomState` when the array is built, so two
unseeded arrays differ, and ``seed(s)`` makes a script's draws repeat.  These
per-block functions (``random``, ``random_sample``, ``uniform``, ``normal``,
``standard_normal``, ``randint``/``integers``) depend on the chunks, and
`graphflow.array.stream` evaluates them band by band inside reductions.

Everything else is numpy's Generator API (`generator`): ``default_rng(seed)``
gives a `Generator` whose draws do *not* depend on the chunks, and the module
functions dask.array has for the other distributions (``beta``, ``poisson``,
``choice``, ``permutation``, ...) call the module's `RandomState` (or a fresh
one when given ``seed=``).

    >>> import graphflow.array as ga
    >>> a = ga.random.random((4, 4), chunks=2, seed=7)
    >>> b = ga.random.random((4, 4), chunks=2, seed=7)
    >>> a.name == b.name, bool((a.compute() == b.compute()).all())
    (True, True)
"""

from __future__ import annotations

import itertools

import numpy as np

from ..spec import Task
from .blockrng import block_generator
from .chunks import normalize_chunks
from .core import Array, new_name
from .generator import Generator, RandomState, default_rng

__all__ = ["random", "random_sample", "normal", "standard_normal", "uniform", "randint", "integers", "seed",
           "Generator", "RandomState", "default_rng", "choice", "permutation", "multinomial", "random_integers",
           "beta", "binomial", "chisquare", "exponential", "f", "gamma", "geometric", "gumbel", "hypergeometric",
           "laplace", "logistic", "lognormal", "logseries", "negative_binomial", "noncentral_chisquare",
           "noncentral_f", "pareto", "poisson", "power", "rayleigh", "standard_cauchy", "standard_exponential",
           "standard_gamma", "standard_t", "triangular", "vonmises", "wald", "weibull", "zipf"]

# The state behind unseeded calls: `seed` restarts it.
_STATE = RandomState()


def seed(seed=None) -> None:
    """Restart the draws of unseeded calls (``ga.random.normal(size=...)``) from ``seed``."""
    _STATE.seed(seed)


def _state(seed) -> RandomState:
    return _STATE if seed is None else RandomState(seed)


def _draw(method, seed, index, shape, kwargs):
    rng = block_generator(seed, index)
    return getattr(rng, method)(size=shape, **kwargs)


def _make(method, size, chunks, seed, out_dtype, **kwargs) -> Array:
    if size is None:
        size = ()
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
    if seed is None:
        seed = _STATE.draw_seed()
    chunks = normalize_chunks(chunks, shape, out_dtype)
    name = new_name(method, seed, shape, chunks, kwargs)
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in chunks]):
        key = (name,) + idx
        bshape = tuple(chunks[d][i] for d, i in enumerate(idx))
        nodes[key] = Task(key, _draw, method, seed, idx, bshape, kwargs)
    out = Array(name, chunks, out_dtype, nodes)
    out.recipe = ("random", method, seed, kwargs)
    return out


def random(size=None, chunks="auto", seed=None) -> Array:
    """Uniform floats in [0, 1)."""
    return _make("random", size, chunks, seed, np.float64)


random_sample = random


def uniform(low=0.0, high=1.0, size=None, chunks="auto", seed=None) -> Array:
    """Uniform floats in [low, high)."""
    return _make("uniform", size, chunks, seed, np.float64, low=low, high=high)


def normal(loc=0.0, scale=1.0, size=None, chunks="auto", seed=None) -> Array:
    """Normally distributed floats."""
    if np.any(np.asarray(scale) < 0):
        raise ValueError("scale < 0")
    return _make("normal", size, chunks, seed, np.float64, loc=loc, scale=scale)


def standard_normal(size=None, chunks="auto", seed=None) -> Array:
    """Normal floats with mean 0 and standard deviation 1."""
    return _make("standard_normal", size, chunks, seed, np.float64)


def randint(low, high=None, size=None, chunks="auto", seed=None, dtype=np.int64) -> Array:
    """Integers in [low, high) (or [0, low) when ``high`` is omitted)."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError("high <= low")
    return _make("integers", size, chunks, seed, np.dtype(dtype), low=low, high=high, dtype=np.dtype(dtype))


integers = randint


def _module_function(name: str):
    def draw(*args, seed=None, **kwargs) -> Array:
        return getattr(_state(seed), name)(*args, **kwargs)

    draw.__name__ = draw.__qualname__ = name
    draw.__doc__ = (f"``RandomState.{name}`` of the module's state (``seed=``: of a fresh one); the numbers do "
                    f"not depend on the chunks.")
    return draw


# dask.array.random's module functions beyond the per-block ones above (numpy's legacy module-level names).
beta = _module_function("beta")
binomial = _module_function("binomial")
chisquare = _module_function("chisquare")
exponential = _module_function("exponential")
f = _module_function("f")
gamma = _module_function("gamma")
geometric = _module_function("geometric")
gumbel = _module_function("gumbel")
hypergeometric = _module_function("hypergeometric")
laplace = _module_function("laplace")
logistic = _module_function("logistic")
lognormal = _module_function("lognormal")
logseries = _module_function("logseries")
negative_binomial = _module_function("negative_binomial")
noncentral_chisquare = _module_function("noncentral_chisquare")
noncentral_f = _module_function("noncentral_f")
pareto = _module_function("pareto")
poisson = _module_function("poisson")
power = _module_function("power")
rayleigh = _module_function("rayleigh")
standard_cauchy = _module_function("standard_cauchy")
standard_exponential = _module_function("standard_exponential")
standard_gamma = _module_function("standard_gamma")
standard_t = _module_function("standard_t")
triangular = _module_function("triangular")
vonmises = _module_function("vonmises")
wald = _module_function("wald")
weibull = _module_function("weibull")
zipf = _module_function("zipf")
choice = _module_function("choice")
permutation = _module_function("permutation")
multinomial = _module_function("multinomial")
random_integers = _module_function("random_integers")
