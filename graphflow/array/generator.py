"""numpy's Generator API over graphflow Arrays: ``default_rng(seed).normal(size=..., chunks=...)``.

A `Generator` holds a seed and hands out a fresh sub-seed per call (as numpy's
generator advances its state), so two calls give different numbers and the
sequence of calls is reproducible from the seed.  Each call builds its Array
on the tile grid of `random_tiles`, so **the numbers do not depend on the
chunks**: ``default_rng(0).normal(size=n, chunks=a)`` and ``chunks=b`` give
the same array.  The exceptions, drawn whole in one task instead (also
chunking-independent, but not parallel): ``choice(..., replace=False)`` and
``permutation``, whose draws are global by nature (``permutation`` of an
Array draws its row order here, ``len(x)`` integers, and indexes lazily).  A
graphflow Array given as a parameter (``choice``'s population, ``loc=``,
``pvals=``) is computed when the draw is built and sent to the tile tasks as
numpy: parameters are usually small, the samples are not.  The numbers are
not numpy's for the same seed: numpy's one stream cannot be split into
independent tiles.

    >>> import numpy as np, graphflow.array as ga
    >>> rng = ga.random.default_rng(42)
    >>> x = rng.normal(10.0, 2.0, size=(1000, 100), chunks=(250, 100))
    >>> y = ga.random.default_rng(42).normal(10.0, 2.0, size=(1000, 100), chunks=(333, 7))
    >>> bool((x.compute() == y.compute()).all())
    True
    >>> rng.integers(0, 6, size=4, chunks=2).dtype
    dtype('int64')

`RandomState` is the same machinery under numpy's legacy names (``randint``,
``random_sample``, ``seed``), as dask.array's ``RandomState`` offers.
Distribution methods take numpy's arguments (scalars or array-likes that
broadcast to ``size``), plus ``chunks=``; numpy's ValueError comes at once for
bad parameters (a negative scale), as a tiny draw with them is made when the
array is built.
"""

from __future__ import annotations

import numpy as np

from ..spec import Task
from .core import Array, new_name
from .creation import from_array
from .random_tiles import broadcast_params, tiled

__all__ = ["Generator", "RandomState", "default_rng"]

# numpy's distribution methods: their parameters in order, with defaults (a missing default: required).
_REQUIRED = object()
DISTRIBUTIONS = {
    "beta": (("a", _REQUIRED), ("b", _REQUIRED)),
    "binomial": (("n", _REQUIRED), ("p", _REQUIRED)),
    "chisquare": (("df", _REQUIRED),),
    "exponential": (("scale", 1.0),),
    "f": (("dfnum", _REQUIRED), ("dfden", _REQUIRED)),
    "gamma": (("shape", _REQUIRED), ("scale", 1.0)),
    "geometric": (("p", _REQUIRED),),
    "gumbel": (("loc", 0.0), ("scale", 1.0)),
    "hypergeometric": (("ngood", _REQUIRED), ("nbad", _REQUIRED), ("nsample", _REQUIRED)),
    "laplace": (("loc", 0.0), ("scale", 1.0)),
    "logistic": (("loc", 0.0), ("scale", 1.0)),
    "lognormal": (("mean", 0.0), ("sigma", 1.0)),
    "logseries": (("p", _REQUIRED),),
    "negative_binomial": (("n", _REQUIRED), ("p", _REQUIRED)),
    "noncentral_chisquare": (("df", _REQUIRED), ("nonc", _REQUIRED)),
    "noncentral_f": (("dfnum", _REQUIRED), ("dfden", _REQUIRED), ("nonc", _REQUIRED)),
    "normal": (("loc", 0.0), ("scale", 1.0)),
    "pareto": (("a", _REQUIRED),),
    "poisson": (("lam", 1.0),),
    "power": (("a", _REQUIRED),),
    "rayleigh": (("scale", 1.0),),
    "standard_cauchy": (),
    "standard_exponential": (),
    "standard_gamma": (("shape", _REQUIRED),),
    "standard_normal": (),
    "standard_t": (("df", _REQUIRED),),
    "triangular": (("left", _REQUIRED), ("mode", _REQUIRED), ("right", _REQUIRED)),
    "uniform": (("low", 0.0), ("high", 1.0)),
    "vonmises": (("mu", _REQUIRED), ("kappa", _REQUIRED)),
    "wald": (("mean", _REQUIRED), ("scale", _REQUIRED)),
    "weibull": (("a", _REQUIRED),),
    "zipf": (("a", _REQUIRED),),
    "random": (),
}
# Keyword arguments some methods take that are not broadcast parameters (passed to every tile as they are).
_FIXED = {"dtype", "method"}


def _bind(name, spec, args, kwargs):
    """numpy's argument binding for distribution ``name``: (params, size, chunks, fixed keywords)."""
    names = [p for p, _ in spec]
    positional = list(args)
    params = dict(zip(names, positional[:len(names)]))
    rest = positional[len(names):]
    size = rest[0] if rest else kwargs.pop("size", None)
    chunks = rest[1] if len(rest) > 1 else kwargs.pop("chunks", "auto")
    if len(rest) > 2:
        raise TypeError(f"{name}() takes at most {len(names) + 2} positional arguments ({len(args)} given)")
    for p, default in spec:
        if p in kwargs:
            if p in params:
                raise TypeError(f"{name}() got multiple values for argument {p!r}")
            params[p] = kwargs.pop(p)
        elif p not in params:
            if default is _REQUIRED:
                raise TypeError(f"{name}() missing required argument {p!r}")
            params[p] = default
    fixed = {k: kwargs.pop(k) for k in list(kwargs) if k in _FIXED}
    if kwargs:
        raise TypeError(f"{name}() got unexpected keyword arguments {sorted(kwargs)}")
    return params, size, chunks, fixed


def _shape(size, params) -> tuple:
    """The output shape: ``size``, or (as numpy) the parameters' broadcast shape when it is None."""
    if size is None:
        return tuple(np.broadcast_shapes(*[np.shape(v) for v in params.values()]))
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(s) for s in size)


def _probe(method, params, fixed, extra_fixed=None):
    """A small draw with the real parameters: numpy's own errors at build time, and the result dtype."""
    rng = np.random.default_rng(0)
    size = np.broadcast_shapes(*[np.shape(v) for v in params.values()]) or (1,)
    return getattr(rng, method)(size=size, **params, **fixed, **(extra_fixed or {})).dtype


def _materialize(v):
    """A graphflow Array parameter as numpy (parameters are broadcast into the tile tasks)."""
    return v.compute() if isinstance(v, Array) else v


class Generator:
    """numpy's ``Generator`` for graphflow Arrays; every method also takes ``chunks=`` (see the module doc)."""

    def __init__(self, seed=None):
        if isinstance(seed, Generator):
            seed = seed.draw_seed()
        self._seeds = np.random.default_rng(seed)

    def draw_seed(self) -> int:
        """The seed of the next Array this generator builds (graphflow's own; advances the sequence)."""
        return int(self._seeds.integers(0, 2**63))

    def draw(self, method: str, args=(), kwargs=None) -> Array:
        """Distribution ``method`` (a name of numpy's, e.g. "gamma") with numpy's ``args``/``kwargs`` and
        ``chunks=`` (graphflow's own entry point; the named methods call it)."""
        kwargs = dict(kwargs or {})
        params, size, chunks, fixed = _bind(method, DISTRIBUTIONS[method], args, kwargs)
        params = {k: _materialize(v) for k, v in params.items()}
        shape = _shape(size, params)
        broadcast_params(params, shape)                     # numpy's error for a parameter of the wrong shape
        dtype = _probe(method, params, fixed)
        return tiled(method, self.draw_seed(), shape, chunks, dtype, params, fixed)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False, chunks="auto") -> Array:
        """Integers in ``[low, high)`` (``[low, high]`` with ``endpoint=True``); ``[0, low)`` without ``high``."""
        if high is None:
            low, high = 0, low
        params = {"low": _materialize(low), "high": _materialize(high)}
        shape = _shape(size, params)
        broadcast_params(params, shape)
        fixed = {"dtype": np.dtype(dtype), "endpoint": bool(endpoint)}
        out_dtype = _probe("integers", params, fixed)
        return tiled("integers", self.draw_seed(), shape, chunks, out_dtype, params, fixed)

    def choice(self, a, size=None, replace=True, p=None, axis=0, shuffle=True, chunks="auto") -> Array:
        """A sample of ``a`` (an int n: ``arange(n)``; or a 1-d array), with or without replacement, weights ``p``."""
        if axis != 0:
            raise NotImplementedError("choice samples along axis 0 only (as dask.array's)")
        pop = _materialize(a)
        pop = int(pop) if isinstance(pop, (int, np.integer)) else np.asarray(pop)
        if isinstance(pop, np.ndarray) and pop.ndim != 1:
            raise ValueError(f"a must be 1-dimensional or an integer, not {pop.ndim}-dimensional")
        p = None if p is None else np.asarray(_materialize(p), dtype=np.float64)
        shape = () if size is None else _shape(size, {})
        fixed = {"a": pop, "p": p, "replace": bool(replace)}
        np.random.default_rng(0).choice(pop, size=0, replace=True, p=p)   # numpy's errors for a bad a or p
        n = pop if isinstance(pop, int) else len(pop)
        if n == 0 and int(np.prod(shape)) > 0:
            raise ValueError("a cannot be empty unless no samples are taken")
        dtype = np.dtype(np.int64) if isinstance(pop, int) else pop.dtype
        if replace:
            return tiled("choice", self.draw_seed(), shape, chunks, dtype, {}, fixed)
        if int(np.prod(shape)) > n:
            raise ValueError("Cannot take a larger sample than population when replace is False")
        fixed["shuffle"] = bool(shuffle)
        return _whole(_draw_whole, shape, chunks, dtype, "choice", self.draw_seed(), fixed)

    def permutation(self, x, chunks="auto") -> Array:
        """A permuted ``arange(x)`` (an int), or a copy of array ``x`` shuffled along its first axis."""
        if isinstance(x, (int, np.integer)):
            return _whole(_draw_whole, (int(x),), chunks, np.dtype(np.int64), "permutation", self.draw_seed(),
                          {"x": int(x)})
        if not isinstance(x, Array):
            x = from_array(np.asarray(x), chunks=chunks)
        if x.ndim == 0:
            raise np.exceptions.AxisError("x must be an integer or at least 1-dimensional")
        # The index is len(x) integers, drawn here (the array itself is not): rows move, blocks stay lazy.
        index = np.random.default_rng(self.draw_seed()).permutation(x.shape[0])
        return x[index]

    def multinomial(self, n, pvals, size=None, chunks="auto") -> Array:
        """Counts of ``n`` trials over ``len(pvals)`` outcomes; shape ``size + (len(pvals),)``."""
        pvals = np.asarray(_materialize(pvals), dtype=np.float64)
        params = {"n": _materialize(n)}
        shape = _shape(size, params)
        broadcast_params(params, shape)
        _probe("multinomial", params, {}, {"pvals": pvals})
        return tiled("multinomial", self.draw_seed(), shape, chunks, np.int64, params, {"pvals": pvals},
                     extra=(len(pvals),))

    def multivariate_hypergeometric(self, colors, nsample, size=None, method="marginals", chunks="auto") -> Array:
        """Draws of ``nsample`` items from an urn with ``colors[i]`` items of colour i; shape ``size + (k,)``."""
        colors = np.asarray(_materialize(colors), dtype=np.int64)
        fixed = {"colors": colors, "nsample": int(nsample), "method": method}
        np.random.default_rng(0).multivariate_hypergeometric(size=0, **fixed)
        shape = () if size is None else _shape(size, {})
        return tiled("multivariate_hypergeometric", self.draw_seed(), shape, chunks, np.int64, {}, fixed,
                     extra=(len(colors),))

    def __repr__(self):
        return f"{type(self).__name__}(graphflow tiles over PCG64)"


def _add_distribution(name):
    def method(self, *args, **kwargs) -> Array:
        return self.draw(name, args, kwargs)

    params = ", ".join(p if d is _REQUIRED else f"{p}={d!r}" for p, d in DISTRIBUTIONS[name])
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"numpy's ``Generator.{name}({params}{', ' if params else ''}size=None)`` as a graphflow "
                      f"Array, plus ``chunks=``; the numbers do not depend on the chunks.")
    setattr(Generator, name, method)


for _name in DISTRIBUTIONS:
    _add_distribution(_name)


def _draw_whole(method, seed, shape, fixed):
    rng = np.random.default_rng(seed)
    if method == "permutation":
        return rng.permutation(fixed["x"])
    return rng.choice(fixed["a"], size=shape, replace=False, p=fixed["p"], shuffle=fixed["shuffle"])


def _whole(func, shape, chunks, dtype, method, seed, fixed) -> Array:
    """A draw made in one task (it is global), then cut into blocks of ``chunks``."""
    name = new_name(f"rng-whole-{method}", seed, shape)
    whole = Array(name, tuple((s,) for s in shape), dtype,
                  {(name,) + (0,) * len(shape): Task((name,) + (0,) * len(shape), func, method, seed, shape, fixed)})
    return whole.rechunk(chunks)


def default_rng(seed=None) -> Generator:
    """A `Generator` seeded with ``seed`` (an int, a sequence of ints, a SeedSequence, a Generator, or None)."""
    return Generator(seed)


class RandomState(Generator):
    """dask.array's ``RandomState``: the same tiled draws under numpy's legacy names, and ``seed()``."""

    def __init__(self, seed=None):
        super().__init__(seed)

    def seed(self, seed=None) -> None:
        """Restart the sequence of calls from ``seed``."""
        self._seeds = np.random.default_rng(seed)

    def randint(self, low, high=None, size=None, dtype=int, chunks="auto") -> Array:
        """Integers in ``[low, high)`` (numpy's legacy ``randint``)."""
        return self.integers(low, high, size=size, dtype=dtype, chunks=chunks)

    def random_integers(self, low, high=None, size=None, chunks="auto") -> Array:
        """Integers in ``[low, high]``, both ends included (numpy's deprecated ``random_integers``)."""
        if high is None:
            low, high = 1, low
        return self.integers(low, high, size=size, endpoint=True, chunks=chunks)

    def random_sample(self, size=None, chunks="auto") -> Array:
        """Uniform floats in [0, 1)."""
        return self.random(size=size, chunks=chunks)

    def tomaxint(self, size=None, chunks="auto") -> Array:
        """Non-negative integers below ``2**63`` (numpy's legacy ``tomaxint``, removed from numpy 2)."""
        return self.integers(0, np.iinfo(np.int64).max, size=size, chunks=chunks)
