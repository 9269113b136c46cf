"""graphflow: a lazy task-graph compute engine.

    >>> import graphflow as gf
    >>> @gf.delayed
    ... def inc(x):
    ...     return x + 1
    >>> inc(inc(1)).compute()
    3

Public API: `delayed`, `compute`, `persist`, `optimize`, `visualize`,
`to_networkx`, `config`, `tokenize`, `sizeof`, `errors`, `dask_get` (a Dask scheduler
function; dask loads on its first call).  Only light modules are
imported here; numpy, pyarrow, zmq and tornado load when something uses them.
"""

from . import config, diagnostics, errors
from .logs import setup_logging as _setup_logging
from .actor import actor
from .base import compute, get_scheduler, is_collection, optimize, persist, to_networkx, visualize
from .interop.protocol import dask_get
from .interop.schedulers import register as _register_foreign_schedulers
from .utils.moved import install as _install_moved_modules
from .delayed import Delayed, delayed
from .sizeof import sizeof  # light (no numpy/pyarrow until an object of theirs is measured)
from .spec import tokenize

__version__ = "0.1.0"

_install_moved_modules()  # old module paths (graphflow.cluster ...) import from their new places
_register_foreign_schedulers()  # scheduler="ray" and dask.distributed clients (graphflow.interop.schedulers)
_setup_logging()  # graphflow.* loggers: level from GRAPHFLOW_LOGGING_LEVEL (graphflow.logs)

# The distributed runtime loads zmq and tornado: import it only when asked for.
_LAZY = {
    "Client": "client", "default_client": "client", "LocalCluster": "deploy", "Cluster": "deploy",
    "Future": "client", "annotate": "client", "wait": "client", "as_completed": "client", "futures_of": "client",
    "get_client": "client", "get_worker": "client", "worker_client": "client", "secede": "client",
    "rejoin": "client",
    "progress": "diagnostics.progress",
    "performance_report": "diagnostics.report",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graphflow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "actor",
    "Client",
    "Cluster",
    "Delayed",
    "Future",
    "LocalCluster",
    "as_completed",
    "default_client",
    "futures_of",
    "get_client",
    "get_worker",
    "rejoin",
    "secede",
    "worker_client",
    "wait",
    "compute",
    "config",
    "dask_get",
    "delayed",
    "diagnostics",
    "errors",
    "get_scheduler",
    "is_collection",
    "optimize",
    "performance_report",
    "persist",
    "progress",
    "sizeof",
    "to_networkx",
    "tokenize",
    "visualize",
]
