"""Ray's ``max_restarts`` on graphflow's restartable actors: after its worker process is killed, the actor comes
back on the restarted worker *with its state* (replayed since its last checkpoint); one without restarts dies
and its calls raise `RayActorError`."""

import os
import signal

import pytest

import graphflow.ray as ray
from graphflow.ray import session as ray_session
from graphflow.testing.wait import wait_for


@pytest.fixture(scope="module", autouse=True)
def one_node():
    ray.init(num_cpus=2)
    yield
    ray.shutdown()


@ray.remote
class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


def _worker_pids() -> set:
    return {w["pid"] for w in ray_session.client().scheduler_info()["workers"].values()}


def test_killing_the_node_restarts_an_actor_with_max_restarts_and_kills_one_without():
    lasting = Counter.options(max_restarts=2, checkpoint_every=3).remote()
    plain = Counter.remote()
    assert ray.get([lasting.add.remote(k) for k in range(1, 6)]) == [1, 3, 6, 10, 15]
    assert ray.get(plain.add.remote(1)) == 1
    (pid,) = _worker_pids()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _worker_pids() - {pid, None}, timeout=60)  # the cluster starts a new worker process
    assert ray.get(lasting.add.remote(100), timeout=60) == 115
    with pytest.raises(ray.RayActorError):
        ray.get(plain.add.remote(1), timeout=60)
