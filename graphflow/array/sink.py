"""Output blocks written in place into one preallocated array, so computing the whole array copies nothing.

A matrix product (or the Q of a QR) makes every output block with one BLAS
call that can write anywhere (``np.matmul(a, b, out=view)``).  Without a sink,
each task returns a fresh block and ``compute`` copies all of them into one
result at the end (`core._assemble`): a second pass over the whole output,
at the end, on one core.  With a sink, the first block task to run in a
process allocates the whole output (``np.empty``: its pages are only touched
where blocks are written) and every block task writes its block into its slice
and returns that view; `core._assemble` sees blocks that already tile one
sink buffer in order and returns that buffer as it is (once: `claim_whole`).

    task (name, 0, 0): view = sink.block_view(name, (4, 4), float64, (0, 0), (slice(0, 2), slice(0, 2)), 4)
                       np.matmul(a, b, out=view); return view
    ...
    compute -> _assemble: every block is a view of one (4, 4) array at its offset -> that array, no copy

State: a process-wide table ``name -> (buffer (weakly held), blocks written)``.
A buffer lives as long as some block still references it.  Each block of a
buffer is handed out once: a block asked for again (a second compute of the
same expression while the first result is alive, or a retried task) gets
None, and its task makes a fresh array, so two results never share memory.
When every block of a buffer has been handed out, the table forgets it.
A result handed out whole shares memory with its blocks: a persisted product's
blocks and the first array computed from them are one memory (as a
single-block array's result is its block).  On
a cluster the same code runs on each worker: the buffer is virtual memory
except for the blocks that worker wrote, and blocks travel as their own bytes.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

__all__ = ["block_view", "block_slices", "claim_whole"]

_lock = threading.RLock()  # re-entrant: a weakref callback (_forget) may run while this thread holds it
_table: dict = {}  # name -> [weakref to the buffer, set of block indices handed out, number of blocks]
_buffers: dict = {}  # id(buffer) -> weakref, for every buffer not yet handed out whole (claim_whole)


def _forget(name, key, ref) -> None:
    with _lock:
        entry = _table.get(name)
        if entry is not None and entry[0] is ref:
            del _table[name]
        if _buffers.get(key) is ref:
            del _buffers[key]


def claim_whole(array) -> bool:
    """True once for a sink buffer: the caller may hand the whole buffer out as a result.

    Only buffers made here qualify (a user's array that blocks happen to be views of,
    as with ``from_array``, is never handed back), and each only once, so two
    computes never return the same object.
    """
    with _lock:
        ref = _buffers.get(id(array))
        if ref is None or ref() is not array:
            return False
        del _buffers[id(array)]
        return True


def block_view(name: str, shape: tuple, dtype, index: tuple, slices: tuple, nblocks: int):
    """The slice ``slices`` of the shared output ``name`` for block ``index``, or None if that block was
    handed out already (make a fresh array then)."""
    with _lock:
        entry = _table.get(name)
        buffer = entry[0]() if entry is not None else None
        if buffer is None:
            buffer = np.empty(shape, dtype=dtype)
            ref = weakref.ref(buffer, lambda ref, name=name, key=id(buffer): _forget(name, key, ref))
            entry = [ref, set(), nblocks]
            _table[name] = entry
            _buffers[id(buffer)] = ref
        if index in entry[1]:
            return None
        entry[1].add(index)
        if len(entry[1]) == entry[2]:
            del _table[name]
        return buffer[slices]


def block_slices(chunks: tuple, index: tuple) -> tuple:
    """The slices of block ``index`` in an array blocked as ``chunks``."""
    out = []
    for c, i in zip(chunks, index):
        start = sum(c[:i])
        out.append(slice(start, start + c[i]))
    return tuple(out)
