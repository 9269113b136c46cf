"""Ray Core programs (`tests.ray.programs`) run unchanged on graphflow and on Ray, with the same answers.

One session of each per module (Ray takes ~10 s to start): both offer 2 CPUs and one ``accel``.
Each test also checks the answer itself, so the two cannot agree on a wrong one.
"""

import logging

import pytest

import graphflow.ray as gf_ray

from .programs import PROGRAMS

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def real_ray():
    ray.init(num_cpus=2, resources={"accel": 1}, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def ours():
    gf_ray.init(num_cpus=2, resources={"accel": 1})
    yield gf_ray
    gf_ray.shutdown()


EXPECTED = {
    "parallel_map": sum(i * i for i in range(200)),
    "parameter_server": None,  # computed below: a closed form of 10 damped steps
    "async_parameter_server": (sum(w * 10 + s for w in range(2) for s in range(5)), 10),
    "actor_pipeline": ([((i * 2 + 1) * 3 + 1) * 5 + 1 for i in range(30)], [30, 30, 30]),
    "nested_tasks": ([p + sum(i * i for i in range(3)) for p in range(4)], 5),
    "tree_reduce": (sum(range(64)), sum(range(10))),
    "wait_reduce": (sum(range(24)), 2, 0),
    "resource_limits": (sorted(list(range(6)) * 2), {"whole": 1, "accel": 1}),
}
SMALL = {"nested_tasks": dict(parents=4, children=3, fib_n=5)}  # Ray starts a process per blocked task: keep it small


def _parameter_server_answer(n_workers=2, steps=10, dim=8):
    params = [0.0] * dim
    for _ in range(steps):
        grads = [[params[j] - (j + w) for j in range(dim)] for w in range(n_workers)]
        params = [params[j] - 0.25 * sum(g[j] for g in grads) for j in range(dim)]
    return [round(x, 6) for x in params]


EXPECTED["parameter_server"] = _parameter_server_answer()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_gives_rays_answer(name, ours, real_ray):
    program, kwargs = PROGRAMS[name], SMALL.get(name, {})
    got = program(ours, **kwargs)
    assert got == EXPECTED[name]
    assert program(real_ray, **kwargs) == got
