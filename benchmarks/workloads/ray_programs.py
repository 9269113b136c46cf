"""The Ray Core programs of ``tests/ray/programs.py`` timed on ``graphflow.ray`` and on Ray itself.

One workload per program (``ray-<program>``, group ``ray-programs``), each
run unchanged on both: the program is a function of the ``ray`` module it is
given (`tests.ray.programs`).  Each engine keeps one session for the whole
group, started on the untimed warm-up: ``ray.init(num_cpus=2,
resources={"accel": 1})`` -- for graphflow one worker process with 2 task
threads offering ``CPU=2, accel=1`` (`graphflow.ray.session`), for Ray its
usual node.  Timed: one run of the program, from its first ``.remote()`` to
its answer; the table's ``answer_crc`` count (a checksum of the answer) is the
same for both engines when they agree (``tests/ray`` checks the answers).  Target: each program at most Ray's time.
"""

from __future__ import annotations

import logging
import zlib

from .. import sessions
from ..clock import Stopwatch
from ..model import Workload
from ..targets import ratio_at_most

__all__ = ["WORKLOADS", "SIZES"]

SESSION = "ray-programs"
INIT = {"num_cpus": 2, "resources": {"accel": 1}}

# Sizes for the benchmark (the tests run the programs' defaults, or smaller).
SIZES = {
    "parallel_map": {"n": 1000},
    "parameter_server": {"steps": 20},
    "async_parameter_server": {"n_workers": 2, "steps": 10},
    "actor_pipeline": {"items": 100},
    "nested_tasks": {"parents": 4, "children": 10, "fib_n": 6},
    "tree_reduce": {"leaves": 256},
    "wait_reduce": {"n": 64},
    "resource_limits": {"n": 6},
}
QUICK = {
    "parallel_map": {"n": 50},
    "parameter_server": {"steps": 3},
    "async_parameter_server": {"n_workers": 2, "steps": 2},
    "actor_pipeline": {"items": 10},
    "nested_tasks": {"parents": 3, "children": 2, "fib_n": 3},
    "tree_reduce": {"leaves": 16},
    "wait_reduce": {"n": 8},
    "resource_limits": {"n": 2},
}


def _program(name: str):
    from tests.ray.programs import PROGRAMS  # the programs live with their tests

    return PROGRAMS[name]


def _graphflow_ray():
    import graphflow.ray as ray

    def start():
        ray.init(**INIT)
        return ray

    return sessions.shared(("graphflow.ray", SESSION), start, lambda r: r.shutdown())


def _real_ray():
    import ray

    def start():
        ray.init(**INIT, include_dashboard=False, logging_level=logging.WARNING)
        return ray

    return sessions.shared(("ray", SESSION), start, lambda r: r.shutdown())


def _run(module, params) -> dict:
    params = dict(params)
    program = _program(params.pop("program"))
    watch = Stopwatch()
    answer = program(module, **params)
    watch.lap("run")
    phases = watch.phases()
    phases["counts"] = {"answer_crc": zlib.crc32(repr(answer).encode()) & 0xFFFF}  # equal for equal answers
    return phases


def _case_for(engine):
    if engine.name == "graphflow":
        return lambda params: _run(_graphflow_ray(), params)
    if engine.name == "ray":
        return lambda params: _run(_real_ray(), params)
    return None


WORKLOADS = [
    Workload(
        name=f"ray-{name.replace('_', '-')}",
        summary=f"the Ray Core program tests.ray.programs.{name} ({SIZES[name]}) on graphflow.ray vs Ray",
        kind="ray_program",
        params={"program": name, **SIZES[name]},
        quick_params={"program": name, **QUICK[name]},
        repeat=3,
        target=ratio_at_most(1.0, "ray"),
        anchors=("ray",),
        case_for=_case_for,
        session=SESSION,
    )
    for name in SIZES
]
