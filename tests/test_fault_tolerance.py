"""Workers and schedulers that die: real processes, really killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.errors import CommClosedError, KilledWorkerError
from graphflow.testing.wait import wait_for


def slow_inc(x, delay=0.05):
    time.sleep(delay)
    return x + 1


def add(*xs):
    return sum(xs)


def suicide(x):
    os.kill(os.getpid(), signal.SIGKILL)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
    return True


def test_killing_a_worker_mid_graph_still_gives_the_right_answer():
    """Two chains of slow tasks feeding a sum; one worker is killed while they run.

    c0 -> c1 -> ... -> c19 \\
                           sum
    d0 -> d1 -> ... -> d19 /
    """
    with gf.Client(n_workers=2, threads_per_worker=1, heartbeat_timeout=3) as client:
        chains = []
        for start in (0, 100):
            x = delayed(start)
            for _ in range(20):
                x = delayed(slow_inc)(x, 0.05)
            chains.append(x)
        total = delayed(add)(*chains)
        fut = client.compute(total)
        # killed while a chain (20 links, 1 s) is on it
        victim = wait_for(lambda: next((w for w in client.scheduler_info()["workers"].values() if w["processing"]),
                                       None), timeout=30, what="a worker running a chain")
        pid = victim["pid"]
        os.kill(pid, signal.SIGKILL)
        assert fut.result(timeout=60) == 20 + 120
        assert not pid_alive(pid)


def test_a_task_that_kills_its_worker_three_times_raises_killed_worker():
    with gf.Client(n_workers=1, threads_per_worker=1, heartbeat_timeout=3) as client:
        fut = client.submit(suicide, 1)
        with pytest.raises(KilledWorkerError) as info:
            fut.result(timeout=90)
        assert fut.key in str(info.value) and info.value.key == fut.key
        # The cluster still works afterwards: the supervisor restarted the worker.
        assert client.submit(slow_inc, 1, 0).result(timeout=30) == 2


def test_scheduler_gone_fails_waiting_futures_and_stops_workers():
    client = gf.Client(n_workers=1, threads_per_worker=1)
    try:
        worker_pids = [w["pid"] for w in client.scheduler_info()["workers"].values()]
        fut = client.submit(slow_inc, 1, 30, pure=False)
        os.kill(client.cluster.scheduler_pid, signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(CommClosedError, match="scheduler"):
            fut.result(timeout=30)
        assert time.monotonic() - started < 15
        with pytest.raises(CommClosedError):
            client.submit(slow_inc, 2)
        wait_for(lambda: not any(pid_alive(p) for p in worker_pids), timeout=20, what="the workers exiting")
    finally:
        client.close()


def test_no_orphans_when_the_parent_is_killed(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        import graphflow as gf
        cluster = gf.LocalCluster(n_workers=2, threads_per_worker=1)
        pids = [cluster.scheduler_pid] + [w["pid"] for w in cluster.scheduler_info()["workers"].values()]
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 3 and all(pid_alive(p) for p in pids)
        parent.kill()
        parent.wait()
        wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=20, what="no child outliving its parent")
    finally:
        parent.kill()


def make_big(n):
    import numpy as np

    return np.arange(n, dtype="float64")


def test_a_result_whose_worker_died_is_recomputed_when_asked_for():
    with gf.Client(n_workers=2, threads_per_worker=1, heartbeat_timeout=3) as client:
        workers = client.scheduler_info()["workers"]
        fut = client.submit(make_big, 3_000_000)  # 24 MB: fetched from the worker, not inline
        gf.wait([fut], timeout=30)
        holder = client.who_has([fut])[fut.key][0]
        os.kill(workers[holder]["pid"], signal.SIGKILL)
        value = fut.result(timeout=60)
        assert value.shape == (3_000_000,) and value[-1] == 2_999_999


def test_a_cluster_made_in_a_short_lived_thread_outlives_that_thread():
    import threading

    box = []
    t = threading.Thread(target=lambda: box.append(gf.LocalCluster(n_workers=1, threads_per_worker=1)))
    t.start()
    tid = t.native_id
    t.join()
    cluster = box[0]
    try:
        # A parent-death signal tied to the thread is sent as it exits, before the kernel forgets it.
        wait_for(lambda: not os.path.exists(f"/proc/self/task/{tid}"), timeout=20, what="the thread's exit")
        children = list(cluster.supervisor.children.values())
        with gf.Client(cluster) as client:
            assert client.submit(slow_inc, 1, 0).result(timeout=20) == 2
        assert all(c.alive and c.restarts == 0 for c in children), "a child died with the thread"
    finally:
        cluster.close()
