"""Streamed reduction chunks: elementwise work and random draws run band by band into the reduction.

A reduction's first step reduces each block on its own.  When that block is
the result of elementwise operations (``(x + x.T).mean(0)``, ``np.sin(x).sum()``)
or of a random draw (``random(...).sum()``), materializing it costs more than
the arithmetic: a 2000x2000 float64 block is 32 MB written to fresh pages and
read back from main memory, once per operation.  Instead, the chunk task
built here evaluates the elementwise expression one *band* of rows at a time
(about `BAND_BYTES` per band, so every temporary stays in the core's cache),
reduces each band with the reduction's own ``chunk`` function, and merges the
band partials exactly as the reduction tree merges block partials::

    block (i, j) of x + x.T, rows 0..2000 in bands of 16:
        band 0:  chunk(x[i,j][0:16] + xT[i,j][0:16])   -> partial (1, 2000)
        band 1:  chunk(x[i,j][16:32] + xT[i,j][16:32]) -> partial
        ...      concatenate along axis 0, then combine -> the chunk result

Only the first axis is cut: a band of a C-ordered block is contiguous, and a
random generator fills consecutive rows in stream order, so a random block
drawn band by band holds the very numbers the whole draw would (checked for
``random``, ``uniform``, ``normal`` and ``standard_normal``; integer draws
buffer bits between values and are never streamed).  When axis 0 is
reduced, the band partials are combined; otherwise they are simply stacked
(each band reduces its own rows).

A ``chunk`` may instead take the bands itself: with a method
``accumulator(block_shape, dtype)`` returning an object with ``add(band)``
and ``result()`` (the chunk result of the whole block), every band goes to
one accumulator per block and no band partials are made (the histogram's
counter, `graphflow.array.histograms`, sets its bins' grid up once a block).

What is streamed (`plan`): starting from the reduced array, arrays built by
`elemwise` with a numpy ufunc or an `operator` function, and random arrays,
with the same chunks as the reduced array, are *inlined*; anything else
(a transpose, a rechunk, data, an array used by some other inlined-away path)
is a *leaf*, an input block of the task as before.  An array is never inlined
if a leaf reads it (``x`` in ``x + x.T`` is read through the transpose, so
its blocks stay tasks and are drawn once).  Arrays used again outside this
reduction are recomputed inside it: elementwise work and random draws are
deterministic, so the result is the same.
"""

from __future__ import annotations

import operator

import numpy as np

from ..spec import Ref, Task
from .blockrng import block_generator
from .blockwise import concat_nested
from .chunks import has_unknown

__all__ = ["plan", "StreamChunk", "BAND_BYTES", "STREAM_OPS", "RANDOM_METHODS"]

BAND_BYTES = 1 << 20
RANDOM_METHODS = frozenset({"random", "uniform", "normal", "standard_normal"})
STREAM_OPS = frozenset({
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow,
    operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift, operator.lt, operator.le,
    operator.gt, operator.ge, operator.eq, operator.ne, operator.neg, operator.pos, operator.abs,
    operator.invert, np.where, np.clip, np.round,
})


def streamable_op(op) -> bool:
    """True for functions known to be elementwise: numpy ufuncs (one output) and operators."""
    if isinstance(op, np.ufunc):
        return op.nout == 1
    try:
        return op in STREAM_OPS
    except TypeError:  # unhashable callables
        return False


def _inner_kind(arr, x):
    """``"elemwise"``/``"random"`` when ``arr`` may be inlined into ``x``'s chunk tasks, else None."""
    kind = arr.recipe
    if kind is None or kind[0] not in ("elemwise", "random") or arr.chunks != x.chunks:
        return None
    if kind[0] == "random" and kind[1] not in RANDOM_METHODS:
        return None
    return kind[0]


def _arrays(x) -> tuple:
    """``(inner, leaves)``: names of the arrays inlined into x's chunks, and the leaf arrays."""
    forced: set = set()
    while True:
        inner, leaves, stack, seen = set(), {}, [x], set()
        while stack:
            a = stack.pop()
            if a.name in seen:
                continue
            seen.add(a.name)
            if a.name not in forced and _inner_kind(a, x) is not None:
                inner.add(a.name)
                stack.extend(p for p in a.parents)
            else:
                leaves[a.name] = a
        below = _reachable(leaves.values())
        clash = inner & below
        if not clash:
            return inner, leaves
        forced |= clash


def _reachable(arrays) -> set:
    """Names of every array some array in ``arrays`` reads, directly or not."""
    out: set = set()
    stack = [p for a in arrays for p in a.parents]
    while stack:
        a = stack.pop()
        if a.name in out:
            continue
        out.add(a.name)
        stack.extend(a.parents)
    return out


def plan(x, chunk, combine, axes):
    """Chunk tasks for ``x``'s blocks that stream its elementwise/random recipe, or None.

    Returns ``(tasks_for, parents)``: ``tasks_for(key, idx)`` builds the
    task of block ``idx``, and ``parents`` are the arrays those tasks read.
    None when nothing could be inlined (``x`` itself is a leaf) or block
    lengths are unknown.
    """
    if x.ndim == 0 or has_unknown(x.chunks) or _inner_kind(x, x) is None:
        return None
    inner, leaves = _arrays(x)
    if x.name not in inner:
        return None
    by_name: dict = {}
    stack = [x]
    while stack:
        a = stack.pop()
        if a.name in by_name:
            continue
        by_name[a.name] = a
        if a.name in inner:
            stack.extend(a.parents)

    def tasks_for(key, idx):
        program, refs = _compile(x, idx, by_name, inner)
        shape = tuple(c[i] for c, i in zip(x.chunks, idx))
        func = StreamChunk(tuple(program), chunk, combine, axes, shape, x.dtype.itemsize)
        return Task(key, func, *refs)

    return tasks_for, list(leaves.values())


def _compile(x, idx, arrays, inner) -> tuple:
    """``(program, refs)``: the steps computing block ``idx`` of x from leaf blocks ``refs``."""
    program: list = []
    refs: list = []
    slot: dict = {}  # block key -> register

    def visit(key):
        if key in slot:
            return slot[key]
        arr = arrays.get(key[0])
        if arr is None or key[0] not in inner:
            refs.append(Ref(key))
            step = ("leaf", len(refs) - 1)
        elif arr.recipe[0] == "random":
            _, method, seed, kwargs = arr.recipe
            step = ("random", method, seed, key[1:], kwargs)
        else:
            task = arr.graph_nodes[key]
            args = tuple(("reg", visit(a.key)) if type(a) is Ref else ("const", a) for a in task.args)
            step = ("op", task.func, args, task.kwargs)
        program.append(step)
        slot[key] = len(program) - 1
        return slot[key]

    visit((x.name,) + tuple(idx))
    return program, refs


# Operators as the ufuncs they call, so a band can be written into the previous band's array (out=).
_UFUNC_OF = {
    operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply, operator.truediv: np.true_divide,
    operator.floordiv: np.floor_divide, operator.mod: np.remainder, operator.pow: np.power,
    operator.and_: np.bitwise_and, operator.or_: np.bitwise_or, operator.xor: np.bitwise_xor,
    operator.lshift: np.left_shift, operator.rshift: np.right_shift, operator.lt: np.less,
    operator.le: np.less_equal, operator.gt: np.greater, operator.ge: np.greater_equal, operator.eq: np.equal,
    operator.ne: np.not_equal, operator.neg: np.negative, operator.pos: np.positive, operator.abs: np.absolute,
    operator.invert: np.invert,
}
_DRAW_INTO = frozenset({"random", "standard_normal"})  # Generator methods that take out=


def _fits(v, n, shape) -> bool:
    """True when ``v`` is a whole band of the block (so later bands may be written into it)."""
    return type(v) is np.ndarray and v.shape == (n,) + tuple(shape[1:]) and v.flags.c_contiguous


class StreamChunk:
    """A reduction chunk over a block computed band by band (see the module docstring)."""

    __slots__ = ("program", "chunk", "combine", "axes", "shape", "rows")

    def __init__(self, program, chunk, combine, axes, shape, itemsize):
        self.program = program
        self.chunk = chunk
        self.combine = combine
        self.axes = axes
        self.shape = shape
        row = itemsize
        for n in shape[1:]:
            row *= n
        self.rows = max(1, BAND_BYTES // max(row, 1))

    def __call__(self, *leaves):
        nrows = self.shape[0]
        if nrows <= self.rows:
            return self.chunk(self._band(leaves, {}, {}, 0, nrows), axis=self.axes, keepdims=True)
        rngs: dict = {}
        buffers: dict = {}
        parts = []
        make = getattr(self.chunk, "accumulator", None)
        acc = None
        for start in range(0, nrows, self.rows):
            band = self._band(leaves, rngs, buffers, start, min(start + self.rows, nrows))
            if start == 0 and make is not None:
                acc = make(self.shape, band.dtype)
            if acc is not None:
                acc.add(band)
            else:
                parts.append(self.chunk(band, axis=self.axes, keepdims=True))
            band = None
        if acc is not None:
            return acc.result()
        joined = concat_nested(parts, (0,))
        return self.combine(joined, axis=self.axes, keepdims=True) if 0 in self.axes else joined

    def _band(self, leaves, rngs, buffers, start, stop):
        """The block's rows ``start:stop``, evaluated from the same rows of every input.

        Each step's first band allocates its result; later bands write into
        that array again (``out=``), so no band after the first touches fresh
        memory (fresh pages cost more than the arithmetic here).
        """
        nrows, ndim = self.shape[0], len(self.shape)
        whole = start == 0 and stop == nrows
        n = stop - start
        regs: list = []
        for pos, step in enumerate(self.program):
            kind = step[0]
            buf = buffers.get(pos)
            if kind == "leaf":
                v = leaves[step[1]]
                if not whole and isinstance(v, np.ndarray) and v.ndim == ndim and v.shape[0] == nrows:
                    v = v[start:stop]
            elif kind == "op":
                func = _UFUNC_OF.get(step[1], step[1])
                args = [regs[a[1]] if a[0] == "reg" else a[1] for a in step[2]]
                kwargs = step[3] or {}
                if buf is not None:
                    v = func(*args, out=buf[:n], **kwargs)
                else:
                    v = func(*args, **kwargs)
                    if isinstance(func, np.ufunc) and not whole and "out" not in kwargs and _fits(v, n, self.shape):
                        buffers[pos] = v
            else:
                _, method, seed, index, kwargs = step
                rng = rngs.get(pos)
                if rng is None:
                    rng = rngs[pos] = block_generator(seed, index)
                if buf is not None:
                    v = getattr(rng, method)(out=buf[:n], **kwargs)
                else:
                    v = getattr(rng, method)(size=(n,) + self.shape[1:], **kwargs)
                    if method in _DRAW_INTO and not whole:
                        buffers[pos] = v
            regs.append(v)
        return regs[-1]

    def __reduce__(self):
        return (_rebuild, (self.program, self.chunk, self.combine, self.axes, self.shape, self.rows))

    def __graphflow_tokenize__(self):
        return ("StreamChunk", self.program, self.chunk, self.combine, self.axes, self.shape)

    @property
    def __name__(self):
        return "stream-chunk"


def _rebuild(program, chunk, combine, axes, shape, rows):
    out = StreamChunk.__new__(StreamChunk)
    out.program, out.chunk, out.combine, out.axes, out.shape, out.rows = program, chunk, combine, axes, shape, rows
    return out
