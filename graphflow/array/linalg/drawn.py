"""Matrix products with a random operand: its blocks are drawn band by band inside the product, never stored.

In a thin product such as ``A @ Omega`` (``A`` random ``(m, n)`` in big
blocks, ``Omega`` ``(n, l)`` with small ``l``) or ``Q^T @ A``, each block of
``A`` is read by exactly one output block.  Materializing it costs more than
the product: 32 MB of fresh pages per 2000x2000 block, written by the draw and
read back from main memory by BLAS; and when ``A`` is read twice
(`svd_compressed` reads it before and after the QR of ``A Omega``), every
block of ``A`` is held until the second product, the whole array at once.

Instead the product task draws the block itself, `BAND_BYTES` of rows at a
time into one reused buffer, and multiplies each band while it is in cache::

    A_ij @ Omega_j  (A_ij drawn):   out[r0:r1]  (+)=  band(r0:r1) @ Omega_j
    Q_i^T @ A_ij    (A_ij drawn):   out         (+)=  Q_i^T[:, r0:r1] @ band(r0:r1)

A generator fills consecutive rows in stream order, so the bands hold the very
numbers the whole-block draw holds (``random``, ``uniform``, ``normal`` and
``standard_normal``, as `graphflow.array.stream` relies on too); sums over
bands round differently from one BLAS call over the block, within the
product's own rounding.

Which operand is drawn (`drawn_side`): a random array with one of those
methods, 2-d, whose blocks each feed one output block only -- the other
operand has a single block along its free axis -- and whose blocks are larger
than the other operand's (two random operands: the big one is drawn, the
small one stays tasks and is drawn once).  Anything else is multiplied as
stored blocks, as before.
"""

from __future__ import annotations

import math

import numpy as np

from ..blockrng import block_generator
from ..stream import RANDOM_METHODS

__all__ = ["DrawnBlock", "drawn_side", "drawn_block", "dot_sum_drawn", "BAND_BYTES"]

BAND_BYTES = 1 << 20  # a band and the product's slice of the other operand stay in L2
_DRAW_INTO = frozenset({"random", "standard_normal"})  # Generator methods that take out=


class DrawnBlock:
    """Block ``index`` of a random array, drawn by whoever reads it: ``block_generator(seed, index).method``."""

    __slots__ = ("method", "seed", "index", "shape", "kwargs")

    def __init__(self, method, seed, index, shape, kwargs):
        self.method, self.seed, self.index, self.shape, self.kwargs = method, seed, tuple(index), tuple(shape), kwargs

    @property
    def dtype(self):
        return np.dtype(np.float64)

    def bands(self, rows: int):
        """Yield ``(start, stop, band)``; a band is only valid until the next one is drawn (one buffer)."""
        rng = block_generator(self.seed, self.index)
        draw = getattr(rng, self.method)
        nrows, tail = self.shape[0], self.shape[1:]
        buf = None
        for start in range(0, nrows, rows):
            n = min(rows, nrows - start)
            if self.method in _DRAW_INTO:
                if buf is None:
                    buf = np.empty((min(rows, nrows),) + tail)
                band = draw(out=buf[:n], **self.kwargs)
            else:
                band = draw(size=(n,) + tail, **self.kwargs)
            yield start, start + n, band

    def band_rows(self) -> int:
        row = 8 * math.prod(self.shape[1:])
        return max(1, BAND_BYTES // max(row, 1))

    def __reduce__(self):
        return (DrawnBlock, (self.method, self.seed, self.index, self.shape, self.kwargs))

    def __graphflow_tokenize__(self):
        return ("DrawnBlock", self.method, self.seed, self.index, self.shape, self.kwargs)

    def __repr__(self):
        return f"DrawnBlock({self.method}, seed={self.seed}, index={self.index}, shape={self.shape})"


def _drawable(x) -> bool:
    recipe = x.recipe
    return (recipe is not None and recipe[0] == "random" and recipe[1] in RANDOM_METHODS and x.ndim == 2
            and x.dtype == np.float64)


def drawn_side(a, b):
    """``"a"``, ``"b"`` or None: which operand of the 2-d product ``a @ b`` its tasks should draw."""
    a_ok = _drawable(a) and b.numblocks[1] == 1
    b_ok = _drawable(b) and a.numblocks[0] == 1
    a_block, b_block = math.prod(a.chunksize), math.prod(b.chunksize)
    if a_ok and a_block >= b_block:
        return "a"
    if b_ok and b_block >= a_block:
        return "b"
    return None


def drawn_block(x, index) -> DrawnBlock:
    """The `DrawnBlock` standing for block ``index`` of the random array ``x``."""
    _, method, seed, kwargs = x.recipe
    shape = tuple(c[i] for c, i in zip(x.chunks, index))
    return DrawnBlock(method, seed, index, shape, kwargs)


def dot_sum_drawn(pairs, view=None):
    """``sum(a @ b for a, b in pairs)`` where one side of every pair is a `DrawnBlock`; into ``view`` if given.

    The caller holds `shared_cores` (one BLAS thread per product while several run).
    """
    a0, b0 = pairs[0]
    out_shape = (a0.shape[0], b0.shape[1])
    dtype = np.result_type(a0.dtype, b0.dtype)
    acc = view if view is not None else np.empty(out_shape, dtype)
    scratch = None
    for p, (a, b) in enumerate(pairs):
        if isinstance(a, DrawnBlock):  # rows of the output follow the drawn rows
            for start, stop, band in a.bands(a.band_rows()):
                if p == 0:
                    np.matmul(band, b, out=acc[start:stop])
                    continue
                if scratch is None or scratch.shape[0] < stop - start:  # bands of wider blocks have fewer rows
                    scratch = np.empty((min(a.band_rows(), a.shape[0]), out_shape[1]), dtype)
                part = np.matmul(band, b, out=scratch[:stop - start])
                acc[start:stop] += part
        else:  # the drawn rows are the contracted axis: every band adds to the whole output
            for start, stop, band in b.bands(b.band_rows()):
                if p == 0 and start == 0:
                    np.matmul(a[:, start:stop], band, out=acc)
                    continue
                if scratch is None:
                    scratch = np.empty(out_shape, dtype)
                acc += np.matmul(a[:, start:stop], band, out=scratch)
    return acc
