"""Linear algebra over blocks: ``tensordot``, ``matmul``/``@``, ``dot``, ``outer``.

``tensordot(a, b, axes)`` pairs the blocks of ``a`` and ``b`` along the
contracted axes (rechunked to common boundaries first).  Output block
``(i, j)`` of a matrix product is ``sum_k a[i, k] @ b[k, j]``; one task adds up
to ``split_every`` products into one buffer in place, and when there are more
blocks along ``k`` those partial sums are added by a tree:

    >>> import numpy as np, graphflow.array as ga
    >>> a = ga.from_array(np.arange(6.0).reshape(2, 3), chunks=(1, 2))
    >>> (a @ a.T).compute()
    array([[ 5., 14.],
           [14., 50.]])
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ...spec import Ref, Task
from ...local.blas import shared_cores
from ..chunks import common_chunks
from ..core import Array, new_name
from ..creation import asarray
from ..rechunk import rechunk
from ..sink import block_slices, block_view
from .drawn import DrawnBlock, dot_sum_drawn, drawn_block, drawn_side

__all__ = ["tensordot", "matmul", "dot", "outer", "SPLIT_EVERY"]

SPLIT_EVERY = 8


def _dot_sum(pairs, axes, sink=None):
    """Sum of ``tensordot(a, b)`` over block pairs, accumulated into one buffer.

    Plain matrix products (2-d blocks, a's last axis with b's first) write
    every product after the first two into one scratch array (``out=``), so
    a task touches two output-sized arrays however many pairs it sums.  With
    a ``sink`` (the arguments of `sink.block_view`) the sum is written into the
    block's slice of the shared output instead.
    """
    view = None if sink is None else block_view(*sink)
    if isinstance(pairs[0][0], DrawnBlock) or isinstance(pairs[0][1], DrawnBlock):
        with shared_cores():
            return dot_sum_drawn(pairs, view)
    if view is not None:
        return _dot_sum_into(view, pairs)
    acc = scratch = None
    plain = axes == ((1,), (0,))
    with shared_cores():
        for a, b in pairs:
            if scratch is not None and a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == scratch.dtype \
                    and scratch.shape == (a.shape[0], b.shape[1]):
                part = np.dot(a, b, out=scratch)
            else:
                # always a fresh array: safe to add into (axes None: numpy's matmul of stacks)
                part = np.matmul(a, b) if axes is None else np.tensordot(a, b, axes=axes)
            if acc is None:
                acc = part
            else:
                acc += part
                if plain and scratch is None and part.flags.c_contiguous:
                    scratch = part
    return acc


def _dot_sum_into(view, pairs):
    scratch = None
    with shared_cores():
        a, b = pairs[0]
        np.matmul(a, b, out=view)
        for a, b in pairs[1:]:
            scratch = np.matmul(a, b) if scratch is None else np.matmul(a, b, out=scratch)
            view += scratch
    return view


def _add_all(parts, sink=None):
    view = None if sink is None or len(parts) < 2 else block_view(*sink)
    if view is not None:
        np.add(parts[0], parts[1], out=view)
        for p in parts[2:]:
            view += p
        return view
    acc = parts[0].copy() if len(parts) > 1 else parts[0]
    for p in parts[1:]:
        acc += p
    return acc


def _normalize_axes(axes, a, b):
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(f"axes={axes} is out of range for arrays of {a.ndim} and {b.ndim} dimensions")
        return tuple(range(a.ndim - axes, a.ndim)), tuple(range(axes))
    ax_a, ax_b = axes
    ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
    ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError("shape-mismatch for sum: tensordot needs as many axes of a as of b")
    from numpy.lib.array_utils import normalize_axis_tuple

    return normalize_axis_tuple(ax_a, a.ndim), normalize_axis_tuple(ax_b, b.ndim)


def tensordot(a, b, axes=2, split_every=None) -> Array:
    """``numpy.tensordot`` over blocks; contracted blocks are summed by a tree.

    >>> import graphflow.array as ga
    >>> tensordot(ga.ones((4, 3), chunks=2), ga.ones((3, 5), chunks=2), axes=1).compute()[0, 0]
    np.float64(3.0)
    """
    a, b = asarray(a), asarray(b)
    ax_a, ax_b = _normalize_axes(axes, a, b)
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"shape-mismatch for sum: axis {i} of a has length {a.shape[i]}, "
                             f"axis {j} of b has length {b.shape[j]}")
    common = [common_chunks([a.chunks[i], b.chunks[j]]) for i, j in zip(ax_a, ax_b)]
    a = rechunk(a, tuple(common[ax_a.index(d)] if d in ax_a else c for d, c in enumerate(a.chunks)))
    b = rechunk(b, tuple(common[ax_b.index(d)] if d in ax_b else c for d, c in enumerate(b.chunks)))
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    dtype = np.result_type(a.dtype, b.dtype)
    name = new_name("tensordot", a, b, ax_a, ax_b)
    group = int(split_every or SPLIT_EVERY)
    contracted = list(itertools.product(*[range(len(c)) for c in common]))
    chunks = [a.chunks[d] for d in free_a] + [b.chunks[d] for d in free_b]
    # Matrix products of numeric blocks write straight into the one result (graphflow/array/sink.py).
    plain = a.ndim == b.ndim == 2 and (ax_a, ax_b) == ((1,), (0,)) and dtype.kind in "biufc" \
        and a.dtype.kind in "biufc" and b.dtype.kind in "biufc"
    # A thin product with a random operand draws that operand's blocks inside its tasks (linalg/drawn.py).
    drawn = drawn_side(a, b) if plain else None
    block_a = (lambda ka: drawn_block(a, ka)) if drawn == "a" else (lambda ka: Ref((a.name,) + ka))
    block_b = (lambda kb: drawn_block(b, kb)) if drawn == "b" else (lambda kb: Ref((b.name,) + kb))
    nodes = {}
    for out in itertools.product(*[range(a.numblocks[d]) for d in free_a], *[range(b.numblocks[d]) for d in free_b]):
        ia, ib = dict(zip(free_a, out[:len(free_a)])), dict(zip(free_b, out[len(free_a):]))
        pairs = []
        for k in contracted:
            ka = tuple(ia[d] if d in ia else k[ax_a.index(d)] for d in range(a.ndim))
            kb = tuple(ib[d] if d in ib else k[ax_b.index(d)] for d in range(b.ndim))
            pairs.append((block_a(ka), block_b(kb)))
        sink = _sink(name, chunks, dtype, out) if plain else None
        _sum_tree(nodes, name, out, pairs, group, (ax_a, ax_b), sink)
    return Array(name, chunks, dtype, nodes, [x for x, side in ((a, "a"), (b, "b")) if side != drawn])


def _sink(name, chunks, dtype, index):
    """`sink.block_view`'s arguments for output block ``index``: its slice of the whole result."""
    shape = tuple(sum(c) for c in chunks)
    return (name, shape, dtype, index, block_slices(chunks, index), math.prod(len(c) for c in chunks))


def _sum_tree(nodes, name, out, pairs, group, axes, sink=None):
    """Tasks summing the block products ``pairs`` into key ``(name, *out)``."""
    if len(pairs) <= group:
        nodes[(name,) + out] = Task((name,) + out, _dot_sum, pairs, axes, sink)
        return
    level = [f"{name}-part"]
    refs = []
    for g in range(math.ceil(len(pairs) / group)):
        key = (level[0], g) + out
        nodes[key] = Task(key, _dot_sum, pairs[g * group:(g + 1) * group], axes)
        refs.append(Ref(key))
    depth = 0
    while len(refs) > group:
        depth += 1
        new = []
        for g in range(math.ceil(len(refs) / group)):
            key = (f"{name}-add{depth}", g) + out
            nodes[key] = Task(key, _add_all, refs[g * group:(g + 1) * group])
            new.append(Ref(key))
        refs = new
    nodes[(name,) + out] = Task((name,) + out, _add_all, refs, sink)


def matmul(a, b) -> Array:
    """``a @ b`` with numpy's rules: vectors are promoted, leading (stack) dimensions broadcast.

    >>> import graphflow.array as ga
    >>> (ga.ones((3, 1, 4, 2), chunks=2) @ ga.ones((5, 2, 6), chunks=2)).shape
    (3, 5, 4, 6)
    """
    a, b = asarray(a), asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != k_b:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0 "
                         f"(size {k_b} is different from {a.shape[-1]})")
    if a.ndim <= 2 and b.ndim <= 2:
        return tensordot(a, b, axes=((a.ndim - 1,), (0,)))
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    out = _matmul_stack(a2, b2)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def _matmul_stack(a, b) -> Array:
    """Stacks of matrices (ndim >= 2 each, one of them > 2): blocks along the stack
    dimensions pair up as numpy broadcasts them; each output block sums ``a @ b`` over k."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    nb = len(batch)
    a = a[(None,) * (nb + 2 - a.ndim) + (Ellipsis,)] if a.ndim < nb + 2 else a
    b = b[(None,) * (nb + 2 - b.ndim) + (Ellipsis,)] if b.ndim < nb + 2 else b
    out_batch, a_batch, b_batch = [], [], []
    for d in range(nb):
        if a.shape[d] == b.shape[d]:
            c = common_chunks([a.chunks[d], b.chunks[d]])
            out_batch.append(c), a_batch.append(c), b_batch.append(c)
        elif a.shape[d] == 1:
            out_batch.append(b.chunks[d]), a_batch.append((1,)), b_batch.append(b.chunks[d])
        else:
            out_batch.append(a.chunks[d]), a_batch.append(a.chunks[d]), b_batch.append((1,))
    k = common_chunks([a.chunks[-1], b.chunks[-2]])
    a = rechunk(a, tuple(a_batch) + (a.chunks[-2], k))
    b = rechunk(b, tuple(b_batch) + (k, b.chunks[-1]))
    name = new_name("matmul", a, b)
    nodes = {}
    for out in itertools.product(*[range(len(c)) for c in out_batch], range(a.numblocks[-2]),
                                 range(b.numblocks[-1])):
        ia = tuple(0 if len(a_batch[d]) == 1 else out[d] for d in range(nb))
        ib = tuple(0 if len(b_batch[d]) == 1 else out[d] for d in range(nb))
        pairs = [(Ref((a.name,) + ia + (out[-2], j)), Ref((b.name,) + ib + (j, out[-1]))) for j in range(len(k))]
        _sum_tree(nodes, name, out, pairs, SPLIT_EVERY, None)
    chunks = tuple(out_batch) + (a.chunks[-2], b.chunks[-1])
    return Array(name, chunks, np.result_type(a.dtype, b.dtype), nodes, [a, b])


def dot(a, b) -> Array:
    """``numpy.dot``: scalars multiply, otherwise sum over a's last and b's second-to-last axis."""
    a, b = asarray(a), asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=((a.ndim - 1,), (max(b.ndim - 2, 0),)))


def outer(a, b) -> Array:
    """``numpy.outer`` of the flattened inputs."""
    a, b = asarray(a).ravel(), asarray(b).ravel()
    return a[:, None] * b[None, :]
