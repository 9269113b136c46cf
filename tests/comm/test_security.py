"""The cluster token: a peer without it is refused, and nothing it sent is ever unpickled."""

import os
import pickle
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
import zmq

import graphflow as gf
from graphflow.comm import AUTH_FAILED, pack
from graphflow.errors import AuthenticationError, ConfigError
from graphflow.comm.security import default_token_path, load_token, new_token
from graphflow.testing.wait import wait_for


class _Tripwire:
    """Unpickling this runs ``open(path, "w")``: the file exists iff someone unpickled it."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def cluster():
    with gf.LocalCluster(n_workers=1, threads_per_worker=1) as c:
        yield c


def test_a_client_with_the_wrong_token_is_refused(cluster):
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="token"):
        gf.Client(cluster.scheduler_address, token=b"not the token", timeout=10)
    assert time.monotonic() - started < 5  # refused at once, not after a timeout
    with gf.Client(cluster) as client:  # the right token still works
        assert client.submit(abs, -3).result(timeout=10) == 3


@pytest.mark.parametrize("token", [b"wrong token", None])
def test_nothing_an_unauthenticated_peer_sends_is_deserialized(cluster, tmp_path, token):
    """A raw zmq peer sends a message whose unpickling would create a file; the scheduler and the worker refuse it."""
    targets = [cluster.scheduler_address, *cluster.workers]
    for i, address in enumerate(targets):
        tripwire = tmp_path / f"unpickled-{i}"
        # pickle.dumps of the tripwire works locally without touching the file
        frames = pack([_Tripwire(tripwire)], token)
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(address)
        try:
            sock.send_multipart(frames)
            assert sock.poll(10_000), f"{address} did not answer an unauthenticated message"
            assert sock.recv_multipart() == [AUTH_FAILED]
        finally:
            sock.close()
        assert not tripwire.exists(), f"{address} unpickled a message from a peer without the token"
    # and the cluster keeps working
    with gf.Client(cluster) as client:
        assert client.submit(abs, -4).result(timeout=10) == 4


def test_the_tripwire_really_trips_when_unpickled(tmp_path):
    path = tmp_path / "tripped"
    pickle.loads(pickle.dumps(_Tripwire(path))).close()
    assert path.exists()


def test_token_lookup_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GRAPHFLOW_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="GRAPHFLOW_TOKEN"):
        load_token()
    created = load_token(create=True)
    path = default_token_path()
    assert path == tmp_path / ".graphflow" / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token() == created
    other = tmp_path / "other-token"
    other.write_bytes(b"from-a-file\n")
    assert load_token(other) == b"from-a-file"
    monkeypatch.setenv("GRAPHFLOW_TOKEN", "from-env")
    assert load_token(other) == b"from-env"
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.delenv("GRAPHFLOW_TOKEN")
    with pytest.raises(ConfigError, match="empty"):
        load_token(empty)
    assert len(new_token()) >= 32 and new_token() != new_token()


def test_each_local_cluster_has_its_own_token(cluster):
    with gf.LocalCluster(n_workers=0) as other:
        assert other.token != cluster.token
        with pytest.raises(AuthenticationError):
            gf.Client(other.scheduler_address, token=cluster.token, timeout=10)


def test_the_scheduler_listens_on_loopback_by_default(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))
    env.pop("GRAPHFLOW_TOKEN", None)
    address_file = tmp_path / "address"
    proc = subprocess.Popen([sys.executable, "-m", "graphflow", "scheduler", "--port", "0",
                             "--address-file", str(address_file)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(address_file.exists, timeout=30, what="the scheduler writing its address")
        assert address_file.read_text().startswith("tcp://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(10)
    assert cluster_address_is_loopback(gf.LocalCluster)


def cluster_address_is_loopback(cls):
    with cls(n_workers=1) as c:
        return c.scheduler_address.startswith("tcp://127.0.0.1:") and all(
            w.startswith("tcp://127.0.0.1:") for w in c.workers)


def test_an_encrypted_cluster_works_and_refuses_plaintext_peers():
    with gf.Client(n_workers=1, threads_per_worker=1, encrypt=True) as client:
        assert client.cluster.curve_secret is not None
        data = np.arange(3_000_000, dtype="float64")  # large enough to travel as out-of-band frames
        fut = client.scatter(data)
        assert client.submit(np.sum, fut).result(timeout=20) == data.sum()
        assert fut.result(timeout=20)[-1] == data[-1]
        # The right token but no encryption: the handshake fails, by name, at once; nothing gets through.
        started = time.monotonic()
        with pytest.raises(AuthenticationError, match="refused"):
            gf.Client(client.scheduler_address, token=client.token, timeout=20, curve_secret=False)
        assert time.monotonic() - started < 10
