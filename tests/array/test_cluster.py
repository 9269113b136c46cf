"""The same array code on a real two-worker cluster."""

import numpy as np
import pytest

import graphflow as gf
import graphflow.array as ga


@pytest.fixture(scope="module")
def client():
    c = gf.Client(n_workers=2, threads_per_worker=1)
    yield c
    c.close()


def test_array_operations_on_cluster(client):
    x = ga.random.random((300, 300), chunks=(100, 100), seed=0)
    xn = x.compute(scheduler="sync")
    np.testing.assert_allclose((x + x.T).mean(axis=0).compute(), (xn + xn.T).mean(axis=0))
    np.testing.assert_allclose((x @ x.T)[::10, :5].compute(), (xn @ xn.T)[::10, :5])
    assert np.isclose(np.sin(x).sum().compute(), np.sin(xn).sum())
