"""Copies the scheduler asks for (`graphflow.worker.replicas`), handled by a `WorkerState` that lists them itself.

``x`` lives only on the retiring worker ``R``; this worker ``W`` is asked
to keep a copy::

    FetchReplicas({x: [R]})      x: released -> fetch -> flight   -> GatherDep(R, [x])
    GatherDepSuccess(R, {x: 1})  x: flight -> memory               -> TaskDone(x) to the scheduler
"""

import subprocess
import sys
import textwrap
from pathlib import Path

from graphflow.comm.messages import DepMissing, TaskDone
from graphflow.worker.events import GatherDep, GatherDepFailure, GatherDepSuccess, SendToScheduler
from graphflow.worker.replicas import REPLICA_PRIORITY, FetchReplicas
from graphflow.worker.state import WorkerState

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_worker_state_handles_fetch_replicas():
    """In an interpreter that imports ``graphflow.worker.state`` and nothing else."""
    code = textwrap.dedent("""
        import graphflow.worker.state

        worker = graphflow.worker  # the submodules the state module loaded itself, nothing imported here
        ws = worker.state.WorkerState("W", 1, validate=True)
        cmds = ws.handle(worker.replicas.FetchReplicas("r", {"x": ["R"]}, {"x": 8}))
        print(*[(type(c).__name__, c.peer, c.keys) for c in cmds])
        (send,) = ws.handle(worker.events.GatherDepSuccess("g", "R", {"x": 1}, {"x": 8}))
        print(*[(type(m).__name__, m.key, m.nbytes) for m in send.messages], ws.tasks["x"].state)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["('GatherDep', 'R', ['x'])", "('TaskDone', 'x', 8) memory"]


def test_a_copy_is_kept_until_freed_and_reported():
    ws = WorkerState("W", 1, validate=True)
    (gather,) = ws.handle(FetchReplicas("r", {"x": ["R", "W"]}, {"x": 8}))
    assert gather == GatherDep("r", "R", ["x"])
    assert ws.tasks["x"].priority == REPLICA_PRIORITY and ws.tasks["x"].assigned
    (send,) = ws.handle(GatherDepSuccess("g", "R", {"x": 1}, {"x": 8}))
    assert type(send) is SendToScheduler and [type(m) for m in send.messages] == [TaskDone]
    assert ws.tasks["x"].state == "memory" and ws.data["x"] == 1  # no local reader, yet kept: it is assigned
    (send,) = ws.handle(FetchReplicas("r2", {"x": ["R"]}, {"x": 8}))  # asked again: reported again
    assert [m.key for m in send.messages] == ["x"]


def test_a_copy_nobody_delivers_is_reported_missing():
    ws = WorkerState("W", 1, validate=True)
    ws.handle(FetchReplicas("r", {"x": ["R"]}, {"x": 8}))
    (send,) = ws.handle(GatherDepFailure("f", "R", ["x"]))
    (msg,) = send.messages
    assert type(msg) is DepMissing and (msg.key, msg.missing, msg.holder) == ("x", "x", "R")
    assert "x" not in ws.tasks
