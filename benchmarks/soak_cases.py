"""``python -m benchmarks soak``: 1M tasks through ``client.map`` in rounds of 100k, RSS sampled after each.

A fresh ``LocalCluster(2 workers x 1 thread)``.  Each round maps `benchmarks.shapes.inc` over the next
100k integers (``pure=False``: new keys every round), gathers and checks the sum, drops the futures,
waits until the scheduler holds no task, and reads the resident set (``VmRSS`` of
``/proc/<pid>/status``, no psutil) of the scheduler, each worker and this process::

    round    1     2     3   ...   10      scheduler RSS in MiB after the round's release
             61    64    65  ...   65      -> growth rounds 3..10: +0 MiB (0%)

The row's value is the total time; the phases give the median round and the RSS (MiB) of each
process after rounds 1, 3 and the last, and the growth from round 3 to the last.  Bound ("RSS
bounded"): for the scheduler and each worker, the RSS after the last round is at most 10% + 16 MiB
above its RSS after round 3 -- the first rounds grow the allocator's arenas and caches to their
working size, after which a process that frees what it is done with stays flat, while a leak of even
100 bytes per task (100 MiB per 1M) breaks the bound.  A worker restarted meanwhile (its pid changed)
voids the comparison for it and is reported.  ``--quick``: 4 rounds of 5k (bound checked on round 2).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from . import probe, shapes
from .model import Beside, Target, Workload

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES", "soak", "growth_ok"]

PARAMS = {"rounds": 10, "per_round": 100_000, "reference_round": 3, "workers": 2}
QUICK_PARAMS = {"rounds": 4, "per_round": 5_000, "reference_round": 2, "workers": 2}
SLACK_FRACTION, SLACK_MIB = 0.10, 16  # the bound: last <= reference * 1.10 + 16 MiB


def growth_ok(reference_mib: float, last_mib: float) -> bool:
    """The RSS bound of the soak: after the last round at most 10% + 16 MiB above the reference round."""
    return last_mib <= reference_mib * (1 + SLACK_FRACTION) + SLACK_MIB


def _mib(pid) -> float | None:
    value = probe.rss_of(pid)
    return None if value is None else value / 2**20


def _wait_empty(client, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while client.scheduler_info()["tasks"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scheduler still holds {client.scheduler_info()['tasks']} tasks "
                               f"{timeout:.0f} s after the round's futures were released")
        time.sleep(0.05)


def soak(params) -> dict:
    """Run the rounds; return time phases, and RSS per process and round (MiB) as counts."""
    import graphflow as gf

    rounds, per, ref = params["rounds"], params["per_round"], params["reference_round"]
    with gf.LocalCluster(n_workers=params["workers"], threads_per_worker=1, dashboard_address=None) as cluster:
        with gf.Client(cluster, set_as_default=False) as client:
            info = client.scheduler_info()
            pids = {"scheduler": info["pid"], "client": os.getpid()}
            workers = sorted(info["workers"].values(), key=lambda w: w["name"])
            pids.update({f"worker{i}": w["pid"] for i, w in enumerate(workers)})
            rss: dict = {name: [] for name in pids}
            times = []
            for r in range(rounds):
                start = time.perf_counter()
                futures = client.map(shapes.inc, range(r * per, (r + 1) * per), pure=False)
                got = sum(client.gather(futures))
                del futures
                _wait_empty(client)
                times.append(time.perf_counter() - start)
                expected = sum(range(r * per + 1, (r + 1) * per + 1))
                shapes.check("graphflow", got, expected)
                for name, pid in pids.items():
                    rss[name].append(_mib(pid))
                print(f"  soak round {r + 1}/{rounds}: {times[-1]:.1f} s; RSS MiB "
                      + ", ".join(f"{n} {v[-1]:.0f}" for n, v in rss.items() if v[-1] is not None),
                      file=sys.stderr, flush=True)
            restarted = [n for n, pid in pids.items() if n.startswith("worker") and
                         pid not in {w["pid"] for w in client.scheduler_info()["workers"].values()}]
    counts = {}
    for name, values in rss.items():
        if values[-1] is None:
            continue
        counts[f"{name}_r1_mib"] = round(values[0])
        counts[f"{name}_r{ref}_mib"] = round(values[ref - 1])
        counts[f"{name}_r{rounds}_mib"] = round(values[-1])
        counts[f"{name}_growth_mib"] = round(values[-1] - values[ref - 1])
        if name != "client" and name not in restarted:
            counts[f"{name}_bounded"] = int(growth_ok(values[ref - 1], values[-1]))
    counts["restarted_workers"] = len(restarted)
    return {"round": statistics.median(times), "total": sum(times), "counts": counts}


def _beside_text(result, engine: str) -> str | None:
    names = [n[:-len("_growth_mib")] for n in result.count_names(engine) if n.endswith("_growth_mib")]
    if not names:
        return None
    ref, last = result.params["reference_round"], result.params["rounds"]
    parts = [f"{n} {result.count(engine, f'{n}_r{ref}_mib')}->{result.count(engine, f'{n}_r{last}_mib')} MiB"
             for n in names]
    return "; ".join(parts)


def _bounded() -> Target:
    def check(result):
        flags = [n for n in result.count_names("graphflow") if n.endswith("_bounded")]
        if not flags:
            return None
        return all(min(result.counts_of("graphflow", n)) == 1 for n in flags)

    def describe(result):
        grown = [n[:-len("_bounded")] for n in result.count_names("graphflow")
                 if n.endswith("_bounded") and min(result.counts_of("graphflow", n)) == 0]
        restarted = max(result.counts_of("graphflow", "restarted_workers") or [0])
        notes = []
        if grown:
            notes.append(f"RSS NOT bounded for {', '.join(grown)} (see the phases: r<ref> -> r<last> MiB)")
        if restarted:
            notes.append(f"{restarted} worker(s) restarted during the soak: not compared")
        return "; ".join(notes) or None

    return Target(f"RSS last round <= {1 + SLACK_FRACTION:.2f}x round 3 (quick: 2) + {SLACK_MIB} MiB", check, describe)


GRAPHFLOW_CASES = {"soak_map": soak}

WORKLOADS = [
    Workload(
        name="soak",
        summary="1M inc tasks through client.map in 10 rounds of 100k (2 workers); RSS after each round bounded",
        kind="soak_map",
        params=PARAMS,
        quick_params=QUICK_PARAMS,
        tasks=lambda p: p["rounds"] * p["per_round"],
        repeat=1,
        warmup="none",  # the first rounds are the warm-up the bound allows for
        anchors=(),
        target=_bounded(),
        beside=Beside(_beside_text, "[...] after soak: RSS of each process after the reference round -> after "
                                    "the last (MiB); client = the driver process"),
    )
]

GROUP = [w.name for w in WORKLOADS]
