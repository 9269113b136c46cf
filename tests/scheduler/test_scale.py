"""The pure scheduler state machine costs the same per task at 2k leaves as at 40k (issue 23).

A tree of ``inc`` leaves summed with fan-in 8 goes through `SchedulerState` on two one-thread
workers: one `UpdateGraph`, then `TaskFinished` events in batches of 100 for whatever the
commands assigned, until the root is in memory::

    inc-0 ... inc-7   inc-8 ... inc-15   ...
        \\  |  /           \\  |  /
        sum-1-0           sum-1-1       ...   ->  ...  ->  root

Wall time is useless on a shared 2-core machine, so the costs are counted: Python function calls
per task (`sys.setprofile`: a per-event pass over all tasks, or a lookup that scans, shows up as
calls that grow with the graph), and collector passes while a graph goes in (a bulk insertion with the collector on
walks every task held each time it runs, which made taking in a graph cost more per task the larger
it was).  CPU time is not compared: on a loaded CI machine it swung 2.4x between the sizes (cache and
neighbours), so a bound loose enough never to flake would catch nothing the counts miss.
"""

from __future__ import annotations

import gc
import sys
from collections import deque

from graphflow.scheduler.events import AssignTasks
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import finished, graph, joined

SMALL, BIG = 1_000, 20_000


def _tree(leaves: int, fan_in: int = 8) -> tuple:
    deps = {("inc", i): () for i in range(leaves)}
    level, keys = 0, list(deps)
    while len(keys) > 1:
        level += 1
        nxt = []
        for j in range(0, len(keys), fan_in):
            key = ("sum", level, j // fan_in)
            deps[key] = tuple(keys[j:j + fan_in])
            nxt.append(key)
        keys = nxt
    return deps, keys[0]


def _run(leaves: int) -> int:
    """Drive the tree through a fresh state machine; returns the number of tasks."""
    deps, root = _tree(leaves)
    s = SchedulerState()
    s.handle(joined("A"), joined("B"))
    commands = s.handle(graph(deps, wanted=[root]))
    pending, done = deque(), 0
    while True:
        for c in commands:
            if isinstance(c, AssignTasks):
                pending.extend((c.worker, t.key) for t in c.tasks)
        if not pending:
            break
        batch = [pending.popleft() for _ in range(min(100, len(pending)))]
        commands = s.handle(*[finished(w, k) for w, k in batch])
        done += len(batch)
    assert done == len(deps) and s.tasks[root].state == "memory"
    return len(deps)


def _calls_per_task(leaves: int) -> float:
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        tasks = _run(leaves)
    finally:
        sys.setprofile(None)
    return calls / tasks


def test_calls_per_task_do_not_grow_with_the_graph():
    small, big = _calls_per_task(SMALL), _calls_per_task(BIG)
    assert big <= small * 1.1, f"{small:.0f} calls a task at {SMALL} leaves, {big:.0f} at {BIG}"


def test_the_collector_stays_out_of_taking_in_a_big_graph():
    """Taking in a 23k-task graph (and its first transitions) allocates ~100k container objects; with
    the collector on, that ran ~190 collector passes, the older ones walking every task held, so the
    cost per task grew with the graph.  Paused (`graphflow.utils.gcpause.no_gc`), it runs at most
    once or twice, after."""
    deps, root = _tree(BIG)
    update = graph(deps, wanted=[root])
    s = SchedulerState()
    s.handle(joined("A"), joined("B"))
    passes = []

    def note(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    gc.collect()
    gc.callbacks.append(note)
    try:
        s.handle(update)
    finally:
        gc.callbacks.remove(note)
    assert len(s.tasks) == len(deps)
    assert len(passes) <= 2, f"{len(passes)} collector passes (generations {set(passes)}) for {len(deps)} tasks"
