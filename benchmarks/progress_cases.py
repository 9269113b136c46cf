"""What progress bars cost: the 10k-task sum with and without bars (graphflow only).

``progress-overhead`` (kind ``progress_overhead``)
    the ``dist10k`` work (`benchmarks.futures_cases.delayed_sum`) on one
    cluster, twice per sample: once with ``gf.progress`` drawing per-prefix
    bars while it runs (``total``), once without (``plain``); the order
    alternates between samples.  Target: the medians differ by under 5%.
``progressbar-overhead`` (kind ``progressbar_overhead``)
    the same work on the local threads executor, inside
    ``gf.diagnostics.ProgressBar`` (``total``) and without (``plain``).

The bars draw into a string buffer: what is measured is graphflow's cost
(callbacks, polls of the scheduler, tqdm's formatting at most every 0.1 s),
not a terminal's.
"""

from __future__ import annotations

import io
import itertools

from . import futures_cases, sessions, shapes
from .model import Workload
from .overhead_rows import overhead_row
from .targets import overhead_below

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES"]

NAME = "graphflow"
SESSION = "progress"
_samples = itertools.count()


def _client(params):
    import graphflow as gf

    def start():
        return gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                         dashboard_address=None)

    return sessions.shared((SESSION, params["workers"], params["threads_per_worker"]), start, lambda c: c.close())


def _ran(client) -> int:
    return client.scheduler_info()["tasks_executed"] if client is not None else 0


def _alternate(run_with, run_without) -> dict:
    order = (True, False) if next(_samples) % 2 else (False, True)
    phases = {}
    for with_bars in order:
        phases[with_bars] = run_with() if with_bars else run_without()
    return {"total": phases[True]["total"], "plain": phases[False]["total"], "counts": phases[True]["counts"]}


def progress_overhead(params) -> dict:
    """dist10k with ``gf.progress`` bars (``total``) and without (``plain``), on one cluster."""
    import graphflow as gf

    client = _client(params)

    def compute(root, scheduler, bars=False):  # both runs take the same path: a future, then its result
        future = scheduler.compute(root)
        if bars:
            gf.progress(future, notebook=False, out=io.StringIO())
        return (future.result(),)

    return _alternate(
        lambda: futures_cases.delayed_sum(client, params, _ran, NAME, gf.delayed,
                                          lambda root, scheduler: compute(root, scheduler, bars=True)),
        lambda: futures_cases.delayed_sum(client, params, _ran, NAME, gf.delayed, compute))


def progressbar_overhead(params) -> dict:
    """The 10k-task sum on the threads executor inside ``ProgressBar`` (``total``) and without (``plain``)."""
    import graphflow as gf
    from graphflow.diagnostics import ProgressBar

    def threads(root, scheduler):
        return gf.compute(root, scheduler="threads")

    def with_bar(root, scheduler):
        with ProgressBar(out=io.StringIO()):
            return threads(root, scheduler)

    return _alternate(lambda: futures_cases.delayed_sum(None, params, _ran, NAME, gf.delayed, with_bar),
                      lambda: futures_cases.delayed_sum(None, params, _ran, NAME, gf.delayed, threads))


GRAPHFLOW_CASES = {"progress_overhead": progress_overhead, "progressbar_overhead": progressbar_overhead}

_TREE = {"leaves": 10_000, "fan_in": 8}
_QUICK = {"leaves": 64, "fan_in": 8}

WORKLOADS = [
    overhead_row(
        "progress-overhead",
        "dist10k with gf.progress bars vs without (same cluster)",
        "progress_overhead", SESSION, 0.05, ("bars", "no bars"),
    ),
    Workload(
        name="progressbar-overhead",
        summary="the 10k-task sum on threads inside ProgressBar vs without",
        kind="progressbar_overhead",
        params=dict(_TREE),
        quick_params=dict(_QUICK),
        tasks=lambda params: shapes.tree_task_count(params["leaves"], params["fan_in"]),
        repeat=9,
        warmup="small",
        target=overhead_below(0.05, "plain", "bar", "no bar"),
        anchors=(),
    ),
]

GROUP = [w.name for w in WORKLOADS]
