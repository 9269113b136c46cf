"""``pad``: numpy's padding modes, one axis after another, as numpy does.

numpy pads axis 0, then axis 1 of the result, and so on; so corners come out
of the earlier axes' padding.  Doing the same here keeps every mode exact:

- ``constant``/``empty``: new blocks filled with the value;
- ``edge``, ``reflect``, ``symmetric``, ``wrap``: the padding is a gather of
  existing positions along the axis, found by padding ``arange(n)`` with numpy
  itself (so widths larger than the axis wrap or reflect as numpy's do);
  ``reflect_type="odd"`` (rare) runs numpy.pad on blocks that hold the whole axis;
- ``linear_ramp``: ``linspace`` from the end value to the edge, from the edge slice;
- ``maximum``/``minimum``/``mean``/``median``: a reduction over ``stat_length``
  elements at each end, repeated (rounded to integers for integer arrays);
- a callable: the whole array in one block, handed to ``numpy.pad``.

The original blocks are kept; each side adds blocks of its own.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.arange(5, chunks=2)
    >>> pad(x, (2, 3), mode="reflect").compute()
    array([2, 1, 0, 1, 2, 3, 4, 3, 2, 1])
"""

from __future__ import annotations

import numpy as np

from .blockwise import map_blocks
from .core import Array
from .creation import asarray, full
from .manipulation import concatenate
from .rechunk import rechunk
from .reorder import repeat

__all__ = ["pad", "pad_axis"]

_GATHER = ("edge", "reflect", "symmetric", "wrap")
_STATS = {"maximum": np.max, "minimum": np.min, "mean": np.mean, "median": np.median}


def _pairs(value, ndim, what, integral=False):
    """``value`` broadcast to one (before, after) pair per axis."""
    arr = np.asarray(value)
    if integral:
        if arr.dtype.kind not in "iu":
            raise TypeError(f"`{what}` must be of integral type.")
        if (arr < 0).any():
            raise ValueError("index can't contain negative values")
    try:
        return np.broadcast_to(arr, (ndim, 2)).tolist()
    except ValueError:
        raise ValueError(f"unable to broadcast `{what}` of shape {arr.shape} to ({ndim}, 2)") from None


def _cut(x, axis, sl):
    return x[(slice(None),) * axis + (sl,)]


def _side(x, axis, width, fill):
    shape = list(x.shape)
    shape[axis] = width
    chunks = tuple((width,) if d == axis else x.chunks[d] for d in range(x.ndim))
    return full(tuple(shape), fill, dtype=x.dtype, chunks=chunks)


def _ramp(edge, end, width, axis, dtype, reverse):
    out = np.linspace(end, edge.squeeze(axis), num=width, endpoint=False, dtype=dtype, axis=axis)
    return np.flip(out, axis) if reverse else out


def _stat_side(x, axis, width, length, func, front):
    n = x.shape[axis]
    length = n if length is None else min(int(length), n)
    if length == 0:
        raise ValueError("stat_length of 0 yields no value for padding")
    region = _cut(x, axis, slice(0, length) if front else slice(n - length, n))
    region = rechunk(region, tuple(-1 if d == axis else region.chunks[d] for d in range(x.ndim)))
    chunks = tuple((1,) if d == axis else region.chunks[d] for d in range(x.ndim))
    stat = map_blocks(_stat_block, region, func, axis, x.dtype, dtype=x.dtype, chunks=chunks)
    return repeat(stat, width, axis=axis)


def _stat_block(block, func, axis, dtype):
    out = func(block, axis=axis, keepdims=True)
    if np.dtype(dtype).kind in "iu":
        out = np.round(out)
    return out.astype(dtype)


def pad_axis(x, axis, before, after, mode="constant", **kwargs) -> Array:
    """``x`` padded along one axis only; modes and keywords as `pad`'s (for that axis's pair)."""
    if before == 0 and after == 0:
        return x
    n = x.shape[axis]
    if n == 0 and mode not in ("constant", "empty"):
        raise ValueError(f"can't extend empty axis {axis} using modes other than 'constant' or 'empty'")
    parts = [None, x, None]
    if mode in ("constant", "empty"):
        values = kwargs.get("constant_values", (0, 0)) if mode == "constant" else (0, 0)
        parts[0] = _side(x, axis, before, values[0]) if before else None
        parts[2] = _side(x, axis, after, values[1]) if after else None
    elif mode in _GATHER:
        if kwargs.get("reflect_type", "even") == "odd":
            return _in_one_block(x, axis, before, after, mode, {"reflect_type": "odd"})
        where = np.pad(np.arange(n), (before, after), mode=mode)
        parts[0] = _cut(x, axis, where[:before]) if before else None
        parts[2] = _cut(x, axis, where[before + n:]) if after else None
    elif mode == "linear_ramp":
        ends = kwargs.get("end_values", (0, 0))
        for k, (width, edge, end) in enumerate([(before, slice(0, 1), ends[0]), (after, slice(n - 1, n), ends[1])]):
            if width:
                e = _cut(x, axis, edge)
                chunks = tuple((width,) if d == axis else e.chunks[d] for d in range(x.ndim))
                parts[2 * k] = map_blocks(_ramp, e, end, width, axis, x.dtype, k == 1, dtype=x.dtype, chunks=chunks)
    elif mode in _STATS:
        lengths = kwargs.get("stat_length", (None, None))
        parts[0] = _stat_side(x, axis, before, lengths[0], _STATS[mode], True) if before else None
        parts[2] = _stat_side(x, axis, after, lengths[1], _STATS[mode], False) if after else None
    else:
        raise ValueError(f"mode '{mode}' is not supported")
    parts = [p for p in parts if p is not None]
    return concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]


def _pad_one_axis(block, axis, before, after, mode, kwargs):
    widths = [(0, 0)] * block.ndim
    widths[axis] = (before, after)
    return np.pad(block, widths, mode=mode, **kwargs)


def _in_one_block(x, axis, before, after, mode, kwargs):
    """numpy.pad itself on blocks holding the whole axis (for the rare modes not built from pieces)."""
    whole = rechunk(x, tuple(-1 if d == axis else x.chunks[d] for d in range(x.ndim)))
    chunks = tuple((x.shape[axis] + before + after,) if d == axis else whole.chunks[d] for d in range(x.ndim))
    return map_blocks(_pad_one_axis, whole, axis, before, after, mode, kwargs, dtype=x.dtype, chunks=chunks)


def _pad_whole(block, pad_width, mode, kwargs):
    return np.pad(block, pad_width, mode=mode, **kwargs)


def pad(array, pad_width, mode="constant", **kwargs) -> Array:
    """``numpy.pad``: see the module docstring for how each mode is built."""
    x = asarray(array)
    widths = _pairs(pad_width, x.ndim, "pad_width", integral=True)
    if callable(mode):
        whole = rechunk(x, tuple(-1 for _ in range(x.ndim)))
        shape = tuple(((n + b + a),) for n, (b, a) in zip(x.shape, widths))
        return map_blocks(_pad_whole, whole, widths, mode, kwargs, dtype=x.dtype, chunks=shape)
    allowed = {"constant": {"constant_values"}, "empty": set(), "edge": set(), "wrap": set(),
               "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}, "linear_ramp": {"end_values"},
               "maximum": {"stat_length"}, "minimum": {"stat_length"}, "mean": {"stat_length"},
               "median": {"stat_length"}}
    if mode not in allowed:
        raise ValueError(f"mode '{mode}' is not supported")
    bad = set(kwargs) - allowed[mode]
    if bad:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {bad}")
    per_axis = {k: _pairs(v, x.ndim, k) for k, v in kwargs.items() if k != "reflect_type"}
    if "stat_length" in kwargs:
        _pairs(kwargs["stat_length"], x.ndim, "stat_length", integral=kwargs["stat_length"] is not None)
    for axis, (before, after) in enumerate(widths):
        opts = {k: v[axis] for k, v in per_axis.items()}
        if "reflect_type" in kwargs:
            opts["reflect_type"] = kwargs["reflect_type"]
        x = pad_axis(x, axis, before, after, mode, **opts)
    return x
