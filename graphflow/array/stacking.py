"""Joining arrays: ``block``, ``hstack``, ``vstack``, ``dstack``, ``append`` (all built on `concatenate`).

Each promotes its inputs to enough dimensions the way numpy does, then
concatenates; so every output block is one input block (cast to the common
dtype), and nothing is copied until compute:

    >>> import numpy as np, graphflow.array as ga
    >>> a, b = ga.ones((2, 2), chunks=1), ga.zeros((2, 1), chunks=1)
    >>> ga.block([[a, b], [b, a]]).shape           # nested lists: the innermost along the last axis
    (4, 3)
    >>> ga.hstack([a, b]).chunks
    ((1, 1), (1, 1, 1))
"""

from __future__ import annotations

from .core import Array
from .creation import asarray
from .manipulation import concatenate, ravel

__all__ = ["block", "hstack", "vstack", "dstack", "append"]


def _with_leading_dims(x: Array, ndim: int) -> Array:
    """``x`` with length-1 axes put in front until it has ``ndim`` dimensions (numpy's promotion in block)."""
    missing = ndim - x.ndim
    return x if missing <= 0 else x[(None,) * missing + (Ellipsis,)]


def _at_least(x, ndim: int) -> Array:
    """numpy's ``atleast_1d/2d/3d`` promotion: 1-d ``(N,)`` is ``(1, N)`` and ``(1, N, 1)``; 2-d gets a last axis."""
    x = asarray(x)
    if x.ndim >= ndim:
        return x
    if ndim == 3 and x.ndim == 2:
        return x[:, :, None]
    if ndim == 3 and x.ndim == 1:
        return x[None, :, None]
    return _with_leading_dims(x, ndim)


def _sequence(tup, what):
    if isinstance(tup, Array) or not isinstance(tup, (list, tuple)):
        raise TypeError(f"arrays to {what} must be passed as a sequence (a list or tuple) of arrays")
    if not tup:
        raise ValueError("need at least one array to concatenate")
    return list(tup)


def hstack(tup) -> Array:
    """``numpy.hstack``: along the second axis (the first for 1-d inputs)."""
    arrays = [_at_least(a, 1) for a in _sequence(tup, "hstack")]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def vstack(tup) -> Array:
    """``numpy.vstack``: along the first axis, 1-d inputs becoming rows."""
    return concatenate([_at_least(a, 2) for a in _sequence(tup, "vstack")], axis=0)


def dstack(tup) -> Array:
    """``numpy.dstack``: along the third axis, inputs promoted as ``numpy.atleast_3d``."""
    return concatenate([_at_least(a, 3) for a in _sequence(tup, "dstack")], axis=2)


def append(arr, values, axis=None) -> Array:
    """``numpy.append``: flattened unless ``axis`` is given."""
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        return concatenate([ravel(arr) if arr.ndim != 1 else arr, ravel(values) if values.ndim != 1 else values])
    return concatenate([arr, values], axis=axis)


def _depth(obj, path=()) -> tuple:
    """``(list depth, largest leaf ndim)`` of a nested ``block`` argument; numpy's errors for bad nesting."""
    if isinstance(obj, tuple):
        raise TypeError(f"arrays{''.join(f'[{i}]' for i in path)} is a tuple. Only lists can be used to arrange "
                        f"blocks, and np.block does not allow implicit conversion from tuple to ndarray.")
    if not isinstance(obj, list):
        return 0, asarray(obj).ndim
    if not obj:
        raise ValueError(f"List at arrays{''.join(f'[{i}]' for i in path)} cannot be empty")
    found = [_depth(o, path + (i,)) for i, o in enumerate(obj)]
    depths = {d for d, _ in found}
    if len(depths) != 1:
        raise ValueError(f"List depths are mismatched at arrays{''.join(f'[{i}]' for i in path)}: "
                         f"found depths {sorted(d + 1 for d in depths)}")
    return found[0][0] + 1, max(n for _, n in found)


def block(arrays) -> Array:
    """``numpy.block``: nested lists of arrays joined, the innermost lists along the last axis."""
    depth, leaf_ndim = _depth(arrays)
    ndim = max(depth, leaf_ndim)

    def join(obj, level):
        if level == depth:
            return _with_leading_dims(asarray(obj), ndim)
        return concatenate([join(o, level + 1) for o in obj], axis=level - depth)

    if depth == 0:
        return asarray(arrays)
    return join(arrays, 0)
