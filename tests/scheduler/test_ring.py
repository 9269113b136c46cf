"""`Ring` (`graphflow.scheduler.ring`): a bounded deque whose records can be packed into one buffer."""

from __future__ import annotations

import copy
import gc
import threading

from graphflow.scheduler.ring import Ring


def test_packed_records_read_first_and_leave_view_as_live_ones_fill_the_bound():
    r = Ring([("a", 1), ("b", 2), ("c", 3)], maxlen=4)
    r.pack()
    assert r.live() == 0 and len(r) == 3 and list(r) == [("a", 1), ("b", 2), ("c", 3)]
    assert [rec for rec in gc.get_referents(r) if type(rec) is tuple] == []  # packed: no record object held
    r.append(("d", 4))
    r.append(("e", 5))
    assert list(r) == [("b", 2), ("c", 3), ("d", 4), ("e", 5)] and len(r) == 4
    assert list(reversed(r)) == [("e", 5), ("d", 4), ("c", 3), ("b", 2)]
    r.extend([("f", 6), ("g", 7)])
    assert list(r) == [("d", 4), ("e", 5), ("f", 6), ("g", 7)] and r.packed() == []


def test_packing_again_keeps_the_records_in_view_and_copies_read_them_all():
    r = Ring(maxlen=3)
    r.extend([1, 2])
    r.pack()
    r.extend([3, 4])
    r.pack()
    assert list(r) == [2, 3, 4] and r.live() == 0
    assert list(copy.copy(r)) == [2, 3, 4] and copy.copy(r).maxlen == 3
    r.clear()
    assert list(r) == [] and len(r) == 0 and not r


def test_newest_live_is_the_last_append_though_packed_records_count_in_len():
    r = Ring([1, 2, 3], maxlen=5)
    r.pack()
    r.append(4)
    assert r.newest_live() == 4 and len(r) == 4  # r[-1] counts back from len(r), packed records included


def test_records_that_do_not_pickle_stay_live():
    lock = threading.Lock()
    r = Ring([("k", "note", lock, "s1")], maxlen=10)
    r.pack()
    assert r.live() == 1 and list(r) == [("k", "note", lock, "s1")]


def test_an_unbounded_ring_keeps_every_packed_record():
    r = Ring([1, 2])
    r.pack()
    r.extend(range(3, 10))
    assert list(r) == list(range(1, 10))
