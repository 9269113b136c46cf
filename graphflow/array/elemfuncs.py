"""numpy's elementwise functions that are not ufuncs: ``angle``, ``around``, ``fix``, ``nan_to_num``, ...

Each is the numpy function applied block by block (`elemwise`), so its output
block depends only on the same input block; one table, `ELEMENTWISE`, maps
graphflow's name to numpy's function:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([1.5, -np.inf, np.nan]), chunks=2)
    >>> ga.nan_to_num(x, posinf=9.0, neginf=-9.0).compute()
    array([ 1.5, -9. ,  0. ])
    >>> ga.fix(x).compute()
    array([  1., -inf,  nan])

``isnull``/``notnull`` are pandas' notion of missing (NaN, NaT and None in object
arrays), as Dask's are.  Without a graphflow Array among the arguments, each
function is numpy's own.
"""

from __future__ import annotations

import numpy as np

from .core import Array
from .elementwise import elemwise


def _isnull(block):
    import pandas as pd

    return np.asarray(pd.isnull(block))


def _notnull(block):
    return ~_isnull(block)


ELEMENTWISE = {
    "angle": np.angle, "around": np.around, "fix": np.fix, "real": np.real, "imag": np.imag,
    "iscomplex": np.iscomplex, "isreal": np.isreal, "nan_to_num": np.nan_to_num, "i0": np.i0,
    "sinc": np.sinc, "isneginf": np.isneginf, "isposinf": np.isposinf,
    "isnull": _isnull, "notnull": _notnull,
}

__all__ = ["ELEMENTWISE", "NUMPY_FUNCTIONS", *ELEMENTWISE]


def _lift(name, func):
    def lifted(x, *args, **kwargs):
        if not any(isinstance(v, Array) for v in (x, *args, *kwargs.values())):
            return func(x, *args, **kwargs)
        if name == "nan_to_num":
            kwargs.pop("copy", None)  # blocks are always new arrays
        return elemwise(func, x, *args, **kwargs)

    lifted.__name__ = lifted.__qualname__ = name
    lifted.__doc__ = (f"``numpy.{getattr(func, '__name__', name)}`` block by block on graphflow Arrays "
                      f"(same arguments as numpy's).")
    return lifted


globals().update({name: _lift(name, func) for name, func in ELEMENTWISE.items()})

# numpy functions that dispatch here through ``__array_function__`` (np.angle(x) on an Array).
NUMPY_FUNCTIONS = {func: globals()[name] for name, func in ELEMENTWISE.items()
                   if getattr(np, name, None) is func}
