"""When the scheduler gives memory back after a release (`graphflow.scheduler.trim`), and that it does."""

from __future__ import annotations

import gc
import sys

import psutil

from graphflow.scheduler.state import SchedulerState
from graphflow.scheduler.taskstream import TaskStream
from graphflow.scheduler.trim import COMPACT, TRIM, Trimmer, compact, trim
from graphflow.testing.events import finished, graph, joined, release
from graphflow.testing.reach import reachable_strings


def test_a_trim_is_due_at_each_halving_of_a_large_peak_only():
    t = Trimmer(threshold=100)
    assert [t.due(n) for n in (50, 99, 60, 10)] == [None] * 4  # never held 100 tasks: never
    assert [t.due(n) for n in (1000, 800, 501, 500)] == [None, None, None, TRIM]
    assert t.due(400) is None  # 400 > 500 // 2
    assert t.due(250) is TRIM  # half of the new peak (500), which was above the threshold
    assert [t.due(n) for n in (125, 62)] == [TRIM, TRIM]  # and so on while the peak is above the threshold
    assert t.due(31) is None  # the peak (62) is below it: small leftovers never trim


def test_the_last_task_of_a_large_high_leaving_compacts_once_and_starts_both_counts_again():
    t = Trimmer(threshold=100)
    assert [t.due(n) for n in (500, 100, 0)] == [None, TRIM, COMPACT]  # the halving trims, the empty state compacts
    assert t.due(0) is None  # nothing was held since
    assert [t.due(n) for n in (99, 0)] == [None, None]  # a high below the threshold: no compaction
    assert [t.due(n) for n in (150, 140, 0)] == [None, None, COMPACT]  # the peak starts again from 0 too


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


def _is_key(s: str) -> bool:
    return s.startswith("inc-")


def test_compact_after_the_last_task_left_empties_the_grown_tables_and_packs_the_log():
    """20k tasks (keys named as client.map names them) run on two workers and are released: every table
    that held them keeps its grown size (a dict or set emptied by deletions does) and the log holds their
    keys as string objects, until `compact`: then nothing the state holds names a key (the log's records
    are packed in one buffer) and the log reads as before."""
    s = SchedulerState()
    s.handle(joined("A"), joined("B"))
    deps = {f"inc-{i:032x}": () for i in range(20_000)}
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
    del deps
    assert len(reachable_strings(s, _is_key)) >= 20_000  # the log names every key (UpdateGraph's record)
    compact(s)
    assert [sys.getsizeof(t) for t in tables()] == [empty[type(t)] for t in tables()]
    assert reachable_strings(s, _is_key) == []
    assert list(s.log) == before and len(s.log) == len(before) and s.log.live() == 0
    s.handle(joined("C"))  # a new record: the packed ones stay in view before it, up to the log's bound
    after = list(s.log)
    assert after[-1][:2] == ("C", "WorkerJoined") and after == (before + after[-1:])[-s.log.maxlen:]


def test_compacting_the_task_stream_packs_its_records_and_keeps_every_view_of_them():
    """The ring of 50 runs after a release: `TaskStream.compact` leaves no key object in it, and
    `records` (all, ``since``, ``count``) answers as before; new runs push the oldest packed ones out."""
    stream = TaskStream(maxlen=50)
    for i in range(60):
        ev = finished("tcp://w:1", f"inc-{i}")
        ev.start, ev.stop = 100.0 + i, 100.5 + i
        stream.add(ev)
    views = lambda: (stream.records(), stream.records(since=150.0), stream.records(count=3))  # noqa: E731
    before = views()
    assert len(reachable_strings(stream, _is_key)) == 50
    stream.compact()
    assert reachable_strings(stream, _is_key) == [] and views() == before and len(stream) == 50
    ev = finished("tcp://w:1", "inc-60")
    ev.start, ev.stop = 160.0, 160.5
    stream.add(ev)
    assert [r["key"] for r in stream.records()] == [f"inc-{i}" for i in range(11, 61)]
    assert [r["key"] for r in stream.records(count=2)] == ["inc-59", "inc-60"]
    stream.compact()  # a second release while packed records are in view (the benchmark's ref tree, then its tree)
    assert reachable_strings(stream, _is_key) == [] and [r["key"] for r in stream.records(count=2)] == \
        ["inc-59", "inc-60"]
