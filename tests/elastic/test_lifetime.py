"""``--lifetime``: workers leave on their own, gracefully, while a graph runs; they are not restarted."""

from __future__ import annotations

import argparse
import time

import pytest

import graphflow as gf
from graphflow.errors import ConfigError
from graphflow.testing.wait import count_calls, wait_for
from graphflow.units import parse_duration
from graphflow.worker.lifetime import (
    EXIT_LIFETIME_RESTART, add_lifetime_options, lifetime_argv, lifetime_delay, lifetime_kwargs,
)


def logged_inc(path, i):
    with open(path, "a") as f:
        f.write(f"{i}\n")
    time.sleep(0.003)
    return i + 1


def add(*xs):
    return sum(xs)


def test_durations():
    assert [parse_duration(x) for x in ("1h", "5m", "30s", "2.5s", "250ms", 7, "1.5 h")] == [
        3600.0, 300.0, 30.0, 2.5, 0.25, 7.0, 5400.0]
    with pytest.raises(ConfigError, match="duration"):
        parse_duration("soon")


def test_lifetime_options_round_trip():
    p = argparse.ArgumentParser()
    add_lifetime_options(p)
    kwargs = lifetime_kwargs(p.parse_args(["--lifetime", "3s", "--lifetime-stagger", "1s", "--lifetime-restart"]))
    assert kwargs == {"lifetime": 3.0, "lifetime_stagger": 1.0, "lifetime_restart": True}
    assert lifetime_kwargs(p.parse_args(lifetime_argv(kwargs))) == kwargs
    assert lifetime_argv({"lifetime": None}) == []
    delays = [lifetime_delay(3.0, 1.0) for _ in range(200)]
    assert 2.0 <= min(delays) < 2.5 and 3.5 < max(delays) <= 4.0, "spread over lifetime +/- stagger"
    assert EXIT_LIFETIME_RESTART not in (0, 3), "a restart code the supervisor does not take as final"


def test_lifetime_workers_leave_and_the_graph_still_finishes(tmp_path):
    """2,000 logged leaves (3 ms each) summed by a fan-in-8 tree, on 3 workers whose lifetime is 2 s +/- 1 s."""
    log = str(tmp_path / "runs")
    n = 2000
    with gf.LocalCluster(n_workers=3, threads_per_worker=1, memory_limit=None, dashboard_address=None,
                         lifetime="2s", lifetime_stagger="1s") as cluster, \
            gf.Client(cluster, set_as_default=False) as client:
        started = {c.name: c for c in cluster.supervisor.children.values() if c.name.startswith("worker")}
        assert len(started) == 3
        inc, plus = gf.delayed(logged_inc, pure=False), gf.delayed(add, pure=False)
        level = [inc(log, i) for i in range(n)]
        while len(level) > 1:
            level = [plus(*level[j:j + 8]) for j in range(0, len(level), 8)]
        assert gf.compute(level[0], scheduler=client)[0] == n * (n + 1) // 2  # ~6 s here: workers leave meanwhile
        with open(log) as f:
            ran = f.read().split()
        assert sorted(map(int, ran)) == list(range(n)), "every leaf ran exactly once"
        wait_for(lambda: len(client.scheduler_info()["workers"]) <= 1, timeout=20,
                 what="the workers leaving (the last one stays only while it holds data or work)")

        def exited():
            gone = [c for c in started.values() if not c.alive]
            return gone if len(gone) >= 2 else None

        gone = wait_for(exited, timeout=20, what="two worker processes exiting")
        passes = count_calls(cluster.supervisor, "_restart_dead")
        wait_for(lambda: passes() >= 2, timeout=20, what="the supervisor looking twice")  # it would restart them now
        assert all(c.popen.returncode == 0 and c.restarts == 0 and not c.alive for c in gone)
        workers = [name for name in cluster.supervisor.children if name.startswith("worker")]
        assert set(workers) <= set(started), "no worker was started in their place"
