"""The workloads, in the order ``all`` runs them, the groups, and graphflow's case for each kind.

This is the one module that imports every module of workloads (those in
`benchmarks.workloads` and the ``*_cases`` modules that are a group each);
none of them imports it (or `benchmarks.engines`, which reads
`GRAPHFLOW_CASES` from here), so the import graph has no cycles
(``tests/test_benchmark_imports.py``).
"""

from __future__ import annotations

from . import dashboard_cases, elastic_cases, encrypt_cases, fault_cases, progress_cases, scale_cases, soak_cases
from .workloads import actors, array, chain, cluster, dataframe, delayed_sum, graph1m, imports, interop, memory, spill
from .workloads import array_stats, bag, cluster_api, df_windows
from .workloads import nested, ray_programs, tree
from .workloads import array_routines
from .workloads import array_linalg

__all__ = ["WORKLOADS", "GROUPS", "GRAPHFLOW_CASES"]

_LOCAL = (delayed_sum, chain, tree, graph1m, memory, imports)
_MODULES = _LOCAL + (cluster, nested, actors, dataframe, df_windows, array, spill, interop, cluster_api)
_MODULES += (array_routines, array_stats, array_linalg, bag, ray_programs)

# modules outside workloads/, one group each
_OWN_GROUPS = (elastic_cases, dashboard_cases, progress_cases, encrypt_cases, fault_cases, soak_cases, scale_cases)
WORKLOADS: dict = {w.name: w for module in _MODULES + _OWN_GROUPS for w in module.WORKLOADS}

# Names that select several workloads on the command line (besides "all").
GROUPS: dict = {
    "local": [w.name for module in _LOCAL for w in module.WORKLOADS],
    "dist": [w.name for w in cluster.WORKLOADS],
    "cluster-api": [w.name for w in cluster_api.WORKLOADS],  # resources, large-arg (issue 19)
    "nested": [w.name for w in nested.WORKLOADS],  # tasks that launch tasks (gf.get_client in a task)
    "ray-programs": [w.name for w in ray_programs.WORKLOADS],  # Ray Core programs on graphflow.ray vs Ray
    "actors": [w.name for w in actors.WORKLOADS],
    "dataframe": [w.name for w in dataframe.WORKLOADS] + [w.name for w in df_windows.WORKLOADS],
    "array": [w.name for w in array.WORKLOADS],
    "array-routines": [w.name for w in array_routines.WORKLOADS],  # arr-overlap, arr-topk, arr-pad (issue 20)
    "array-stats": [w.name for w in array_stats.WORKLOADS],  # issue 20: histogram, percentile, cumsum vs dask
    "array-linalg": [w.name for w in array_linalg.WORKLOADS],  # arr-qr, arr-svd, arr-svdc (issue 20)
    "bag": [w.name for w in bag.WORKLOADS],  # bag-json, bag-words: dask.bag on processes (issue 21)
    "spill": [w.name for w in spill.WORKLOADS],
    "interop": [w.name for w in interop.WORKLOADS],
    "elastic": elastic_cases.GROUP,  # retire-1gb; scale-up (benchmarks/elastic_cases.py)
    "dashboard": dashboard_cases.GROUP,  # dash-overhead, dash-visible (benchmarks/dashboard_cases.py)
    "progress": progress_cases.GROUP,  # progress-overhead, progressbar-overhead (benchmarks/progress_cases.py)
    "encrypt": encrypt_cases.GROUP,  # dist10k-encrypt (benchmarks/encrypt_cases.py)
    "faults": fault_cases.GROUP,  # faults-array, -dataframe, -actor, -elastic: kill -9 at 20 seeds each
    "soak": soak_cases.GROUP,  # 1M tasks through map in rounds of 100k, RSS bounded
    # issue 23: trees of 10k-1M leaves, map and compute(list) at 10k-1M, vs dask.distributed and Ray
    "scale": scale_cases.GROUP,
}

# One kind per module (``KIND`` and ``run``), or several (``CASES``).  Subprocess
# kinds (memory, imports) have no in-process case: their workloads make one per
# engine with `Workload.case_for`.
GRAPHFLOW_CASES: dict = {
    module.KIND: module.run for module in _MODULES if hasattr(module, "run")
}
for _module in _MODULES:
    GRAPHFLOW_CASES.update(getattr(_module, "CASES", {}))
GRAPHFLOW_CASES.update(elastic_cases.GRAPHFLOW_CASES)
GRAPHFLOW_CASES.update(dashboard_cases.GRAPHFLOW_CASES)
GRAPHFLOW_CASES.update(progress_cases.GRAPHFLOW_CASES)
GRAPHFLOW_CASES.update(encrypt_cases.GRAPHFLOW_CASES)
GRAPHFLOW_CASES.update(fault_cases.GRAPHFLOW_CASES)
GRAPHFLOW_CASES.update(soak_cases.GRAPHFLOW_CASES)
GRAPHFLOW_CASES.update(scale_cases.GRAPHFLOW_CASES)
