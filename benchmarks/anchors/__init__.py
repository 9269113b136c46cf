"""Anchors: the engines graphflow is compared with, one module of cases each.

An anchor module defines ``engine() -> Engine``, whose ``cases`` map a
workload kind (``"delayed_sum"``, ``"raw_tree"``, ...) to a function
``case(params) -> {phase: value}`` that does the same work as graphflow's case
of that kind.  Kinds it lacks show as "n/a" in the table.

The registry below is all the runner knows: ``dask`` (local schedulers),
``distributed`` (dask.distributed's ``LocalCluster``), ``ray``, ``pyarrow``
(single-threaded, for the dataframe workloads) and ``numpy`` (a single-threaded
loop over the blocks, for the array workloads).  To add
another: write its module of cases and add ``name: (module, distribution)``;
``--vs name`` then works.
Anchor modules are imported only when asked for, so a missing library costs
nothing until it is wanted, and then says so.
"""

from __future__ import annotations

import importlib
import importlib.util

from ..model import Engine

__all__ = ["ANCHORS", "missing_reason", "load"]

# name -> (module with its cases, the distribution it needs)
ANCHORS: dict = {
    "dask": ("benchmarks.anchors.dask", "dask"),
    "distributed": ("benchmarks.anchors.distributed", "distributed"),
    "ray": ("benchmarks.anchors.ray", "ray"),
    "pyarrow": ("benchmarks.anchors.pyarrow", "pyarrow"),
    "numpy": ("benchmarks.anchors.numpy", "numpy"),
}


def missing_reason(name: str) -> str | None:
    """Why anchor ``name`` cannot run here (not installed), or None if it can."""
    _, requirement = ANCHORS[name]
    if importlib.util.find_spec(requirement) is None:
        return f"{requirement} is not installed (make .venv/.installed-bench, or pip install -e '.[bench]')"
    return None


def load(name: str) -> Engine:
    """Import anchor ``name`` and return its `Engine`."""
    module_name, _ = ANCHORS[name]
    return importlib.import_module(module_name).engine()
