"""cluster.adapt(): the loop on its own (a stand-in cluster), then on real worker processes."""

import gc
import threading
import time

import pytest

import graphflow as gf
from graphflow.deploy.adaptive import Adaptive
from graphflow.units import parse_duration
from graphflow.errors import ConfigError
from graphflow.testing.wait import wait_for


class StandInCluster:
    """Just what `Adaptive` calls: recommendations from a script, a count of launched workers, scale calls."""

    def __init__(self, targets, n=1):
        self.targets = list(targets)
        self.n = n
        self.calls = []
        self.done = threading.Event()

    def adaptive_target(self, minimum, maximum, target_duration):
        if not self.targets:
            self.done.set()
            return {"target": self.n, "order": []}
        target = self.targets.pop(0)
        if isinstance(target, Exception):
            raise target
        return {"target": target, "order": [f"w{i}" for i in range(self.n)]}

    def launched(self):
        return list(range(self.n))

    def scale_to(self, n, order=None):
        self.calls.append(n)
        self.n = n


def run(cluster, **kw):
    adaptive = Adaptive(cluster, interval=0.01, **kw)
    assert cluster.done.wait(10)
    adaptive.stop()
    return adaptive


def test_loop_scales_up_at_once_and_down_after_wait_count():
    cluster = StandInCluster([4, 1, 1, 4, 1, 1, 1, 2])
    run(cluster, minimum=1, maximum=4, wait_count=3)
    assert cluster.calls == [4, 1, 2]


def test_loop_survives_failed_checks_and_stops():
    cluster = StandInCluster([RuntimeError("scheduler busy"), 3, ConnectionError("gone for a moment"), 3])
    adaptive = run(cluster, minimum=0, maximum=4)
    assert cluster.calls == [3] and adaptive.errors == 2 and adaptive.checks >= 2
    assert not adaptive._thread.is_alive() and not adaptive.running


def test_loop_corrects_a_count_outside_the_bounds_at_once():
    cluster = StandInCluster([2, 2], n=0)
    run(cluster, minimum=2, maximum=3)
    assert cluster.calls == [2]
    cluster = StandInCluster([6, 6], n=6)
    run(cluster, minimum=1, maximum=3)
    assert cluster.calls == [3]


def test_loop_ends_when_the_cluster_is_dropped():
    cluster = StandInCluster([1] * 10_000)
    adaptive = Adaptive(cluster, interval=0.01)
    del cluster
    gc.collect()
    adaptive._thread.join(10)
    assert not adaptive._thread.is_alive() and adaptive.cluster is None


def test_bad_bounds_and_durations_are_refused():
    with pytest.raises(ConfigError):
        Adaptive(StandInCluster([]), minimum=3, maximum=2)
    with pytest.raises(ConfigError):
        parse_duration("soon")
    assert parse_duration("250ms") == 0.25 and parse_duration("2m") == 120.0


# ---------------------------------------------------------------- on a real LocalCluster


def nap(i):
    time.sleep(0.2)
    return i


def progress(adaptive):
    """What a timed-out wait says about the loop: how many checks ran, failed, and the last advice."""
    return (f"{adaptive.checks} checks, {adaptive.errors} failed (last: {adaptive.last_error!r}), "
            f"last advice {adaptive.last_recommendation}")


def test_adapt_grows_to_maximum_under_a_queue_and_returns_to_minimum():
    with gf.LocalCluster(n_workers=1, threads_per_worker=1, memory_limit="1GiB") as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        adaptive = cluster.adapt(minimum=1, maximum=3, interval="0.2s", wait_count=3, target_duration="1s")
        futures = client.map(nap, range(40), pure=False)  # 8 s of work on one worker
        wait_for(lambda: len(cluster.workers) == 3, timeout=20,
                 what=lambda: f"growing to 3 workers ({progress(adaptive)})")
        assert sorted(client.gather(futures)) == list(range(40))
        wait_for(lambda: len(cluster.workers) == 1, timeout=20,
                 what=lambda: f"shrinking back to 1 worker ({progress(adaptive)})")
        # the retired processes leave the launched list once their exit is seen, a moment after the scheduler's
        wait_for(lambda: len(cluster.launched()) == 1, timeout=20,
                 what=lambda: f"retired processes reaped (launched: {cluster.launched()})")
        checks = adaptive.checks
        # stays at the minimum while idle: five more checks done (a sixth began, so the fifth's scaling is over)
        wait_for(lambda: adaptive.checks > checks + 5, timeout=20,
                 what=lambda: f"five idle checks ({progress(adaptive)})")
        assert len(cluster.workers) == 1 and adaptive.running
    assert not adaptive.running and not adaptive._thread.is_alive()  # close() stopped the loop
