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

dask.array's internals are named one by one too: its test helper and warning
class in ``da.``, and the names that ``dask.array.fft`` and
``dask.array.random`` hold only because they import them:

    >>> reason("random.tokenize", object(), "tokenize")
    "an import or helper inside the dask module (dask.array.random), not its API: dask's tokenize"
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

# dask.array's own machinery, public in its namespace but not array API (issue 20 part 6: named here, not hidden).
_ARRAY_INTERNAL = {
    "da.PerformanceWarning": "dask internal: the warning its chunking heuristics raise (large chunks, "
                             "many tasks); graphflow's operations do not warn about chunk plans",
    "da.assert_eq": "dask's testing helper (compares a dask array with numpy and checks dask's graph "
                    "invariants); graphflow's tests compare with numpy.testing",
    "da.atop": "dask's old, deprecated name for blockwise (kept as an alias); graphflow has blockwise",
    "da.unify_chunks": "blockwise internal (dask's docs list it under internal functions): aligns the "
                       "chunks of blockwise inputs; graphflow's blockwise does it itself",
    "da.compute": "dask.compute re-exported into dask.array; graphflow's is graphflow.compute, one for "
                  "every collection",
}

# Names left in dask.array.fft / dask.array.random by their imports and helpers: not transforms or draws.
_IMPORT = "an import or helper inside the dask module ({}), not its API"
_FFT_INTERNAL = {f"fft.{name}": _IMPORT.format("dask.array.fft") + why for name, why in {
    "NUMPY_GE_200": ": a numpy version flag",
    "Sequence": ": collections.abc.Sequence",
    "asarray": ": da.asarray (counted in the module group)",
    "chunk_error": ": the text of its chunking error",
    "fft_preamble": ": the text of its docstrings' preamble",
    "derived_from": ": dask's docstring-copying decorator",
    "skip_doctest": ": dask's docstring helper",
    "scipy": ": scipy's module, None when scipy is not installed",
}.items()}
_RANDOM_INTERNAL = {f"random.{name}": _IMPORT.format("dask.array.random") + why for name, why in {
    "Array": ": da.Array (counted in the module group)",
    "HighLevelGraph": ": dask's graph class",
    "Integral": ": numbers.Integral",
    "Lock": ": threading's Lock",
    "Task": ": dask's task node",
    "TaskRef": ": dask's task reference",
    "arange": ": da.arange (counted in the module group)",
    "array_creation_dispatch": ": dask's backend dispatch for array creation",
    "asarray": ": da.asarray (counted in the module group)",
    "asarray_safe": ": a dask.array.utils helper",
    "broadcast_shapes": ": da.broadcast_shapes' helper (dask.array.core)",
    "broadcast_to": ": da.broadcast_to (counted in the module group)",
    "chain": ": itertools.chain",
    "derived_from": ": dask's docstring-copying decorator",
    "getitem": ": operator.getitem",
    "normalize_chunks": ": dask's chunk normalizer (dask.array.core)",
    "parse_input": ": dask's task-spec parser",
    "product": ": itertools.product",
    "random_state_data": ": the dask.utils helper that makes per-block RandomState seeds",
    "slices_from_chunks": ": a dask.array.core helper",
    "tokenize": ": dask's tokenize",
    "typename": ": a dask.utils helper",
}.items()}

_BAG = {
    "db.read_avro": "needs fastavro, which graphflow does not depend on",
    "Bag.to_avro": "needs fastavro, which graphflow does not depend on",
    "db.from_url": "out of scope in issue 21: reads over HTTP(S), a remote filesystem graphflow.bag does not "
                   "have (read_text reads local files)",
}

# dask.distributed's own plumbing, public on Client and Future but not an API a program calls for its work.
_DISTRIBUTED = {
    "Client.sync": "dask.distributed internal: runs one of the client's coroutines on its event loop "
                   "(graphflow's client has no coroutine methods to run)",
    "Client.loop": "dask.distributed internal: the client's tornado IOLoop (graphflow's runs on a private "
                   "I/O thread that user code never touches)",
    "Client.start": "dask.distributed internal: starts a client created with asynchronous=True, or one "
                    "not started yet (graphflow's client connects in its constructor)",
    "Client.amm": "dask.distributed's Active Memory Manager controls: a scheduler extension graphflow does "
                  "not have (its retirement and replication are their own methods)",
    "Future.bind_client": "dask.distributed internal: re-attaches a deserialized future to a client "
                          "(graphflow futures are never pickled: they are passed to tasks by key)",
    "Future.substitute": "dask's task-spec internal: the graph-node method a Future inherits from "
                         "dask._task_spec.TaskRef, used when rewriting graphs",
}

EXCLUDED: dict = {
    **{f"{cls}.{name}": why for cls in ("DataFrame", "Series") for name, why in _DASK_EXPR.items()},
    **_DATAFRAME_FORMATS, **_ARRAY, **_ARRAY_INTERNAL, **_FFT_INTERNAL, **_RANDOM_INTERNAL, **_BAG,
    **_DISTRIBUTED,
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
