"""Seceded tasks and the root queue (graphflow/scheduler/longrunning.py), by events and commands.

One worker ``W`` with one thread takes at most 2 root tasks (saturation 1.5).
Two parents ``p0``, ``p1`` run there and secede; the children queued behind
them must still be handed out::

    W: p0 (seceded)  p1 (seceded)   queue: c0 c1 c2 c3
"""

from graphflow.scheduler.events import AssignTasks
from graphflow.scheduler.longrunning import TasksLongRunning
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import finished, graph, joined


def assigned(cmds) -> list:
    return [k for c in cmds if isinstance(c, AssignTasks) for k in (t.key for t in c.tasks)]


def two_parents():
    s = SchedulerState(validate=True)
    s.handle(joined("W"))
    assert sorted(assigned(s.handle(graph({"p0": (), "p1": ()})))) == ["p0", "p1"]
    children = {f"c{i}": () for i in range(4)}
    assert assigned(s.handle(graph(children, client="P"))) == []  # W is full: they queue
    return s


def test_seceded_parents_free_their_slots_for_queued_children():
    s = two_parents()
    cmds = s.handle(TasksLongRunning("lr", "W", ["p0", "p1"]))
    assert sorted(assigned(cmds)) == ["c0", "c1"]
    assert s.workers["W"].seceded == 2
    assert ("W", "long-running", 2, "lr") in s.log


def test_the_count_follows_the_latest_report_and_ignores_tasks_not_processing_there():
    s = two_parents()
    s.handle(TasksLongRunning("lr", "W", ["p0", "p1", "nonexistent"]))
    s.handle(finished("W", "c0"), finished("W", "c1"))
    s.handle(TasksLongRunning("lr2", "W", ["p1"]))  # p0 rejoined: it holds a slot again
    assert s.workers["W"].seceded == 1
    s.handle(finished("W", "p1"))
    s.handle(TasksLongRunning("lr3", "W", ["p1"]))  # stale: p1 no longer processes on W
    assert s.workers["W"].seceded == 0


def test_a_report_from_an_unknown_worker_changes_nothing():
    s = two_parents()
    assert s.handle(TasksLongRunning("lr", "X", ["p0"])) == []
    assert s.workers["W"].seceded == 0
