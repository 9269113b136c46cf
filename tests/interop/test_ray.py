"""graphflow graphs on a local Ray (``scheduler="ray"``): delayed, array, dataframe, actors, errors.

Ray takes seconds to start, so one module-scoped Ray serves every test here.
"""

import logging

import numpy as np
import pandas as pd
import pytest

import graphflow as gf
import graphflow.array as ga
import graphflow.dataframe as gd
from graphflow import delayed

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def inc(x):
    return x + 1


def fail(x):
    raise ValueError(f"bad value {x}")


def test_delayed_array_and_dataframe_graphs_on_ray():
    parts = [delayed(inc)(i) for i in range(300)]
    pairs = [delayed(sum)([parts[i], {"k": parts[i + 1]}["k"]]) for i in range(0, 300, 2)]  # nested refs too
    assert gf.compute(delayed(sum)(pairs), parts[5], scheduler="ray") == (45_150, 6)
    x = ga.random.random((300, 300), chunks=(100, 100), seed=3)
    for expr in ((x + x.T).mean(axis=0), x @ x, x.sum()):
        assert np.allclose(expr.compute(scheduler="ray"), expr.compute(scheduler="sync"))
    df = gd.from_dict({"k": [1, 2, 1, 3] * 50, "v": [float(i) for i in range(200)]}, npartitions=4)
    query = df[df.v > 10].groupby("k").agg({"v": "sum"})
    pd.testing.assert_frame_equal(query.compute(scheduler="ray").sort_index(),
                                  query.compute(scheduler="sync").sort_index())


def test_a_task_error_keeps_its_type_and_names_its_key():
    bad = delayed(fail, pure=True)(7)
    with pytest.raises(ValueError, match="bad value 7") as info:
        gf.compute(delayed(inc)(bad), scheduler="ray")
    assert any(repr(bad.key) in note for note in info.value.__notes__)
    assert "fail" in str(info.value.__cause__)  # Ray's remote traceback


@gf.actor
class Counter:
    def __init__(self, start=0):
        self.n = start
        self.seen = []

    def add(self, k):
        self.n += k
        self.seen.append(k)
        return self.n

    def explode(self):
        raise RuntimeError("counter broke")


def test_actor_calls_run_in_order_on_a_ray_actor():
    c = Counter(delayed(inc)(9))  # a lazy constructor argument
    calls = [c.add(k) for k in range(1, 41)]
    total = delayed(sum)(calls[::10])  # calls mixed with ordinary tasks
    results = gf.compute(calls, c.seen, total, scheduler="ray")
    running = list(np.cumsum(range(1, 41)) + 10)
    assert results[0] == running and results[1] == list(range(1, 41))
    assert results[2] == sum(running[::10])
    with pytest.raises(RuntimeError, match="counter broke"):
        gf.compute(Counter().explode(), scheduler="ray")
