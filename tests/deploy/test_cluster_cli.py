"""`graphflow scheduler` and `graphflow worker` started from the command line, as a user would."""

import os
import signal
import subprocess
import sys
import time

import pytest

import graphflow as gf
from graphflow import delayed
from graphflow.testing.wait import wait_for


def slow_inc(x, delay=0.05):
    time.sleep(delay)
    return x + 1


def add(*xs):
    return sum(xs)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh HOME, so the scheduler creates ~/.graphflow/token there and everyone finds it."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GRAPHFLOW_TOKEN", raising=False)
    return tmp_path


def start(args, env=None):
    return subprocess.Popen([sys.executable, "-m", "graphflow", *args], env=env or dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(*procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_cli_scheduler_and_two_workers_survive_a_killed_worker(home):
    address_file = home / "address"
    scheduler = start(["scheduler", "--port", "0", "--address-file", str(address_file), "--heartbeat-timeout", "3"])
    workers = None
    try:
        wait_for(lambda: address_file.exists() or scheduler.poll() is not None, timeout=30,
                 what="the scheduler writing its address")
        assert scheduler.poll() is None, scheduler.stdout.read()
        address = address_file.read_text().strip()
        assert address.startswith("tcp://127.0.0.1:")
        token_file = home / ".graphflow" / "token"
        assert token_file.exists() and (token_file.stat().st_mode & 0o777) == 0o600
        spill_dir = home / "spill"
        workers = start(["worker", address, "--nworkers", "2", "--nthreads", "1", "--memory-limit", "1GiB",
                         "--local-directory", str(spill_dir), "--memory-target", "0.01", "--memory-pause", "off"])
        with gf.Client(address, timeout=30) as client:
            info = wait_for(lambda: w if len(w := client.scheduler_info()["workers"]) == 2 else None, timeout=30,
                            what="both workers joining")
            assert all(w["memory_limit"] == 2**30 and w["nthreads"] == 1 for w in info.values())
            chains = []
            for start_value in (0, 1000):
                x = delayed(start_value)
                for _ in range(20):
                    x = delayed(slow_inc)(x, 0.05)
                chains.append(x)
            fut = client.compute(delayed(add)(*chains))

            def busy():  # killed while a chain (20 links, 1 s) is on it
                return next((a for a, w in client.scheduler_info()["workers"].items() if w["processing"]), None)

            victim = wait_for(busy, timeout=30, what="a worker running a chain")
            os.kill(info[victim]["pid"], signal.SIGKILL)
            assert fut.result(timeout=60) == 20 + 1020
            # the memory flags reached the workers: a 20 MB result is past a 1% target, so it is on disk
            big = client.submit(bytes, 20_000_000)
            assert len(big.result(timeout=30)) == 20_000_000
            assert list(spill_dir.glob("graphflow-spill-*/*.block"))
            # The worker's supervisor started a replacement.
            seen = []

            def replaced():
                seen[:] = [{a: (w["pid"], w["name"]) for a, w in client.scheduler_info()["workers"].items()}]
                return len(seen[0]) == 2 and victim not in seen[0]

            wait_for(replaced, timeout=30,
                     what=lambda: f"a replacement for the killed worker {victim} (pid {info[victim]['pid']}): "
                                  f"the scheduler lists {seen}")
    finally:
        stop(*(p for p in (workers, scheduler) if p is not None))


def test_cli_worker_without_a_token_says_where_to_put_one(home):
    proc = subprocess.run([sys.executable, "-m", "graphflow", "worker", "tcp://127.0.0.1:1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "GRAPHFLOW_TOKEN" in proc.stderr and "token" in proc.stderr


def test_cli_workers_exit_when_the_scheduler_goes(home):
    address_file = home / "address"
    scheduler = start(["scheduler", "--port", "0", "--address-file", str(address_file)])
    workers = None
    try:
        wait_for(address_file.exists, timeout=30, what="the scheduler writing its address")
        address = address_file.read_text().strip()
        workers = start(["worker", address, "--nworkers", "1"])
        with gf.Client(address, timeout=30) as client:
            wait_for(lambda: client.scheduler_info()["workers"], timeout=30, what="the worker joining")
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(15)
        assert workers.wait(30) == 3
        assert "scheduler" in workers.stdout.read()
    finally:
        stop(*(p for p in (workers, scheduler) if p is not None))
