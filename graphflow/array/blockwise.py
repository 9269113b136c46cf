"""`blockwise` and `map_blocks`: one task per output block, reading matching input blocks.

Index notation says which input block each output block reads.  With output
index ``"ij"``, an input with index ``"ji"`` (a transpose) gives output block
``(2, 5)`` its block ``(5, 2)``; an index letter missing from the output is
*contracted*: the task gets every block along it (a list, or concatenated
into one array with ``concatenate=True``):

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(4.0).reshape(2, 2), chunks=1)
    >>> y = blockwise(np.add, "ij", x, "ij", x, "ji", dtype=x.dtype)     # x + x.T
    >>> y.compute()
    array([[0., 3.],
           [3., 6.]])

Before building, inputs are aligned: every letter gets the common refinement of
the chunks of the inputs that carry it (inputs that differ are rechunked), and a
dimension of length 1 in one block broadcasts against any length.  Tasks here
are plain ``Task(key, func, *block refs)``: the optimizer's blockwise rule fuses
chains of them that share a block index (`graphflow.optimize.blockwise`).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..spec import Ref, Task, funcname
from .chunks import common_chunks, has_unknown
from .core import Array, new_name
from .rechunk import rechunk

__all__ = ["blockwise", "map_blocks", "unify_chunks"]


def _is_broadcast(arr, d, length) -> bool:
    return arr.chunks[d] == (1,) and length != 1


def unify_chunks(pairs) -> tuple:
    """Chunks per index letter, and the arrays rechunked to them.  ``pairs``: (array|value, index|None)."""
    lengths: dict = {}
    for arr, ind in pairs:
        for d, letter in enumerate(ind or ()):
            n, old = arr.shape[d], lengths.get(letter)
            if old is None or old == 1:
                lengths[letter] = n
            elif n != 1 and n != old and n == n and old == old:
                raise ValueError(f"operands could not be broadcast together: dimension {letter!r} has "
                                 f"length {old} in one input and {n} in another")
    per_letter: dict = {}
    for arr, ind in pairs:
        if ind is None:
            continue
        for d, letter in enumerate(ind):
            if not _is_broadcast(arr, d, lengths[letter]):
                per_letter.setdefault(letter, []).append(arr.chunks[d])
    chunks = {}
    for letter, dims in per_letter.items():
        if has_unknown(dims) and any(dim != dims[0] for dim in dims):
            raise ValueError("cannot align arrays with unknown chunk sizes (from a boolean mask); "
                             "call .compute_chunk_sizes() first")
        chunks[letter] = common_chunks(dims)
    out = []
    for arr, ind in pairs:
        if ind is not None:
            want = tuple(arr.chunks[d] if _is_broadcast(arr, d, lengths[letter]) else chunks[letter]
                         for d, letter in enumerate(ind))
            if want != arr.chunks:
                arr = rechunk(arr, want)
        out.append((arr, ind))
    return chunks, out


def blockwise(func, out_ind, *args, dtype=None, name=None, concatenate=False, new_axes=None,
              adjust_chunks=None, **kwargs) -> Array:
    """An Array whose block at each output index is ``func`` of the matching input blocks.

    ``args`` alternate value and index: an Array with a string/tuple of index
    letters, or any other value with ``None`` (passed to every task as is).
    ``new_axes={letter: length}`` adds output dimensions of one block each.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.ones((4, 2), chunks=2)
    >>> blockwise(lambda b: b.sum(axis=0), "j", x, "ij", dtype=x.dtype, concatenate=True).compute()
    array([4., 4.])
    """
    if len(args) % 2:
        raise TypeError("blockwise takes (value, index) pairs after the output index")
    pairs = [(args[i], tuple(args[i + 1]) if args[i + 1] is not None else None) for i in range(0, len(args), 2)]
    for arr, ind in pairs:
        if ind is not None and (not isinstance(arr, Array) or len(ind) != arr.ndim):
            raise ValueError(f"index {ind!r} does not match an array of {getattr(arr, 'ndim', '?')} dimensions")
    chunks, pairs = unify_chunks(pairs)
    for letter, length in (new_axes or {}).items():
        chunks[letter] = (length,)
    out_ind = tuple(out_ind)
    out_chunks = [chunks[letter] for letter in out_ind]
    if adjust_chunks:
        for d, letter in enumerate(out_ind):
            fix = adjust_chunks.get(letter)
            if fix is not None:
                out_chunks[d] = tuple(fix(c) for c in out_chunks[d]) if callable(fix) else tuple(fix)
    if dtype is None:
        raise TypeError("blockwise needs dtype=")
    if name is None:
        name = new_name(funcname(func), func, out_ind, *[x for p in pairs for x in p], concatenate, kwargs)
    numblocks = {letter: len(c) for letter, c in chunks.items()}
    nodes = _block_tasks(name, func, out_ind, pairs, numblocks, concatenate, kwargs)
    parents = [arr for arr, ind in pairs if ind is not None]
    return Array(name, out_chunks, dtype, nodes, parents)


def _block_tasks(name, func, out_ind, pairs, numblocks, concatenate, kwargs) -> dict:
    contracted = []
    for arr, ind in pairs:
        for letter in ind or ():
            if letter not in out_ind and letter not in contracted:
                contracted.append(letter)
    if concatenate and contracted:
        func = _Concat(func, [None if ind is None else tuple(d for d, letter in enumerate(ind) if letter in contracted)
                              for _, ind in pairs])
    nodes = {}
    for idx in itertools.product(*[range(numblocks[letter]) for letter in out_ind]):
        where = dict(zip(out_ind, idx))
        call = []
        for arr, ind in pairs:
            if ind is None:
                call.append(arr)
                continue
            call.append(_refs(arr, ind, where, numblocks, 0, ()))
        key = (name,) + idx
        nodes[key] = Task.from_call(key, func, tuple(call), kwargs)
    return nodes


def _refs(arr, ind, where, numblocks, d, prefix):
    """Ref to the block of ``arr`` for this output index; nested lists over contracted letters."""
    if d == len(ind):
        return Ref((arr.name,) + prefix)
    letter = ind[d]
    nb = arr.numblocks[d]
    if letter in where:
        i = where[letter] if nb > 1 or numblocks.get(letter, 1) == 1 else 0
        return _refs(arr, ind, where, numblocks, d + 1, prefix + (i,))
    return [_refs(arr, ind, where, numblocks, d + 1, prefix + (i,)) for i in range(nb)]


class _Concat:
    """``func`` called with contracted block lists concatenated into single arrays."""

    __slots__ = ("func", "axes")

    def __init__(self, func, axes):
        self.func = func
        self.axes = axes

    def __call__(self, *args, **kwargs):
        joined = [a if axes is None or not axes else concat_nested(a, axes) for a, axes in zip(args, self.axes)]
        return self.func(*joined, **kwargs)

    def __reduce__(self):
        return (_Concat, (self.func, self.axes))

    def __graphflow_tokenize__(self):
        return ("_Concat", self.func, self.axes)

    @property
    def __name__(self):
        return funcname(self.func)


def concat_nested(nested, axes):
    """Join nested lists of blocks: the outermost list along ``axes[0]``, and so on."""
    if not axes:
        return nested
    parts = [concat_nested(n, axes[1:]) for n in nested]
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts], axis=axes[0]) for k in parts[0]}
    return np.concatenate(parts, axis=axes[0])


def infer_dtype(func, args, kwargs=None, default=None):
    """The dtype ``func`` returns for one-element arrays of the inputs' dtypes (numpy's rules)."""
    sample = [np.ones((1,) * a.ndim, dtype=a.dtype) if isinstance(a, Array) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            return np.asarray(func(*sample, **(kwargs or {}))).dtype
    except Exception:
        if default is not None:
            return np.dtype(default)
        raise


def map_blocks(func, *args, dtype=None, chunks=None, drop_axis=None, new_axis=None, name=None, **kwargs):
    """``func`` applied to each block (blocks of several arrays are aligned and broadcast).

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.arange(6, chunks=4)
    >>> map_blocks(lambda b: b * 10, x).compute()
    array([ 0, 10, 20, 30, 40, 50])
    """
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        raise TypeError("map_blocks needs at least one graphflow Array")
    ndim = max(a.ndim for a in arrays)
    pairs = []
    for a in args:
        pairs.extend([a, tuple(range(ndim - a.ndim, ndim))] if isinstance(a, Array) else [a, None])
    drop = set(_axes_list(drop_axis, ndim))
    out_ind = [d for d in range(ndim) if d not in drop]
    new_axes = {}
    for k, ax in enumerate(sorted(_axes_list(new_axis, ndim + len(_axes_list(new_axis, 0))))):
        letter = f"new{k}"
        out_ind.insert(ax, letter)
        new_axes[letter] = 1
    if dtype is None:
        dtype = infer_dtype(func, args, kwargs, default=arrays[0].dtype)
    out = blockwise(func, out_ind, *pairs, dtype=dtype, name=name, concatenate=True, new_axes=new_axes, **kwargs)
    if chunks is not None:
        out = _with_chunks(out, chunks)
    return out


def _axes_list(axes, ndim):
    if axes is None:
        return []
    axes = [axes] if isinstance(axes, int) else list(axes)
    return [a + ndim if a < 0 else a for a in axes]


def _with_chunks(arr, chunks):
    """The same blocks declared with other block lengths (map_blocks's ``chunks=``)."""
    if len(chunks) != arr.ndim:
        raise ValueError(f"chunks= has {len(chunks)} dimensions; the result has {arr.ndim}")
    fixed = []
    for d, c in enumerate(chunks):
        if isinstance(c, (tuple, list)):
            if len(c) != arr.numblocks[d]:
                raise ValueError(f"chunks= gives {len(c)} blocks on axis {d}; the result has {arr.numblocks[d]}")
            fixed.append(tuple(c))
        else:
            fixed.append((int(c),) * arr.numblocks[d])
    return Array(arr.name, fixed, arr.dtype, arr.graph_nodes, arr.parents)
