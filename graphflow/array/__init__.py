"""graphflow.array: lazy chunked numpy arrays.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.random.random((1000, 1000), chunks=(250, 250), seed=0)
    >>> y = (x + x.T).mean(axis=0)          # lazy: shape, dtype and chunks are known
    >>> y.shape, y.chunks[0][:2]
    ((1000,), (250, 250))
    >>> bool(np.allclose(y.compute(), (lambda a: (a + a.T).mean(axis=0))(x.compute())))
    True

Modules: `core` (the Array), `chunks`, `creation`, `random`, `elementwise`,
`blockwise`, `rechunk`, `reductions`, `stream` (reduction chunks that evaluate
elementwise work and random draws band by band, in cache), `linalg`,
`slicing`, `manipulation`, `npfuncs` (numpy protocols), `display`, `fft`
(transforms along one-chunk axes), `generator` and `random_tiles` (numpy's
Generator API behind `random`, drawn on a tile grid that ignores the chunks).
Routines and ways in and out (issue 20): `reorder` (flip, roll, tile, repeat), `pad`,
`overlap` (map_overlap), `triangle` (tril, diagonal, trace), `differences` (diff, gradient),
`einsum`, `selection` (take, isin, insert, shuffle), `summaries` (moment, coarsen), `topk`,
`grids` (broadcast_to, meshgrid), `gufunc` (apply_gufunc), `scans` (push), `accessors`
(``x.blocks``, ``x.vindex``), `storage` (store, npy stacks, zarr, Delayed), `blockmap`.

The modules form a DAG: every operation module imports `core` (the Array), and
`core` imports none of them.  Array's methods (``x + y``, ``x[0]``, ``x.sum()``,
``np.sin(x)``) reach the operations through `core.OPERATIONS`, which this file
fills once, at the bottom, with `core.bind_operations`.
"""

from . import core, elementwise, npfuncs, random, slicing
from . import fft  # issue 20 part 5 (arr-fftrand)
from . import linalg  # arr-linalg: ga.linalg.qr, ga.linalg.svd, ...
from .blockwise import blockwise, map_blocks
from .core import Array
from .creation import (arange, array, asarray, empty, empty_like, eye, from_array, from_npy, full, full_like,
                       linspace, ones, ones_like, to_npy, zeros, zeros_like)
from .elementwise import astype, clip, elemwise, isnan  # where: .searching (arr-ufuncs) adds its 1-arg form
from .elementwise import round_ as round  # noqa: A001 - numpy's name
from .linalg import dot, matmul, outer, tensordot
from .manipulation import concatenate, expand_dims, moveaxis, ravel, reshape, squeeze, stack, swapaxes, transpose
from .rechunk import rechunk
from .reductions import (all, any, argmax, argmin, cumprod, cumsum, max, mean, min, nanmean, nansum, prod,  # noqa: A004
                         std, sum, var)

__all__ = [
    "Array", "random", "blockwise", "map_blocks", "arange", "array", "asarray", "empty", "empty_like", "eye",
    "from_array", "from_npy", "full", "full_like", "linspace", "ones", "ones_like", "to_npy", "zeros",
    "zeros_like", "astype", "clip", "elemwise", "isnan", "where", "round", "dot", "matmul", "outer", "tensordot",
    "concatenate", "expand_dims", "moveaxis", "ravel", "reshape", "squeeze", "stack", "swapaxes", "transpose",
    "rechunk", "all", "any", "argmax", "argmin", "cumprod", "cumsum", "max", "mean", "min", "nanmean",
    "nansum", "prod", "std", "sum", "var",
]
__all__ += ["fft"]  # issue 20 part 5 (arr-fftrand)

# -- arr-routines (issue 20 part 3's second half and part 4): routines, Array accessors, storage.
from . import accessors, storage  # noqa: E402
from .differences import diff, ediff1d, gradient  # noqa: E402
from .einsum import einsum, vdot  # noqa: E402
from .grids import (atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, broadcast_to, fromfunction,  # noqa: E402
                    indices, meshgrid, ndim, ravel_multi_index, result_type, shape, size, unravel_index)
from .gufunc import apply_along_axis, apply_gufunc, apply_over_axes, as_gufunc, gufunc  # noqa: E402
from .overlap import map_overlap, overlap, trim_internal  # noqa: E402
from .pad import pad  # noqa: E402
from .reorder import flip, fliplr, flipud, repeat, roll, rollaxis, rot90, tile  # noqa: E402
from .scans import push  # noqa: E402
from .selection import (choose, compress, delete, extract, insert, isin, piecewise, select, shuffle,  # noqa: E402
                        take, union1d)
from .storage import (from_delayed, from_npy_stack, from_zarr, store, to_delayed, to_npy_stack,  # noqa: E402
                      to_zarr)
from .summaries import allclose, coarsen, count_nonzero, isclose, moment, ptp  # noqa: E402
from .topk import argtopk, topk  # noqa: E402
from .triangle import (diag, diagonal, trace, tri, tril, tril_indices, tril_indices_from, triu,  # noqa: E402
                       triu_indices, triu_indices_from)

__all__ += [
    "diff", "ediff1d", "gradient", "einsum", "vdot", "atleast_1d", "atleast_2d", "atleast_3d",
    "broadcast_arrays", "broadcast_to", "fromfunction", "indices", "meshgrid", "ndim", "ravel_multi_index",
    "result_type", "shape", "size", "unravel_index", "apply_along_axis", "apply_gufunc", "apply_over_axes",
    "as_gufunc", "gufunc", "map_overlap", "overlap", "trim_internal", "pad", "flip", "fliplr", "flipud",
    "repeat", "roll", "rollaxis", "rot90", "tile", "choose", "compress", "delete", "extract", "insert", "isin",
    "piecewise", "select", "take", "union1d", "from_delayed", "from_npy_stack", "from_zarr", "store",
    "to_delayed", "to_npy_stack", "to_zarr", "allclose", "coarsen", "count_nonzero", "isclose", "moment",
    "ptp", "argtopk", "topk", "diag", "diagonal", "trace", "tri", "tril", "tril_indices", "tril_indices_from",
    "triu", "triu_indices", "triu_indices_from", "push", "shuffle",
]
# -- end arr-routines

# -- arr-ufuncs (issue 20 part 2 and part 3's first half): modules `ufuncs` (every numpy ufunc, from one table),
# `elemfuncs` (numpy's elementwise non-ufuncs), `stacking`, `searching` (nonzero family, searchsorted, digitize),
# `counting` (unique, bincount), `histograms`, `quantiles`, `nanreductions`, `cumulative` (exact cumsum family),
# `stats` (average, cov, corrcoef).  Each module's NUMPY_FUNCTIONS joins npfuncs.HANDLED.
from . import elemfuncs, ufuncs  # noqa: E402
from .counting import bincount, unique  # noqa: E402
from .cumulative import nancumprod, nancumsum  # noqa: E402
from .histograms import histogram, histogram2d, histogramdd  # noqa: E402
from .nanreductions import nanargmax, nanargmin, nanmax, nanmin, nanprod, nanstd, nanvar  # noqa: E402
from .quantiles import median, nanmedian, nanpercentile, nanquantile, percentile, quantile  # noqa: E402
from .stats import average, corrcoef, cov  # noqa: E402
from .searching import argwhere, digitize, flatnonzero, nonzero, searchsorted, where  # noqa: E402
from .stacking import append, block, dstack, hstack, vstack  # noqa: E402
from .elemfuncs import *  # noqa: E402,F401,F403 - one table: elemfuncs.ELEMENTWISE
from .ufuncs import *  # noqa: E402,F401,F403 - one table: ufuncs.UFUNC_NAMES (overrides elementwise.isnan)

_TABLES = ("UFUNC_NAMES", "ELEMENTWISE", "NUMPY_FUNCTIONS")
__all__ += [n for n in ufuncs.__all__ + elemfuncs.__all__ if n not in _TABLES and n not in __all__]
__all__ += ["bincount", "unique", "argwhere", "digitize", "flatnonzero", "nonzero", "searchsorted", "append",
            "block", "dstack", "hstack", "vstack", "nancumprod", "nancumsum", "histogram", "histogram2d",
            "histogramdd", "nanargmax", "nanargmin", "nanmax", "nanmin", "nanprod", "nanstd", "nanvar", "median",
            "nanmedian", "nanpercentile", "nanquantile", "percentile", "quantile", "average", "corrcoef", "cov"]
# -- end arr-ufuncs
__all__ += ["linalg"]  # arr-linalg

# -- arr-cov (issue 20 part 6): the names the coverage report found missing
from .blockreshape import reshape_blockwise  # noqa: E402
from .creation import asanyarray  # noqa: E402
from .generic_reduction import reduction  # noqa: E402 - Dask's signature; reductions.reduction is the engine

__all__ += ["asanyarray", "reduction", "reshape_blockwise"]
# -- end arr-cov

# Array's methods call these (see the module docstring): the one place that binds them.
core.bind_operations(
    getitem=slicing.getitem, setitem=slicing.setitem,
    transpose=transpose, reshape=reshape, ravel=ravel, squeeze=squeeze, rechunk=rechunk,
    astype=astype, round=round, clip=clip, elemwise=elemwise, is_operand=elementwise.is_operand,
    map_blocks=map_blocks, dot=dot, matmul=matmul, to_npy=to_npy,
    array_ufunc=npfuncs.array_ufunc, array_function=npfuncs.array_function,
    sum=sum, prod=prod, mean=mean, std=std, var=var, min=min, max=max, argmin=argmin, argmax=argmax,
    any=any, all=all, cumsum=cumsum, cumprod=cumprod, nansum=nansum, nanmean=nanmean,
    # arr-routines: Array methods and accessors (issue 20 part 4)
    blocks=accessors.blocks, vindex=accessors.vindex, view=accessors.view, to_delayed=to_delayed, store=store,
    to_zarr=to_zarr, to_dataframe=storage.to_dataframe, swapaxes=swapaxes, nonzero=nonzero,
    repeat=repeat, trace=trace, shuffle=shuffle, topk=topk, argtopk=argtopk, choose=choose, moment=moment,
    map_overlap=map_overlap,
)
