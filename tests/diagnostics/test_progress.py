"""Progress: the local executors' callback seam and ProgressBar, and gf.progress on a real LocalCluster."""

import io
import re
import threading
import time

import pytest

import graphflow as gf
from graphflow.diagnostics import Callback, ProgressBar
from graphflow.scheduler.progress import ProgressBoard
from graphflow.scheduler.state import SchedulerState
from graphflow.testing.events import client_joined, erred, finished, graph, joined

SCHEDULERS = ["sync", "threads", "processes"]


def inc(x):
    return x + 1


def slow_inc(x, delay=0.02):
    time.sleep(delay)
    return x + 1


def fail(x):
    raise ValueError(f"bad value {x}")


def tree(n=40):
    """``n`` leaves ``inc(i)`` and one ``sum`` over them::

        inc-0  inc-1 ... inc-39
           \\     |     /
               sum
    """
    return gf.delayed(sum)([gf.delayed(inc)(i) for i in range(n)])


class Recorder(Callback):
    """Records every hook call, in order, under a lock (threads call task_* concurrently)."""

    def __init__(self):
        super().__init__()
        self.calls = []
        self.lock = threading.Lock()

    def start(self, plan):
        self.calls.append(("start", len(plan)))

    def task_start(self, key):
        with self.lock:
            self.calls.append(("task_start", key))

    def task_finish(self, key):
        with self.lock:
            self.calls.append(("task_finish", key))

    def finish(self):
        self.calls.append(("finish",))


# ------------------------------------------------------------------ the callback seam


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_callback_order(scheduler):
    rec = Recorder()
    with rec:
        assert gf.compute(tree(10), scheduler=scheduler, optimize_graph=False) == (55,)
    kinds = [c[0] for c in rec.calls]
    assert rec.calls[0] == ("start", 11) and kinds[-1] == "finish"
    started = [c[1] for c in rec.calls if c[0] == "task_start"]
    done = [c[1] for c in rec.calls if c[0] == "task_finish"]
    assert len(started) == len(done) == len(set(done)) == 11
    for key in done:  # each task starts before it finishes
        assert rec.calls.index(("task_start", key)) < rec.calls.index(("task_finish", key))
    sum_key = [k for k in done if str(k).startswith("sum")]
    assert done[-1] == sum_key[0]  # the sum runs after every leaf
    assert not rec.active


def test_callback_not_called_when_inactive_or_after_exit():
    rec = Recorder()
    gf.compute(tree(3), scheduler="threads")
    with rec:
        pass
    gf.compute(tree(3), scheduler="threads")
    assert rec.calls == []


def test_callback_from_functions_and_error_finishes():
    events = []
    cb = Callback(start=lambda plan: events.append("start"), task_finish=lambda key: events.append("done"),
                  finish=lambda: events.append("finish"))
    bad = gf.delayed(fail)(gf.delayed(inc)(1))
    with cb, pytest.raises(ValueError, match="bad value 2"):
        bad.compute(scheduler="threads", optimize_graph=False)  # unfused: inc runs as a task of its own
    assert events[0] == "start" and events[-1] == "finish"
    assert events.count("done") == 1  # inc finished, fail did not
    with pytest.raises(TypeError, match="needs a function"):
        Callback(start=3)


def test_nested_compute_in_a_task_is_not_reported():
    def inner(x):
        return gf.delayed(inc)(x).compute(scheduler="threads")

    rec = Recorder()
    with rec:
        assert gf.delayed(inner)(1).compute(scheduler="threads") == 2
    assert [c[0] for c in rec.calls].count("start") == 1
    assert [c[0] for c in rec.calls].count("task_finish") == 1


# ------------------------------------------------------------------ ProgressBar


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_progressbar_reaches_total(scheduler):
    out = io.StringIO()
    with ProgressBar(out=out) as bar:
        assert gf.compute(tree(40), scheduler=scheduler, optimize_graph=False) == (820,)
    text = out.getvalue()
    assert "100%" in text and "41/41" in text, text
    assert bar.last_duration > 0


def test_progressbar_updates_while_running_and_at_most_every_dt():
    out = io.StringIO()
    slow = gf.delayed(sum)([gf.delayed(slow_inc)(i, 0.03) for i in range(30)])
    with ProgressBar(out=out, dt=0.1):
        slow.compute(scheduler="sync")  # ~0.9 s: several redraws, not one per task
    frames = [f for f in out.getvalue().split("\r") if "/31" in f]
    counts = [int(re.search(r"(\d+)/31", f).group(1)) for f in frames]
    assert counts[-1] == 31 and 0 < min(c for c in counts if c) < 31, frames  # a partial count was shown
    assert len(frames) <= 20, frames  # throttled: ~9 redraws for 0.9 s, far fewer than 31 tasks


def test_progressbar_minimum_hides_short_runs():
    out = io.StringIO()
    with ProgressBar(out=out, minimum=5):
        tree(5).compute(scheduler="threads")
    assert out.getvalue() == ""


def test_progressbar_stops_on_error():
    out = io.StringIO()
    bad = gf.delayed(sum)([gf.delayed(inc)(1), gf.delayed(fail)(2)])
    with ProgressBar(out=out), pytest.raises(ValueError):
        bad.compute(scheduler="sync", optimize_graph=False)
    text = out.getvalue()
    assert "stopped" in text and "100%" not in text


# ------------------------------------------------------------------ the scheduler's counters, no network


def _tree_events(n=16, fan_in=4):
    deps = {f"inc-{i:032x}": () for i in range(n)}
    level, j = list(deps), 0
    while len(level) > 1:
        nxt = []
        for s in range(0, len(level), fan_in):
            key = f"add-{j:032x}"
            j += 1
            deps[key] = tuple(level[s:s + fan_in])
            nxt.append(key)
        level = nxt
    return deps, level[0]


def test_tracker_counts_finished_and_already_done():
    """16 leaves, 4 adds, 1 root add; half the leaves finish before the tracker opens."""
    deps, root = _tree_events()
    state = SchedulerState()
    state.handle(client_joined("C"), joined("W", 1))
    state.handle(graph(deps))
    board = ProgressBoard()
    leaves = [k for k in deps if k.startswith("inc")]
    early = [finished("W", k) for k in leaves[:8]]
    state.handle(*early)
    report = board.rpc(state, keys=[root])
    assert report["prefixes"] == {"inc": [16, 8, 0], "add": [5, 0, 0]}
    assert report["initial"] == {"inc": 8, "add": 0} and not report["finished"]
    rest = [finished("W", k) for k in deps if k not in leaves[:8]]
    state.handle(*rest)
    board.observe(rest, state)
    report = board.rpc(state, ident=report["id"], close=True)
    assert report["prefixes"] == {"inc": [16, 16, 0], "add": [5, 5, 0]} and report["finished"]
    assert board.trackers == {}


def test_tracker_erred_task_marks_its_dependents():
    deps, root = _tree_events()
    state = SchedulerState()
    state.handle(client_joined("C"), joined("W", 1))
    state.handle(graph(deps))
    board = ProgressBoard()
    report = board.rpc(state, keys=[root])
    bad = erred("W", next(iter(deps)))
    state.handle(bad)
    board.observe([bad], state)
    report = board.rpc(state, ident=report["id"])
    assert report["prefixes"]["inc"][2] == 1
    assert report["prefixes"]["add"][2] == 2  # its add and the root


# ------------------------------------------------------------------ gf.progress on a real cluster


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1) as c:
        yield c


def test_progress_reaches_total_per_prefix(client):
    x = gf.delayed(sum)([gf.delayed(slow_inc)(i, 0.005) for i in range(60)])
    fut = client.compute(x)
    out = io.StringIO()
    p = gf.progress(fut, out=out, notebook=False)
    assert p.finished.is_set() and fut.done()
    assert p.counts["slow_inc"] == [60, 60, 0] and p.counts["sum"] == [1, 1, 0]
    text = out.getvalue()
    assert "60/60" in text and "total" in text and "100%" in text
    assert fut.result() == sum(range(1, 61))


def test_progress_of_persisted_collection_and_complete_false(client):
    x = client.persist(gf.delayed(sum)([gf.delayed(inc)(i) for i in range(20)]))
    gf.wait(_futures(x))
    p = gf.progress(x, notebook=False, out=io.StringIO())
    assert p.counts["inc"] == [20, 20, 0]
    q = gf.progress(x, notebook=False, out=io.StringIO(), complete=False, multi=False)
    assert q.counts["inc"] == [0, 0, 0]  # all done before the call: nothing left to count


def test_progress_erred_task_does_not_hang(client):
    bad = client.submit(fail, 1, pure=False)
    after = client.submit(inc, bad)
    out = io.StringIO()
    start = time.monotonic()
    p = gf.progress(after, out=out, notebook=False)
    assert time.monotonic() - start < 10
    assert p.erred == 2 and "erred" in out.getvalue()
    with pytest.raises(ValueError):
        after.result()


def test_progress_notebook_mode_returns_at_once(client):
    fut = client.submit(slow_inc, 1, 0.5, pure=False)
    start = time.monotonic()
    p = gf.progress(fut, notebook=True, out=io.StringIO())
    assert time.monotonic() - start < 0.4 and not p.finished.is_set()
    assert p.wait(10) and p.counts["slow_inc"] == [1, 1, 0]


def test_progress_rejects_unpersisted_collection(client):
    with pytest.raises(TypeError, match="persist"):
        gf.progress(tree(2))


def _futures(collection):
    from graphflow.diagnostics.progress import _futures_of

    return _futures_of([collection])
