"""Cluster.scale on real processes: up in parallel, down by graceful retirement, during a running graph."""

import collections
import itertools
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import graphflow as gf
from graphflow.deploy.cluster import Cluster, LocalCluster
from graphflow.comm.security import ENV_VAR
from graphflow.testing.wait import count_calls, wait_for


def pid_alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_local_cluster_is_a_cluster():
    assert issubclass(LocalCluster, Cluster) and gf.LocalCluster is LocalCluster


def test_scale_down_retires_the_workers_with_least_data_and_their_processes_end():
    with LocalCluster(n_workers=3, threads_per_worker=1, memory_limit="1GiB") as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        addresses = cluster.workers
        keeper = addresses[1]
        held = client.submit(np.ones, 2_000_000, workers=[keeper])  # 16 MB on one worker
        gf.wait([held], timeout=30)
        pids = {a: w["pid"] for a, w in cluster.scheduler_info()["workers"].items()}
        cluster.scale(1)
        assert cluster.workers == [keeper]
        gone = [pids[a] for a in addresses if a != keeper]
        assert not any(pid_alive(pid) for pid in gone)
        passes = count_calls(cluster.supervisor, "_restart_dead")
        wait_for(lambda: passes() >= 2, timeout=20, what="the supervisor looking twice")  # it does not bring them back
        assert cluster.workers == [keeper] and len(cluster.launched()) == 1
        assert client.who_has([held]) == {held.key: [keeper]}
        assert held.result(timeout=30).sum() == 2_000_000

        start = time.monotonic()
        cluster.scale(4)  # three new processes, started together
        assert len(cluster.workers) == 4 and time.monotonic() - start < 20
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6


def test_retire_workers_through_the_client_shrinks_the_cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        leaving = cluster.workers[0]
        assert client.retire_workers([leaving]) == [leaving]
        wait_for(lambda: cluster.workers == [a for a in cluster.workers if a != leaving] and len(cluster.workers) == 1,
                 timeout=15)
        assert len(cluster.launched()) == 1
        cluster.scale(2)
        assert len(cluster.workers) == 2 and leaving not in cluster.workers


# ---------------------------------------------------------------- scaling while 10k tasks run


def logged_leaf(i, log):
    with open(log, "a") as f:  # one short O_APPEND write per execution: lines never interleave
        f.write(f"leaf-{i}\n")
    time.sleep(0.001)
    return i


def logged_add(a, b, label, log):
    with open(log, "a") as f:
        f.write(f"{label}\n")
    return a + b


def tree_sum(log, n):
    """n leaves summed pairwise: 2n - 1 tasks in all, each logging its label once per execution."""
    layer = [gf.delayed(logged_leaf, pure=True)(i, log) for i in range(n)]
    level = 0
    while len(layer) > 1:
        nxt = [gf.delayed(logged_add, pure=True)(layer[j], layer[j + 1], f"add-{level}-{j}", log)
               for j in range(0, len(layer) - 1, 2)]
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer, level = nxt, level + 1
    return layer[0]


def executions(log) -> int:
    with open(log) as f:
        return f.read().count("\n")


@pytest.mark.slow
def test_scale_up_and_down_while_a_10k_task_graph_runs(tmp_path):
    """Up from 2 to 4 workers, down to 1 (three retire holding partial sums), up to 3: all while it runs."""
    log = str(tmp_path / "executions.log")
    open(log, "w").close()
    n = 5000
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        total = client.compute(tree_sum(log, n))
        cluster.scale(4)
        wait_for(lambda: executions(log) >= 2000, timeout=60)
        held = {a: w["nbytes"] for a, w in cluster.scheduler_info()["workers"].items()}
        cluster.scale(1)
        still_running = not total.done()
        (kept,) = cluster.workers
        cluster.scale(3)
        assert total.result(timeout=120) == n * (n - 1) // 2
        assert still_running, "the graph finished before the cluster scaled down: nothing was tested"
        assert sum(nbytes for a, nbytes in held.items() if a != kept) > 0, "the retired workers held nothing"
        assert len(cluster.workers) == 3
    with open(log) as f:
        runs = collections.Counter(f.read().split())
    assert len(runs) == 2 * n - 1
    twice = {label: k for label, k in runs.items() if k > 1}
    assert not twice, f"{len(twice)} tasks ran more than once, e.g. {list(twice.items())[:5]}"


# ---------------------------------------------------------------- a launcher built on the interface


class CommandLineCluster(Cluster):
    """Workers started with ``graphflow worker`` (what an SSH launcher would run on each host)."""

    _ids = itertools.count()

    def __init__(self, scheduler_address, token):
        super().__init__(timeout=30.0)
        self.scheduler_address = scheduler_address
        self.token = token
        self.procs = {}
        self._connect_admin()

    def _start_workers(self, n):
        names = []
        env = dict(os.environ, **{ENV_VAR: self.token.decode()})
        for _ in range(n):
            prefix = f"cli-{next(self._ids)}"
            argv = [sys.executable, "-m", "graphflow", "worker", self.scheduler_address, "--name", prefix]
            names.append(f"{prefix}-0")  # `graphflow worker --name P` names its (first) worker P-0
            self.procs[names[-1]] = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
        return names

    def _stop_workers(self, names):
        for name in names:
            proc = self.procs.pop(name)
            proc.terminate()
            proc.wait(10)

    def close(self):
        super().close()
        self._stop_workers(list(self.procs))


def test_a_launcher_implements_two_methods():
    with LocalCluster(n_workers=0) as host:  # only its scheduler is used
        cluster = CommandLineCluster(host.scheduler_address, host.token)
        try:
            cluster.scale(2)
            assert len(cluster.workers) == 2
            with gf.Client(cluster, set_as_default=False) as client:
                assert client.cluster is cluster
                assert client.submit(sum, [1, 2]).result(timeout=30) == 3
                procs = list(cluster.procs.values())
                cluster.scale(1)
                assert len(cluster.workers) == 1 and len(cluster.procs) == 1
                assert sum(p.poll() is not None for p in procs) == 1
        finally:
            cluster.close()
        assert all(p.poll() is not None for p in procs)


def test_scale_rejects_negative_counts():
    with pytest.raises(gf.errors.ConfigError):
        Cluster().scale(-1)
