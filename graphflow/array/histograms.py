"""Histograms: ``histogram``, ``histogram2d``, ``histogramdd``, each a sum of per-block histograms.

Every block is binned on its own against the same bin edges and one task adds
the counts, so a block is read once and never gathered.  The edges are known
when the graph is built if ``bins`` gives them (an array) or ``range=`` bounds
an integer ``bins``, and then come back as numpy arrays, as in Dask.  With an
integer ``bins`` and no ``range``, numpy takes the data's min and max: here a
min/max reduction feeds the per-block tasks, so the edges are an Array and
nothing is computed early:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([0.5, 1.5, 1.7, 3.0, 2.2]), chunks=2)
    >>> hist, edges = ga.histogram(x, bins=3, range=(0, 3))
    >>> hist.compute(), edges
    (array([1, 2, 2]), array([0., 1., 2., 3.]))
    >>> hist, edges = ga.histogram(x, bins=2)            # range from the data, lazily
    >>> hist.compute(), edges.compute()
    (array([3, 2]), array([0.5 , 1.75, 3.  ]))

With an integer ``bins`` and a ``range``, a float block is counted by
`graphflow.array.binning.equal_width_counts` (numpy's counts exactly, in about
0.45 of ``np.histogram``'s CPU time), band by band when the block is streamed from
a random draw or elementwise work; otherwise each block calls ``np.histogram``.
"""

from __future__ import annotations

import builtins
import itertools
import operator

import numpy as np

from ..spec import Ref, Task
from .binning import EqualWidthCounter, equal_width_counts
from .core import Array, new_name
from .creation import asarray
from .manipulation import stack
from .reductions import max as max_
from .reductions import min as min_
from .reductions import reduction

__all__ = ["histogram", "histogram2d", "histogramdd", "equal_width_counts", "NUMPY_FUNCTIONS"]


def _hist_block(block, weights, bins, range_):
    if weights is None and range_ is not None and np.ndim(bins) == 0 and block.dtype in _FAST_DTYPES:
        return equal_width_counts(block, np.histogram_bin_edges(block[:0], bins, range_))
    return np.histogram(block, bins=bins, range=range_, weights=weights)[0]


_FAST_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class _HistChunk:
    """A reduction ``chunk``: the block's counts as ``{"h": (1, ..., 1, nbins)}`` (reduced axes kept as 1).

    As a reduction step it may run band by band over a block that is streamed
    from a random draw or elementwise work (graphflow.array.stream), so the
    block is never written to memory whole.  With an integer ``bins`` and a
    ``range`` it offers that stream an `accumulator`: every band goes into one
    `EqualWidthCounter` per block, whose grid, scratch buffers and partial
    counts are set up once (per band they cost ~15% of a block's time).
    """

    __slots__ = ("bins", "range", "edges")

    def __init__(self, bins, range_):
        self.bins, self.range = bins, range_
        self.edges = {}  # dtype -> edges: a streamed block calls once per band, and linspace costs ~10 us

    def _edges(self, dtype):
        if self.range is None or np.ndim(self.bins) != 0 or dtype not in _FAST_DTYPES:
            return None
        edges = self.edges.get(dtype)
        if edges is None:
            edges = self.edges[dtype] = np.histogram_bin_edges(np.zeros(0, dtype), self.bins, self.range)
        return edges

    def __call__(self, block, axis, keepdims):
        edges = self._edges(block.dtype)
        if edges is not None:
            counts = equal_width_counts(block, edges)
        else:
            counts = np.histogram(block, bins=self.bins, range=self.range)[0]
        return {"h": counts.reshape((1,) * block.ndim + counts.shape)}

    def accumulator(self, shape, dtype):
        """A `_HistAccumulator` for a block of ``shape`` and ``dtype`` fed band by band, or None."""
        edges = self._edges(np.dtype(dtype))
        return None if edges is None else _HistAccumulator(EqualWidthCounter(edges, dtype), len(shape))

    def __reduce__(self):
        return (_HistChunk, (self.bins, self.range))

    def __graphflow_tokenize__(self):
        return ("histogram-chunk", self.bins, self.range)


class _HistAccumulator:
    """One block's counts, band by band: ``add(band)``, then ``result()`` as `_HistChunk` returns it."""

    __slots__ = ("counter", "ndim")

    def __init__(self, counter, ndim):
        self.counter, self.ndim = counter, ndim

    def add(self, band) -> None:
        self.counter.add(band)

    def result(self) -> dict:
        counts = self.counter.counts()
        return {"h": counts.reshape((1,) * self.ndim + counts.shape)}


def _hist_combine(part, axis, keepdims):
    return {"h": np.sum(part["h"], axis=axis, keepdims=True)}


def _hist_aggregate(part, axis, keepdims):
    h = np.sum(part["h"], axis=axis)
    return h.reshape(h.shape[-1:])


def _hist_finish(counts, density, edges):
    return _sum_counts([counts], density, edges)


def _reduced_histogram(a, name, bins, range_, edges, nbins, density, dtype) -> Array:
    """Counts of ``a`` without weights, as a tree reduction whose chunks can stream (see `_HistChunk`)."""
    tree = reduction(a, _HistChunk(bins, range_), _hist_combine, _hist_aggregate, axis=None, keepdims=False,
                     dtype=dtype, name="histogram-tree")
    key = (name, 0)
    return Array(name, ((nbins,),), dtype, {key: Task(key, _hist_finish, Ref((tree.name,)), bool(density), [edges])},
                 [tree])


def _minmax(lo, hi):
    return (lo, hi)


def _sum_counts(parts, density, edges):
    total = parts[0].copy() if parts else None
    for p in parts[1:]:
        total += p
    if density:  # numpy's formula, in numpy's order
        widths = [np.diff(e).astype(float) for e in edges]
        if len(widths) == 1:
            return total / widths[0] / total.sum()
        s = total.sum()
        for i, w in enumerate(widths):
            shape = [1] * len(widths)
            shape[i] = len(w)
            total = total / w.reshape(shape)
        return total / s
    return total


def _weights_like(weights, a: Array):
    if weights is None:
        return None
    weights = asarray(weights)
    if weights.shape != a.shape:
        raise ValueError("weights should have the same shape as a.")
    return weights.rechunk(a.chunks)


def _count_dtype(weights, density):
    if density:
        return np.dtype(float)
    if weights is None:
        return np.dtype(np.intp)
    return np.histogram(np.zeros(1), bins=1, weights=np.ones(1, weights.dtype))[0].dtype


def histogram(a, bins=10, range=None, weights=None, density=None):  # noqa: A002 - numpy's name
    """``numpy.histogram``: ``(hist, bin_edges)``; ``bins`` an int or a monotonic 1-d array of edges.

    ``bin_edges`` is a numpy array when it is known without the data (see the
    module docstring), else a 1-d Array.  ``weights`` has ``a``'s shape.
    """
    a = asarray(a)
    if isinstance(bins, str):
        raise NotImplementedError(f"bins={bins!r} needs the whole data's statistics; give an int or the edges")
    if isinstance(bins, Array):
        bins = bins.compute()  # edges are small, and every block needs all of them
    weights = _weights_like(weights, a)
    dtype = _count_dtype(weights, density)
    name = new_name("histogram", a, bins, range, weights, density)
    nodes, parents = {}, [a] + ([weights] if weights is not None else [])
    if np.ndim(bins) == 0:
        nbins = operator.index(bins)
        if nbins < 1:
            raise ValueError("`bins` must be positive, when an integer")
        if range is not None:
            edges = np.histogram_bin_edges(np.zeros(0, a.dtype), bins=nbins, range=range)  # numpy's checks too
            block_range = tuple(range)
        else:  # numpy's range is the data's: a min/max reduction feeds every block task
            lo, hi = min_(a), max_(a)
            range_key = (name + "-range",)
            edge_nodes = {range_key: Task(range_key, _minmax, Ref((lo.name,)), Ref((hi.name,))),
                          (name + "-edges", 0): Task((name + "-edges", 0), _edges_from_range, nbins, Ref(range_key))}
            edge_dtype = np.histogram_bin_edges(np.zeros(1, a.dtype), bins=nbins).dtype
            edges = Array(name + "-edges", ((nbins + 1,),), edge_dtype, edge_nodes, [lo, hi])
            parents.append(edges)
            block_range = Ref(range_key)
        block_bins = nbins
    else:
        edges = np.asarray(bins)
        if edges.ndim != 1 or np.any(edges[:-1] > edges[1:]):
            raise ValueError("`bins` must increase monotonically, when an array")
        block_bins, block_range, nbins = edges, None, len(edges) - 1
    if weights is None and not isinstance(edges, Array):
        return _reduced_histogram(a, name, block_bins, block_range, edges, nbins, density, dtype), edges
    for idx in itertools.product(*[builtins.range(n) for n in a.numblocks]):
        w = None if weights is None else Ref((weights.name,) + idx)
        nodes[(name + "-chunk",) + idx] = Task((name + "-chunk",) + idx, _hist_block, Ref((a.name,) + idx), w,
                                               block_bins, block_range)
    parts = [Ref((name + "-chunk",) + idx) for idx in itertools.product(*[builtins.range(n) for n in a.numblocks])]
    edges_ref = [Ref((edges.name, 0))] if isinstance(edges, Array) else [edges]
    nodes[(name, 0)] = Task((name, 0), _sum_counts, parts, bool(density), edges_ref)
    hist = Array(name, ((nbins,),), dtype, nodes, parents)
    return hist, edges


def _edges_from_range(nbins, lo_hi):
    return np.histogram_bin_edges(np.asarray(lo_hi), bins=nbins)


def _dd_block(block, weights, edges):
    return np.histogramdd(block, bins=edges, weights=weights)[0]


def _dd_edges(mins, maxs, bins, range_list):
    return np.histogramdd(np.stack([mins, maxs]), bins=bins, range=range_list)[1]


def _nbins_per_dim(bins, D):
    if not isinstance(bins, (list, tuple, np.ndarray, Array)):
        return [operator.index(bins)] * D, [operator.index(bins)] * D
    if len(bins) != D:
        raise ValueError("The dimension of bins must be equal to the dimension of the sample x.")
    counts, spec = [], []
    for b in bins:
        if np.ndim(b) == 0:
            if operator.index(b) < 1:
                raise ValueError("`bins[i]` must be positive, when an integer")
            counts.append(operator.index(b))
            spec.append(operator.index(b))
        else:
            e = np.asarray(b.compute() if isinstance(b, Array) else b)
            if e.ndim != 1 or np.any(e[:-1] > e[1:]):
                raise ValueError("`bins[i]` must be monotonically increasing, when an array")
            counts.append(len(e) - 1)
            spec.append(e)
    return counts, spec


def histogramdd(sample, bins=10, range=None, weights=None, density=None):  # noqa: A002 - numpy's name
    """``numpy.histogramdd`` of an ``(N, D)`` Array (or a sequence of D 1-d arrays): ``(hist, edges)``.

    ``edges`` is a list of numpy arrays when they are known without the data
    (edges given, or int bins with a range), else a list of 1-d Arrays.
    """
    if isinstance(sample, (list, tuple)):
        sample = stack([asarray(s) for s in sample], axis=1)
    sample = asarray(sample)
    if sample.ndim != 2:
        raise ValueError(f"histogramdd needs an (N, D) sample, not an array of shape {sample.shape}")
    D = sample.shape[1]
    sample = sample.rechunk((sample.chunks[0], (D,)))  # a block holds whole rows
    counts, spec = _nbins_per_dim(bins, D)
    if range is not None and len(range) != D:
        raise ValueError("range argument must have one entry per dimension")
    ranges = list(range) if range is not None else [None] * D
    weights = None if weights is None else _weights_like(weights, sample[:, 0])
    name = new_name("histogramdd", sample, [str(s) for s in spec], ranges, weights, density)
    nodes, parents = {}, [sample] + ([weights] if weights is not None else [])
    known = all(np.ndim(s) == 1 or r is not None for s, r in zip(spec, ranges))
    if known:
        edges = np.histogramdd(np.zeros((0, D), sample.dtype), bins=spec, range=ranges)[1]
        edges_arg = list(edges)
    else:
        lo, hi = min_(sample, axis=0), max_(sample, axis=0)
        parents += [lo, hi]
        nodes[(name + "-edges",)] = Task((name + "-edges",), _dd_edges, Ref((lo.name, 0)), Ref((hi.name, 0)), spec,
                                         ranges)
        edges_arg = Ref((name + "-edges",))
    parts = []
    for i in builtins.range(sample.numblocks[0]):
        w = None if weights is None else Ref((weights.name, i))
        key = (name + "-chunk", i)
        nodes[key] = Task(key, _dd_block, Ref((sample.name, i, 0)), w, edges_arg)
        parts.append(Ref(key))
    nodes[(name,) + (0,) * D] = Task((name,) + (0,) * D, _sum_counts, parts, bool(density), edges_arg)
    dtype = _count_dtype(weights, density)
    hist = Array(name, tuple((c,) for c in counts), dtype, nodes, parents)
    if not known:
        edges = []
        for d in builtins.range(D):
            ename = new_name("histogramdd-edges", name, d)
            enodes = {(ename, 0): Task((ename, 0), operator.getitem, Ref((name + "-edges",)), d)}
            edges.append(Array(ename, ((counts[d] + 1,),), np.float64, enodes, [hist]))
    return hist, list(edges)


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):  # noqa: A002 - numpy's name
    """``numpy.histogram2d``: ``(hist, xedges, yedges)`` through `histogramdd`."""
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n != 1 and n != 2:  # one array of edges for both axes, as numpy reads it
        bins = [bins, bins]
    hist, edges = histogramdd([x, y], bins=bins, range=range, weights=weights, density=density)
    return hist, edges[0], edges[1]


NUMPY_FUNCTIONS = {np.histogram: histogram, np.histogram2d: histogram2d, np.histogramdd: histogramdd}
