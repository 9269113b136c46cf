"""``norm(x, ord=None, axis=None, keepdims=False)``: numpy's vector and matrix norms over blocks.

Vector norms (one axis, or a 1-d array with ``axis=None``) are reductions:
``sum(|x|^p)^(1/p)``, ``max|x|``, ``min|x|``, ``count_nonzero``.  Matrix norms
(two axes, or a 2-d array with ``axis=None``): ``fro`` and ``1``/``inf`` (and
their negatives) are reductions too; ``2``, ``-2`` and ``nuc`` need singular
values, from `svd` of a tall-and-skinny (or short-and-fat) 2-d array, or from
numpy on blocks holding the whole matrix (both axes rechunked to one block).

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([[3.0, 4.0]]), chunks=1)
    >>> float(norm(x)), float(norm(x, ord=1)), float(norm(x, ord=np.inf, axis=1)[0])
    (5.0, 4.0, 4.0)
"""

from __future__ import annotations

import numpy as np

from .. import reductions
from ..blockwise import map_blocks
from ..creation import asarray
from ..rechunk import rechunk
from .tsqr import svd

__all__ = ["norm"]


def _axes(axis, ndim):
    from numpy.lib.array_utils import normalize_axis_tuple

    if axis is None:
        return tuple(range(ndim))
    return normalize_axis_tuple((axis,) if isinstance(axis, (int, np.integer)) else tuple(axis), ndim)


def _vector(x, ord, axis, keepdims):
    a = abs(x)
    if ord is None or ord == 2:
        return reductions.sum(a * a, axis=axis, keepdims=keepdims) ** 0.5
    if ord == np.inf:
        return reductions.max(a, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return reductions.min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        return reductions.sum((x != 0).astype(a.dtype), axis=axis, keepdims=keepdims)
    if ord == 1:
        return reductions.sum(a, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    return reductions.sum(a ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _block_matrix_norm(block, ord, axes, keepdims):
    return np.linalg.norm(block, ord=ord, axis=axes, keepdims=keepdims)


def _singular(x, ord, axes, keepdims):
    """``2``, ``-2`` and ``nuc``: from singular values."""
    if x.ndim == 2 and (x.numblocks[0] == 1 or x.numblocks[1] == 1):
        s = svd(x)[1]
        out = reductions.max(s) if ord == 2 else reductions.min(s) if ord == -2 else reductions.sum(s)
        return out.reshape((1, 1)) if keepdims else out
    whole = rechunk(x, {axes[0]: -1, axes[1]: -1})
    drop = [] if keepdims else sorted(axes)
    chunks = tuple((1,) if d in axes else c for d, c in enumerate(whole.chunks) if keepdims or d not in axes)
    dtype = np.finfo(np.result_type(x.dtype, np.float64)).dtype
    return map_blocks(_block_matrix_norm, whole, ord=ord, axes=axes, keepdims=keepdims, dtype=dtype,
                      chunks=chunks, drop_axis=drop)


def _matrix(x, ord, axes, keepdims):
    r, c = axes
    a = abs(x)
    if ord is None or ord == "fro":
        return reductions.sum(a * a, axis=axes, keepdims=keepdims) ** 0.5
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        sums = reductions.sum(a, axis=inner, keepdims=True)
        pick = reductions.max if ord in (1, np.inf) else reductions.min
        out = pick(sums, axis=outer, keepdims=True)
        return out if keepdims else out.squeeze(axis=axes)
    if ord in (2, -2, "nuc"):
        return _singular(x, ord, axes, keepdims)
    raise ValueError("Invalid norm order for matrices.")


def norm(x, ord=None, axis=None, keepdims=False):
    """``numpy.linalg.norm``: vector norms over one axis, matrix norms over two.

    ``axis=None``: the 2-norm of the flattened array when ``ord`` is None,
    else a vector norm for 1-d ``x`` and a matrix norm for 2-d ``x``.
    """
    x = asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float64)
    if axis is None and ord is None:
        out = reductions.sum(abs(x) ** 2, axis=None, keepdims=keepdims) ** 0.5
        return out
    if axis is None and x.ndim not in (1, 2):
        raise ValueError("Improper number of dimensions to norm.")
    axes = _axes(axis, x.ndim)
    if len(axes) == 1:
        return _vector(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError("Duplicate axes given.")
        return _matrix(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")
