"""Reductions as trees: ``chunk`` per block, ``combine`` over groups, ``aggregate`` at the root.

Every block is first reduced on its own (``chunk``, keeping reduced axes as
length 1).  Then, along the reduced axes, groups of up to ``split_every``
partial results are concatenated and ``combine``-d into one, level after level,
until one group is left, which ``aggregate`` turns into the output block.
For a 10x10 grid summed over everything with ``split_every=16``:

    100 chunk sums -> 25 combines (4x4 groups... 3x3 at the edge) -> 4 -> 1 aggregate

Partials may be dicts of arrays: ``mean`` carries ``{"s": sum, "n": count}``,
``var``/``std`` carry ``{"n", "mu", "m2"}`` and merge them with Chan's parallel
formula (no sum of squares, so no catastrophic cancellation), and
``argmin``/``argmax`` carry values with *global* indices.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(12.0).reshape(3, 4), chunks=(2, 3))
    >>> x.sum(axis=0).compute()
    array([12., 15., 18., 21.])
    >>> float(x.var()), int(x.argmax())
    (11.916666666666666, 11)

Chunk tasks have the same block index as their input, so the optimizer's
blockwise rule runs elementwise work and the chunk reduction as one task.
"""

from __future__ import annotations

import builtins
import itertools
import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..spec import Ref, Task
from . import stream
from .blockwise import concat_nested
from .chunks import offsets
from .core import Array, new_name
from .creation import asarray
from .cumulative import cumprod, cumsum

__all__ = ["reduction", "sum", "prod", "min", "max", "any", "all", "mean", "var", "std", "nansum",
           "nanmean", "argmin", "argmax", "cumsum", "cumprod", "SPLIT_EVERY"]

SPLIT_EVERY = 16


def _per_axis(split_every, axes) -> dict:
    if isinstance(split_every, dict):
        return {a: builtins.max(2, int(split_every.get(a, 2))) for a in axes}
    total = SPLIT_EVERY if split_every is None else int(split_every)
    if total < 2:
        raise ValueError("split_every must be at least 2")
    per = builtins.max(2, int(round(total ** (1 / builtins.max(len(axes), 1)))))
    return {a: per for a in axes}


def _combine_step(func, nested, concat_axes, axes):
    return func(concat_nested(nested, concat_axes), axis=axes, keepdims=True)


def _aggregate_step(func, nested, concat_axes, axes, keepdims):
    return func(concat_nested(nested, concat_axes), axis=axes, keepdims=keepdims)


def reduction(x: Array, chunk, combine, aggregate, axis=None, keepdims=False, dtype=None,
              split_every=None, name="reduce", chunk_extra=None) -> Array:
    """A tree reduction of ``x`` over ``axis``: see the module docstring.

    ``chunk(block, *extra, axis=, keepdims=True)``, ``combine(part, axis=,
    keepdims=True)`` and ``aggregate(part, axis=, keepdims=)`` get tuples of
    axes; ``chunk_extra(block_index)`` gives per-block extra arguments.
    """
    axes = tuple(sorted(normalize_axis_tuple(tuple(range(x.ndim)) if axis is None else axis, x.ndim)))
    token = new_name(name, x, chunk, combine, aggregate, axes, keepdims, str(dtype), split_every)
    nodes = {}
    grid = x.numblocks
    cur = token.replace(name, name + "-chunk", 1)
    streamed = None if chunk_extra else stream.plan(x, chunk, combine, axes)
    for idx in itertools.product(*[range(n) for n in grid]):
        key = (cur,) + idx
        if streamed is not None:  # elementwise/random inputs evaluated band by band into the chunk step
            nodes[key] = streamed[0](key, idx)
            continue
        extra = chunk_extra(idx) if chunk_extra else ()
        nodes[key] = Task(key, chunk, Ref((x.name,) + idx), *extra, axis=axes, keepdims=True)
    split = _per_axis(split_every, axes)
    level = 0
    while builtins.any(grid[a] > split[a] for a in axes):
        new_grid = tuple(math.ceil(n / split[d]) if d in axes else n for d, n in enumerate(grid))
        nxt = token.replace(name, f"{name}-combine{level}", 1)
        for idx in itertools.product(*[range(n) for n in new_grid]):
            key = (nxt,) + idx
            nodes[key] = Task(key, _combine_step, combine, _group(cur, idx, grid, axes, split), axes, axes)
        cur, grid, level = nxt, new_grid, level + 1
    out_grid = [range(1) if d in axes else range(n) for d, n in enumerate(grid)]
    for idx in itertools.product(*out_grid):
        out_idx = idx if keepdims else tuple(i for d, i in enumerate(idx) if d not in axes)
        key = (token,) + out_idx
        whole = {a: grid[a] for a in axes}
        nodes[key] = Task(key, _aggregate_step, aggregate, _group(cur, idx, grid, axes, whole), axes, axes, keepdims)
    chunks = [((1,) if keepdims else None) if d in axes else c for d, c in enumerate(x.chunks)]
    chunks = [c for c in chunks if c is not None]
    return Array(token, chunks, dtype, nodes, [x] if streamed is None else streamed[1])


def _group(name, idx, grid, axes, split):
    """Nested Refs to the blocks of ``name`` that output ``idx`` combines (one level per reduced axis)."""
    ranges = []
    for d, i in enumerate(idx):
        if d in axes:
            lo = i * split[d]
            ranges.append(range(lo, builtins.min(lo + split[d], grid[d])))
        else:
            ranges.append(range(i, i + 1))

    def nest(d, prefix):
        if d == len(ranges):
            return Ref((name,) + prefix)
        if d in axes:
            return [nest(d + 1, prefix + (j,)) for j in ranges[d]]
        return nest(d + 1, prefix + (ranges[d][0],))

    return nest(0, ())


def _out_dtype(func, dtype, x):
    if dtype is not None:
        return np.dtype(dtype)
    return func(np.ones((1,), dtype=x.dtype)).dtype


def _require_numeric(x, what):
    if x.dtype.kind not in "biufcmM":
        raise TypeError(f"{what} needs a numeric array, not dtype {x.dtype}")


def _simple(npfunc, what):
    def reduce(x, axis=None, dtype=None, keepdims=False, split_every=None, out=None):
        x = asarray(x)
        if out is not None:
            raise NotImplementedError(f"{what}(out=...) is not supported on graphflow arrays")
        if what in ("sum", "prod"):
            _require_numeric(x, what)
        axes = normalize_axis_tuple(tuple(range(x.ndim)) if axis is None else axis, x.ndim)
        if what in ("min", "max") and builtins.any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"zero-size array to reduction operation {what}imum which has no identity")
        out_dtype = _out_dtype(lambda s: npfunc(s, dtype=dtype) if what in ("sum", "prod") else npfunc(s), dtype, x)
        chunk = _with_dtype(npfunc, dtype) if dtype is not None else npfunc
        return reduction(x, chunk, npfunc, npfunc, axis, keepdims, out_dtype, split_every, name=what)

    reduce.__name__ = what
    reduce.__doc__ = f"``numpy.{what}`` as a tree reduction (``split_every`` partials per combine)."
    return reduce


class _with_dtype:
    """``func(block, dtype=dtype, ...)``: the accumulation dtype of the chunk step."""

    def __init__(self, func, dtype):
        self.func, self.dtype = func, np.dtype(dtype)

    def __call__(self, block, **kwargs):
        return self.func(block, dtype=self.dtype, **kwargs)

    def __graphflow_tokenize__(self):
        return ("with_dtype", self.func, self.dtype)


sum = _simple(np.sum, "sum")  # noqa: A001 - numpy's name
prod = _simple(np.prod, "prod")
min = _simple(np.min, "min")  # noqa: A001
max = _simple(np.max, "max")  # noqa: A001
any = _simple(np.any, "any")  # noqa: A001
all = _simple(np.all, "all")  # noqa: A001
nansum = _simple(np.nansum, "nansum")


# -- mean: sums and counts


def _mean_chunk(block, axis, keepdims, nan=False, dtype=None):
    if nan:
        s = np.nansum(block, axis=axis, keepdims=True, dtype=dtype)
        n = np.sum(~np.isnan(block), axis=axis, keepdims=True)
    else:
        s = np.sum(block, axis=axis, keepdims=True, dtype=dtype)
        n = np.full(s.shape, math.prod(block.shape[a] for a in axis), dtype=np.int64)
    return {"s": s, "n": n}


def _mean_combine(part, axis, keepdims):
    return {"s": np.sum(part["s"], axis=axis, keepdims=True), "n": np.sum(part["n"], axis=axis, keepdims=True)}


def _mean_agg(part, axis, keepdims, dtype=None):
    s = np.sum(part["s"], axis=axis, keepdims=keepdims)
    n = np.sum(part["n"], axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.true_divide(s, n, dtype=dtype)


def _mean_impl(x, axis, dtype, keepdims, split_every, nan):
    from functools import partial

    x = asarray(x)
    _require_numeric(x, "mean")
    out_dtype = np.dtype(dtype) if dtype is not None else np.mean(np.ones(1, x.dtype)).dtype
    acc = out_dtype if x.dtype.kind in "biu" else dtype
    return reduction(x, partial(_mean_chunk, nan=nan, dtype=acc), _mean_combine, partial(_mean_agg, dtype=out_dtype),
                     axis, keepdims, out_dtype, split_every, name="nanmean" if nan else "mean")


def mean(x, axis=None, dtype=None, keepdims=False, split_every=None, out=None):
    """``numpy.mean`` as a tree of (sum, count) partials."""
    return _mean_impl(x, axis, dtype, keepdims, split_every, nan=False)


def nanmean(x, axis=None, dtype=None, keepdims=False, split_every=None, out=None):
    """``numpy.nanmean``: NaNs are left out of sums and counts."""
    return _mean_impl(x, axis, dtype, keepdims, split_every, nan=True)


# -- var / std: counts, means and M2 merged by Chan's formula


def _moment_chunk(block, axis, keepdims):
    n = np.full(np.sum(block, axis=axis, keepdims=True).shape, math.prod(block.shape[a] for a in axis), np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.mean(block, axis=axis, keepdims=True, dtype=np.result_type(block.dtype, np.float64)) \
            if n.size and n.flat[0] else np.zeros(n.shape, np.result_type(block.dtype, np.float64))
    d = block - mu
    m2 = np.sum((d * np.conj(d)).real if np.iscomplexobj(d) else d * d, axis=axis, keepdims=True)
    return {"n": n, "mu": mu, "m2": m2}


def _moment_combine(part, axis, keepdims=True):
    n, mu, m2 = part["n"], part["mu"], part["m2"]
    total = np.sum(n, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_ = np.where(total > 0, np.sum(n * mu, axis=axis, keepdims=True) / np.where(total > 0, total, 1), 0)
    d = mu - mean_
    spread = (d * np.conj(d)).real if np.iscomplexobj(d) else d * d
    m2_ = np.sum(m2, axis=axis, keepdims=True) + np.sum(n * spread, axis=axis, keepdims=True)
    out = {"n": total, "mu": mean_, "m2": m2_}
    if not keepdims:
        out = {k: np.squeeze(v, axis=axis) for k, v in out.items()}
    return out


def _moment_agg(part, axis, keepdims, ddof=0, root=False, dtype=None):
    c = _moment_combine(part, axis, keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = c["m2"] / np.maximum(c["n"] - ddof, 0)
    v = np.sqrt(v) if root else v
    return v.astype(dtype, copy=False) if dtype is not None else v


def _moment(x, axis, dtype, keepdims, ddof, split_every, root):
    from functools import partial

    x = asarray(x)
    _require_numeric(x, "std" if root else "var")
    out_dtype = np.dtype(dtype) if dtype is not None else np.var(np.ones(2, x.dtype)).dtype
    return reduction(x, _moment_chunk, _moment_combine, partial(_moment_agg, ddof=ddof, root=root, dtype=out_dtype),
                     axis, keepdims, out_dtype, split_every, name="std" if root else "var")


def var(x, axis=None, dtype=None, ddof=0, keepdims=False, split_every=None, out=None):
    """``numpy.var``, numerically sound: per-block (count, mean, M2) merged pairwise."""
    return _moment(x, axis, dtype, keepdims, ddof, split_every, root=False)


def std(x, axis=None, dtype=None, ddof=0, keepdims=False, split_every=None, out=None):
    """``numpy.std``: the square root of `var`."""
    return _moment(x, axis, dtype, keepdims, ddof, split_every, root=True)


# -- argmin / argmax with global indices


def _arg_chunk(block, offs, shape, kind, axis, keepdims):
    pick = np.argmin if kind == "min" else np.argmax
    if len(axis) == 1:  # one axis: indices along it, shifted by the block's offset
        a = axis[0]
        local = pick(block, axis=a, keepdims=True)
        return {"v": np.take_along_axis(block, local, axis=a), "i": local + offs[a]}
    flat = pick(block)
    multi = np.unravel_index(flat, block.shape)
    where = tuple(int(m) + o for m, o in zip(multi, offs))
    one = (1,) * block.ndim
    return {"v": block[tuple(int(m) for m in multi)].reshape(one),
            "i": np.full(one, np.ravel_multi_index(where, shape) if shape else 0, dtype=np.int64)}


def _arg_combine(part, axis, keepdims, kind="min"):
    v, i = part["v"], part["i"]
    keep = [d for d in range(v.ndim) if d not in axis]
    order = keep + list(axis)
    v2 = np.transpose(v, order).reshape([v.shape[d] for d in keep] + [-1])
    i2 = np.transpose(i, order).reshape(v2.shape)
    best = np.min(v2, axis=-1, keepdims=True) if kind == "min" else np.max(v2, axis=-1, keepdims=True)
    hit = v2 == best
    if v2.dtype.kind in "fc":
        hit |= np.isnan(v2) & np.isnan(best)
    idx = np.where(hit, i2, np.iinfo(np.int64).max).min(axis=-1)
    shape = [1 if d in axis else v.shape[d] for d in range(v.ndim)]
    return {"v": best.reshape(shape), "i": idx.reshape(shape)}


def _arg_agg(part, axis, keepdims, kind="min"):
    out = _arg_combine(part, axis, keepdims, kind)["i"]
    return out if keepdims else np.squeeze(out, axis=axis)


def _arg(x, axis, keepdims, split_every, kind):
    from functools import partial

    x = asarray(x)
    if x.size == 0:
        raise ValueError(f"attempt to get arg{kind} of an empty sequence")
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    if axis is not None and len(axes) != 1:
        raise TypeError(f"arg{kind} takes one axis, not {axis!r}")
    starts = [offsets(c) for c in x.chunks]
    shape = x.shape

    def extra(idx):
        return (tuple(starts[d][i] for d, i in enumerate(idx)), shape, kind)

    out = reduction(x, _arg_chunk, partial(_arg_combine, kind=kind), partial(_arg_agg, kind=kind), axes,
                    keepdims, np.dtype(np.intp), split_every, name=f"arg{kind}", chunk_extra=extra)
    return out


def argmin(x, axis=None, keepdims=False, split_every=None, out=None):
    """``numpy.argmin``: global indices (flat when ``axis`` is None)."""
    return _arg(x, axis, keepdims, split_every, "min")


def argmax(x, axis=None, keepdims=False, split_every=None, out=None):
    """``numpy.argmax``: global indices (flat when ``axis`` is None)."""
    return _arg(x, axis, keepdims, split_every, "max")


# -- cumulative sums and products: graphflow.array.cumulative (exact across blocks), re-exported here
