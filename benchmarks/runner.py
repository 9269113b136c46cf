"""Run workloads on graphflow and the anchors, alternating engines, and collect `Result` s.

For one workload:

1. each engine gets a fresh worker process (`benchmarks.worker`): engines
   leave allocator state behind that slows the next engine run in the same
   interpreter by up to 2x, and one workload's leftovers must not slow the
   next workload either.  ``--in-process`` runs everything in the runner
   instead (for profiling);
2. warm-up: each engine runs once untimed (at full size, at the quick size
   for very slow runs, or not at all for fresh-process workloads), so imports,
   thread pools and caches are not charged to the first sample;
3. rounds: each round runs every engine once, graphflow first in even rounds
   and last in odd ones, so a burst of noise on this shared 2-core machine or
   a slow drift hits both engines alike instead of one engine's block of runs;
   only one engine runs at a time, and an engine with fewer repeats (a slow
   anchor) simply stops early;
4. ``gc.collect()`` before every sample, so garbage left by the previous run
   is not collected on this run's clock.  The collector stays *on* while
   timing: building a big graph triggers collections in real use too.

A case that raises is reported, not fatal: that engine gets no numbers for
the workload, and the others still run.
"""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Mapping
from contextlib import ExitStack

from .engines import SUBJECT
from .model import Engine, Result, Workload
from .worker import EngineWorker, WorkerError

__all__ = ["run_workload", "run_all"]


class _InProcess:
    """Runs samples in the runner's own interpreter (the worker's in-process twin)."""

    def __init__(self, case):
        self._case = case

    def sample(self, params) -> dict:
        gc.collect()
        return self._case(params)

    def close(self) -> None:
        pass


class _Plan:
    """One engine's part in a workload: where its samples run and how many are left."""

    def __init__(self, name: str, sampler, repeats: int):
        self.name = name
        self.sampler = sampler
        self.repeats = repeats


def _repeats(workload: Workload, engine: Engine, repeat: int | None, quick: bool) -> int:
    if repeat is not None:
        return repeat
    if quick:
        return 1
    if engine.name != SUBJECT and workload.anchor_repeat is not None:
        return workload.anchor_repeat
    return workload.repeat


def run_workload(workload: Workload, engines: list, missing: Mapping, *, repeat: int | None = None,
                 quick: bool = False, in_process: bool = False, log=None) -> Result:
    """Measure ``workload`` on ``engines`` (graphflow first); ``missing`` maps
    anchors that cannot run to the reason, which the result records.
    """
    log = log or (lambda text: None)
    params = workload.quick_params if quick else workload.params
    result = Result(workload, params, workload.tasks(params), [e.name for e in engines] + list(missing))
    result.skipped.update(missing)

    with ExitStack() as stack:
        plans = []
        for engine in engines:
            if engine.name in workload.skip:
                result.skipped[engine.name] = workload.skip[engine.name]
                continue
            case = workload.case(engine)
            if case is None:
                result.skipped[engine.name] = f"n/a: {engine.name} has no {workload.kind!r} case"
                continue
            if workload.isolate and not in_process:
                sampler = stack.enter_context(EngineWorker(engine.name, workload.name))
            else:
                sampler = _InProcess(case)
            plans.append(_Plan(engine.name, sampler, _repeats(workload, engine, repeat, quick)))

        if workload.warmup != "none":
            warm_params = workload.quick_params if (workload.warmup == "small" or quick) else params
            for plan in plans:
                _attempt(plan, warm_params, result, log, "warm-up")

        rounds = max((p.repeats for p in plans), default=0)
        for r in range(rounds):
            for plan in plans if r % 2 == 0 else plans[::-1]:
                if r < plan.repeats:
                    phases = _attempt(plan, params, result, log, f"run {r + 1}/{plan.repeats}")
                    if phases is not None:
                        result.samples.setdefault(plan.name, []).append(phases)
    return result


def _attempt(plan: _Plan, params, result: Result, log, label):
    """One sample of one engine; on an error, record it and stop running that engine."""
    if plan.repeats == 0:
        return None
    try:
        phases = plan.sampler.sample(params)
    except Exception as exc:  # the table should still come out; the error is shown in it
        if not isinstance(exc, WorkerError):  # a worker already printed its traceback
            traceback.print_exc(file=sys.stderr)
        result.samples.pop(plan.name, None)
        result.skipped[plan.name] = f"FAILED: {type(exc).__name__}: {exc}".splitlines()[0] \
            if not isinstance(exc, WorkerError) else f"FAILED: {exc}"
        plan.repeats = 0
        return None
    log(f"  {plan.name:<10} {label:<9} {_short(phases['total'], result.workload.unit)}")
    return phases


def _short(value: float, unit: str) -> str:
    return f"{value / 2**20:.1f} MiB" if unit == "B" else f"{value:.4f} s"


def run_all(workloads: list, engines: list, missing: Mapping, *, repeat=None, quick=False,
            in_process=False, log=None) -> list:
    """`run_workload` for each workload in turn."""
    results = []
    for i, workload in enumerate(workloads, 1):
        if log:
            log(f"[{i}/{len(workloads)}] {workload.name}: {workload.summary}")
        results.append(run_workload(workload, engines, missing, repeat=repeat, quick=quick,
                                    in_process=in_process, log=log))
    return results
