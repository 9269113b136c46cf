"""Indexing: ints, slices (any step), ``None``, ``...``, one integer array, boolean masks; ``__setitem__``.

A basic index is planned one dimension at a time: the selected positions of
that dimension are grouped into runs that fall in one input block, and each
run becomes one output block read with a local slice.  ``x[::-1]`` of blocks
``(3, 3)`` reads block 1 reversed, then block 0 reversed:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.arange(6, chunks=3)
    >>> x[::-1].chunks, x[::-1].compute()
    (((3, 3),), array([5, 4, 3, 2, 1, 0]))
    >>> x[x % 2 == 0].chunks                 # a mask: lengths unknown until compute
    ((nan, nan),)

Bounds are checked when the index is applied, with numpy's IndexError.
"""

from __future__ import annotations

import itertools
import math
import operator

import numpy as np

from ..spec import Ref, Task
from .blockwise import unify_chunks
from .chunks import has_unknown, offsets
from .core import Array, new_name
from .creation import asarray, from_array
from .elementwise import elemwise, where
from .rechunk import rechunk
from ..utils.traverse import identity

__all__ = ["getitem", "setitem"]


def _normalize(index, ndim):
    """The index as a tuple with Ellipsis expanded; counts dims it consumes."""
    if not isinstance(index, tuple):
        index = (index,)
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis and not _is_bool_array(i))
    consumed += sum(np.ndim(i) for i in index if _is_bool_array(i))
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed")
    out = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(i)
    if not any(i is Ellipsis for i in index):
        out.extend([slice(None)] * (ndim - consumed))
    return tuple(out)


def _is_bool_array(i):
    return isinstance(i, (np.ndarray, Array)) and i.dtype == bool


def _runs(positions, blocks):
    """Consecutive positions grouped by input block: [(block, local slice, length)]."""
    if len(positions) == 0:
        return [(0, slice(0, 0), 0)]
    bounds = np.asarray(offsets(blocks))
    owner = np.searchsorted(bounds, positions, side="right") - 1
    cuts = np.flatnonzero(np.diff(owner)) + 1
    out = []
    for part, b in zip(np.split(positions, cuts), owner[np.r_[0, cuts]]):
        lo = bounds[b]
        start, stop = int(part[0] - lo), int(part[-1] - lo)
        step = int(part[1] - part[0]) if len(part) > 1 else 1
        end = stop + step
        out.append((int(b), slice(start, end if end >= 0 else None, step), len(part)))
    return out


def getitem(x: Array, index) -> Array:
    """``x[index]``: see the module docstring."""
    index = _normalize(index, x.ndim)
    arrays = [i for i in index if isinstance(i, (np.ndarray, list, Array)) and not _is_bool_array(i)]
    if any(_is_bool_array(i) for i in index):
        return _mask(x, index)
    if len(arrays) > 1:
        raise NotImplementedError("only one integer-array index per call is supported; index in two steps")
    if arrays:
        return _take(x, index)
    return _basic(x, index)


def _basic(x, index):
    plans, out_chunks, d = [], [], 0
    for i in index:
        if i is None:
            plans.append(("new",))
            out_chunks.append((1,))
            continue
        n = x.shape[d]
        if isinstance(i, slice):
            if n != n:
                if i != slice(None):
                    raise ValueError("cannot slice a dimension of unknown length; call .compute_chunk_sizes() first")
                plans.append(("all", d))
                out_chunks.append(x.chunks[d])
                d += 1
                continue
            runs = _runs(np.arange(n)[i], x.chunks[d])
            plans.append(("slice", d, runs))
            out_chunks.append(tuple(r[2] for r in runs))
        else:
            k = operator.index(i)
            if n == n and not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {n}")
            k = k + n if k < 0 else k
            bounds = offsets(x.chunks[d])
            b = int(np.searchsorted(bounds, k, side="right") - 1)
            plans.append(("int", d, b, k - bounds[b]))
        d += 1
    name = new_name("getitem", x, repr(index))
    nodes = {}
    for idx in itertools.product(*[range(len(c)) for c in out_chunks]):
        src, local = [None] * x.ndim, []
        it = iter(idx)
        for plan in plans:
            if plan[0] == "new":
                next(it)
                local.append(None)
            elif plan[0] == "all":
                src[plan[1]] = next(it)
                local.append(slice(None))
            elif plan[0] == "slice":
                b, sl, _ = plan[2][next(it)]
                src[plan[1]] = b
                local.append(sl)
            else:
                src[plan[1]] = plan[2]
                local.append(plan[3])
        key = (name,) + idx
        nodes[key] = Task(key, operator.getitem, Ref((x.name,) + tuple(src)), tuple(local))
    return Array(name, out_chunks, x.dtype, nodes, [x])


def _take_blocks(blocks, locals_, positions, axis, length):
    """Gather rows ``locals_[k]`` of ``blocks[k]`` into output positions ``positions[k]``."""
    first = blocks[0]
    shape = list(first.shape)
    shape[axis] = length
    out = np.empty(shape, dtype=first.dtype)
    for block, loc, pos in zip(blocks, locals_, positions):
        sel = [slice(None)] * first.ndim
        sel[axis] = pos
        out[tuple(sel)] = np.take(block, loc, axis=axis)
    return out


def _take(x, index):
    axis = next(d for d, i in enumerate(index) if isinstance(i, (np.ndarray, list, Array)))
    if any(i is None for i in index) or any(not (isinstance(i, slice) and i == slice(None))
                                            for d, i in enumerate(index) if d != axis):
        return getitem(_take(x, tuple(i if d == axis else slice(None) for d, i in enumerate(index))),
                       tuple(slice(None) if d == axis else i for d, i in enumerate(index)))
    idx = np.asarray(index[axis])
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be 1-d and of integer (or boolean) type")
    n = x.shape[axis]
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"index {int(bad[0])} is out of bounds for axis {axis} with size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    bounds = np.asarray(offsets(x.chunks[axis]))
    owner = np.searchsorted(bounds, idx, side="right") - 1
    step = max(x.chunks[axis]) if x.chunks[axis] else 1
    out_len = tuple(len(idx[s:s + step]) for s in range(0, len(idx), step)) or (0,)
    name = new_name("take", x, idx, axis)
    chunks = list(x.chunks)
    chunks[axis] = out_len
    nodes = {}
    for out in itertools.product(*[range(len(c)) for c in chunks]):
        part = slice(out[axis] * step, out[axis] * step + out_len[out[axis]])
        sub, subowner = idx[part], owner[part]
        used = sorted(set(subowner.tolist())) or [0]
        refs, locs, poss = [], [], []
        for b in used:
            hit = np.flatnonzero(subowner == b)
            src = out[:axis] + (b,) + out[axis + 1:]
            refs.append(Ref((x.name,) + src))
            locs.append(sub[hit] - bounds[b])
            poss.append(hit)
        nodes[(name,) + out] = Task((name,) + out, _take_blocks, refs, locs, poss, axis, out_len[out[axis]])
    return Array(name, chunks, x.dtype, nodes, [x])


def _mask(x, index):
    if len(index) != 1 or np.ndim(index[0]) != x.ndim:
        masks = [i for i in index if _is_bool_array(i)]
        if len(masks) == 1 and isinstance(masks[0], np.ndarray) and masks[0].ndim == 1:
            return getitem(x, tuple(np.flatnonzero(i) if _is_bool_array(i) else i for i in index))
        if len(masks) == 1 and masks[0].ndim == 1:
            axis = next(d for d, i in enumerate(index) if _is_bool_array(i))
            rest = tuple(slice(None) if d == axis else i for d, i in enumerate(index))
            if any(i is None for i in index):
                raise NotImplementedError("a 1-d Array mask cannot be combined with None (np.newaxis)")
            out = _mask_axis(x, masks[0], axis)
            return out if all(isinstance(i, slice) and i == slice(None) for i in rest) else getitem(out, rest)
        raise NotImplementedError("boolean indexing needs one mask with the array's shape "
                                  "(or a 1-d mask along one axis)")
    mask = index[0]
    if tuple(mask.shape) != tuple(x.shape):
        raise IndexError(f"boolean index shape {tuple(mask.shape)} does not match the array's shape {x.shape}")
    if isinstance(mask, np.ndarray):
        mask = from_array(mask, chunks=x.chunks)
    ind = tuple(range(x.ndim))
    _, [(x, _), (mask, _)] = unify_chunks([(x, ind), (mask, ind)])
    name = new_name("mask", x, mask)
    nodes = {}
    for flat, idx in enumerate(itertools.product(*[range(n) for n in x.numblocks])):
        nodes[(name, flat)] = Task((name, flat), operator.getitem, Ref((x.name,) + idx), Ref((mask.name,) + idx))
    return Array(name, ((math.nan,) * x.npartitions,), x.dtype, nodes, [x, mask])


def _compress(block, keep, axis):
    return np.compress(keep, block, axis=axis)


def _mask_axis(x, mask, axis):
    """``x[..., mask, ...]`` for a 1-d boolean Array ``mask`` along ``axis``: block lengths
    along that axis become unknown; the mask is rechunked to ``x``'s blocks there."""
    if mask.shape[0] != x.shape[axis]:
        raise IndexError(f"boolean index did not match indexed array along axis {axis}; size of axis is "
                         f"{x.shape[axis]} but size of corresponding boolean axis is {mask.shape[0]}")
    if has_unknown((x.chunks[axis],)) or has_unknown(mask.chunks):
        raise ValueError("cannot mask along an axis of unknown length; call .compute_chunk_sizes() first")
    mask = rechunk(mask, (x.chunks[axis],))
    name = new_name("mask-axis", x, mask, axis)
    nodes = {}
    for idx in itertools.product(*[range(n) for n in x.numblocks]):
        nodes[(name,) + idx] = Task((name,) + idx, _compress, Ref((x.name,) + idx), Ref((mask.name, idx[axis])), axis)
    chunks = list(x.chunks)
    chunks[axis] = (math.nan,) * x.numblocks[axis]
    return Array(name, chunks, x.dtype, nodes, [x, mask])


def setitem(x: Array, index, value) -> Array:
    """The Array ``x`` with ``x[index] = value``: a boolean mask with a scalar, or ints and
    slices with a scalar or an array (numpy or graphflow) that broadcasts to ``x[index]``."""
    if _is_bool_array(index) and np.ndim(index) == x.ndim:
        if isinstance(value, Array) or np.ndim(value) != 0:
            return _assign_masked(x, index, value)
        return where(index, np.asarray(value, dtype=x.dtype)[()], x)
    if has_unknown(x.chunks):
        raise ValueError("cannot assign into an array with unknown chunk sizes")
    if _has_int_array(index):
        return _assign_fancy(x, index, value)
    if np.ndim(value) != 0 or isinstance(value, Array):
        return _assign_array(x, index, value)
    marks = np.zeros(x.shape, dtype=bool)
    marks[index] = True  # numpy checks the index here; the mask is small next to most data
    hit = from_array(marks, chunks=x.chunks)
    return elemwise(np.where, hit, np.asarray(value, dtype=x.dtype)[()], x, dtype=x.dtype)


def _assign_masked(x, mask, value):
    """``x[mask] = value`` for a full-shape mask and an array ``value``.

    A numpy mask with one value per selected element (numpy's meaning: the
    values fill the selected places in order) is assigned exactly as numpy
    does; otherwise ``value`` must broadcast to ``x.shape`` and each selected
    element takes the value at its own position (``where(mask, value, x)``,
    as dask.array does).
    """
    if not isinstance(mask, Array) and not isinstance(value, Array):
        mask, value = np.asarray(mask), np.asarray(value)
        if tuple(mask.shape) != tuple(x.shape):
            raise IndexError(f"boolean index of shape {mask.shape} does not match the array's shape {x.shape}")
        count = int(mask.sum())
        if value.ndim == 1 and value.shape[0] == count and count != 1:
            full = np.zeros(x.shape, dtype=x.dtype)
            full[mask] = value
            value = full
    value = asarray(value)
    try:
        fits = np.broadcast_shapes(value.shape, x.shape) == tuple(x.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"x[mask] = value needs a value that broadcasts to the array's shape {x.shape} "
                         f"(or, with a numpy mask, one value per selected element); got shape {value.shape}")
    return where(mask, value.astype(x.dtype) if value.dtype != x.dtype else value, x)


def _has_int_array(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (np.ndarray, list)) and not _is_bool_array(np.asarray(i)) and np.ndim(i) > 0
               for i in items)


def _assign_fancy(x, index, value):
    """``x[index] = value`` with one 1-d integer array among ints and slices (numpy's semantics).

    Each block of ``x`` the selection touches is copied and gets the selected
    places that fall in it; ``value`` (a number or a numpy array broadcasting
    to ``x[index]``'s shape) is cut to match.  With repeated positions the last
    value wins, as in numpy.
    """
    if isinstance(value, Array):
        raise NotImplementedError("x[int_array] = graphflow array is not supported; pass a numpy value, "
                                  "or use a boolean mask")
    index = _normalize(index, x.ndim)
    arrays = [d for d, i in enumerate(index) if isinstance(i, (np.ndarray, list)) and np.ndim(i) > 0]
    if len(arrays) != 1 or any(i is None for i in index) or np.ndim(index[arrays[0]]) != 1:
        raise NotImplementedError("x[index] = value takes one 1-d integer array per call, with ints and slices")
    sel, region = [], []  # per dim of x: selected positions (an int for an int index); the region's shape
    for d, i in enumerate(index):
        n = x.shape[d]
        if isinstance(i, slice):
            p = np.arange(n)[i]
        else:
            p = np.asarray(i)
            if p.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            if np.any((p < -n) | (p >= n)):
                bad = int(p[(p < -n) | (p >= n)][0])
                raise IndexError(f"index {bad} is out of bounds for axis {d} with size {n}")
            p = np.where(p < 0, p + n, p) if p.ndim else int(p) + (n if p < 0 else 0)
        sel.append(p)
        if np.ndim(p):
            region.append(len(p))
    # numpy puts the array's dimension first when ints and the array are not side by side (x[0, :, [1, 2]])
    advanced = [d for d, i in enumerate(index) if not isinstance(i, slice)]
    first = advanced != list(range(advanced[0], advanced[-1] + 1))
    at = sum(1 for d in range(arrays[0]) if np.ndim(sel[d]))  # the array's place among the region's dims
    shape = [region[at]] + region[:at] + region[at + 1:] if first else region
    try:
        value = np.broadcast_to(np.asarray(value, dtype=x.dtype), tuple(shape))
    except ValueError:
        raise ValueError(f"shape mismatch: value array of shape {np.shape(value)} could not be broadcast "
                         f"to indexing result of shape {tuple(shape)}") from None
    if first:
        value = np.moveaxis(value, 0, at)
    name = new_name("setitem", x, value, repr(index))
    starts = [offsets(c) for c in x.chunks]
    nodes = {}
    for idx in itertools.product(*[range(n) for n in x.numblocks]):
        key, block = (name,) + idx, Ref((x.name,) + idx)
        local, part, hit, axis = [], value, True, 0
        for d, p in enumerate(sel):
            lo, hi = starts[d][idx[d]], starts[d][idx[d] + 1]
            if np.ndim(p) == 0:
                hit = hit and lo <= p < hi
                local.append(p - lo)
                continue
            inside = (p >= lo) & (p < hi)
            hit = hit and bool(inside.any())
            local.append(p[inside] - lo)
            part = np.compress(inside, part, axis=axis)
            axis += 1
        if hit:
            nodes[key] = Task(key, _assign_positions, block, tuple(local), np.ascontiguousarray(part))
        else:
            nodes[key] = Task(key, identity, block)
    return Array(name, x.chunks, x.dtype, nodes, [x])


def _assign_positions(block, local, part):
    """A copy of ``block`` with ``part`` written at the outer product of the positions in ``local``
    (ints drop their dimension); repeated positions: the last value wins, as in numpy."""
    out = block.copy()
    grids = iter(np.ix_(*[li for li in local if np.ndim(li)]))
    out[tuple(next(grids) if np.ndim(li) else li for li in local)] = part
    return out


def _assign_block(block, local, part):
    out = block.copy()
    out[local] = part
    return out


def _assign_array(x, index, value):
    """``x[index] = value`` for ints and slices: each block of ``x`` the region touches is
    copied and gets the piece of ``value`` (rechunked to the region's runs) that lands in it."""
    index = _normalize(index, x.ndim)
    if any(not isinstance(i, slice) and (i is None or np.ndim(i) != 0) for i in index):
        raise NotImplementedError("x[index] = array needs an index of ints and slices")
    runs, region = [], []  # per dim of x: [(x block, local index, length)], and the region's shape
    for d, i in enumerate(index):
        if isinstance(i, slice):
            r = _runs(np.arange(x.shape[d])[i], x.chunks[d])
            runs.append([t for t in r if t[2]])
            region.append(sum(t[2] for t in r))
        else:
            k = operator.index(i)
            if not -x.shape[d] <= k < x.shape[d]:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {x.shape[d]}")
            k = k + x.shape[d] if k < 0 else k
            b = int(np.searchsorted(offsets(x.chunks[d]), k, side="right") - 1)
            runs.append([(b, k - offsets(x.chunks[d])[b], None)])
    value = asarray(value)
    if 0 in region:
        np.broadcast_shapes(value.shape, tuple(region))  # numpy's error if it cannot fit
        return x
    try:
        np.broadcast_shapes(value.shape, tuple(region))
    except ValueError:
        raise ValueError(f"could not broadcast input array from shape {value.shape} "
                         f"into shape {tuple(region)}") from None
    if value.ndim > len(region) and all(n == 1 for n in value.shape[:value.ndim - len(region)]):
        value = value.reshape(value.shape[value.ndim - len(region):])
    if value.ndim > len(region) or has_unknown(value.chunks):
        raise ValueError(f"could not broadcast input array from shape {value.shape} into shape {tuple(region)}")
    sliced = [rs for rs, i in zip(runs, index) if isinstance(i, slice)]  # the region's dims, in order
    lead = len(region) - value.ndim
    value = rechunk(value, tuple((n,) if n == 1 else tuple(t[2] for t in sliced[lead + d])
                                 for d, n in enumerate(value.shape)))
    value = value.astype(x.dtype) if value.dtype != x.dtype else value
    touched = {}
    for combo in itertools.product(*[range(len(rs)) for rs in runs]):
        src = tuple(runs[d][c][0] for d, c in enumerate(combo))
        vpos = [c for c, i in zip(combo, index) if isinstance(i, slice)][lead:]
        vidx = tuple(0 if value.shape[d] == 1 else p for d, p in enumerate(vpos))
        touched[src] = (tuple(runs[d][c][1] for d, c in enumerate(combo)), Ref((value.name,) + vidx))
    name = new_name("setitem", x, value, repr(index))
    nodes = {}
    for idx in itertools.product(*[range(n) for n in x.numblocks]):
        key, block = (name,) + idx, Ref((x.name,) + idx)
        if idx in touched:
            nodes[key] = Task(key, _assign_block, block, *touched[idx])
        else:
            nodes[key] = Task(key, identity, block)
    return Array(name, x.chunks, x.dtype, nodes, [x, value])
