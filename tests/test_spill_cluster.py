"""The object store on a real LocalCluster: spilling, pausing, memory reports, kill -9 while spilling.

Worker processes are real and really limited: a working set several times the
cluster's memory must finish with the right answer, each worker's peak RSS
staying near its limit.
"""

import glob
import os
import signal
import time

import numpy as np
import pytest

import graphflow as gf
from graphflow.errors import MemoryLimitError
from graphflow.store.shm import SHM_PREFIX
from graphflow.testing.wait import wait_for
from graphflow.worker.server import MEMORY_MONITOR_INTERVAL

MiB = 2 ** 20
LIMIT = 320 * MiB  # per worker; an idle worker process already holds ~100 MiB of it
CHUNK = 16 * MiB


def make_chunk(i, nbytes=CHUNK):
    return np.full(nbytes // 8, float(i))


def chunk_sum(x):
    return float(x.sum())


def add(*xs):
    return sum(xs)


def peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for pid {pid}")


def worker_pids(client) -> dict:
    return {a: w["pid"] for a, w in client.scheduler_info()["workers"].items()}


def spill_files(directory) -> list:
    return [p for p in glob.glob(os.path.join(str(directory), "**"), recursive=True) if os.path.isfile(p)]


@pytest.mark.slow
def test_working_set_three_times_the_cluster_memory_finishes_within_the_limit(tmp_path):
    n = (3 * 2 * LIMIT) // CHUNK  # 3x the memory of both workers together
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit=LIMIT, local_directory=str(tmp_path)) as client:
        chunks = client.map(make_chunk, range(n))
        gf.wait(chunks, timeout=120)
        memory = client.memory()
        assert sum(w["spilled"] for w in memory.values()) > 2 * LIMIT  # most of it is on disk now
        for w in memory.values():
            assert w["limit"] == LIMIT and w["managed"] <= 0.7 * LIMIT
        sums = client.map(chunk_sum, chunks)
        total = client.submit(add, *sums).result(timeout=120)
        assert total == sum(float(i) * (CHUNK // 8) for i in range(n))
        for address, pid in worker_pids(client).items():
            assert peak_rss(pid) <= 1.15 * LIMIT, (address, peak_rss(pid) / MiB)
        del chunks, sums
        wait_for(lambda: sum(w["spilled"] for w in client.memory().values()) == 0, timeout=20,
                 what="the spilled blocks deleted")
    assert spill_files(tmp_path) == []  # every block went with its key, and the directories at exit


def test_memory_report_and_a_task_too_big_for_any_worker(tmp_path):
    with gf.Client(n_workers=1, threads_per_worker=1, memory_limit=LIMIT, local_directory=str(tmp_path)) as client:
        fut = client.submit(make_chunk, 1, 8 * MiB)
        fut.result()
        wait_for(lambda: next(iter(client.memory().values()))["managed"] >= 8 * MiB, timeout=20,
                 what="a heartbeat counting the 8 MiB")
        [report] = client.memory().values()
        assert set(report) >= {"managed", "spilled", "unmanaged", "rss", "limit", "paused"}
        assert report["limit"] == LIMIT and report["rss"] >= report["managed"] + report["unmanaged"] - 1
        assert report["unmanaged"] > 10 * MiB and not report["paused"]
        too_big = client.submit(make_chunk, 2, 2 * LIMIT)
        with pytest.raises(MemoryLimitError, match="make_chunk") as info:
            too_big.result(timeout=60)
        assert info.value.limit == LIMIT


def test_a_spill_that_cannot_happen_pauses_the_worker_without_a_crash_loop(tmp_path, capfd):
    """max_spill of 1 byte: nothing can go to disk, so once it must spill the worker is short of room (paused,
    to the scheduler), logs one line naming the key and the directory, and keeps everything it holds; dropping
    the data lets it run again.  (tests/worker/test_disk_full.py fills a real disk.)
    """
    with gf.Client(n_workers=1, threads_per_worker=1, memory_limit=LIMIT, local_directory=str(tmp_path),
                   max_spill=1) as client:
        [(address, pid)] = worker_pids(client).items()
        chunks = client.map(make_chunk, range(12))  # 192 MiB more than the target: spilling is needed
        wait_for(lambda: client.memory()[address]["paused"], timeout=60, what="the worker pausing")
        assert "max_spill" in client.memory()[address]["spill_error"]
        # Not a wait but a window: ten memory checks, in which a crash loop or a log line per check would show.
        time.sleep(10 * MEMORY_MONITOR_INTERVAL)
        assert worker_pids(client) == {address: pid}  # same process: not killed, not restarted
        err = capfd.readouterr().err
        assert "SpillError" in err and str(tmp_path) in err and "make_chunk" in err
        assert err.count("SpillError") <= 3  # logged once per failure kind, not in a loop
        assert spill_files(tmp_path) == []
        done = [c for c in chunks if c.done()]
        assert done and all(c.result().nbytes == CHUNK for c in done)  # kept in memory, intact
        del chunks, done
        wait_for(lambda: not client.memory()[address]["paused"], timeout=30, what="the worker resuming")
        assert client.submit(chunk_sum, client.submit(make_chunk, 3, MiB)).result(timeout=30) == 3.0 * MiB / 8


@pytest.mark.slow
def test_kill_9_while_spilling_gives_the_right_answer_and_leaves_no_file(tmp_path):
    n = (2 * 2 * LIMIT) // CHUNK
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit=LIMIT, local_directory=str(tmp_path),
                   heartbeat_timeout=3) as client:
        chunks = client.map(make_chunk, range(n))
        sums = client.map(chunk_sum, chunks)
        total = client.submit(add, *sums)
        victim = sorted(worker_pids(client).values())[0]
        wait_for(lambda: spill_files(tmp_path), timeout=60, what="a spill before the kill")
        os.kill(victim, signal.SIGKILL)
        assert total.result(timeout=180) == sum(float(i) * (CHUNK // 8) for i in range(n))
        del chunks, sums, total
    assert spill_files(tmp_path) == []
    assert not [p for p in glob.glob("/dev/shm/graphflow-*") if f"-{victim}-" in p]


class SlowToWrite:
    """A result that says it is large (so the worker spills it at once) and whose block cannot be written
    until the file ``gate`` exists; ``gate + ".started"`` appears when the write begins."""

    def __init__(self, gate):
        self.gate = gate

    def __sizeof__(self):
        return LIMIT * 3 // 4  # over the store's target (0.6) on its own: it goes straight to disk

    def __reduce__(self):
        open(self.gate + ".started", "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(self.gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        return (str, ("written",))


def slow_to_write(gate):
    return SlowToWrite(gate)


def test_the_worker_loop_answers_while_a_large_spill_is_written(tmp_path):
    """The block is written by the store's writer thread: while it is under way the worker's event loop
    runs a new task, reports it and serves its result (before, the loop wrote the block itself and
    answered nothing until the write was over)."""
    gate = str(tmp_path / "gate")
    spill_dir = tmp_path / "spill"
    with gf.Client(n_workers=1, threads_per_worker=2, memory_limit=LIMIT, local_directory=str(spill_dir)) as client:
        big = client.submit(slow_to_write, gate)
        wait_for(lambda: os.path.exists(gate + ".started"), timeout=60, what="the block write to start")
        start = time.monotonic()
        assert client.submit(add, 1, 2).result(timeout=20) == 3  # scheduled, run, reported, fetched
        assert time.monotonic() - start < 20
        assert not os.path.exists(gate)  # the write was still held the whole time
        open(gate, "w").close()
        wait_for(lambda: spill_files(spill_dir), timeout=60, what="the block on disk")
        assert big.status == "finished"
        del big


def consume(x, i=0, delay=0.0):
    time.sleep(delay)
    return float(x[::512].sum())


def test_shared_memory_hands_a_result_to_every_worker_on_the_host_once():
    """With worker.shared_memory on, a 64 MiB result read by tasks on the other worker and by the client is
    written once to /dev/shm: its holder keeps the mapped block in place of its own copy, the readers map it
    (counted as shared, not managed), and the block is unlinked when the result is released."""
    with gf.config.set({"worker.shared_memory": True}):
        with gf.Client(n_workers=2, threads_per_worker=1) as client:  # the cluster inherits the setting
            a, b = sorted(worker_pids(client))
            holder_pid = worker_pids(client)[a]
            big = client.submit(make_chunk, 7, 64 * MiB, workers=[a])
            readers = [client.submit(consume, big, i, 1.0, workers=[b], pure=False) for i in range(3)]
            # while the readers run, b maps the block: counted as shared there, managed on a only

            def counted_once():
                memory = client.memory()
                return memory[b]["shared"] >= 64 * MiB and memory[b]["managed"] < 64 * MiB <= memory[a]["managed"]

            wait_for(counted_once, timeout=20, what=lambda: f"the block counted once: {client.memory()}")
            assert [r.result(timeout=60) for r in readers] == [7.0 * (64 * MiB // 8 // 512)] * 3
            blocks = [p for p in glob.glob(f"/dev/shm/{SHM_PREFIX}{holder_pid}-*/*")]
            assert len(blocks) == 1 and os.path.getsize(blocks[0]) >= 64 * MiB
            assert big.result(timeout=30)[0] == 7.0  # the client maps it too
            del big, readers
            wait_for(lambda: not glob.glob(f"/dev/shm/{SHM_PREFIX}{holder_pid}-*/*"), timeout=20,
                     what="the block unlinked")


def test_shared_memory_blocks_do_not_outlive_a_killed_worker():
    """The holder of a block is killed with kill -9: its reader keeps a working value, the worker that
    replaces it sweeps the dead process's /dev/shm directory, and nothing is left after the cluster closes."""
    with gf.config.set({"worker.shared_memory": True}):
        with gf.Client(n_workers=2, threads_per_worker=1, heartbeat_timeout=3) as client:
            a, b = sorted(worker_pids(client))
            holder_pid = worker_pids(client)[a]
            big = client.submit(make_chunk, 5, 32 * MiB, workers=[a])
            value = big.result(timeout=60)  # mapped from the holder's block
            assert glob.glob(f"/dev/shm/{SHM_PREFIX}{holder_pid}-*/*")
            os.kill(holder_pid, signal.SIGKILL)
            wait_for(lambda: len(pids := worker_pids(client)) == 2 and holder_pid not in pids.values(), timeout=30,
                     what="a replacement for the killed holder")
            wait_for(lambda: not glob.glob(f"/dev/shm/{SHM_PREFIX}{holder_pid}-*"), timeout=20,
                     what="the dead holder's directory swept")
            assert value[::4096].sum() == 5.0 * len(value[::4096])  # our mapping outlives the file
    assert not glob.glob(f"/dev/shm/{SHM_PREFIX}{holder_pid}-*")
