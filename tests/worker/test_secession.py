"""Seceded tasks in the worker's state machine (graphflow/worker/secession.py), by events and commands.

One thread, three root tasks ``p``, ``c1``, ``c2``; ``p`` runs, secedes while it
waits, and the next ready task starts in its freed slot::

    p (executing, seceded)     c1 (executing)     c2 (ready: one slot)
"""

from graphflow.comm.messages import LongRunning, TaskDone, TaskSpec
from graphflow.spec import Task
from graphflow.worker.events import ComputeTasks, Execute, ExecuteFailure, ExecuteSuccess, FreeKeys, SendToScheduler
from graphflow.worker.secession import TaskRejoined, TaskSeceded, TaskThreads, task_context
from graphflow.worker.state import WorkerState

ME = "tcp://me:1"


def spec(key, priority):
    return TaskSpec(key, Task(key, abs, -1), {}, {}, (priority,), False)


def executes(cmds):
    return [c.key for c in cmds if isinstance(c, Execute)]


def messages(cmds):
    return [m for c in cmds if isinstance(c, SendToScheduler) for m in c.messages]


def ok(key):
    return ExecuteSuccess("done", key, 1, 8, "int", 1.0, 2.0)


def started():
    ws = WorkerState(ME, 1, validate=True)
    assert executes(ws.handle(ComputeTasks("c", [spec("p", 0), spec("c1", 1), spec("c2", 2)]))) == ["p"]
    return ws


def test_a_seceded_task_frees_its_slot_and_the_scheduler_hears_it():
    ws = started()
    cmds = ws.handle(TaskSeceded("s", "p"))
    assert executes(cmds) == ["c1"]
    assert messages(cmds) == [LongRunning("s", ["p"])]
    assert ws.seceded == {ws.tasks["p"]} and ws.story("p")[-1] == ("p", "seceded", "s")


def test_rejoin_counts_it_again_and_nothing_new_starts_until_under_the_limit():
    ws = started()
    ws.handle(TaskSeceded("s", "p"))
    cmds = ws.handle(TaskRejoined("r", "p"))
    assert executes(cmds) == [] and messages(cmds) == [LongRunning("r", [])]
    assert executes(ws.handle(ok("c1"))) == []  # p holds the one slot again
    assert [m.key for m in messages(ws.handle(ok("p"))) if isinstance(m, TaskDone)] == ["p"]
    assert ws.tasks["c2"].state == "executing"


def test_a_seceded_task_that_finishes_leaves_the_set_and_the_report_follows_its_result():
    ws = started()
    ws.handle(TaskSeceded("s", "p"))
    msgs = messages(ws.handle(ok("p")))
    # the report comes first: the scheduler counts p's slot as taken again until TaskDone frees it (never over)
    assert msgs[0] == LongRunning("done", []) and [type(m) for m in msgs[1:]] == [TaskDone]
    assert not ws.seceded


def test_a_failed_or_cancelled_seceded_task_leaves_the_set_too():
    ws = started()
    ws.handle(TaskSeceded("s", "p"))
    ws.handle(ExecuteFailure("f", "p", ValueError("x"), "", 1.0, 2.0))
    assert not ws.seceded
    ws.handle(TaskSeceded("s2", "c1"))
    ws.handle(FreeKeys("free", ["c1"]))  # cancelled while its thread runs: still seceded until it returns
    assert ws.seceded == {ws.tasks["c1"]}
    ws.handle(ok("c1"))
    assert not ws.seceded and "c1" not in ws.tasks


def test_stale_secede_and_rejoin_are_ignored_and_logged():
    ws = started()
    assert ws.handle(TaskSeceded("s", "c2")) == []  # c2 is not running
    assert ws.handle(TaskRejoined("r", "p")) == []  # p never seceded
    assert ws.story("c2")[-1][1] == "ignored-secede" and ws.story("p")[-1][1] == "ignored-rejoin"


def test_task_threads_replace_a_seceded_thread_and_shed_the_surplus():
    import queue
    import threading

    jobs: queue.SimpleQueue = queue.SimpleQueue()
    ran = []

    class FakeWorker:  # the shell's side of secede(): feed_threadsafe and threads
        def feed_threadsafe(self, event):
            ran.append(type(event).__name__)

    worker = FakeWorker()

    def loop(i):
        while True:
            job = jobs.get()
            if job is None:
                return
            with task_context(worker, job[0]) as ctx:
                job[1]()
            if threads.leave_after_job(ctx):
                return

    threads = worker.threads = TaskThreads(loop, 1, name="test-task")
    threads.start()
    release = threading.Event()
    from graphflow.worker.secession import secede, rejoin

    def waits():
        secede()
        release.wait(10)
        rejoin()

    done = threading.Event()
    jobs.put(("a", waits))
    jobs.put(("b", done.set))  # runs on the replacement while "a" waits: no deadlock on one thread
    assert done.wait(10)
    release.set()
    from graphflow.testing.wait import wait_for

    wait_for(lambda: sum(t.is_alive() for t in threads.threads) == 1, timeout=10, what="back to one thread")
    assert ran == ["TaskSeceded", "TaskRejoined"]
    jobs.put(None)
