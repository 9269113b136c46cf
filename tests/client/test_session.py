"""A client whose scheduler dies, comes back, or is only busy: real scheduler processes, really killed.

The scheduler runs as ``graphflow scheduler`` (the command a user starts) on a fixed port, so a second one
can come back at the same address; a ``graphflow worker`` serves it.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import graphflow as gf
from graphflow.errors import CommClosedError
from graphflow.testing.wait import wait_for


def slow_inc(x, delay=0.0):
    time.sleep(delay)
    return x + 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, env):
    return subprocess.Popen([sys.executable, "-m", "graphflow", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(*procs):
    for p in procs:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(10)


@pytest.fixture
def env(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), GRAPHFLOW_TOKEN="a-test-token-of-some-length-0123456789")
    env.pop("GRAPHFLOW_CURVE_SECRET", None)
    return env


def start_cluster(env, port):
    """A scheduler on ``port`` and one worker; returns both processes once the worker has joined."""
    scheduler = start(["scheduler", "--port", str(port), "--no-dashboard"], env)
    worker = start(["worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1"], env)
    return scheduler, worker


def client_records(caplog):
    return [r for r in caplog.records if r.name == "graphflow.client" and r.levelno >= logging.WARNING]


def test_scheduler_killed_then_back_at_the_same_address_one_error_then_reconnected(env, caplog, monkeypatch):
    """Kill -9 the scheduler while a task waits: the waiting caller gets one CommClosedError, the log one line,
    calls made meanwhile fail at once, repr works; a scheduler started again at the same port is found by
    itself and new work runs there."""
    monkeypatch.setenv("GRAPHFLOW_TOKEN", env["GRAPHFLOW_TOKEN"])
    caplog.set_level(logging.INFO, logger="graphflow.client")
    port = free_port()
    scheduler, worker = start_cluster(env, port)
    client = None
    try:
        client = gf.Client(f"tcp://127.0.0.1:{port}", timeout=30, set_as_default=False)
        wait_for(lambda: client.scheduler_info()["workers"], timeout=30, what="the worker joining")
        assert client.submit(slow_inc, 1).result(timeout=30) == 2
        waiting = client.submit(slow_inc, 2, 60, pure=False)
        wait_for(lambda: any(w["processing"] for w in client.scheduler_info()["workers"].values()), timeout=30,
                 what="the slow task running")
        scheduler.kill()
        scheduler.wait(10)
        started = time.monotonic()
        with pytest.raises(CommClosedError, match="lost the scheduler") as info:
            waiting.result(timeout=30)
        assert time.monotonic() - started < 10
        assert waiting.key in str(info.value)
        assert client.status == "reconnecting"
        assert "status=reconnecting" in repr(client)
        with pytest.raises(CommClosedError, match="lost the scheduler"):
            client.submit(slow_inc, 3)
        with pytest.raises(CommClosedError):
            client.scheduler_info()
        wait_for(lambda: client.session.attempts >= 3, timeout=30, what="three reconnection attempts")
        lines = client_records(caplog)
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert str(port) in lines[0].getMessage()
        stop(worker)
        scheduler, worker = start_cluster(env, port)
        wait_for(lambda: client.status == "running", timeout=30, what="the client reconnecting")
        wait_for(lambda: client.scheduler_info()["workers"], timeout=30, what="the new worker joining")
        assert client.submit(slow_inc, 10).result(timeout=30) == 11
        assert client.submit(slow_inc, 1).result(timeout=30) == 2  # a key of the old session, computed anew
        assert "status=running" in repr(client) and "workers=1" in repr(client)
    finally:
        if client is not None:
            client.close()
        stop(scheduler, worker)


def test_scheduler_killed_with_nobody_coming_back_stays_quiet_and_closes(env, caplog, monkeypatch):
    monkeypatch.setenv("GRAPHFLOW_TOKEN", env["GRAPHFLOW_TOKEN"])
    caplog.set_level(logging.DEBUG)
    port = free_port()
    scheduler, worker = start_cluster(env, port)
    client = None
    try:
        client = gf.Client(f"tcp://127.0.0.1:{port}", timeout=30, set_as_default=False)
        wait_for(lambda: client.scheduler_info()["workers"], timeout=30, what="the worker joining")
        done = client.submit(slow_inc, 1)
        assert done.result(timeout=30) == 2
        os.kill(scheduler.pid, signal.SIGKILL)
        wait_for(lambda: client.status == "reconnecting", timeout=15, what="the client noticing")
        assert done.result() == 2  # a value it already had stays
        wait_for(lambda: client.session.attempts >= 3, timeout=30, what="three reconnection attempts")
        errors = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("graphflow")]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        client.close()
        assert client.status == "closed" and "status=closed" in repr(client)
        with pytest.raises(CommClosedError):
            client.submit(slow_inc, 5)
    finally:
        if client is not None:
            client.close()
        stop(scheduler, worker)
