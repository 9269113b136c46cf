"""`WorkerStore(background_writes=True)`: blocks written by the writer thread, the caller never waits.

Each test holds a write open with a value whose pickling waits on an event
(`Held`), so "the caller got control back while the block was being written"
is a fact checked, not a timing.
"""

import errno
import os
import threading

import numpy as np
import pytest

from graphflow.store.spill import WorkerStore
from graphflow.store.writer import Writer
from graphflow.testing.wait import wait_for


_events: list = []  # every release event of a test, set when it ends so a failing test never hangs


def events():
    release, started = threading.Event(), threading.Event()
    _events.append(release)
    return release, started


class Held:
    """A value whose block cannot be written until ``release`` is set (or that fails with ``error``)."""

    def __init__(self, payload, release: threading.Event, started: threading.Event, error=None):
        self.payload, self.release, self.started, self.error = payload, release, started, error

    def __reduce__(self):
        self.started.set()
        assert self.release.wait(30), "the test never released the write"
        if self.error is not None:
            raise self.error
        return (np.array, (self.payload,))


@pytest.fixture
def store(tmp_path):
    """Limit 1000 bytes, target 0.6, sizes given by the caller; blocks written in the background."""
    s = WorkerStore(1000, local_directory=str(tmp_path), background_writes=True)
    try:
        yield s
    finally:
        for event in _events:
            event.set()
        _events.clear()
    s.flush()
    s.validate()
    s.close()


def blocks_in(store) -> list:
    return [] if store.directory is None else sorted(os.listdir(store.directory))


def test_set_returns_while_the_block_is_written_and_reads_keep_working(store):
    release, started = events()
    store.set("big", Held([1.0, 2.0], release, started), 900)  # alone over the target: straight to disk
    assert started.wait(10)  # the writer is inside the write, and set() has returned
    store.set("small", b"x", 10)
    assert store.managed_bytes == 10 and store.writing_bytes == 900 and store.is_spilled("big")
    assert store["small"] == b"x"  # the caller goes on using the store meanwhile
    store.validate()
    release.set()
    store.flush()
    assert store.writing_bytes == 0 and blocks_in(store) == ["1.block"]
    assert list(store["big"]) == [1.0, 2.0]  # read back from the block


def test_reading_a_value_being_written_takes_it_back_and_keeps_the_block_as_clean_copy(store):
    release, started = events()
    held = Held([3.0], release, started)
    store.set("a", held, 400)
    store.set("b", b"y", 400)  # 800 > 600: "a", least recently used, goes to the writer
    assert started.wait(10)
    assert store["a"] is held  # still in memory: returned as is, and "b" is now the one to go
    assert not store.is_spilled("a") and store.is_spilled("b")
    release.set()
    store.flush()
    store.validate()
    assert store.block_path("a") is not None and not store.is_spilled("a")  # its block is a clean copy
    assert store["b"] == b"y"


def test_deleting_a_value_being_written_throws_its_block_away(store):
    release, started = events()
    store.set("big", Held([3.0], release, started), 900)
    assert started.wait(10)
    del store["big"]
    release.set()
    store.flush()
    assert blocks_in(store) == [] and store.disk_bytes == 0 and len(store) == 0


def test_a_failed_background_write_puts_the_value_back_and_starts_an_episode(store, caplog):
    release, started = events()
    held = Held([3.0], release, started, error=OSError(errno.EIO, "Input/output error"))
    store.set("big", held, 900)
    assert started.wait(10)
    release.set()
    store.flush()
    assert store.spill_failed and "Input/output error" in str(store.last_spill_error)
    assert store.last_spill_error.key == "big"
    assert store["big"] is held and store.managed_bytes == 900 and blocks_in(store) == []


def test_close_waits_for_the_write_and_leaves_no_directory(tmp_path):
    s = WorkerStore(1000, local_directory=str(tmp_path), background_writes=True)
    release, started = events()
    s.set("big", Held([3.0], release, started), 900)
    assert started.wait(10)
    closing = threading.Thread(target=s.close)
    closing.start()
    release.set()
    closing.join(30)
    assert not closing.is_alive() and os.listdir(tmp_path) == []


def test_writer_runs_jobs_in_order_and_its_thread_goes_when_idle(monkeypatch):
    import graphflow.store.writer as writer_module

    monkeypatch.setattr(writer_module, "IDLE_SECONDS", 0.05)
    w = Writer("test")
    done = []
    for i in range(5):
        w.submit(lambda i=i: done.append(i))
    w.submit(lambda: 1 / 0)  # logged; the jobs after it still run
    w.submit(lambda: done.append("after"))
    w.flush()
    assert done == [0, 1, 2, 3, 4, "after"]
    wait_for(lambda: not any(t.name == "graphflow-writer-test" for t in threading.enumerate()), timeout=10)
    w.submit(lambda: done.append("again"))  # a new thread for new work
    w.flush()
    assert done[-1] == "again"
