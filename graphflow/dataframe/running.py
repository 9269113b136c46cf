"""Running sums and products of null-free numpy columns, written into a given array: the one definition of
``cumsum``/``cumprod`` values that both the Arrow path (`cumulative`) and the pandas result's assembly
(`pending.CumulativeInto`) use, so ``compute()`` and ``to_arrow()`` agree bit for bit.

numpy's ``cumsum`` is one dependency chain: each output waits for the one before it (an add plus a store
forwarded to the next load, ~4 ns a row here), so a 10M-row float column takes ~40 ms however fast memory
is.  A float64 sum instead reads the values as complex128 pairs: numpy's complex ``cumsum`` then runs two
chains at once (the even rows' and the odd rows' sums, in the real and imaginary parts), half as long, and
two cheap strided passes combine them::

    x:               x0        x1        x2             x3             ...
    complex cumsum:  E0=x0     O0=x1     E1=x0+x2       O1=x1+x3
    odd  += even:              x0+x1                    E1+O1          (the running sum at odd rows)
    even = odd before + x:                (x0+x1)+x2                    (at even rows)

The work goes block by block (`BLOCK` rows, a few hundred KB: the later passes read what the first just
wrote while it is in cache); each block's running values start from zero (one) and the running value at
the end of the blocks before it, ``start`` first, is folded in.  The answer is a valid running sum whose
rounding differs from a strictly sequential one by a few ulps (as any partitioned sum's does).  Integer
sums and all products keep numpy's sequential run (integer sums are exact in any order; a complex
product mixes its parts).

    >>> out = np.empty(5)
    >>> running_into(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 10.0, "sum", out)
    >>> out.tolist()
    [11.0, 13.0, 16.0, 20.0, 25.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["running_into", "BLOCK"]

BLOCK = 1 << 15  # rows per block (256 KB of float64 in, as much out: both stay in the 1 MB L2 cache)

_RUNS = {"sum": (np.cumsum, np.add), "prod": (np.cumprod, np.multiply)}


def _pair_sum(x: np.ndarray, d: np.ndarray) -> None:
    """``d[:] = `` the running sum of float64 ``x`` (from zero), as two interleaved chains."""
    m = len(x)
    h = m - m % 2
    if h:
        np.cumsum(x[:h].view(np.complex128), out=d[:h].view(np.complex128))
        np.add(d[1:h:2], d[0:h:2], out=d[1:h:2])  # odd rows: both chains' sums
        np.add(d[1:h - 1:2], x[2:h:2], out=d[2:h:2])  # even rows: the row before plus this one
    if m % 2:
        d[m - 1] = x[m - 1] if m == 1 else d[m - 2] + x[m - 1]


def _pairs_fit(x: np.ndarray, d: np.ndarray) -> bool:
    """Whether both arrays can be read as complex pairs (float64, one contiguous run each)."""
    return x.dtype == d.dtype == np.float64 and x.flags.c_contiguous and d.flags.c_contiguous


def running_into(values: np.ndarray, start, how: str, dest: np.ndarray) -> None:
    """Write the running ``how`` ("sum" or "prod") of ``values`` into ``dest`` (same length), with
    ``start`` (the value of the rows before, or None) folded in; int overflow wraps as numpy's does."""
    run, fold = _RUNS[how]
    last = None if start is None else np.asarray(start, dtype=dest.dtype)
    pairs = how == "sum" and _pairs_fit(values, dest)
    for s in range(0, len(values), BLOCK):
        x, d = values[s:s + BLOCK], dest[s:s + BLOCK]
        if pairs:
            _pair_sum(x, d)
        else:
            run(x, out=d)
        if last is not None:
            fold(d, last, out=d)
        last = d[-1]
