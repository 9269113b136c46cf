"""Counting values: ``unique`` (with first indices, inverse and counts) and ``bincount``.

Both reduce in two steps: each block is counted on its own (``np.unique`` /
``np.bincount``), then one task merges the partial answers.  How many distinct
values (or bins) there are is only known when that task runs, so the result has
one block of unknown (``nan``) length, as in Dask:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([3, 1, 3, 2, 1, 3]), chunks=4)
    >>> u, first, counts = ga.unique(x, return_index=True, return_counts=True)
    >>> u.shape, u.compute(), first.compute(), counts.compute()
    ((nan,), array([1, 2, 3]), array([1, 3, 0]), array([2, 1, 3]))
    >>> ga.bincount(x).compute()
    array([0, 2, 1, 3])

``return_inverse`` has the input's block lengths: each block looks its values up
(``searchsorted``) in the merged uniques.
"""

from __future__ import annotations

import itertools
import math
import operator

import numpy as np

from ..spec import Ref, Task
from .chunks import has_unknown, offsets
from .core import Array, new_name
from .creation import asarray
from .manipulation import ravel

__all__ = ["unique", "bincount", "NUMPY_FUNCTIONS"]


def _unique_chunk(block, start, want_index, want_counts, equal_nan):
    values, first, counts = np.unique(block, return_index=True, return_counts=True, equal_nan=equal_nan)
    return {"v": values, "i": first.astype(np.intp) + start if want_index else None,
            "c": counts if want_counts else None}


def _unique_merge(parts, want_index, want_counts, equal_nan):
    values = np.concatenate([p["v"] for p in parts])
    # np.unique's first occurrence in the concatenation is in the earliest block holding the value.
    merged, pick, inverse = np.unique(values, return_index=True, return_inverse=True, equal_nan=equal_nan)
    out = {"v": merged}
    if want_index:
        out["i"] = np.concatenate([p["i"] for p in parts])[pick]
    if want_counts:
        counts = np.concatenate([p["c"] for p in parts])
        out["c"] = np.bincount(inverse.ravel(), weights=counts, minlength=len(merged)).astype(np.intp)
    return out


def _inverse_block(block, merged):
    # Exact matches: every value of the block is among the merged uniques (NaNs, collapsed, sort last).
    return np.searchsorted(merged["v"], block).astype(np.intp)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True):
    """``numpy.unique`` of the flattened array: sorted distinct values (one block of unknown length).

    Returns the values alone, or a tuple with first indices, inverse and counts
    as numpy does; the inverse has the input's shape and block lengths.
    """
    if axis is not None:
        raise NotImplementedError("unique(axis=...) is not supported on graphflow arrays; "
                                  "unique of the flattened array is (axis=None)")
    x = asarray(ar)
    if has_unknown(x.chunks) and return_index:
        raise ValueError("unique(return_index=True) needs the block lengths; call .compute_chunk_sizes() first")
    flat = ravel(x) if x.ndim != 1 else x
    starts = offsets(flat.chunks[0]) if not has_unknown(flat.chunks) else (0,) * (flat.numblocks[0] + 1)
    name = new_name("unique", flat, return_index, return_counts, equal_nan)
    nodes = {}
    for j in range(flat.numblocks[0]):
        key = (name + "-chunk", j)
        nodes[key] = Task(key, _unique_chunk, Ref((flat.name, j)), starts[j], return_index, return_counts, equal_nan)
    merged_key = (name + "-merge",)
    nodes[merged_key] = Task(merged_key, _unique_merge, [Ref((name + "-chunk", j)) for j in range(flat.numblocks[0])],
                             return_index, return_counts, equal_nan)
    merged = Array(name + "-merge", (), object, nodes, [flat])
    results = [_field(merged, "v", x.dtype)]
    if return_index:
        results.append(_field(merged, "i", np.intp))
    if return_inverse:
        results.append(_inverse(flat, merged, x))
    if return_counts:
        results.append(_field(merged, "c", np.intp))
    return results[0] if len(results) == 1 else tuple(results)


def _field(merged: Array, field: str, dtype) -> Array:
    name = new_name(f"unique-{field}", merged)
    nodes = {(name, 0): Task((name, 0), operator.getitem, Ref((merged.name,)), field)}
    return Array(name, ((math.nan,),), dtype, nodes, [merged])


def _inverse(flat: Array, merged: Array, x: Array) -> Array:
    """Each block's positions among the uniques: of ``x``'s own blocks when numpy keeps the input's shape."""
    keeps_shape = np.unique(np.zeros((1,) * max(x.ndim, 1)), return_inverse=True)[1].ndim == max(x.ndim, 1)
    src = x if keeps_shape and x.ndim > 1 else flat
    name = new_name("unique-inverse", src, merged)
    nodes = {}
    for idx in itertools.product(*[range(n) for n in src.numblocks]):
        nodes[(name,) + idx] = Task((name,) + idx, _inverse_block, Ref((src.name,) + idx), Ref((merged.name,)))
    return Array(name, src.chunks, np.intp, nodes, [src, merged])


def _bincount_chunk(block, weights, minlength):
    return np.bincount(block, weights=weights, minlength=minlength)


def _bincount_merge(parts, minlength):
    size = max([minlength] + [len(p) for p in parts])
    dtype = np.result_type(*[p.dtype for p in parts]) if parts else np.intp
    out = np.zeros(size, dtype)
    for p in parts:
        out[:len(p)] += p
    return out


def bincount(x, weights=None, minlength=0) -> Array:
    """``numpy.bincount`` of non-negative ints: per-block counts summed (one block of unknown length)."""
    x = asarray(x)
    if x.ndim != 1:
        raise ValueError("object too deep for desired array: bincount needs a 1-d array")
    if x.dtype.kind not in "biu":
        raise TypeError(f"Cannot cast array data from {x.dtype!r} to dtype('int64') according to the rule 'safe'")
    if minlength < 0:
        raise ValueError("'minlength' must not be negative")
    dtype = np.dtype(np.intp)
    if weights is not None:
        weights = asarray(weights)
        if weights.shape != x.shape:
            raise ValueError("The weights and list don't have the same length.")
        weights = weights.rechunk(x.chunks)
        dtype = np.bincount(np.zeros(1, np.intp), weights=np.ones(1, weights.dtype)).dtype
    name = new_name("bincount", x, weights, minlength)
    nodes = {}
    for j in range(x.numblocks[0]):
        w = None if weights is None else Ref((weights.name, j))
        nodes[(name + "-chunk", j)] = Task((name + "-chunk", j), _bincount_chunk, Ref((x.name, j)), w, minlength)
    parts = [Ref((name + "-chunk", j)) for j in range(x.numblocks[0])]
    nodes[(name, 0)] = Task((name, 0), _bincount_merge, parts, minlength)
    return Array(name, ((math.nan,),), dtype, nodes, [x] + ([weights] if weights is not None else []))


NUMPY_FUNCTIONS = {np.unique: unique, np.bincount: bincount}
