"""LocalCluster(processes=False): the scheduler and workers as threads of the test process, real zmq inproc sockets.

Results reach a client of this process unpickled: the very object the task
made (an unpicklable lock included).
"""

import os
import threading

import numpy as np
import pytest

import graphflow as gf
from graphflow.errors import ConfigError
from graphflow.testing.wait import wait_for

MADE: dict = {}  # objects made by tasks, by name, to compare identities with what result() returns


def make(name, size):
    MADE[name] = value = np.arange(size)
    return value


def pid_of_task():
    return os.getpid(), gf.get_worker().name


def fib(n):
    if n < 2:
        return n
    client = gf.get_client()
    a, b = client.submit(fib, n - 1), client.submit(fib, n - 2)
    return a.result(timeout=60) + b.result(timeout=60)


def graphflow_threads():
    return sorted(t.name for t in threading.enumerate()
                  if t.name.startswith(("graphflow-task", "graphflow-cluster", "graphflow-client")))


@pytest.fixture(scope="module")
def cluster():
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as c:
        yield c


def test_scheduler_and_workers_run_in_this_process(cluster):
    assert cluster.processes is False and cluster.scheduler_address.startswith("inproc://")
    with gf.Client(cluster, set_as_default=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        pids = client.gather(client.map(lambda _: pid_of_task(), range(6), pure=False))
    assert {pid for pid, _ in pids} == {os.getpid()}
    assert {name for _, name in pids} <= {"worker-0", "worker-1"}


def test_results_are_the_objects_the_tasks_made_not_copies(cluster):
    with gf.Client(cluster, set_as_default=False) as client:
        big = client.submit(make, "big", 2_000_000, pure=False).result(timeout=30)  # 16 MB: never inlined
        assert big is MADE["big"]
        small = client.submit(make, "small", 3, pure=False).result(timeout=30)  # rides with the report: a copy
        assert np.array_equal(small, MADE["small"])


def test_an_unpicklable_result_still_reaches_the_client(cluster):
    with gf.Client(cluster, set_as_default=False) as client:
        lock = client.submit(threading.Lock, pure=False).result(timeout=30)
        assert lock.acquire(blocking=False) and (lock.release() is None)


def test_nested_tasks_run_on_thread_workers(cluster):
    with gf.Client(cluster, set_as_default=False) as client:
        assert client.submit(fib, 12).result(timeout=120) == 144


def test_scale_up_and_down_and_retire(cluster):
    with gf.Client(cluster, set_as_default=False) as client:
        cluster.scale(3)
        assert len(client.scheduler_info()["workers"]) == 3
        cluster.scale(2)
        wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, timeout=30, what="back to two workers")
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
        cluster.scale(3)
        x = client.submit(make, "kept", 10, pure=False)
        assert np.array_equal(x.result(timeout=30), MADE["kept"])
        [holder] = client.who_has([x])[x.key]
        assert client.retire_workers([holder]) == [holder]
        wait_for(lambda: len(cluster.launched()) == 2, timeout=30, what="the retired worker to stop")
        assert np.array_equal(client.gather([x])[0], MADE["kept"])  # moved to another worker, not recomputed
        cluster.scale(2)
        assert len(client.scheduler_info()["workers"]) == 2


def test_a_client_starting_its_own_thread_cluster_closes_it_and_every_thread_ends():
    before = graphflow_threads()
    with gf.Client(n_workers=1, threads_per_worker=2, processes=False, set_as_default=False) as client:
        assert client.cluster.processes is False
        assert client.submit(fib, 6).result(timeout=60) == 8
    wait_for(lambda: graphflow_threads() == before, timeout=30, what="the cluster's threads to end",
             on_timeout=lambda: f"still running: {sorted(set(graphflow_threads()) - set(before))}")


@pytest.mark.parametrize("options", [{"memory_limit": "1GiB"}, {"lifetime": "1h"}, {"encrypt": True}])
def test_process_only_options_are_refused_with_a_named_error(options):
    with pytest.raises(ConfigError, match=r"processes=False.*processes=True"):
        gf.LocalCluster(n_workers=1, processes=False, **options)


def test_unknown_options_are_a_type_error():
    with pytest.raises(TypeError, match="nthreads"):
        gf.LocalCluster(n_workers=1, processes=False, nthreads=3)
