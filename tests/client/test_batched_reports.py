"""The scheduler's reports on finished keys reach a client as `KeyStatuses` batches, and each settles its future.

The fold and unfold are `graphflow.comm.batching` (tests/comm/test_batching.py); here: the client reading a
batch finishes every future it names, with the value sent along or fetched later, and an erred key in a
batch raises its own error from its own future.
"""

from __future__ import annotations

import re

import pytest

import graphflow as gf
from graphflow.comm import messages as wire
from graphflow.testing.cluster import InProcessCluster


def inc(x):
    return x + 1


def fails_on_sevens(x):
    if x % 7 == 0:
        raise ValueError(f"no sevens: {x}")
    return x


def test_a_batch_finishes_every_future_it_names_and_erred_keys_raise_their_own_error():
    """No worker: nothing runs, so only the batch fed to the client settles these futures."""
    with InProcessCluster(n_workers=0) as cluster:
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False, timeout=10) as client:
            futures = client.map(inc, range(6), pure=False)
            waiting = [f.key_state.wait for f in futures[:2]]  # readers already blocked have events to wake
            assert not any(wait(0) for wait in waiting)
            keys = [f.key for f in futures]
            batch = wire.KeyStatuses(keys, ["memory", "memory", "erred", "memory", "erred", "cancelled"],
                                     [28] * 6, ["int"] * 6, [["tcp://w"]] * 6, {0: 1, 1: 2, 3: 4},
                                     {2: (ValueError("two"), "tb two"), 4: (KeyError("four"), "tb four")})
            client._on_message(batch)
            assert all(f.done() for f in futures)
            assert [futures[i].result(timeout=0) for i in (0, 1, 3)] == [1, 2, 4]
            with pytest.raises(ValueError, match="two"):
                futures[2].result(timeout=0)
            with pytest.raises(KeyError, match="four"):
                futures[4].result(timeout=0)
            assert futures[5].cancelled()
            assert all(wait(0) for wait in waiting)


def test_a_batch_with_a_key_lost_then_back_leaves_it_finished():
    with InProcessCluster(n_workers=0) as cluster:
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False, timeout=10) as client:
            (fut,) = client.map(inc, [1], pure=False)
            batch = wire.KeyStatuses([fut.key] * 3, ["memory", "lost", "memory"], [28] * 3, ["int"] * 3,
                                     [["w1"], [], ["w2"]], {0: 2, 2: 2}, {})
            client._on_message(batch)
            assert fut.result(timeout=0) == 2 and fut.key_state.who_has == ["w2"]


def test_many_tasks_on_a_cluster_each_settle_with_their_value_or_their_own_error():
    n = 700
    with InProcessCluster(n_workers=2, nthreads=1, validate=False) as cluster:
        with gf.Client(cluster.address, token=cluster.token, set_as_default=False, timeout=10) as client:
            futures = client.map(fails_on_sevens, range(n), pure=False)
            gf.wait(futures, timeout=60)
            for i, f in enumerate(futures):
                if i % 7:
                    assert f.result() == i
                else:
                    assert f.status == "error"
                    with pytest.raises(ValueError, match=f"no sevens: {i}\n.*{re.escape(f.key)}"):
                        f.result()
            assert client.gather(futures, errors="skip") == [i for i in range(n) if i % 7]
