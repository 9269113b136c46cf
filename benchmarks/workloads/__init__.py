"""The workloads, in the order ``all`` runs them, and graphflow's case for each kind.

Each module here owns one kind of measurement: its graphflow case (a
function ``run(params) -> {phase: value}``) and the `Workload` rows that use
it.  The anchors' cases for the same kinds live in `benchmarks.anchors`.
"""

from __future__ import annotations

from . import chain, delayed_sum, graph1m, imports, memory, tree

__all__ = ["WORKLOADS", "GRAPHFLOW_CASES"]

_MODULES = (delayed_sum, chain, tree, graph1m, memory, imports)

WORKLOADS: dict = {w.name: w for module in _MODULES for w in module.WORKLOADS}

# Subprocess kinds (memory, imports) have no in-process case: their workloads
# make one per engine with `Workload.case_for`.
GRAPHFLOW_CASES: dict = {
    module.KIND: module.run for module in _MODULES if hasattr(module, "run")
}
