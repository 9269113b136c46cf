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
`slicing`, `manipulation`, `npfuncs` (numpy protocols), `display`.

The modules form a DAG: every operation module imports `core` (the Array), and
`core` imports none of them.  Array's methods (``x + y``, ``x[0]``, ``x.sum()``,
``np.sin(x)``) reach the operations through `core.OPERATIONS`, which this file
fills once, at the bottom, with `core.bind_operations`.
"""

from . import core, elementwise, npfuncs, random, slicing
from . import linalg  # arr-linalg: ga.linalg.qr, ga.linalg.svd, ...
from .blockwise import blockwise, map_blocks
from .core import Array
from .creation import (arange, array, asarray, empty, empty_like, eye, from_array, from_npy, full, full_like,
                       linspace, ones, ones_like, to_npy, zeros, zeros_like)
from .elementwise import astype, clip, elemwise, isnan, where
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
__all__ += ["linalg"]  # arr-linalg

# Array's methods call these (see the module docstring): the one place that binds them.
core.bind_operations(
    getitem=slicing.getitem, setitem=slicing.setitem,
    transpose=transpose, reshape=reshape, ravel=ravel, squeeze=squeeze, rechunk=rechunk,
    astype=astype, round=round, clip=clip, elemwise=elemwise, is_operand=elementwise.is_operand,
    map_blocks=map_blocks, dot=dot, matmul=matmul, to_npy=to_npy,
    array_ufunc=npfuncs.array_ufunc, array_function=npfuncs.array_function,
    sum=sum, prod=prod, mean=mean, std=std, var=var, min=min, max=max, argmin=argmin, argmax=argmax,
    any=any, all=all, cumsum=cumsum, cumprod=cumprod, nansum=nansum, nanmean=nanmean,
)
