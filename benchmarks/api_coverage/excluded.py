"""The Dask names the coverage report leaves out of the count, each with its reason.

Two kinds: *rules* that drop whole kinds of module-level objects (a submodule
is a namespace, not a function), and *names*, qualified by their sub-group's
prefix (``DataFrame.expr``), dropped one by one.  The report lists every
excluded name with its reason (``--excluded``), so nothing leaves the count
silently; moving a name back into the count is deleting its line here.

    >>> reason("DataFrame.simplify", object(), "simplify").startswith("dask-expr internal")
    True
    >>> import types
    >>> reason("dd.core", types.ModuleType("core"), "core")
    'a submodule: a namespace, not a function (its own names are not counted here)'
    >>> reason("DataFrame.merge", object(), "merge") is None
    True
"""

from __future__ import annotations

import __future__
import types
import warnings

__all__ = ["EXCLUDED", "reason"]

# dask-expr's machinery for its own expression system, public on DataFrame and Series (issue 18 names them):
_DASK_EXPR = {
    "expr": "dask-expr internal: the expression object behind the collection (graphflow's plan is its own)",
    "simplify": "dask-expr internal: one pass of its expression optimizer",
    "lower_once": "dask-expr internal: one step of lowering its expressions to partition-wise ones",
    "optimize": "dask-expr internal: runs its expression optimizer (graphflow optimizes when computing)",
    "analyze": "dask-expr internal: profiles its expressions on a distributed cluster",
    "pprint": "dask-expr internal: prints its expression tree (graphflow's is explain())",
    "enforce_runtime_divisions": "dask-expr internal: a check of its divisions metadata at run time",
    "to_backend": "dask-expr internal: moves a collection to another backend (cudf, cupy) through "
                  "dask's backend entrypoints; graphflow has one backend",
}

# Formats whose libraries graphflow does not depend on (issue 18: an optional extra or a MissingExtraError).
_HDF = "needs PyTables (HDF5), which graphflow does not depend on"
_SQL = "needs SQLAlchemy and a database driver, which graphflow does not depend on"
_DATAFRAME_FORMATS = {
    "DataFrame.to_hdf": _HDF, "Series.to_hdf": _HDF, "dd.to_hdf": _HDF, "dd.read_hdf": _HDF,
    "DataFrame.to_sql": _SQL, "Series.to_sql": _SQL, "dd.to_sql": _SQL,
    "dd.read_sql": _SQL, "dd.read_sql_query": _SQL, "dd.read_sql_table": _SQL,
}

_ARRAY = {
    "da.ARRAY_EXPR_ENABLED": "dask internal: the switch for dask.array's experimental expression backend",
    "da.array_expr_enabled": "dask internal: the switch for dask.array's experimental expression backend",
    "da.register_chunk_type": "dask internal: registers a third-party chunk type with dask's dispatch",
    "da.optimize": "dask internal: dask.array's graph optimizer, its __dask_optimize__ hook "
                   "(graphflow's is graphflow.optimize)",
    "Array.to_backend": _DASK_EXPR["to_backend"],
    "Array.to_hdf5": "needs h5py (HDF5), which graphflow does not depend on",
    "da.to_hdf5": "needs h5py (HDF5), which graphflow does not depend on",
    "Array.to_tiledb": "needs tiledb, which graphflow does not depend on",
    "da.to_tiledb": "needs tiledb, which graphflow does not depend on",
    "da.from_tiledb": "needs tiledb, which graphflow does not depend on",
    "Array.to_zarr": "needs zarr, which graphflow does not depend on",
    "da.to_zarr": "needs zarr, which graphflow does not depend on",
    "da.from_zarr": "needs zarr, which graphflow does not depend on",
}

_BAG = {
    "db.read_avro": "needs fastavro, which graphflow does not depend on",
    "Bag.to_avro": "needs fastavro, which graphflow does not depend on",
    "db.from_url": "out of scope in issue 21: reads over HTTP(S), a remote filesystem graphflow.bag does not "
                   "have (read_text reads local files)",
}

EXCLUDED: dict = {
    **{f"{cls}.{name}": why for cls in ("DataFrame", "Series") for name, why in _DASK_EXPR.items()},
    **_DATAFRAME_FORMATS, **_ARRAY, **_BAG,
}

_MODULE = "a submodule: a namespace, not a function (its own names are not counted here)"
_FUTURE = "not API: `from __future__ import annotations` leaves this name in the module"
_NUMPY = "numpy's own object re-exported under the same name (numpy.pi, numpy.float64): use numpy's"


_MISSING = object()


def _numpy_reexport(name: str, obj) -> bool:
    """Whether ``obj`` is numpy's own object under the same name (``da.pi``, ``da.float64``)."""
    import numpy

    with warnings.catch_warnings():  # numpy warns on some names it deprecated (numpy.str)
        warnings.simplefilter("ignore")
        return getattr(numpy, name, _MISSING) is obj


def reason(qualified: str, obj, name: str) -> str | None:
    """Why the Dask name ``qualified`` (its object ``obj``, bare ``name``) is left out, or None."""
    if qualified in EXCLUDED:
        return EXCLUDED[qualified]
    if isinstance(obj, types.ModuleType):
        return _MODULE
    if isinstance(obj, type(__future__.annotations)):
        return _FUTURE
    if _numpy_reexport(name, obj):
        return _NUMPY
    return None
