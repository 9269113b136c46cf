"""``python -m benchmarks faults``: the fault-injection workloads at many seeds, counted by how each run ended.

One row per workload of `benchmarks.fault_workloads` (``faults-array``, ``faults-dataframe``,
``faults-actor``, ``faults-elastic``).  A sample runs ``seeds`` runs of `benchmarks.fault_inject.run_once`
(20 by default; ``--quick``: 2), each on a fresh 3-worker LocalCluster with 1-3 workers SIGKILLed at
seeded random times, and reports the median time of a run (the row's value, cluster start-up
excluded) and the count of each ending::

    workload          tasks  graphflow                                          target               met
    faults-array      -      2.41 s [20 runs: 20 right, 0 named, 0 hangs, ...]  0 hangs, 0 wrong...  yes

``right`` answers matched numpy / pandas / plain Python; ``named``: the run ended with the error
documented for it (`ActorDiedError` for the actor without restarts, `KilledWorkerError` after three
strikes); ``hangs``: no end within ``bound`` s; ``wrong`` answers and un-named ``errors`` are bugs.
The target is 0 hangs, 0 wrong, 0 errors (issue 17).  Each failing run is printed in full (seed,
kills, error, the scheduler's state for a hang) on stderr as it happens.

Seeds: the first sample of a workload runs seeds 0..19, and each further sample (``--repeat N``) the
next 20, so ``--repeat 5`` tries 100 different seeds; ``GRAPHFLOW_FAULT_SEED=100`` starts at seed 100
instead.  The CI suite (``tests/faults``) runs seeds 0-2.
"""

from __future__ import annotations

import os
import statistics
import sys

from .model import Beside, Target, Workload

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES", "run_seeds"]

PARAMS = {"seeds": 20, "first_seed": 0, "bound": 120.0}
QUICK_PARAMS = {"seeds": 2, "first_seed": 0, "bound": 120.0}

_blocks: dict = {}  # workload -> samples taken in this process: each sample runs the next block of seeds


def run_seeds(name: str, params) -> dict:
    """Run workload ``name`` at ``params["seeds"]`` seeds; the median run time and the count of each ending."""
    from .fault_inject import OUTCOMES, run_once
    from .fault_workloads import WORKLOADS as FAULT_WORKLOADS

    block = _blocks.get(name, 0)
    _blocks[name] = block + 1
    first = int(os.environ.get("GRAPHFLOW_FAULT_SEED", params["first_seed"])) + block * params["seeds"]
    counts = dict.fromkeys(OUTCOMES, 0)
    times, kills = [], 0
    for seed in range(first, first + params["seeds"]):
        run = run_once(FAULT_WORKLOADS[name], seed, bound=params["bound"])
        counts[run.outcome] += 1
        times.append(run.seconds)
        kills += len(run.kills)
        line = f"  faults {name} seed {seed}: {run.outcome} in {run.seconds:.2f} s, {len(run.kills)} kills"
        line += "".join(f"\n    {note}" for note in run.notes if "exited with" in note)  # e.g. an abort on close
        print(line if run.outcome in ("right", "named") else run.describe(), file=sys.stderr, flush=True)
    phases = {"max": max(times), "total": statistics.median(times)}
    phases["counts"] = {"runs": len(times), **counts, "kills": kills}
    return phases


def _case(name: str):
    def case(params) -> dict:
        return run_seeds(name, params)

    case.__name__ = f"faults_{name}"
    return case


def _sum(result, engine: str, name: str) -> int:
    return sum(result.counts_of(engine, name))


def _beside_text(result, engine: str) -> str | None:
    if not result.counts_of(engine, "runs"):
        return None
    n = {k: _sum(result, engine, k) for k in ("runs", "right", "named", "hang", "wrong", "error", "kills")}
    return (f"{n['runs']} runs: {n['right']} right, {n['named']} named, {n['hang']} hangs, {n['wrong']} wrong, "
            f"{n['error']} errors; {n['kills']} kills")


def _no_failures() -> Target:
    def check(result):
        if not result.counts_of("graphflow", "runs"):
            return None
        return not any(_sum(result, "graphflow", k) for k in ("hang", "wrong", "error"))

    def describe(result):
        bad = {k: _sum(result, "graphflow", k) for k in ("hang", "wrong", "error")}
        if not any(bad.values()):
            return None
        return "FAILED runs (see stderr for each): " + ", ".join(f"{v} {k}" for k, v in bad.items() if v)

    return Target("0 hangs, 0 wrong, 0 errors", check, describe)


_SUMMARIES = {
    "array": "400x400 array in 16 blocks: (x+x.T).mean, (x@x.T).sum, std, cumsum vs numpy; 1-3 workers kill -9'd",
    "dataframe": "20k rows in 12 partitions: groupby, filter, merge, sort vs pandas; 1-3 workers kill -9'd",
    "actor": "restartable actor (600 calls) + plain actor on one worker, which is kill -9'd: replay vs ActorDiedError",
    "elastic": "160 squares under adapt(2, 4): scale up, retire while results are held, sum; 1-3 kill -9",
}

GRAPHFLOW_CASES = {f"faults_{name}": _case(name) for name in _SUMMARIES}

WORKLOADS = [
    Workload(
        name=f"faults-{name}",
        summary=summary,
        kind=f"faults_{name}",
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        repeat=1,
        warmup="none",  # every run starts a fresh cluster anyway
        anchors=(),
        target=_no_failures(),
        beside=Beside(_beside_text, "[...] after a value: how the runs ended (right answer, named error, hang, "
                                    "wrong answer, un-named error) and workers killed; the value is the median "
                                    "run, cluster start excluded"),
    )
    for name, summary in _SUMMARIES.items()
]

GROUP = [w.name for w in WORKLOADS]
