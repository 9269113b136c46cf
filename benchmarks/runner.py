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

Workloads of one *session* (``Workload.session``: the distributed ones, whose
cases keep a cluster running between samples) run differently: one worker per
engine serves all of them, and each engine runs its whole block (for each
workload: warm-up, then its samples) before its worker -- and cluster -- is
closed and the next engine starts.  A cluster starts once per engine and run,
out of every timed region, and no idle cluster of another engine runs beside
the one being timed; the price is no alternation between engines.
"""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Mapping
from contextlib import ExitStack

from . import sessions
from .engines import SUBJECT
from .model import Engine, Result, Workload
from .worker import EngineWorker, WorkerError

__all__ = ["run_workload", "run_session", "run_all"]


class _InProcess:
    """Runs samples in the runner's own interpreter (the worker's in-process twin)."""

    def __init__(self, case):
        self._case = case

    def sample(self, params) -> dict:
        gc.collect()
        return self._case(params)

    def close(self) -> None:
        pass

    def alive(self) -> bool:
        return True


class _Bound:
    """One workload's samples on a worker that serves a whole session."""

    def __init__(self, worker: EngineWorker, workload: str):
        self._worker = worker
        self._workload = workload

    def sample(self, params) -> dict:
        return self._worker.sample(params, self._workload)

    def alive(self) -> bool:
        return self._worker.alive()


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
                 quick: bool = False, in_process: bool = False, log=None, timeout: float | None = None) -> Result:
    """Measure ``workload`` on ``engines`` (graphflow first); ``missing`` maps
    anchors that cannot run to the reason, which the result records.  A sample
    running longer than ``timeout`` seconds fails (worker processes only).
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
                sampler = stack.enter_context(EngineWorker(engine.name, workload.name, timeout))
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
                    _record(result, plan, _attempt(plan, params, result, log, f"run {r + 1}/{plan.repeats}"))
    return result


def _record(result: Result, plan: _Plan, phases) -> None:
    if phases is None:
        return
    counts = phases.pop("counts", None)
    result.samples.setdefault(plan.name, []).append(phases)
    if counts:
        result.counts.setdefault(plan.name, []).append(counts)


def run_session(workloads: list, engines: list, missing: Mapping, *, repeat: int | None = None,
                quick: bool = False, in_process: bool = False, log=None, timeout: float | None = None) -> list:
    """Measure the workloads of one session engine by engine (see the module docstring);
    returns one `Result` per workload, in order.
    """
    log = log or (lambda text: None)
    results = {}
    for w in workloads:
        params = w.quick_params if quick else w.params
        result = Result(w, params, w.tasks(params), [e.name for e in engines] + list(missing))
        result.skipped.update(missing)
        results[w.name] = result

    for engine in engines:
        cases = {}
        for w in workloads:
            if engine.name in w.skip:
                results[w.name].skipped[engine.name] = w.skip[engine.name]
                continue
            case = w.case(engine)
            if case is None:
                results[w.name].skipped[engine.name] = f"n/a: {engine.name} has no {w.kind!r} case"
                continue
            cases[w.name] = case
        if not cases:
            continue
        log(f"  {engine.name}: {', '.join(cases)} (one worker process and cluster for all)")
        with ExitStack() as stack:
            worker = None
            if in_process:
                stack.callback(sessions.close_all)
            else:
                worker = stack.enter_context(EngineWorker(engine.name, next(iter(cases)), timeout))
            for w in workloads:
                if w.name not in cases:
                    continue
                result = results[w.name]
                sampler = _Bound(worker, w.name) if worker is not None else _InProcess(cases[w.name])
                plan = _Plan(engine.name, sampler, _repeats(w, engine, repeat, quick))
                if w.warmup != "none":
                    warm = w.quick_params if (w.warmup == "small" or quick) else result.params
                    _attempt(plan, warm, result, log, f"{w.name} warm-up")
                for r in range(plan.repeats):
                    _record(result, plan, _attempt(plan, result.params, result, log,
                                                   f"{w.name} run {r + 1}/{plan.repeats}"))
    return [results[w.name] for w in workloads]


def _attempt(plan: _Plan, params, result: Result, log, label):
    """One sample of one engine; on an error, record it and stop running that engine."""
    if plan.repeats == 0:
        return None
    try:
        phases = plan.sampler.sample(params)
    except Exception as exc:  # the table should still come out; the error is shown in it
        if not isinstance(exc, WorkerError):  # a worker already printed its traceback
            traceback.print_exc(file=sys.stderr)
        why = f"{type(exc).__name__}: {exc}".splitlines()[0] if not isinstance(exc, WorkerError) else f"{exc}"
        if result.workload.keep_going and getattr(plan.sampler, "alive", lambda: False)():
            # counted, and the engine goes on: "finished 9 of 10" says more than one FAILED
            result.failures.setdefault(plan.name, []).append(f"{label}: {why}")
            log(f"  {plan.name:<11} {label:<9} FAILED ({why}); going on")
            return None
        result.samples.pop(plan.name, None)
        result.skipped[plan.name] = f"FAILED: {why}"
        plan.repeats = 0
        return None
    counts = phases.get("counts") or {}
    extra = "".join(f"  {name} {value:,}" for name, value in counts.items())
    log(f"  {plan.name:<11} {label:<9} {_short(phases['total'], result.workload.unit)}{extra}")
    return phases


def _short(value: float, unit: str) -> str:
    return f"{value / 2**20:.1f} MiB" if unit == "B" else f"{value:.4f} s"


def run_all(workloads: list, engines: list, missing: Mapping, *, repeat=None, quick=False,
            in_process=False, log=None, timeout=None) -> list:
    """`run_workload` for each workload in turn; consecutive workloads of one session
    go to `run_session` together.
    """
    results = []
    i = 0
    while i < len(workloads):
        workload = workloads[i]
        batch = [workload]
        if workload.session is not None and workload.isolate:
            while i + len(batch) < len(workloads) and workloads[i + len(batch)].session == workload.session:
                batch.append(workloads[i + len(batch)])
        if log:
            for j, w in enumerate(batch, i + 1):
                log(f"[{j}/{len(workloads)}] {w.name}: {w.summary}")
        if len(batch) > 1 or workload.session is not None:
            results += run_session(batch, engines, missing, repeat=repeat, quick=quick,
                                   in_process=in_process, log=log, timeout=timeout)
        else:
            results.append(run_workload(workload, engines, missing, repeat=repeat, quick=quick,
                                        in_process=in_process, log=log, timeout=timeout))
        i += len(batch)
    return results
