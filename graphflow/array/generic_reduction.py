"""``reduction``: a user-defined tree reduction with Dask's public signature.

Dask users write ``da.reduction(x, chunk, aggregate, axis=..., dtype=..., combine=...)``;
graphflow's own `reductions.reduction` takes ``(x, chunk, combine, aggregate, ...)``
and streams elementwise inputs band by band.  This module is the public door:
Dask's argument order and defaults, over the same tree (``chunk`` per block,
``combine`` over groups of ``split_every`` partials, concatenated along the
reduced axes, ``aggregate`` at the root).

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(10.0), chunks=3)
    >>> ga.reduction(x, np.sum, np.sum, dtype=float).compute()
    np.float64(45.0)
    >>> ga.reduction(x, lambda b, axis, keepdims: (b * b).sum(axis=axis, keepdims=keepdims),
    ...              np.sum, dtype=float).compute()       # sum of squares
    np.float64(285.0)

As in Dask, ``combine`` defaults to ``aggregate`` and runs only when a level of
partials has more than ``split_every`` members; ``chunk`` always sees whole
blocks (no band streaming: a user's ``chunk`` may depend on the block it gets).
"""

from __future__ import annotations

import numpy as np

from .core import Array
from .creation import asarray
from .reductions import reduction as _tree_reduction

__all__ = ["reduction"]


def _whole_blocks(idx):
    # Passing chunk_extra turns off band streaming: each chunk call gets its whole block.
    return ()


def reduction(x, chunk, aggregate, axis=None, keepdims=False, dtype=None, split_every=None, combine=None,
              name=None, out=None, concatenate=True, output_size=1, meta=None, weights=None) -> Array:
    """Reduce ``x`` over ``axis`` with ``chunk`` per block, ``combine`` between levels, ``aggregate`` last.

    ``chunk(block, axis=, keepdims=True)``, ``combine(parts, axis=, keepdims=True)``
    and ``aggregate(parts, axis=, keepdims=)`` get ``axis`` as a tuple; ``parts``
    are the partial results concatenated along the reduced axes.  ``dtype``
    (or ``meta``) is required, as in Dask.  ``output_size`` is the length each
    reduced axis keeps when ``keepdims=True``.  ``out=`` rebinds that Array to
    the result.  Not supported (a clear NotImplementedError): ``concatenate=False``
    (lists of partials) and ``weights=``.
    """
    x = asarray(x)
    if dtype is None and meta is not None:
        dtype = getattr(meta, "dtype", None)
    if dtype is None:
        raise ValueError("reduction: pass dtype= (the dtype of aggregate's output); Dask requires it too")
    if not concatenate:
        raise NotImplementedError("reduction(concatenate=False): graphflow always concatenates the partials "
                                  "along the reduced axes; write combine/aggregate for one array")
    if weights is not None:
        raise NotImplementedError("reduction(weights=): not supported; multiply x by the weights first, "
                                  "or reduce a stacked array of values and weights")
    if int(output_size) < 1:
        raise ValueError(f"reduction: output_size must be at least 1, not {output_size!r}")
    result = _tree_reduction(x, chunk, aggregate if combine is None else combine, aggregate, axis=axis,
                             keepdims=keepdims, dtype=np.dtype(dtype), split_every=split_every,
                             name=name or "reduction", chunk_extra=_whole_blocks)
    if keepdims and output_size != 1:
        reduced = set(range(x.ndim)) if axis is None else {a % x.ndim for a in np.atleast_1d(axis).tolist()}
        chunks = [(int(output_size),) if d in reduced else c for d, c in enumerate(result.chunks)]
        result = Array(result.name, chunks, result.dtype, result.graph_nodes, result.parents)
    if out is not None:
        return out.become(result)
    return result
