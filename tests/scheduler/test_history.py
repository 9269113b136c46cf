"""`MemoryHistory`: a bounded ring of memory samples in flat columns (`graphflow.scheduler.history`)."""

import pytest

from graphflow.scheduler.history import MemoryHistory, samples_by_worker


def test_the_ring_keeps_the_newest_samples_in_order_per_worker_after_wrapping():
    h = MemoryHistory(capacity=5)
    for i in range(12):  # two workers, alternating; the ring wraps twice
        h.append(float(i), f"tcp://w:{i % 2}", i, 2 * i, 3 * i, 10 * i)
    assert len(h) == 5
    got = h.by_worker()
    assert [s["time"] for s in got["tcp://w:0"]] == [8.0, 10.0]
    assert [s["time"] for s in got["tcp://w:1"]] == [7.0, 9.0, 11.0]
    assert got["tcp://w:1"][-1] == {"time": 11.0, "managed": 11, "spilled": 22, "unmanaged": 33, "rss": 110}
    assert [s["time"] for s in h.by_worker(since=9.5)["tcp://w:0"]] == [10.0]


def test_a_snapshot_does_not_change_when_samples_come_after_it():
    h = MemoryHistory(capacity=3)
    h.append(1.0, "a", 1, 0, 0, 1)
    snap = h.snapshot()
    for t in (2.0, 3.0, 4.0):
        h.append(t, "a", 1, 0, 0, 1)
    assert [s["time"] for s in samples_by_worker(snap)["a"]] == [1.0]
    assert [s["time"] for s in h.by_worker()["a"]] == [2.0, 3.0, 4.0]


def test_a_zero_capacity_keeps_nothing_and_a_bad_one_is_refused():
    h = MemoryHistory(capacity=0)
    h.append(1.0, "a", 1, 0, 0, 1)
    assert len(h) == 0 and h.by_worker() == {}
    with pytest.raises(ValueError, match="memory history size"):
        MemoryHistory(capacity=-1)
