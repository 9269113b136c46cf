"""Seeing what a computation is doing: progress bars, callbacks, HTML cards, reports and the dashboard.

    >>> import graphflow as gf
    >>> from graphflow.diagnostics import ProgressBar
    >>> with ProgressBar():                                  # doctest: +SKIP
    ...     gf.delayed(sum)([1, 2, 3]).compute()
    100%|##########| 1/1 [00:00<00:00, 512.50tasks/s]
    6

`Callback` is the seam of the local executors (sync, threads, processes):
``start(plan)``, ``task_start(key)``, ``task_finish(key)``, ``finish()``;
`ProgressBar` is one.  ``gf.progress`` (`graphflow.diagnostics.progress.progress`;
``graphflow.diagnostics.progress`` names the module) draws per-prefix bars for
work on a cluster.  Nothing heavy is imported here: tqdm and the client load when
first used, so the scheduler process can import the package's other modules.
"""

from ..local.callbacks import Callback  # the local executors' seam, re-exported here as in Dask

_LAZY = {
    "ProgressBar": "progress",
    "performance_report": "report",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graphflow.diagnostics' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["Callback", "ProgressBar", "performance_report"]
