"""Logging: GRAPHFLOW_LOGGING_LEVEL, each worker's log ring, and task prints landing in client.get_worker_logs()."""

import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import graphflow as gf
from graphflow.worker import logs as worker_logs


def noisy(x):
    print(f"hello from task {x}")
    print(f"complaint {x}", file=sys.stderr)
    return x


def _run(code: str, level=None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "GRAPHFLOW_LOGGING_LEVEL"}
    if level is not None:
        env["GRAPHFLOW_LOGGING_LEVEL"] = level
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr


LOG_BOTH = ("import graphflow, logging\n"
            "logging.getLogger('graphflow.test').info('an info line')\n"
            "logging.getLogger('graphflow.test').warning('a warning line')\n")


def test_logging_level_from_environment_in_a_subprocess():
    default = _run(LOG_BOTH)
    assert "a warning line" in default and "an info line" not in default
    verbose = _run(LOG_BOTH, "info")
    assert "graphflow.test INFO an info line" in verbose and "a warning line" in verbose
    quiet = _run(LOG_BOTH, "ERROR")
    assert "line" not in quiet
    bad = _run(LOG_BOTH, "chatty")
    assert "'chatty' is not a logging level" in bad and "a warning line" in bad


def test_users_logging_config_is_respected():
    code = ("import logging\nlogging.basicConfig(format='MINE %(name)s %(message)s')\n" + LOG_BOTH)
    err = _run(code, "INFO")
    # Once each, through the user's handler (graphflow's own stays quiet when the root logger has one).
    assert err.count("an info line") == 1 and "MINE graphflow.test an info line" in err
    assert err.count("a warning line") == 1


def test_task_output_is_captured_per_thread():
    """Only the thread running a task is recorded; everything still reaches the real stream."""
    real = io.StringIO()
    out = worker_logs.TaskOutput(real, "INFO")
    before = len(worker_logs.recent())

    def task():
        worker_logs.running("inc-123")
        out.write("from the task\nhalf ")
        out.write("a line\n")
        out.write("unfinished")
        worker_logs.running("inc-456")
        out.write("next task\n")

    t = threading.Thread(target=task)
    t.start()
    t.join()
    out.write("from another thread\n")
    records = worker_logs.recent()[before:]
    assert [m for _, _, m in records] == ["[inc-123] from the task", "[inc-123] half a line",
                                          "[inc-123] unfinished", "[inc-456] next task"]
    assert all(level == "INFO" for _, level, _ in records)
    assert real.getvalue() == "from the task\nhalf a line\nunfinishednext task\nfrom another thread\n"


@pytest.fixture(scope="module")
def client():
    with gf.Client(n_workers=2, threads_per_worker=1) as c:
        yield c


def _messages(logs: dict) -> list:
    return [m for records in logs.values() for _, _, m in records]


def test_print_in_a_task_lands_in_the_worker_log(client):
    futures = client.map(noisy, range(4))
    assert client.gather(futures) == [0, 1, 2, 3]
    logs = client.get_worker_logs()
    assert set(logs) == set(client.cluster.workers)
    for record in next(iter(logs.values())):
        t, level, message = record
        assert isinstance(t, float) and abs(t - time.time()) < 120 and isinstance(level, str)
    messages = _messages(logs)
    for i, f in enumerate(futures):
        assert f"[{f.key}] hello from task {i}" in messages
        assert f"[{f.key}] complaint {i}" in messages
    levels = {m.split("] ")[1].split()[0]: lvl for records in logs.values() for _, lvl, m in records
              if m.startswith("[noisy")}
    assert levels == {"hello": "INFO", "complaint": "WARNING"}
    last = client.get_worker_logs(n=1)
    assert all(len(records) <= 1 for records in last.values())


def test_a_dead_worker_is_left_out_without_hanging():
    with gf.Client(n_workers=2, threads_per_worker=1) as c:
        c.gather(c.map(noisy, range(2)))
        info = c.scheduler_info()["workers"]
        victim, alive = sorted(info)
        os.kill(info[victim]["pid"], signal.SIGKILL)
        start = time.monotonic()
        logs = c.get_worker_logs(timeout=3)
        assert time.monotonic() - start < 8
        assert alive in logs and victim not in logs
