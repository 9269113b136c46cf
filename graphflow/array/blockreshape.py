"""``reshape_blockwise``: reshape every block on its own, with no rechunk and no data movement.

`manipulation.reshape` keeps numpy's C order, which may need a rechunk first.
Here each block is reshaped by itself and the blocks keep their grid
positions, so the result holds the same elements as ``numpy.reshape`` only
when every merged group of axes is one block; otherwise the elements come
in block order.  Useful before order-insensitive work (sums, histograms).

Fewer dimensions: consecutive input axes merge into one output axis (only
reshapes like ``(2, 3, 4) -> (6, 4)``); the merged axis's blocks are the
products of the merged blocks in C order.  For chunks ``((3,), (2, 1), (2, 1))``
merged to ``(3, 9)``, axis 1 gets blocks ``(2*2, 2*1, 1*2, 1*1) = (4, 2, 2, 1)``.

More dimensions: ``chunks=`` (the output's chunks) is required, and the
products of each split group's blocks must equal the input's blocks along
the axis it splits — the inverse of the merge above.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(27).reshape(3, 3, 3), chunks=(3, 2, (2, 1)))
    >>> y = ga.reshape_blockwise(x, (3, 9))
    >>> y.chunks
    ((3,), (4, 2, 2, 1))
    >>> bool((ga.reshape_blockwise(y, (3, 3, 3), chunks=x.chunks).compute() == np.arange(27).reshape(3, 3, 3)).all())
    True
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..spec import Ref, Task
from .chunks import has_unknown
from .core import Array, new_name
from .creation import asarray
from .manipulation import resolve_shape

__all__ = ["reshape_blockwise"]


def _merge_groups(shape_in: tuple, shape_out: tuple) -> list:
    """For each output axis, the consecutive input axes whose lengths multiply to it (leading 1s join the next).

    None when the reshape is not such a merge.
    """
    if not shape_out:  # to 0-d: only length-1 axes disappear
        return [] if all(n == 1 for n in shape_in) else None
    groups, d = [], 0
    for n in shape_out:
        if n == 1 and (d == len(shape_in) or shape_in[d] != 1):  # a new length-1 axis: no input axis
            groups.append([])
            continue
        group = [d] if d < len(shape_in) else []
        d += 1 if group else 0
        while math.prod(shape_in[a] for a in group) != n and d < len(shape_in):
            group.append(d)
            d += 1
        if not group or math.prod(shape_in[a] for a in group) != n:
            return None
        groups.append(group)
    # trailing length-1 input axes, or any trailing axes once the last group holds no element
    while d < len(shape_in) and groups and (shape_in[d] == 1 or math.prod(shape_in[a] for a in groups[-1]) == 0):
        groups[-1].append(d)
        d += 1
    return groups if d == len(shape_in) else None


def _product_blocks(chunks_group) -> tuple:
    """C-order products of the blocks of several axes: the block lengths of the axis they merge into."""
    return tuple(math.prod(p) for p in itertools.product(*chunks_group))


def _flat_index(index, grid) -> int:
    """C-order position of a block among a group's blocks (0 for an empty group)."""
    return int(np.ravel_multi_index(index, grid)) if index else 0


def reshape_blockwise(x, shape, chunks=None) -> Array:
    """Reshape each block of ``x`` by itself into ``shape``; see the module docstring for the element order.

    Raises ValueError when the reshape does not merge (or, with ``chunks=``,
    split) consecutive axes, when the dimensions grow and ``chunks`` is
    missing, or when ``chunks`` does not fit the input's blocks.
    """
    x = asarray(x)
    if has_unknown(x.chunks):
        raise ValueError("reshape_blockwise: unknown chunk sizes; call .compute_chunk_sizes() first")
    shape = resolve_shape(shape, x.size)
    if shape == x.shape:
        return x
    if len(shape) > x.ndim:
        return _split(x, shape, chunks)
    if chunks is not None and len(shape) < x.ndim:
        raise ValueError("reshape_blockwise: chunks= applies only when the number of dimensions grows")
    groups = _merge_groups(x.shape, shape)
    if groups is None:
        raise ValueError(f"reshape_blockwise {x.shape} -> {shape}: only merges of consecutive axes "
                         "(like (2, 3, 4) -> (6, 4)) are blockwise; use reshape")
    out_chunks = [_product_blocks([x.chunks[a] for a in g]) for g in groups]
    name = new_name("reshape-blockwise", x, shape)
    nodes = {}
    for idx in itertools.product(*[range(n) for n in x.numblocks]):
        out_idx = tuple(_flat_index([idx[a] for a in g], [x.numblocks[a] for a in g]) for g in groups)
        bshape = tuple(c[i] for c, i in zip(out_chunks, out_idx))
        key = (name,) + out_idx
        nodes[key] = Task(key, np.reshape, Ref((x.name,) + idx), bshape)
    return Array(name, out_chunks, x.dtype, nodes, [x])


def _split(x: Array, shape: tuple, chunks) -> Array:
    """More dimensions: each input axis splits into a group of output axes whose blocks ``chunks`` gives."""
    if chunks is None:
        raise ValueError(f"reshape_blockwise {x.shape} -> {shape}: pass chunks= (the output's chunks) when the "
                         "number of dimensions grows; the blocks cannot be inferred")
    chunks = tuple(tuple(int(n) for n in c) for c in chunks)
    if len(chunks) != len(shape) or any(sum(c) != s for c, s in zip(chunks, shape)):
        raise ValueError(f"reshape_blockwise: chunks {chunks} do not describe the shape {shape}")
    groups = _merge_groups(shape, x.shape)  # which output axes each input axis splits into
    if groups is None:
        raise ValueError(f"reshape_blockwise {x.shape} -> {shape}: only splits of single axes into consecutive "
                         "axes (like (6, 4) -> (2, 3, 4)) are blockwise; use reshape")
    for d, g in enumerate(groups):
        if _product_blocks([chunks[a] for a in g]) != x.chunks[d]:
            raise ValueError(f"reshape_blockwise: chunks {tuple(chunks[a] for a in g)} of output axes {tuple(g)} "
                             f"do not multiply out to the blocks {x.chunks[d]} of input axis {d}")
    name = new_name("reshape-blockwise", x, shape, chunks)
    nodes = {}
    for out_idx in itertools.product(*[range(len(c)) for c in chunks]):
        in_idx = tuple(_flat_index([out_idx[a] for a in g], [len(chunks[a]) for a in g]) for g in groups)
        bshape = tuple(c[i] for c, i in zip(chunks, out_idx))
        key = (name,) + out_idx
        nodes[key] = Task(key, np.reshape, Ref((x.name,) + in_idx), bshape)
    return Array(name, chunks, x.dtype, nodes, [x])
