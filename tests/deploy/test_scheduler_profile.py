"""The setting ``scheduler.profile``: a scheduler process writes a cProfile dump of its loop when it stops.

This is how the scale work (issue 23) profiled the scheduler of a real 2-worker cluster, with no
scratch copy of the scheduler: ``GRAPHFLOW_SCHEDULER__PROFILE=/tmp/s.prof`` around the cluster's start.
"""

from __future__ import annotations

import pstats

import pytest

import graphflow as gf
from graphflow.testing.wait import wait_for


def _inc(x):
    return x + 1


def test_a_profiled_scheduler_writes_its_profile_when_the_cluster_closes(tmp_path):
    path = tmp_path / "scheduler.prof"
    with gf.config.set({"scheduler.profile": str(path)}):
        cluster = gf.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None)
    with cluster, gf.Client(cluster, set_as_default=False) as client:
        assert client.gather(client.map(_inc, range(20))) == list(range(1, 21))
    wait_for(path.exists, timeout=30)
    functions = {name for (_, _, name) in pstats.Stats(str(path)).stats}
    assert "handle" in functions  # SchedulerState.handle ran inside the profiled loop


def test_the_setting_refuses_an_empty_path():
    with pytest.raises(gf.errors.ConfigError, match="scheduler.profile"):
        with gf.config.set({"scheduler.profile": ""}):
            pass
