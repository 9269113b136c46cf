"""How many worker deaths a task may cause before KilledWorkerError: ``scheduler.allowed_failures``.

One setting, three ways to give it: ``gf.config`` / ``GRAPHFLOW_SCHEDULER__ALLOWED_FAILURES`` (read by the
scheduler process), ``graphflow scheduler --allowed-failures N`` and ``LocalCluster(allowed_failures=N)``
(which passes the flag).  The error message names them, so its advice can be followed.
"""

import os
import signal

import pytest

import graphflow as gf
from graphflow import config
from graphflow.cli import _parser
from graphflow.errors import ConfigError, KilledWorkerError
from graphflow.scheduler.failures import killed_worker
from graphflow.scheduler.server import Scheduler


def count_and_die(path):
    """Note one run in ``path``, then kill this worker process as a segfault would."""
    with open(path, "a") as f:
        f.write("run\n")
    os.kill(os.getpid(), signal.SIGKILL)


def runs(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_the_error_names_the_setting_and_the_flag():
    message = str(killed_worker("x", 3, "tcp://127.0.0.1:4001"))
    assert "scheduler.allowed_failures" in message and "--allowed-failures" in message
    assert "LocalCluster(allowed_failures=" in message and "'x'" in message


def test_the_setting_is_checked_and_reaches_the_scheduler_state():
    assert config.get("scheduler.allowed_failures") == 3
    with pytest.raises(ConfigError, match="allowed_failures"):
        config.set({"scheduler.allowed_failures": 0})
    with config.set({"scheduler.allowed_failures": 7}):
        assert Scheduler("inproc://unused").state.allowed_failures == 7
    assert Scheduler("inproc://unused", allowed_failures=2).state.allowed_failures == 2
    assert Scheduler("inproc://unused").state.allowed_failures == 3


def test_the_flag_and_the_cluster_keyword_are_checked():
    assert _parser().parse_args(["scheduler", "--allowed-failures", "5"]).allowed_failures == 5
    assert _parser().parse_args(["scheduler"]).allowed_failures is None
    with pytest.raises(SystemExit):
        _parser().parse_args(["scheduler", "--allowed-failures", "0"])
    with pytest.raises(ConfigError, match="allowed_failures"):
        gf.LocalCluster(n_workers=1, allowed_failures=0)


def test_one_allowed_failure_set_in_the_config_fails_the_task_after_one_death(tmp_path):
    path = tmp_path / "runs"
    with config.set({"scheduler.allowed_failures": 1}):  # reaches the scheduler process through its environment
        with gf.Client(n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
            fut = client.submit(count_and_die, str(path))
            with pytest.raises(KilledWorkerError, match="allowed_failures") as info:
                fut.result(timeout=60)
    assert info.value.key == fut.key
    assert runs(path) == 1


def test_the_cluster_keyword_passes_the_flag_two_deaths_then_the_error(tmp_path):
    path = tmp_path / "runs"
    with gf.Client(n_workers=1, threads_per_worker=1, dashboard_address=None, allowed_failures=2) as client:
        fut = client.submit(count_and_die, str(path))
        with pytest.raises(KilledWorkerError, match="now 2"):
            fut.result(timeout=90)
    assert runs(path) == 2
