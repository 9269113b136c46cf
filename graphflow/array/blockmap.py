"""`per_block`: one task per block of an Array, each with arguments of its own.

`map_blocks` gives every block the same arguments; many routines need the
block's *position* instead (``tril`` shifts its diagonal by the block's row
and column offsets, ``argtopk`` adds the block's start to local indices).
``extra(idx)`` returns those per-block arguments:

    >>> import numpy as np, graphflow.array as ga
    >>> from graphflow.array.chunks import offsets
    >>> x = ga.zeros(5, chunks=2, dtype=int)
    >>> starts = offsets(x.chunks[0])
    >>> per_block("positions", x, np.add, lambda idx: (np.arange(x.chunks[0][idx[0]]) + starts[idx[0]],)).compute()
    array([0, 1, 2, 3, 4])

``fresh(name, chunks, dtype, make)`` builds an Array with no inputs, one task per
block from ``make(idx) -> (func, *args)`` (``tri``, ``fromfunction``).
"""

from __future__ import annotations

import itertools

from ..spec import Ref, Task
from .core import Array, new_name

__all__ = ["per_block", "fresh", "block_indices"]


def block_indices(chunks):
    """Every block index of an array with these chunks, in C order."""
    return itertools.product(*[range(len(c)) for c in chunks])


def per_block(prefix, x, func, extra=None, chunks=None, dtype=None, token=()) -> Array:
    """``func(block, *extra(idx))`` for every block ``idx`` of ``x`` (same block grid).

    ``chunks``: the output's block lengths (default ``x``'s); ``token``: values that,
    with ``func`` and ``x``, make the name unique (``extra`` is a function, so say what it depends on).
    """
    chunks = x.chunks if chunks is None else tuple(tuple(c) for c in chunks)
    name = new_name(prefix, x, func, token, chunks, str(dtype))
    nodes = {}
    for idx in block_indices(x.chunks):
        key = (name,) + idx
        nodes[key] = Task(key, func, Ref((x.name,) + idx), *(extra(idx) if extra else ()))
    return Array(name, chunks, x.dtype if dtype is None else dtype, nodes, [x])


def fresh(prefix, chunks, dtype, make, token=()) -> Array:
    """An Array without inputs: block ``idx`` is ``func(*args)`` for ``(func, *args) = make(idx)``."""
    chunks = tuple(tuple(c) for c in chunks)
    name = new_name(prefix, token, chunks, str(dtype))
    nodes = {}
    for idx in block_indices(chunks):
        key = (name,) + idx
        func, *args = make(idx)
        nodes[key] = Task(key, func, *args)
    return Array(name, chunks, dtype, nodes, ())
