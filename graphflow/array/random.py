"""Random Arrays: each block draws from its own generator, seeded by ``(seed, block index)``.

Block ``(i, j)`` of ``random(shape, chunks=c, seed=s)`` is
``numpy.random.default_rng([s, i, j]).random(block_shape)``, so the same seed and
chunks give the same numbers in any process, on any scheduler, and blocks draw
in parallel (numpy's generators release the GIL while filling).  Without a seed
one is drawn when the array is built, so two unseeded arrays differ.

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
from .chunks import normalize_chunks
from .core import Array, new_name

__all__ = ["random", "random_sample", "normal", "standard_normal", "uniform", "randint", "integers"]


def _draw(method, seed, index, shape, kwargs):
    rng = np.random.default_rng([seed, *index])
    return getattr(rng, method)(size=shape, **kwargs)


def _make(method, size, chunks, seed, out_dtype, **kwargs) -> Array:
    if size is None:
        size = ()
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
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
