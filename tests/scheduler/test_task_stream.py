"""The task stream and memory history on a real LocalCluster: 2 worker processes x 2 threads.

The cluster starts with ``scheduler.task_stream_size`` = 60 (gf.config set
around its start reaches its processes), so the ring's bound is tested on
the same cluster; every other test reads only records stopped since it began.
"""

import os
import time

import numpy as np
import pytest

import graphflow as gf
from graphflow.comm.messages import SnapshotRequest
from graphflow.scheduler.taskstream import TaskStream
from graphflow.testing.events import erred, finished
from graphflow.testing.wait import wait_for

RING = 60


def slow_inc(x, delay=0.05):
    time.sleep(delay)
    return x + 1


def inc(x):
    return x + 1


def fail(x):
    raise ValueError(f"bad value {x}")


def busy(seconds, gate=None):
    """Burns ``seconds`` of CPU, or, given ``gate``, until that file exists (at most 60 s of CPU)."""
    end = time.process_time() + (60.0 if gate else seconds)
    n = 0
    while time.process_time() < end and not (gate and n % 10_000 == 0 and os.path.exists(gate)):
        n += 1
    return n


@pytest.fixture(scope="module")
def client():
    with gf.config.set({"scheduler.task_stream_size": RING}):
        with gf.Client(n_workers=2, threads_per_worker=2, memory_limit="1GiB") as c:
            yield c


def test_a_record_for_every_task(client):
    t0 = time.time()
    futs = client.map(slow_inc, range(16))
    assert client.gather(futs) == list(range(1, 17))
    recs = client.get_task_stream(start=t0)
    assert sorted(r["key"] for r in recs) == sorted(str(f.key) for f in futs)
    workers = set(client.scheduler_info()["workers"])
    for r in recs:
        assert set(r) == {"key", "prefix", "worker", "thread", "start", "stop", "nbytes", "status"}
        assert r["prefix"] == "slow_inc"
        assert r["worker"] in workers
        assert r["thread"] in (0, 1)
        assert t0 - 1 <= r["start"] <= r["stop"] <= time.time() + 1
        assert r["stop"] - r["start"] >= 0.04  # the task slept 50 ms
        assert r["status"] == "finished" and r["nbytes"] > 0
    # 16 tasks of 50 ms on 2 x 2 threads: each worker ran some, on both of its threads between them
    assert {r["worker"] for r in recs} == workers
    assert {r["thread"] for r in recs} == {0, 1}


def test_numpy_result_size_and_erred_task(client):
    t0 = time.time()
    ok = client.submit(np.ones, 1000)
    bad = client.submit(fail, 7)
    assert ok.result(timeout=10).sum() == 1000
    with pytest.raises(ValueError, match="bad value 7"):
        bad.result(timeout=10)
    recs = {r["key"]: r for r in client.get_task_stream(start=t0)}
    assert recs[str(ok.key)]["nbytes"] >= 8000 and recs[str(ok.key)]["status"] == "finished"
    assert recs[str(ok.key)]["prefix"] == "ones"
    assert recs[str(bad.key)]["status"] == "erred" and recs[str(bad.key)]["nbytes"] == 0
    assert recs[str(bad.key)]["prefix"] == "fail"


def test_ring_is_bounded_and_count_keeps_the_last(client):
    futs = client.map(inc, range(1000, 1000 + 2 * RING))
    client.gather(futs)
    recs = client.get_task_stream()
    assert len(recs) == RING
    last = client.get_task_stream(count=5)
    assert [r["key"] for r in last] == [r["key"] for r in recs[-5:]]
    assert client.get_task_stream(start=time.time() + 3600) == []


def test_memory_history_and_cpu(client, tmp_path):
    t0 = time.time()
    workers = set(client.scheduler_info()["workers"])
    hist = wait_for(lambda: (h := client.get_memory_history(start=t0)) and set(h) == workers and h)
    for samples in hist.values():
        for s in samples:
            assert set(s) == {"time", "managed", "spilled", "unmanaged", "rss"}
            assert s["time"] >= t0 and s["rss"] > 0
        assert [s["time"] for s in samples] == sorted(s["time"] for s in samples)
    # a worker burning CPU says so in its heartbeat, and the snapshot shows it
    # busy until seen, not for a fixed time: on a loaded 2-core machine the share of a core it gets varies
    gate = str(tmp_path / "seen")
    fut = client.submit(busy, 0, gate, pure=False)

    def busy_worker():
        snap = client.ask(SnapshotRequest())
        return [w for w in snap["workers"] if w["cpu"] > 10.0]

    try:
        assert wait_for(busy_worker, timeout=60)
    finally:
        open(gate, "w").close()
    fut.result(timeout=60)


def test_ring_unit():
    """The ring alone: skips reports that did not run, filters by stop time, bounds itself."""
    ring = TaskStream(maxlen=3)
    ring.add(finished("W", "x-1"))  # stop == 0: a result re-announced, not a run
    assert len(ring) == 0
    for i in range(5):
        ev = finished("W", ("x", i), nbytes=10 + i)
        ev.start, ev.stop, ev.thread = 10.0 + i, 10.5 + i, i % 2
        ring.add(ev)
    bad = erred("W", "boom-1")
    bad.start, bad.stop = 20.0, 21.0
    ring.add(bad)
    recs = ring.records()
    assert [r["key"] for r in recs] == [str(("x", 3)), str(("x", 4)), "boom-1"]
    assert recs[0]["prefix"] == "x" and recs[0]["thread"] == 1 and recs[0]["nbytes"] == 13
    assert recs[-1]["status"] == "erred" and recs[-1]["nbytes"] == 0
    assert [r["key"] for r in ring.records(since=14.5)] == [str(("x", 4)), "boom-1"]
    assert ring.records(count=0) == [] and len(ring.records(since=14.5, count=1)) == 1
    assert ring.added == 6
    with pytest.raises(ValueError, match="task_stream_size"):
        TaskStream(maxlen=-1)
