"""Elementwise operations with numpy broadcasting: operators, ufuncs, ``where``, ``clip``, ``astype``.

`elemwise(op, *args)` lines its inputs up from the last dimension, as numpy
does, and builds one task per output block through `blockwise`; inputs with
different chunks are rechunked to the common refinement first.  The result's
dtype comes from calling ``op`` on one-element arrays of the input dtypes, so
numpy's casting rules (and numpy's exceptions for impossible ones) apply when
the graph is built, not at compute time:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.ones((4, 3), chunks=(2, 3))
    >>> y = ga.arange(3, chunks=1)
    >>> z = x * y + 1                       # (4, 3) with (3,): rows broadcast
    >>> z.chunks, z.dtype
    (((2, 2), (1, 1, 1)), dtype('float64'))
    >>> z.compute()[0]
    array([1., 2., 3.])
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from ..spec import Ref, Task, funcname
from .blockwise import blockwise, infer_dtype
from .core import Array, new_name
from .creation import asarray
from .stream import streamable_op

__all__ = ["elemwise", "is_operand", "astype", "round_", "clip", "where", "isnan"]


def is_operand(obj) -> bool:
    """True for values an Array operator accepts (Arrays, numpy arrays, numbers, lists)."""
    return isinstance(obj, (Array, np.ndarray, numbers.Number, np.generic, list, bool))


def _as_input(obj):
    if isinstance(obj, Array):
        return obj
    if isinstance(obj, (np.ndarray, list)):
        arr = np.asarray(obj)
        return asarray(arr) if arr.ndim else arr[()]
    return obj


def _check_broadcast(arrays) -> tuple:
    """The broadcast shape of known dimensions; numpy's ValueError when they cannot broadcast."""
    ndim = max(a.ndim for a in arrays)
    out = []
    for d in range(ndim):
        size = 1
        for a in arrays:
            k = d - (ndim - a.ndim)
            if k < 0:
                continue
            n = a.shape[k]
            if n != n or n == 1:
                continue
            if size not in (1, n):
                shapes = " ".join(str(a.shape) for a in arrays)
                raise ValueError(f"operands could not be broadcast together with shapes {shapes}")
            size = n
        out.append(size)
    return tuple(out)


def elemwise(op, *args, dtype=None, **kwargs) -> Array:
    """``op(*args)`` block by block with numpy broadcasting (Arrays, numpy arrays or scalars).

    >>> import numpy as np, graphflow.array as ga
    >>> elemwise(np.maximum, ga.arange(4, chunks=2), 2).compute()
    array([2, 2, 2, 3])
    """
    args = [_as_input(a) for a in args]
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        return op(*args, **kwargs)
    _check_broadcast(arrays)
    ndim = max(a.ndim for a in arrays)
    if dtype is None:
        dtype = infer_dtype(op, args, kwargs)
    pairs = []
    for a in args:
        pairs.extend([a, tuple(range(ndim - a.ndim, ndim))] if isinstance(a, Array) else [a, None])
    name = new_name(funcname(op), op, *args, kwargs, str(dtype))
    mirrored = None if kwargs else _mirrored_pair(args)
    if mirrored is not None and op in COMMUTATIVE:
        return _symmetric(op, args, mirrored, dtype, name)
    out = blockwise(op, tuple(range(ndim)), *pairs, dtype=dtype, name=name, **kwargs)
    if op is _astype or streamable_op(op):
        out.recipe = ("elemwise",)  # reductions may evaluate it band by band (graphflow.array.stream)
    return out


# Operations with op(a, b) == op(b, a) bit for bit (so not maximum/minimum: they tell -0.0 from 0.0 by order).
COMMUTATIVE = frozenset({operator.add, operator.mul, operator.and_, operator.or_, operator.xor, operator.eq,
                         operator.ne, np.add, np.multiply, np.logical_and, np.logical_or, np.logical_xor,
                         np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.equal, np.not_equal})


def _mirrored_pair(args):
    """``a`` when ``args`` are ``a`` and ``a.T`` (either order), 2-d with the same chunks on both axes; else None."""
    if len(args) != 2 or not all(isinstance(a, Array) for a in args):
        return None
    for a, t in (args, args[::-1]):
        if (t.recipe == ("transpose", (1, 0)) and len(t.parents) == 1 and t.parents[0].name == a.name
                and a.ndim == 2 and a.chunks[0] == a.chunks[1]):
            return a
    return None


def _symmetric(op, args, a, dtype, name) -> Array:
    """``op(a, a.T)`` for a commutative ``op``: a symmetric result, so each block below the diagonal is
    the transpose of its mirror block above it, and only the upper blocks (and the diagonal) are computed::

        out[i, j] = op(a[i, j], a[j, i].T)          i <= j
        out[j, i] = op(a[j, i], a[i, j].T) = out[i, j].T
    """
    refs = [None if x is a else x for x in args]  # None: the block of a itself; else the transposed array
    nodes = {}
    n = a.numblocks[0]
    for i in range(n):
        for j in range(n):
            key = (name, i, j)
            if i <= j:
                call = [Ref((a.name if r is None else r.name, i, j)) for r in refs]
                nodes[key] = Task(key, op, *call)
            else:
                nodes[key] = Task(key, np.transpose, Ref((name, j, i)))
    return Array(name, a.chunks, dtype, nodes, args)


def _astype(block, dtype, casting):
    return block.astype(dtype, casting=casting, copy=False)


def astype(x: Array, dtype, casting="unsafe") -> Array:
    """``x`` converted to ``dtype`` (no task at all when it already has it)."""
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if not np.can_cast(x.dtype, dtype, casting=casting):
        raise TypeError(f"cannot cast array data from {x.dtype!r} to {dtype!r} according to the rule {casting!r}")
    return elemwise(_astype, x, dtype, casting, dtype=dtype)


def round_(x: Array, decimals=0) -> Array:
    """``numpy.round`` per block."""
    return elemwise(np.round, x, decimals, dtype=x.dtype)


def clip(x, a_min=None, a_max=None) -> Array:
    """``numpy.clip`` per block (bounds may be arrays that broadcast)."""
    if a_min is None and a_max is None:
        raise ValueError("one of max or min must be given")
    return elemwise(np.clip, x, a_min, a_max)


def where(condition, x=None, y=None) -> Array:
    """``numpy.where(condition, x, y)``; with only a condition, the indices of true elements (computed)."""
    if x is None and y is None:
        return tuple(np.nonzero(np.asarray(condition)))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return elemwise(np.where, condition, x, y)


def isnan(x) -> Array:
    """``numpy.isnan`` per block."""
    return elemwise(np.isnan, x)
