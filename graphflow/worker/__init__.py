"""The worker side of the distributed runtime.

A worker process holds results in a `store.WorkerStore` and makes its
decisions in a pure `state.WorkerState`: events in (tasks from the scheduler,
results from its threads, data from peers), commands out (run a task, fetch
from a peer, tell the scheduler).  The shell in ``server.py`` does the I/O.

Worked example (``events`` and ``state`` are imported explicitly; this package
imports nothing heavy on its own)::

    from graphflow.worker.state import WorkerState
    from graphflow.worker.events import ComputeTasks
    ws = WorkerState("tcp://127.0.0.1:4001", nthreads=2)
    ws.handle(ComputeTasks("s1", [spec_of_a]))   # -> [Execute("s1", "a")]
"""
