"""Large values between two worker processes on one host (worker/server.py's fetch path,
comm/vmcopy.py and comm/recvbuffers.py), on a real LocalCluster with pinned tasks.

    make (worker a) ──40 MB──> keep / checksum (worker b)

b copies the value out of a's memory into a receiving buffer; once the value
is released the buffer is kept faulted in for the next transfer, and never
handed out while anything on b still refers to it.
"""

import glob
import hashlib
import os

import numpy as np
import pytest

import graphflow as gf
from graphflow.comm import vmcopy
from graphflow.testing.wait import wait_for

pytestmark = pytest.mark.skipif(not vmcopy.available(), reason="same-host copies are Linux-only")

N = 5_000_000  # 40 MB: above vmcopy.MIN_BYTES


def make(seed):
    return np.random.default_rng(seed).standard_normal(N)


def keep(x):
    return x  # b's store holds the received array itself


def digest(x):
    return hashlib.sha256(x.tobytes()).hexdigest()


def pool_stats():
    from graphflow.comm import recvbuffers

    pool = recvbuffers.default()
    return pool.reused, pool.free_bytes


def test_large_values_arrive_bit_identical_and_buffers_in_use_are_never_reused():
    with gf.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            gf.Client(cluster) as client:
        a, b = sorted(client.scheduler_info()["workers"])
        pids = set(client.run(os.getpid).values())
        first = client.submit(make, 1, workers=[a], pure=False)
        held = client.submit(keep, first, workers=[b], pure=False)
        assert client.submit(digest, held, workers=[b], pure=False).result(timeout=60) == digest(make(1))
        del first  # b still holds the received array as `held`'s result

        second = client.submit(make, 2, workers=[a], pure=False)
        assert client.submit(digest, second, workers=[b], pure=False).result(timeout=60) == digest(make(2))
        assert client.run(pool_stats, workers=[b])[b][0] == 0  # nothing free to reuse: `held` lives
        # The held value was not overwritten by the second transfer.
        assert client.submit(digest, held, workers=[b], pure=False).result(timeout=60) == digest(make(1))
        np.testing.assert_array_equal(held.result(timeout=60), make(1))

        del held, second
        wait_for(lambda: client.run(pool_stats, workers=[b])[b][1] >= N * 8, timeout=30,
                 what="b keeps the released receiving buffer")
        third = client.submit(make, 3, workers=[a], pure=False)
        assert client.submit(digest, third, workers=[b], pure=False).result(timeout=60) == digest(make(3))
        assert client.run(pool_stats, workers=[b])[b][0] >= 1  # the kept, faulted-in buffer was used
    left = [d for d in glob.glob("/dev/shm/graphflow-shared-*") if int(os.path.basename(d).split("-")[2]) in pids]
    assert left == []
