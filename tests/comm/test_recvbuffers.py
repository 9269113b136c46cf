"""Receiving buffers kept faulted in between large same-host copies (graphflow/comm/recvbuffers.py)."""

import gc
import os
import threading

import numpy as np
import pytest

from graphflow import config
from graphflow.comm.recvbuffers import ReceiveBuffers
from graphflow.errors import ConfigError

MiB = 2**20


def test_a_buffer_comes_back_only_when_every_view_of_it_is_gone():
    pool = ReceiveBuffers(limit=64 * MiB)
    a = pool.take(10 * MiB)
    a[:] = 7
    view = a[8:].view(np.int64)  # what unpickling a value over the frame leaves behind
    del a
    gc.collect()
    assert pool.free_bytes == 0  # still readable through the view: not reusable
    other = pool.take(10 * MiB)
    other[:] = 1
    assert pool.reused == 0 and np.all(view.view(np.uint8) == 7)
    del view
    assert pool.free_bytes >= 10 * MiB
    again = pool.take(10 * MiB)
    assert pool.reused == 1 and again.nbytes == 10 * MiB and again.flags.writeable


def test_sizes_far_apart_do_not_share_a_buffer():
    pool = ReceiveBuffers(limit=256 * MiB)
    del_me = pool.take(100 * MiB)
    del del_me
    small = pool.take(9 * MiB)  # would waste 91 MiB
    assert pool.reused == 0 and small.nbytes == 9 * MiB
    assert pool.free_bytes == 100 * MiB


def test_free_bytes_stay_under_the_limit_and_idle_buffers_are_unmapped():
    now = [0.0]
    pool = ReceiveBuffers(limit=20 * MiB, idle_seconds=30.0, clock=lambda: now[0])
    a, b = pool.take(16 * MiB), pool.take(16 * MiB)
    del a, b
    assert pool.free_bytes == 16 * MiB  # the second one is past the limit: unmapped
    now[0] = 10.0
    assert pool.trim() == 0 and pool.free_bytes == 16 * MiB
    now[0] = 31.0
    assert pool.trim() == 16 * MiB and pool.free_bytes == 0


def test_clear_gives_everything_back_and_a_zero_limit_keeps_nothing():
    pool = ReceiveBuffers(limit=64 * MiB)
    x = pool.take(8 * MiB)
    del x
    assert pool.clear() == 8 * MiB and pool.free_bytes == 0
    none = ReceiveBuffers(limit=0)
    y = none.take(8 * MiB)
    del y
    assert none.free_bytes == 0


def test_views_dropped_in_other_threads_return_safely():
    pool = ReceiveBuffers(limit=256 * MiB)
    arrays = [pool.take(4 * MiB) for _ in range(16)]
    threads = [threading.Thread(target=arrays.pop) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pool.free_bytes == 16 * 4 * MiB


def test_the_setting_takes_byte_sizes_and_zero():
    with config.set({"worker.receive_buffers": 0}):
        pass
    with config.set({"worker.receive_buffers": "512MiB"}):
        pass
    for bad in (-1, "lots", True):
        with pytest.raises(ConfigError):
            config.set({"worker.receive_buffers": bad})


def test_only_a_process_that_asks_keeps_buffers_and_a_memory_limit_bounds_them():
    from graphflow.comm import recvbuffers

    pool = recvbuffers.default()
    old = pool.limit
    try:
        assert recvbuffers.keep("1GiB", memory_limit=2**30).limit == 2**28  # a quarter of the worker's limit
        assert recvbuffers.keep("1GiB").limit == 2**30
    finally:
        pool.limit = old


def _mapping_flags(address: int) -> str:
    """The permissions column of /proc/self/maps for the mapping holding ``address`` ("rw-p", "rw-s")."""
    with open("/proc/self/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            start, end = (int(x, 16) for x in span.split("-"))
            if start <= address < end:
                return perms
    raise AssertionError(f"no mapping holds {address:#x}")


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads Linux's /proc/self/maps")
def test_buffers_are_private_memory_not_shmem():
    """A shared anonymous mapping is shmem: no transparent huge pages where shmem_enabled is never, and
    ~4x the CPU to fault in; a buffer must be private anonymous memory, as numpy's own large arrays are."""
    pool = ReceiveBuffers(limit=64 * MiB)
    a = pool.take(10 * MiB)
    a[:] = 3
    assert _mapping_flags(a.ctypes.data).endswith("p")
    del a
    again = pool.take(10 * MiB)
    assert pool.reused == 1 and _mapping_flags(again.ctypes.data).endswith("p") and np.all(again == 3)
