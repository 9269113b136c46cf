"""Finished tasks travel from a worker as one `TasksDone` per run of reports, and arrive as one event each.

The fold and unfold themselves are `graphflow.comm.batching` (its doctest); here: a real worker folds
when it finishes many tasks in one pass of its loop, the scheduler counts and records every task of a
batch, and a batch holding a value the scheduler cannot load goes on without that value.
"""

from __future__ import annotations

import collections
import sys
import types
import uuid

import graphflow as gf
from graphflow.comm import messages as wire
from graphflow.comm.salvage import salvage
from graphflow.comm.serialize import dumps
from graphflow.scheduler.server import _repair
from graphflow.testing.cluster import InProcessCluster
from graphflow.testing.wait import wait_for


def inc(x):
    return x + 1


def test_many_tiny_tasks_are_reported_in_batches_and_each_is_counted_once():
    """Workers and scheduler share one loop here, so a worker finishes many tasks between two of its
    passes: their reports share one batch's stimulus id in the scheduler's log."""
    n = 3000
    with InProcessCluster(n_workers=2, nthreads=1, validate=False) as cluster:  # validating is O(tasks) per event
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False, timeout=10) as client:
            futures = client.map(inc, range(n), pure=False)
            assert client.gather(futures) == list(range(1, n + 1))
            scheduler = cluster.scheduler
            assert scheduler.tasks_executed == n
            assert scheduler.diagnostics.stream.added == n
            finished = [rec for rec in scheduler.state.log if rec[1] == "TaskFinished"]
            assert len({rec[0] for rec in finished}) == len(finished)  # no task reported twice
            per_stimulus = collections.Counter((rec[2], rec[3]) for rec in finished)  # (worker, its stimulus)
            assert max(per_stimulus.values()) >= 2, "no report was batched"
            del futures
            wait_for(lambda: not scheduler.state.tasks, timeout=30)


def test_a_batch_with_a_value_the_scheduler_cannot_load_goes_on_without_that_value():
    name = f"gf_gone_{uuid.uuid4().hex[:8]}"
    module = types.ModuleType(name)
    exec("class Thing:\n    pass\n", module.__dict__)
    sys.modules[name] = module
    try:
        batch = wire.TasksDone("s", ["a", "b", "c"], [8, 8, 8], ["Thing", "int", "int"], [1.0] * 3, [2.0] * 3,
                               [0] * 3, {"a": module.Thing(), "b": 5})
        frames = dumps([batch])
    finally:
        sys.modules.pop(name, None)
    (done,), unreadable = salvage(frames, _repair, "from tcp://10.0.0.1:1234")
    assert unreadable is None
    assert done.keys == ["a", "b", "c"] and done.inline == {"b": 5}  # "a" is fetched from the worker instead


def test_a_lone_report_goes_the_batch_way_and_is_counted_once():
    """One task finishing alone arrives as a single `TaskDone` (only runs of two are folded); the scheduler
    handles it as a batch of one: counted, recorded in the task stream and reported to the client once."""
    with InProcessCluster(n_workers=1, nthreads=1, validate=True) as cluster:
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False, timeout=10) as client:
            scheduler = cluster.scheduler
            assert client.submit(inc, 41, key="lone").result() == 42
            assert scheduler.tasks_executed == 1
            assert scheduler.diagnostics.stream.added == 1
            finished = [rec for rec in scheduler.state.log if rec[1] == "TaskFinished"]
            assert [rec[0] for rec in finished] == ["lone"]
            assert scheduler.state.task_state("lone") == "memory"
