"""The token and encryption with real processes: `graphflow scheduler` and `graphflow worker` as a user starts them.

- a weak token (short, or in a file others can read) on an address beyond loopback is warned about;
- a worker with the wrong token says it failed authentication and what to do (not "the scheduler is gone");
- many rejected messages make one log line per peer, not two per message;
- ``--encrypt``: the wire carries no plaintext, and a worker without it is refused by name.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import zmq

import graphflow as gf
from graphflow import config
from graphflow.comm.protocol import AUTH_FAILED, pack
from graphflow.testing.wait import wait_for
from graphflow.worker.server import EXIT_AUTH_FAILED

from .relay import Relay, host_port

MARKER = "plaintext-marker-c0ffee-in-a-task-argument"


def _identity(x):
    return x


class CLI:
    """A ``python -m graphflow ...`` process with its output in a file (read it with ``.output()``)."""

    def __init__(self, args, env, log_path):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "graphflow", *args], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, text=True)

    def output(self) -> str:
        return self.log_path.read_text()  # the child writes it; ours is only the handle it inherited

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def _env(home, token: str | None = None, **extra) -> dict:
    env = dict(os.environ, HOME=str(home), **extra)
    env.pop("GRAPHFLOW_TOKEN", None)
    env.pop("GRAPHFLOW_CURVE_SECRET", None)
    if token is not None:
        env["GRAPHFLOW_TOKEN"] = token
    return env


def start_scheduler(tmp_path, env, *flags, name="scheduler"):
    address_file = tmp_path / f"{name}.address"
    proc = CLI(["scheduler", "--port", "0", "--no-dashboard", "--address-file", str(address_file), *flags], env,
               tmp_path / f"{name}.log")
    try:
        wait_for(lambda: address_file.exists() or proc.proc.poll() is not None, timeout=60,
                 what="the scheduler writing its address")
        assert proc.proc.poll() is None, proc.output()
    except BaseException:
        proc.stop()
        raise
    return proc, address_file.read_text().strip()


# ------------------------------------------------------------------ weak tokens


def test_a_weak_token_beyond_loopback_is_warned_about_and_on_loopback_it_is_not(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("abc\n")
    token_file.chmod(0o644)
    env = _env(tmp_path)
    exposed, address = start_scheduler(tmp_path, env, "--host", "0.0.0.0", "--token-file", str(token_file),
                                       name="exposed")
    exposed.stop()
    out = exposed.output()
    assert address.startswith("tcp://0.0.0.0:")
    assert "the cluster token is 3 bytes long and this process listens on every interface" in out, out
    assert f"the cluster token file '{token_file}' has mode 0644" in out and f"chmod 600 {token_file}" in out
    local, _ = start_scheduler(tmp_path, env, "--token-file", str(token_file), name="local")
    local.stop()
    assert "cluster token" not in local.output()


def test_exposure_warnings_in_detail(tmp_path, monkeypatch):
    from graphflow.comm.security import exposure_warnings, token_file_in_use

    good = b"k" * 32
    assert exposure_warnings(b"x", "127.0.0.1") == exposure_warnings(b"x", "localhost") == []
    assert exposure_warnings(b"x", "::1") == []
    assert exposure_warnings(good, "0.0.0.0") == exposure_warnings(good, "10.1.2.3") == []
    for host in ("0.0.0.0", "::", "10.1.2.3", "node7.example.com"):  # comm.addresses.is_loopback decides
        (warning,) = exposure_warnings(b"short token", host)
        assert "11 bytes long" in warning and "at least 16" in warning
    path = tmp_path / "token"
    path.write_bytes(good)
    for mode, said in ((0o600, None), (0o640, "mode 0640"), (0o604, "mode 0604"), (0o666, "read or change")):
        path.chmod(mode)
        warnings = exposure_warnings(good, "0.0.0.0", path)
        assert (said is None and warnings == []) or (len(warnings) == 1 and said in warnings[0]), (mode, warnings)
    monkeypatch.setenv("GRAPHFLOW_TOKEN", "from the environment")
    assert token_file_in_use(path) is None
    monkeypatch.delenv("GRAPHFLOW_TOKEN")
    assert token_file_in_use(path) == path


# ------------------------------------------------------------------ a scheduler refusing peers


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    env = _env(home, token="the right token, long and random")
    proc, address = start_scheduler(home, env)
    yield proc, address, home
    proc.stop()


def test_many_rejected_messages_make_one_log_line_in_the_scheduler(scheduler):
    proc, address, _ = scheduler
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(address)
    try:
        frames = pack([{"op": "let me in"}], b"a wrong token")
        for _ in range(50):
            sock.send_multipart(frames)
        for i in range(50):
            assert sock.poll(30_000), f"no answer to bad message {i}"
            assert sock.recv_multipart() == [AUTH_FAILED]
    finally:
        sock.close()
    out = proc.output()
    lines = [line for line in out.splitlines() if "bad MAC" in line or "unauthenticated" in line]
    assert len(lines) == 1, out
    assert "WARNING" in lines[0] and "127.0.0.1" in lines[0]


def test_a_worker_with_the_wrong_token_says_authentication_failed(scheduler, tmp_path):
    _, address, _ = scheduler
    worker = CLI(["worker", address], _env(tmp_path, token="not the scheduler's token"), tmp_path / "worker.log")
    try:
        wait_for(lambda: worker.proc.poll() is not None, timeout=60, what="the refused worker exiting")
    finally:
        code = worker.stop()
    out = worker.output()
    assert code == EXIT_AUTH_FAILED, out
    assert "authentication failed" in out and "refused this worker" in out and "refused the workers" in out
    assert "token" in out and "GRAPHFLOW_TOKEN" in out and "--token-file" in out
    assert "is gone" not in out and "lost the connection" not in out


# ------------------------------------------------------------------ --encrypt


def test_an_encrypted_cli_cluster_shows_no_plaintext_and_refuses_an_unencrypted_worker(tmp_path):
    env = _env(tmp_path, token="the encrypted cluster's token, 32b")
    scheduler, address = start_scheduler(tmp_path, env, "--encrypt")
    worker = CLI(["worker", address, "--encrypt"], env, tmp_path / "worker.log")
    plain = None
    try:
        with Relay(host_port(address)) as relay, config.set({"comm.encrypt": True}):
            with gf.Client(relay.address, token=env["GRAPHFLOW_TOKEN"].encode(), timeout=30) as client:
                wait_for(lambda: client.scheduler_info()["workers"], timeout=60, what="the encrypted worker joining")
                assert client.submit(_identity, MARKER, pure=False).result(timeout=60) == MARKER
            sent = relay.sent("up") + relay.sent("down")
        assert len(sent) > 1000 and MARKER.encode() not in sent
        plain = CLI(["worker", address], env, tmp_path / "plain-worker.log")
        wait_for(lambda: plain.proc.poll() is not None, timeout=60, what="the unencrypted worker exiting")
        assert plain.proc.returncode == EXIT_AUTH_FAILED, plain.output()
        assert "encryption handshake" in plain.output() and "--encrypt" in plain.output()
    finally:
        for proc in (plain, worker, scheduler):
            if proc is not None:
                proc.stop()


def test_control_the_same_cluster_without_encrypt_shows_the_plaintext(tmp_path):
    env = _env(tmp_path, token="the plain cluster's token, 32 by")
    scheduler, address = start_scheduler(tmp_path, env)
    worker = CLI(["worker", address], env, tmp_path / "worker.log")
    try:
        with Relay(host_port(address)) as relay:
            with gf.Client(relay.address, token=env["GRAPHFLOW_TOKEN"].encode(), timeout=30) as client:
                wait_for(lambda: client.scheduler_info()["workers"], timeout=60, what="the worker joining")
                assert client.submit(_identity, MARKER, pure=False).result(timeout=60) == MARKER
            assert MARKER.encode() in relay.sent("up")
    finally:
        worker.stop()
        scheduler.stop()
