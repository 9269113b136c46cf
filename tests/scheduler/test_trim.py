"""When the scheduler gives memory back after a release (`graphflow.scheduler.trim`), and that it does."""

from __future__ import annotations

import gc
import sys

import psutil

from graphflow.scheduler.state import SchedulerState
from graphflow.scheduler.trim import Trimmer, compact, fresh, trim
from graphflow.testing.events import finished, graph, joined, release


def test_a_trim_is_due_at_each_halving_of_a_large_peak_only():
    t = Trimmer(threshold=100)
    assert [t.due(n) for n in (50, 99, 60, 10)] == [False] * 4  # never held 100 tasks: never
    assert [t.due(n) for n in (1000, 800, 501, 500)] == [False, False, False, True]
    assert t.due(400) is False  # 400 > 500 // 2
    assert t.due(250) is True  # half of the new peak (500), which was above the threshold
    assert [t.due(n) for n in (125, 62)] == [True, True]  # and so on while the peak is above the threshold
    assert t.due(0) is False  # the peak (62) is below it: small leftovers never trim


def test_releasing_every_queued_task_empties_the_queue_heap():
    """Queued tasks leave the heap lazily; once none is queued, the stale entries (which kept every
    released task alive: 100k SchedTasks after a released client.map) are dropped at once."""
    s = SchedulerState()
    s.handle(joined("A"))
    deps = {f"inc-{i}": () for i in range(5000)}
    s.handle(graph(deps))
    assert s.queued_count > 4000 and len(s.queue) == s.queued_count
    s.handle(release(list(deps)))
    assert not s.tasks and s.queued_count == 0 and s.queue == []


def test_trim_after_releasing_100k_tasks_gives_memory_back():
    """A state that took in and released 100k tasks: `trim` returns at least a twentieth of what they grew
    the process by (measured: 12-30 of ~100 MiB; glibc keeps those pages otherwise)."""
    rss = lambda: psutil.Process().memory_info().rss  # noqa: E731
    gc.collect()
    trim()
    before = rss()
    s = SchedulerState(log_length=0)
    s.handle(joined("A"))
    deps = {f"inc-{i}": () for i in range(100_000)}
    s.handle(graph(deps))
    grown = rss() - before
    s.handle(release(list(deps)))
    del deps
    assert not s.tasks
    gc.collect()
    untrimmed = rss()
    assert trim() is True
    given_back = untrimmed - rss()
    assert grown > 20 * 2**20, f"100k tasks grew the process by only {grown / 2**20:.0f} MiB: nothing to measure"
    assert given_back >= grown / 20, f"trim gave back {given_back / 2**20:.0f} of {grown / 2**20:.0f} MiB"


def test_compact_after_the_last_task_left_empties_the_grown_tables_and_renews_the_log():
    """20k tasks run on two workers and are released: every table that held them still has its grown size
    (a dict or set emptied by deletions keeps it) until `compact`, which also copies the log's records into
    fresh objects -- equal records, new strings, one string per key across records."""
    s = SchedulerState()
    s.handle(joined("A"), joined("B"))
    deps = {f"inc-{i}": () for i in range(20_000)}
    s.handle(graph(deps))
    for key in deps:
        ts = s.tasks[key]
        if ts.state == "processing":
            s.handle(finished(ts.processing_on.address, key))
    s.handle(release(list(deps)))
    assert not s.tasks
    tables = lambda: [s.tasks, *[t for ws in s.workers.values() for t in (ws.processing, ws.has_what)],  # noqa: E731
                      *s.wants.values()]
    empty = {dict: sys.getsizeof({}), set: sys.getsizeof(set())}
    assert any(sys.getsizeof(t) > empty[type(t)] for t in tables()), "nothing grew: nothing to compact"
    before = list(s.log)
    compact(s, memo := {})
    assert [sys.getsizeof(t) for t in tables()] == [empty[type(t)] for t in tables()]
    after = list(s.log)
    assert after == before and all(a is not b for a, b in zip(after, before) if type(a) is tuple)
    keys = [rec[0] for rec in after if isinstance(rec[0], str) and rec[0].startswith("inc-")]
    assert keys and all(memo[k] is k for k in keys)  # every record names its key by the one fresh string


def test_fresh_copies_strings_floats_tuples_and_lists_and_shares_the_rest():
    rec = ("inc-1", 2.5, ["a-b", 7], None, "x")
    memo: dict = {}
    copy = fresh(rec, memo)
    assert copy == rec and copy is not rec and copy[0] is not rec[0] and copy[2] is not rec[2]
    assert copy[1] is not rec[1] and copy[3] is None and copy[4] is rec[4]  # one-character strings are shared
    assert fresh(("inc-1",), memo)[0] is copy[0]  # the memo keeps one copy per string
