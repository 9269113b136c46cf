"""Interop workloads (issue 9): Dask collections on graphflow, and graphflow graphs on Ray.

Two comparisons, each with the same work on both sides of one run:

    kind                     graphflow column                      anchor column
    interop_array_sum        dask.array, scheduler=gf.dask_get     the same, scheduler="threads" (dask)
    interop_array_xxt_mean   (x + x.T).mean(axis=0), likewise      likewise
    interop_array_matmul     a @ b, likewise                       likewise
    interop_delayed          10k dask.delayed inc + fan-in-8 tree  likewise
    interop_ray_tree         gf.delayed tree, scheduler="ray"      the same tree as Ray remote calls (ray)

The Dask rows build the very same Dask collection for both engines (the
arrays of `benchmarks.workloads.array`, drawn with ``da.random.default_rng``;
the tree of `benchmarks.shapes`), so only the scheduler function differs:
Dask's threaded scheduler, or graphflow's, which converts the graph, runs its
optimizer and its threads.  ``build`` (making the collection) and ``compute``
are timed; the answers are checked as in the array and delayed workloads.

The Ray row runs on ``ray.init(num_cpus=2)`` started once per engine worker
(a session, like the cluster workloads, so one engine's idle Ray never runs
beside the other's): graphflow builds a ``gf.delayed`` tree and computes it
with ``scheduler="ray"`` (one Ray task per node, ObjectRefs as arguments);
the anchor makes the same calls by hand, ``inc.remote(i)`` and
``add.remote(*refs)``, with one ``ray.get`` of the root.

``dask-arr-xxt-mean-mem`` (issue 23) runs the xxt-mean case once in a fresh
process per engine and reports its peak RSS growth (as the array group's
``*-mem`` rows do): the threads executor must hold no more blocks than Dask's.

    python -m benchmarks interop              # all six, vs dask and ray
    python -m benchmarks interop --quick      # tiny sizes, one run each
    python -m benchmarks.workloads.interop peak graphflow interop_array_xxt_mean '{"n": 400, "chunk": 100, "seed": 0}'
"""

from __future__ import annotations

import functools
import json
import logging
import sys

from .. import probe, sessions, shapes
from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most
from . import array as array_workloads

__all__ = ["WORKLOADS", "CASES", "DASK_CASES", "RAY_CASES"]

ARRAY_KINDS = {  # our kind -> the array workload's kind (its sizes and answer check)
    "interop_array_sum": "array_sum",
    "interop_array_xxt_mean": "array_xxt_mean",
    "interop_array_matmul": "array_matmul",
}
DELAYED_PARAMS = {"leaves": 10_000, "fan_in": 8}
DELAYED_QUICK = {"leaves": 200, "fan_in": 8}
RAY_PARAMS = {"leaves": 2_000, "fan_in": 8}
RAY_QUICK = {"leaves": 100, "fan_in": 8}


def _scheduler(engine: str):
    if engine == "graphflow":
        import graphflow as gf

        return gf.dask_get
    return "threads"


# ------------------------------------------------------------------ dask collections, two schedulers


def array_case(engine: str, kind: str, params) -> dict:
    """A dask.array workload computed by ``engine``'s scheduler function."""
    watch = Stopwatch()
    expr = array_workloads.dask_expression(kind, params)
    watch.lap("build")
    value = expr.compute(scheduler=_scheduler(engine))
    watch.lap("compute")
    array_workloads._check(kind, params, value)
    return watch.phases()


def delayed_case(engine: str, params) -> dict:
    """``leaves`` dask.delayed ``inc(i)`` calls and a fan-in tree of adds, computed by ``engine``'s scheduler."""
    import dask

    n, fan_in = params["leaves"], params["fan_in"]
    watch = Stopwatch()
    inc, add = dask.delayed(shapes.inc), dask.delayed(shapes.add)
    leaves = [inc(i) for i in range(n)]
    root = shapes.reduce_tree(leaves, fan_in, lambda level, j, chunk: add(*chunk))
    watch.lap("build")
    value = root.compute(scheduler=_scheduler(engine))
    watch.lap("compute")
    shapes.check(engine, value, shapes.expected_tree_sum(n))
    return watch.phases()


# ------------------------------------------------------------------ Ray: graphflow's graph vs hand-written tasks


def _ray():
    import ray

    def start():
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        return ray

    return sessions.shared(("interop-ray", 2), start, lambda r: r.shutdown())


def ray_graph_case(params) -> dict:
    """A ``gf.delayed`` tree computed with ``scheduler="ray"``."""
    import graphflow as gf

    _ray()
    n, fan_in = params["leaves"], params["fan_in"]
    watch = Stopwatch()
    inc, add = gf.delayed(shapes.inc), gf.delayed(shapes.add)
    root = shapes.reduce_tree([inc(i) for i in range(n)], fan_in, lambda level, j, chunk: add(*chunk))
    watch.lap("build")
    value = root.compute(scheduler="ray")
    watch.lap("compute")
    shapes.check("graphflow", value, shapes.expected_tree_sum(n))
    phases = watch.phases()
    phases["counts"] = {"ran": shapes.tree_task_count(n, fan_in)}
    return phases


@functools.cache
def _ray_functions():
    ray = _ray()
    return ray.remote(shapes.inc), ray.remote(shapes.add)


def ray_direct_case(params) -> dict:
    """The same tree written directly as Ray remote calls."""
    ray = _ray()
    inc, add = _ray_functions()
    n, fan_in = params["leaves"], params["fan_in"]
    watch = Stopwatch()
    root = shapes.reduce_tree([inc.remote(i) for i in range(n)], fan_in, lambda level, j, chunk: add.remote(*chunk))
    watch.lap("submit")
    value = ray.get(root)
    watch.lap("compute")
    shapes.check("ray", value, shapes.expected_tree_sum(n))
    phases = watch.phases()
    phases["counts"] = {"ran": shapes.tree_task_count(n, fan_in)}
    return phases


CASES = {kind: functools.partial(array_case, "graphflow", base) for kind, base in ARRAY_KINDS.items()}
CASES["interop_delayed"] = functools.partial(delayed_case, "graphflow")
CASES["interop_ray_tree"] = ray_graph_case
DASK_CASES = {kind: functools.partial(array_case, "dask", base) for kind, base in ARRAY_KINDS.items()}
DASK_CASES["interop_delayed"] = functools.partial(delayed_case, "dask")
RAY_CASES = {"interop_ray_tree": ray_direct_case}
_BY_ENGINE = {"graphflow": CASES, "dask": DASK_CASES, "ray": RAY_CASES}


def _case_for(kind):
    def find(engine):
        return _BY_ENGINE.get(engine.name, {}).get(kind)

    return find


def peak_rss(engine: str, kind: str, params) -> dict:
    """Peak RSS growth of a fresh process computing ``kind`` once with ``engine``'s scheduler function."""
    return json.loads(probe._run_child(["-m", "benchmarks.workloads.interop", "peak", engine, kind,
                                        json.dumps(dict(params))]))


def _mem_case_for(kind):
    def find(engine):
        return functools.partial(peak_rss, engine.name, kind) if kind in _BY_ENGINE.get(engine.name, {}) else None

    return find


def _mem_row(kind: str, name: str) -> Workload:
    base = ARRAY_KINDS[kind]
    _, summary, params, quick = array_workloads.KINDS[base]
    return Workload(
        name=name,
        summary=f"interop, peak RSS growth in a fresh process: dask.array {summary}, gf.dask_get vs dask threads",
        kind=f"{kind}_peak_memory",
        params=params,
        quick_params=quick,
        repeat=1,
        warmup="none",
        unit="B",
        target=ratio_at_most(1.0, "dask"),
        isolate=False,  # each sample is a fresh process already
        anchors=("dask",),
        case_for=_mem_case_for(kind),
    )


def _array_row(kind: str, name: str) -> Workload:
    base = ARRAY_KINDS[kind]
    _, summary, params, quick = array_workloads.KINDS[base]
    return Workload(
        name=name,
        summary=f"interop: dask.array {summary}, gf.dask_get vs dask threads",
        kind=kind,
        params=params,
        quick_params=quick,
        tasks=lambda p: (p["n"] // p["chunk"]) ** 2,
        repeat=5,
        target=ratio_at_most(1.0, "dask"),
        anchors=("dask",),
        case_for=_case_for(kind),
    )


WORKLOADS = [
    _array_row("interop_array_sum", "dask-arr-sum"),
    _array_row("interop_array_xxt_mean", "dask-arr-xxt-mean"),
    _array_row("interop_array_matmul", "dask-arr-matmul"),
    _mem_row("interop_array_xxt_mean", "dask-arr-xxt-mean-mem"),
    Workload(
        name="dask-delayed10k",
        summary="interop: 10k dask.delayed inc + fan-in-8 tree, gf.dask_get vs dask threads",
        kind="interop_delayed",
        params=DELAYED_PARAMS,
        quick_params=DELAYED_QUICK,
        tasks=lambda p: shapes.tree_task_count(p["leaves"], p["fan_in"]),
        repeat=5,
        target=ratio_at_most(0.5, "dask"),
        anchors=("dask",),
        case_for=_case_for("interop_delayed"),
    ),
    Workload(
        name="gf-on-ray",
        summary="interop: gf.delayed tree (2k inc + fan-in-8) with scheduler='ray' vs the same Ray tasks by hand",
        kind="interop_ray_tree",
        params=RAY_PARAMS,
        quick_params=RAY_QUICK,
        tasks=lambda p: shapes.tree_task_count(p["leaves"], p["fan_in"]),
        repeat=5,
        warmup="small",
        target=ratio_at_most(1.2, "ray"),
        anchors=("ray",),
        case_for=_case_for("interop_ray_tree"),
        session="interop-ray",
    ),
]


def main(argv=None) -> int:
    """Child entry point: ``peak ENGINE KIND PARAMS_JSON`` prints the peak RSS growth as JSON."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 4 or argv[0] != "peak" or argv[2] not in _BY_ENGINE.get(argv[1], {}):
        print("usage: python -m benchmarks.workloads.interop peak graphflow|dask KIND PARAMS_JSON", file=sys.stderr)
        return 2
    import dask.array  # noqa: F401  (imported before the baseline, as the array group's children do)

    if argv[1] == "graphflow":
        import graphflow.interop.dask  # noqa: F401
    print(json.dumps(probe.peak_growth(_BY_ENGINE[argv[1]][argv[2]], json.loads(argv[3]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
