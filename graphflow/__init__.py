"""graphflow: a lazy task-graph compute engine.

    >>> import graphflow as gf
    >>> @gf.delayed
    ... def inc(x):
    ...     return x + 1
    >>> inc(inc(1)).compute()
    3

Public API: `delayed`, `compute`, `persist`, `optimize`, `visualize`,
`to_networkx`, `config`, `tokenize`, `errors`.  Only light modules are
imported here; numpy, pyarrow, zmq and tornado load when something uses them.
"""

from . import config, errors
from .base import compute, get_scheduler, is_collection, optimize, persist, to_networkx, visualize
from .delayed import Delayed, delayed
from .spec import tokenize

__version__ = "0.1.0"

__all__ = [
    "Delayed",
    "compute",
    "config",
    "delayed",
    "errors",
    "get_scheduler",
    "is_collection",
    "optimize",
    "persist",
    "to_networkx",
    "tokenize",
    "visualize",
]
