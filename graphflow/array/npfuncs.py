"""numpy interoperability: ``__array_ufunc__`` and ``__array_function__`` tables.

``np.sin(x)`` on an Array calls ``x.__array_ufunc__(np.sin, "__call__", x)``,
which builds ``elemwise(np.sin, x)``; ``np.add.reduce`` becomes a sum.
``np.mean(x, axis=0)`` calls ``x.__array_function__``, which looks numpy's
function up in `HANDLED` and calls graphflow's version:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.ones((4, 4), chunks=2)
    >>> type(np.sum(np.sin(x))).__name__
    'Array'

A numpy function graphflow does not implement raises TypeError naming it,
rather than computing everything silently.
"""

from __future__ import annotations

import numpy as np

from . import creation, elementwise, linalg, manipulation, reductions
from . import differences, einsum, grids, gufunc, pad, reorder, selection, summaries, triangle  # arr-routines
from . import (counting, cumulative, elemfuncs, histograms, nanreductions, quantiles, searching,  # arr-ufuncs
               stacking, stats, ufuncs)
from .core import Array

__all__ = ["array_ufunc", "array_function", "HANDLED"]


def _reshape(a, shape=None, order="C", **kw):
    shape = kw.pop("newshape", shape)
    if order != "C":
        raise NotImplementedError("only C-order reshape is supported")
    return manipulation.reshape(a, shape)


def _isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return elementwise.elemwise(np.isclose, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return reductions.all(_isclose(a, b, rtol, atol, equal_nan))


def _result_type(*args):
    return np.result_type(*[getattr(a, "dtype", a) for a in args])


HANDLED: dict = {
    np.sum: reductions.sum, np.prod: reductions.prod, np.mean: reductions.mean, np.std: reductions.std,
    np.var: reductions.var, np.min: reductions.min, np.max: reductions.max, np.amin: reductions.min,
    np.amax: reductions.max, np.argmin: reductions.argmin, np.argmax: reductions.argmax,
    np.any: reductions.any, np.all: reductions.all, np.nansum: reductions.nansum,
    np.nanmean: reductions.nanmean, np.cumsum: reductions.cumsum, np.cumprod: reductions.cumprod,
    np.dot: linalg.dot, np.matmul: linalg.matmul, np.tensordot: linalg.tensordot, np.outer: linalg.outer,
    np.transpose: manipulation.transpose, np.concatenate: manipulation.concatenate,
    np.stack: manipulation.stack, np.reshape: _reshape, np.ravel: manipulation.ravel,
    np.squeeze: manipulation.squeeze, np.expand_dims: manipulation.expand_dims,
    np.moveaxis: manipulation.moveaxis, np.swapaxes: manipulation.swapaxes,
    np.where: elementwise.where, np.clip: elementwise.clip, np.round: elementwise.round_,
    np.around: elementwise.round_, np.isclose: _isclose, np.allclose: _allclose,
    np.shape: lambda a: a.shape, np.ndim: lambda a: a.ndim, np.size: lambda a, axis=None: a.size,
    np.zeros_like: creation.zeros_like, np.ones_like: creation.ones_like,
    np.full_like: creation.full_like, np.empty_like: creation.empty_like,
    np.real: lambda a: elementwise.elemwise(np.real, a), np.imag: lambda a: elementwise.elemwise(np.imag, a),
    np.conj: lambda a: elementwise.elemwise(np.conj, a), np.result_type: _result_type,
}
HANDLED.update(linalg.NUMPY_FUNCTIONS)  # np.linalg.qr/svd/solve/...: graphflow/array/linalg/numpy_api.py

# -- arr-routines: numpy's routines that graphflow's routine modules implement.
HANDLED.update({
    np.diff: differences.diff, np.ediff1d: differences.ediff1d, np.gradient: differences.gradient,
    np.einsum: einsum.einsum, np.vdot: einsum.vdot,
    np.tril: triangle.tril, np.triu: triangle.triu, np.diag: triangle.diag, np.diagonal: triangle.diagonal,
    np.trace: triangle.trace,
    np.flip: reorder.flip, np.fliplr: reorder.fliplr, np.flipud: reorder.flipud, np.roll: reorder.roll,
    np.rot90: reorder.rot90, np.rollaxis: reorder.rollaxis, np.tile: reorder.tile, np.repeat: reorder.repeat,
    np.pad: pad.pad,
    np.take: selection.take, np.choose: selection.choose, np.select: selection.select,
    np.piecewise: selection.piecewise, np.compress: selection.compress, np.extract: selection.extract,
    np.isin: selection.isin, np.union1d: selection.union1d, np.delete: selection.delete,
    np.insert: selection.insert,
    np.isclose: summaries.isclose, np.allclose: summaries.allclose, np.ptp: summaries.ptp,
    np.count_nonzero: summaries.count_nonzero,
    np.apply_along_axis: gufunc.apply_along_axis, np.apply_over_axes: gufunc.apply_over_axes,
    np.meshgrid: grids.meshgrid, np.broadcast_to: grids.broadcast_to, np.broadcast_arrays: grids.broadcast_arrays,
    np.atleast_1d: grids.atleast_1d, np.atleast_2d: grids.atleast_2d, np.atleast_3d: grids.atleast_3d,
    np.ravel_multi_index: grids.ravel_multi_index, np.unravel_index: grids.unravel_index,
})
# -- end arr-routines
# -- arr-ufuncs: numpy's elementwise non-ufuncs and routines (their modules' NUMPY_FUNCTIONS tables).
HANDLED.update(elemfuncs.NUMPY_FUNCTIONS)
HANDLED.update(counting.NUMPY_FUNCTIONS)
HANDLED.update(searching.NUMPY_FUNCTIONS)
for _module in (cumulative, histograms, nanreductions, quantiles, stats):
    HANDLED.update(_module.NUMPY_FUNCTIONS)
HANDLED.update({np.block: stacking.block, np.hstack: stacking.hstack, np.vstack: stacking.vstack,
                np.dstack: stacking.dstack, np.append: stacking.append})
# -- end arr-ufuncs

# ``ufunc.reduce`` and ``ufunc.accumulate`` that are graphflow reductions.
_REDUCE = {np.add: reductions.sum, np.multiply: reductions.prod, np.minimum: reductions.min,
           np.maximum: reductions.max, np.logical_and: reductions.all, np.logical_or: reductions.any}
_ACCUMULATE = {np.add: reductions.cumsum, np.multiply: reductions.cumprod}


def array_ufunc(ufunc, method, inputs, kwargs):
    """Build the Array for ``ufunc.<method>(*inputs)``; NotImplemented for what is not supported."""
    if not all(elementwise.is_operand(i) or isinstance(i, Array) for i in inputs):
        return NotImplemented
    if method == "__call__":
        if ufunc is np.matmul and not kwargs:  # a gufunc: its core dimensions are not elementwise
            return linalg.matmul(*inputs)
        if ufunc.signature is not None:
            return NotImplemented
        out = kwargs.pop("out", None)
        if out is not None and not all(o is None or isinstance(o, Array) for o in out):
            return NotImplemented  # numpy's own arrays as out=: numpy raises its TypeError
        return ufuncs.apply_ufunc(ufunc, inputs, out=out, **kwargs)
    if kwargs.get("out") is not None:
        return NotImplemented
    if method == "reduce" and len(inputs) == 1 and ufunc in _REDUCE:
        return _REDUCE[ufunc](inputs[0], axis=kwargs.get("axis", 0), keepdims=kwargs.get("keepdims", False))
    if method == "accumulate" and ufunc in _ACCUMULATE and len(inputs) == 1:
        return _ACCUMULATE[ufunc](inputs[0], axis=kwargs.get("axis", 0))
    return NotImplemented


def array_function(func, types, args, kwargs):
    """Call graphflow's version of numpy ``func``; TypeError naming it when there is none."""
    impl = HANDLED.get(func)
    if impl is None:
        raise TypeError(f"numpy.{func.__name__} is not implemented for graphflow arrays; "
                        f"call .compute() first, or use map_blocks")
    if not all(issubclass(t, (Array, np.ndarray)) for t in types):
        return NotImplemented
    return impl(*args, **kwargs)
