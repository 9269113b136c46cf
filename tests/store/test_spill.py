import errno
import logging
import mmap
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pyarrow as pa
import pytest

import graphflow as gf
from graphflow.comm.serialize import loads
from graphflow.errors import SpillError, UnsafePathError
from graphflow.store import blocks
from graphflow.store.rss import process_rss
from graphflow.store.spill import SPILL_PREFIX, WorkerStore, clean_stale_spill_dirs, nbytes_of


@pytest.fixture
def store(tmp_path):
    """Limit 1000 bytes, target 0.6: values spill once more than 600 bytes are in memory."""
    s = WorkerStore(1000, local_directory=str(tmp_path), sizer=len)
    yield s
    s.validate()
    s.close()


def test_set_overwrite_delete_keep_total_exact():
    s = WorkerStore(sizer=len)
    s.set("a", object(), 100)
    s.set("b", object(), 20)
    assert s.total_bytes == 120 and s.nbytes("a") == 100
    s.set("a", object(), 7)  # overwrite subtracts the old size
    assert s.total_bytes == 27
    s["b"] = b"12345"  # measured by the sizer
    assert s.total_bytes == 12 and s.nbytes("b") == 5
    del s["a"]
    assert s.total_bytes == 5 and "a" not in s and len(s) == 1
    assert s.pop("b") == b"12345"
    assert s.total_bytes == 0 and len(s) == 0
    s.validate()


def test_mapping_protocol_and_errors():
    s = WorkerStore(memory_limit=1000, sizer=len)
    s.update({"x": b"ab", ("y", 0): "abc"})
    assert sorted(map(str, s)) == ["('y', 0)", "x"]
    assert s[("y", 0)] == "abc" and s.total_bytes == 5
    assert dict(s.items()) == {"x": b"ab", ("y", 0): "abc"}
    with pytest.raises(KeyError):
        s.nbytes("missing")
    with pytest.raises(KeyError):
        del s["missing"]
    with pytest.raises(KeyError):
        s["missing"]
    assert s.total_bytes == 5
    assert "2 keys, 5 bytes, memory_limit=1000" in repr(s)
    s.clear()
    assert s.total_bytes == 0
    s.validate()


def test_default_sizer_is_graphflow_sizeof():
    s = WorkerStore()
    x = np.zeros(1000)
    s["x"] = x
    assert s.nbytes("x") == gf.sizeof(x) and nbytes_of is gf.sizeof
    s.set("b", "known", 3)  # set() never calls the sizer
    assert s.total_bytes == gf.sizeof(x) + 3


def test_least_recently_used_spills_first(store):
    for k in "abc":
        store[k] = k.encode() * 200  # 600 bytes in memory: at the target, nothing spills
    assert store.spilled_count == 0 and store.directory is None
    assert store["a"] == b"a" * 200  # touch a: b is now the least recently used
    store["d"] = b"d" * 200
    assert [k for k in "abcd" if store.is_spilled(k)] == ["b"]
    assert (store.managed_bytes, store.spilled_bytes, store.total_bytes) == (600, 200, 800)
    assert os.path.dirname(store.directory) == os.path.dirname(store.directory.rstrip("/"))
    assert os.path.basename(store.directory).startswith(f"{SPILL_PREFIX}{os.getpid()}-")
    assert len(os.listdir(store.directory)) == 1


def test_a_value_bigger_than_the_target_goes_straight_to_disk(store):
    store["small"] = b"s" * 100
    store["huge"] = b"h" * 700  # alone over 600: everything older spills first, then it does
    assert store.is_spilled("small") and store.is_spilled("huge")
    assert store.managed_bytes == 0 and store.spilled_bytes == 800
    assert store["huge"] == b"h" * 700


def test_spilled_values_come_back_bit_exact(tmp_path):
    s = WorkerStore("1MiB", local_directory=str(tmp_path))
    x = np.random.default_rng(0).random((300, 400))  # 960 kB: over the 0.6 MiB target
    t = pa.table({"i": np.arange(50_000), "s": [str(i) for i in range(50_000)]})
    s["x"] = x
    s["t"] = t
    assert s.is_spilled("x") and s.is_spilled("t")
    y = s["x"]
    assert y.tobytes() == x.tobytes() and y.dtype == x.dtype and y.shape == x.shape
    assert s["t"].equals(t)
    s.validate()
    s.close()


def test_reading_back_keeps_a_clean_copy_so_spilling_again_writes_nothing(store, monkeypatch):
    store["a"] = b"a" * 400
    store["b"] = b"b" * 400  # a spills
    assert store.is_spilled("a") and store.disk_bytes > 400
    store["a"]  # back in memory; now b is the LRU value and spills
    assert not store.is_spilled("a") and store.is_spilled("b")
    disk = store.disk_bytes
    writes = []
    monkeypatch.setattr(blocks, "write_block", lambda path, value: writes.append(path))
    store["b"]  # a spills again: its block is still on disk, nothing is written
    assert store.is_spilled("a") and writes == [] and store.disk_bytes == disk
    del store["a"]
    del store["b"]
    assert store.disk_bytes == 0 and os.listdir(store.directory) == []


def test_overwriting_a_spilled_key_removes_its_block(store):
    store["a"] = b"a" * 700
    assert store.is_spilled("a") and len(os.listdir(store.directory)) == 1
    store["a"] = b"new"
    assert not store.is_spilled("a") and store["a"] == b"new"
    assert os.listdir(store.directory) == [] and store.disk_bytes == 0


def test_spill_lru_frees_what_is_asked(tmp_path):
    s = WorkerStore(None, local_directory=str(tmp_path), sizer=len)  # no limit: only asked spills happen
    for i in range(10):
        s[i] = bytes(100)
    assert s.spilled_count == 0
    assert s.spill_lru(250) == 300  # whole values, oldest first
    assert [s.is_spilled(i) for i in range(4)] == [True, True, True, False]
    assert s.spill_lru(10**9) == 700 and s.managed_bytes == 0
    assert s.spill_lru(1) == 0
    s.validate()
    s.close()


def test_frames_of_a_spilled_key_load_without_the_store(store):
    x = np.arange(100, dtype="int64")  # 800 bytes
    store.set("x", x, 800)
    store.set("m", b"in memory", 9)
    frames = store.frames("x")
    assert store.is_spilled("x")  # frames() reads no value and does not count as a use
    assert np.array_equal(loads(frames), x)
    assert store.frames("m") is None
    with pytest.raises(KeyError):
        store.frames("missing")


def test_max_spill_gives_spill_error_once_per_episode_and_no_write_loop(tmp_path, caplog, monkeypatch):
    s = WorkerStore(1000, local_directory=str(tmp_path), max_spill=700, sizer=len)
    s["a"] = bytes(400)
    s["b"] = bytes(400)  # a spills: 400 bytes + a small header, within 700
    assert s.is_spilled("a") and not s.spill_failed
    calls = []
    real = blocks.write_block
    monkeypatch.setattr(blocks, "write_block", lambda p, v: calls.append(p) or real(p, v))
    with caplog.at_level(logging.ERROR, logger="graphflow.store.spill"):
        s["c"] = bytes(400)  # b must spill but max_spill is reached: it stays in memory
        for i in range(5):
            s[f"more{i}"] = bytes(100)
    assert s.spill_failed and not s.is_spilled("b") and calls == []
    err = s.last_spill_error
    assert isinstance(err, SpillError) and err.key == "b" and err.directory == s.directory
    assert "max_spill" in str(err) and repr("b") in str(err)
    assert len([r for r in caplog.records if "cannot spill" in r.getMessage()]) == 1
    assert s.spill_lru(10**6) == 0 and calls == []  # the monitor asking again fails before writing too
    assert err.needed == 400 and 0 <= err.free < 400 and "it needs 400 B" in str(err)
    del s["a"]  # room for one more block: b spills at the next attempt, c still cannot
    s["d"] = bytes(10)
    assert s.is_spilled("b") and not s.is_spilled("c") and s.spill_failed  # still over target: same episode
    assert len([r for r in caplog.records if "cannot spill" in r.getMessage()]) == 1
    s.max_spill = 10_000  # room for everything: the next spill brings memory to the target, ending the episode
    with caplog.at_level(logging.INFO, logger="graphflow.store.spill"):
        s["e"] = bytes(10)
    assert s.is_spilled("c") and not s.spill_failed and s.managed_bytes <= 600
    assert [r.getMessage() for r in caplog.records if "works again" in r.getMessage()]
    s.validate()
    s.close()


def test_unwritable_directory_and_full_disk(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    s = WorkerStore(1000, local_directory=str(blocker / "spill"), sizer=len)
    s["a"] = bytes(700)
    assert s.spill_failed and not s.is_spilled("a") and s["a"] == bytes(700)
    assert s.last_spill_error.key == "a" and str(blocker / "spill") in str(s.last_spill_error)
    s.validate()

    full = WorkerStore(1000, local_directory=str(tmp_path), sizer=len)

    def enospc(path, value):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blocks, "write_block", enospc)
    full["a"] = bytes(700)
    assert full.spill_failed and "No space left" in str(full.last_spill_error)
    monkeypatch.undo()
    full.reset_spill_failure()
    full["b"] = bytes(1)
    assert full.is_spilled("a")
    full.close()


def test_close_and_collection_remove_the_directory(tmp_path):
    s = WorkerStore(100, local_directory=str(tmp_path), sizer=len)
    s["a"] = bytes(100)
    value = s["a"]
    directory = s.directory
    assert os.path.isdir(directory)
    s.close()
    assert not os.path.exists(directory) and len(s) == 0
    assert value == bytes(100)  # mapped values outlive their file

    s = WorkerStore(100, local_directory=str(tmp_path), sizer=len)
    s["a"] = bytes(100)
    directory = s.directory
    del s
    assert not os.path.exists(directory)


def test_max_spill_comes_from_config_unless_given(tmp_path):
    assert WorkerStore(1000).max_spill is None
    with gf.config.set({"worker.max_spill": "1KiB"}):
        s = WorkerStore(1000, local_directory=str(tmp_path), sizer=len)
        assert s.max_spill == 1024 and WorkerStore(1000, max_spill=False).max_spill is None
        assert WorkerStore(1000, max_spill="2KiB").max_spill == 2048
    s["a"] = bytes(700)
    s["b"] = bytes(700)  # a (700) spills, b cannot: 1400 > 1 KiB
    assert s.is_spilled("a") and not s.is_spilled("b") and s.spill_failed
    assert s.spill_room() < 700 and s.last_spill_error.needed == 700
    with pytest.raises(gf.errors.ConfigError, match="worker.max_spill"):
        gf.config.set({"worker.max_spill": "lots"})
    s.close()


def test_thresholds_come_from_config():
    assert WorkerStore(1000).thresholds == {"target": 0.6, "spill": 0.7, "pause": 0.8, "terminate": 0.95}
    with gf.config.set({"worker.memory.target": 0.5, "worker.memory.pause": False}):
        s = WorkerStore(1000, spill=0.75)
    assert s.thresholds == {"target": 0.5, "spill": 0.75, "pause": False, "terminate": 0.95}
    assert s.threshold_bytes("target") == 500 and s.threshold_bytes("pause") is None
    assert WorkerStore(None).threshold_bytes("spill") is None


CHILD = """
import os, sys
from graphflow.store.spill import WorkerStore
s = WorkerStore(100, local_directory=sys.argv[1], sizer=len)
s["a"] = bytes(1000)
print(s.directory, flush=True)
os.kill(os.getpid(), 9)
"""


def test_stale_directories_of_killed_workers_are_cleaned(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    dead = proc.stdout.strip()
    assert os.path.isdir(dead) and os.listdir(dead)  # kill -9: no chance to clean up
    live = WorkerStore(10, local_directory=str(tmp_path), sizer=len)
    live["x"] = bytes(10)
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    assert clean_stale_spill_dirs(str(tmp_path)) == [dead]
    assert not os.path.exists(dead) and os.path.isdir(live.directory) and unrelated.is_dir()
    live.close()


def test_threads_share_one_store(tmp_path):
    s = WorkerStore(20_000, local_directory=str(tmp_path))
    errors = []

    def work(t):
        try:
            for i in range(60):
                s[(t, i)] = np.full(100, i, dtype="int64")
                if i >= 5:  # an older value, spilled by now or by another thread meanwhile
                    assert int(s[(t, i - 5)][0]) == i - 5
                    if i % 3 == 0:
                        del s[(t, i - 5)]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors and s.spilled_count > 0
    s.validate()
    s.close()


def test_process_rss_sees_touched_memory():
    # a fresh anonymous mapping: pages malloc kept from earlier tests could be reused without growing the RSS
    area = mmap.mmap(-1, 50 * 2**20)
    try:
        before = process_rss()
        pages = np.frombuffer(area, dtype=np.uint8)
        pages[:] = 1  # touch every page
        grown = process_rss() - before
        del pages
    finally:
        area.close()
    assert grown > 40 * 2**20


def test_shared_values_are_held_apart_and_never_spilled():
    from graphflow.store.spill import Shared

    s = WorkerStore(100, sizer=len)
    s.set("peer", Shared(b"p" * 90), 90)  # another worker's block: not ours to count or spill
    s["own"] = b"o" * 50
    assert (s.managed_bytes, s.shared_bytes, s.spilled_bytes, s.total_bytes) == (50, 90, 0, 140)
    assert not s.is_spilled("peer") and s["peer"] == b"p" * 90 and s.spilled_count == 0
    s["more"] = b"m" * 40  # over the 60-byte target: "own" spills, "peer" stays
    assert s.is_spilled("own") and not s.is_spilled("peer")
    s.validate()
    del s["peer"]
    assert s.shared_bytes == 0 and s.total_bytes == 90
    s.set("own", Shared(b"x"), 1)  # replacing a key moves it between tiers
    assert s.shared_bytes == 1 and s.managed_bytes == 40
    s.validate()
    s.close()


def test_spill_directory_and_blocks_are_private_and_a_squatted_name_is_not_used(tmp_path):
    """Someone made folders under the spill prefix in advance (open to all, another user's when we are root):
    the store makes its own with a random name, 0700, blocks 0600, and writes nothing into theirs."""
    squatted = [tmp_path / f"{SPILL_PREFIX}{os.getpid()}-{suffix}" for suffix in ("", "x", "00000000")]
    for path in squatted:
        path.mkdir()
        path.chmod(0o777)
        if os.geteuid() == 0:
            os.chown(path, 65534, 65534)
    s = WorkerStore(100, local_directory=str(tmp_path), sizer=len)
    s["a"] = bytes(100)
    s["b"] = bytes(100)
    assert s.is_spilled("a") and s.directory not in map(str, squatted)
    st = os.lstat(s.directory)
    assert st.st_uid == os.geteuid() and st.st_mode & 0o777 == 0o700
    blocks_made = os.listdir(s.directory)
    assert blocks_made and all(os.lstat(os.path.join(s.directory, b)).st_mode & 0o777 == 0o600 for b in blocks_made)
    assert all(os.listdir(path) == [] for path in squatted)
    assert clean_stale_spill_dirs(str(tmp_path)) == []  # our pid is alive: nothing of ours is stale
    s.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another uid (os.chown) needs root")
def test_a_block_replaced_by_another_users_file_is_not_unpickled(tmp_path):
    s = WorkerStore(100, local_directory=str(tmp_path), sizer=len)
    s["a"] = bytes(100)
    s["b"] = bytes(100)
    path = s.block_path("a")
    os.chown(path, 65534, 65534)  # as if someone else had put their own pickle there
    with pytest.raises(UnsafePathError, match="owned by uid 65534"):
        s["a"]
    s.close()


def test_a_full_disk_fails_the_spill_before_writing_and_logs_once(caplog):
    """A 1 MiB filesystem (a tmpfs when root, else max_spill): the blocks that fit are written, the next spill
    fails without a partial file, the error names the directory and the bytes needed and free, and trying
    again while the disk stays full logs nothing more."""
    from graphflow.testing.disks import small_disk

    with small_disk(2**20) as (path, mounted):
        s = WorkerStore(100_000, local_directory=path, max_spill=None if mounted else 2**20, sizer=len)
        with caplog.at_level(logging.ERROR, logger="graphflow.store.spill"):
            for i in range(8):
                s[i] = bytes(300_000)  # each spills the one before: 1 MiB holds three
            for _ in range(20):
                s.spill_lru(10**7)
        assert s.spill_failed and 2 <= s.spilled_count <= 3
        assert sorted(os.listdir(s.directory)) == sorted(os.path.basename(s.block_path(k)) for k in s
                                                         if s.block_path(k))  # no partial block left
        err = s.last_spill_error
        assert err.directory == s.directory and err.needed == 300_000 and err.free < 300_000
        assert s.directory in str(err) and "are free" in str(err)
        assert len([r for r in caplog.records if "cannot spill" in r.getMessage()]) == 1
        for k in list(s):
            del s[k]
        s[100] = bytes(300_000)
        s[101] = bytes(300_000)  # room again: spills, and the episode is over
        assert s.is_spilled(100) and not s.spill_failed
        s.close()
