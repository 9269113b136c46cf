"""Interop with Dask and Ray: graphflow graphs on their clusters, Dask graphs on graphflow.

Three directions, one module each, all loaded only when used:

``graphflow.interop.ray``
    ``gf.compute(x, scheduler="ray")``: one Ray task per (fused) node, with
    ObjectRefs for its inputs, so data stays in Ray's object store.
``graphflow.interop.dask``
    ``gf.compute(x, scheduler=<dask.distributed.Client>)``, and the reverse:
    ``gf.dask_get`` / ``client.dask_get``, Dask scheduler functions that run
    Dask graphs on graphflow's executors.
``graphflow.interop.convert``
    the graph translation both ways (Dask's task spec and old tuple tasks to
    `TaskGraph`, and back).

Neither dask nor ray is a dependency of graphflow: they are the ``dask`` and
``ray`` extras.  Importing graphflow (or this package) imports neither; the
first use does, and a missing one raises `MissingExtraError` naming the extra:

    >>> from graphflow.interop import require
    >>> require("json", "json").__name__    # a module that is there is returned
    'json'
"""

from __future__ import annotations

import importlib

from ..errors import GraphflowError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(GraphflowError, ImportError):
    """An optional library graphflow needs for this feature is not installed (``extra`` names it)."""

    def __init__(self, message: str, extra: str | None = None):
        super().__init__(message)
        self.extra = extra


def require(module: str, extra: str, feature: str = ""):
    """Import ``module`` or raise `MissingExtraError` saying which graphflow extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {feature}" if feature else ""
        raise MissingExtraError(
            f"{module!r} is needed{what} but is not installed: pip install 'graphflow[{extra}]' "
            f"(or pip install {module.split('.')[0]})",
            extra=extra,
        ) from exc
