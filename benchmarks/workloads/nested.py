"""Tasks that launch tasks: 10 parent tasks each submit 100 children from inside the task and wait for them.

``nested-1k`` (``nested_children``) on 2 workers x 1 thread, the ``dist``
cluster layout: ``parents`` tasks run at once on 2 threads, so each must give
its thread back while it waits or the children never run.

* graphflow: the parent calls ``gf.get_client()``, ``client.map(inc, ...)``
  and ``client.gather`` (the wait secedes: `graphflow.worker.secession`);
* dask.distributed: the parent does the same inside ``with worker_client()``
  (`benchmarks.anchors.distributed`);
* ray: the parent is a remote function calling ``inc.remote`` and ``ray.get``
  (`benchmarks.anchors.ray`), which gives its CPU back while it waits.

Timed: from submitting the parents to having all their sums.  Children are
new keys in every sample (``pure=False``), so nothing is reused.  Target:
at most 1/3 of dask.distributed's time and at most ray's.
"""

from __future__ import annotations

import graphflow as gf

from .. import sessions, shapes
from ..clock import Stopwatch
from ..model import Workload
from ..targets import all_of, ratio_at_most

__all__ = ["WORKLOADS", "CASES", "parent_sum", "expected"]

NAME = "graphflow"
CLUSTER = {"workers": 2, "threads_per_worker": 1}


def parent_sum(i: int, children: int) -> int:
    """A parent task: submit ``children`` incs from inside the task, wait for them all, return their sum."""
    client = gf.get_client()
    futures = client.map(shapes.inc, range(i * children, (i + 1) * children), pure=False)
    return sum(client.gather(futures))


def expected(parents: int, children: int) -> list:
    """What each parent returns: the sum of its children's ``inc(x)``."""
    return [sum(x + 1 for x in range(i * children, (i + 1) * children)) for i in range(parents)]


def _client(params):
    key = (NAME, params["workers"], params["threads_per_worker"])
    return sessions.shared(key, lambda: gf.Client(n_workers=params["workers"],
                                                  threads_per_worker=params["threads_per_worker"]),
                           lambda client: client.close())


def nested_children(params) -> dict:
    """``parents`` tasks, each submitting ``children`` tasks from inside and gathering them."""
    client = _client(params)
    parents, children = params["parents"], params["children"]
    before = client.scheduler_info()["tasks_executed"]
    watch = Stopwatch()
    futures = client.map(parent_sum, range(parents), children=children, pure=False)
    sums = client.gather(futures)
    watch.lap("compute")
    shapes.check(NAME, sums, expected(parents, children))
    phases = watch.phases()
    phases["counts"] = {"ran": client.scheduler_info()["tasks_executed"] - before}
    return phases


CASES = {"nested_children": nested_children}

WORKLOADS = [
    Workload(
        name="nested-1k",
        summary="10 parent tasks each submit 100 children from inside and gather them, 2 workers x 1 thread",
        kind="nested_children",
        params={**CLUSTER, "parents": 10, "children": 100},
        quick_params={**CLUSTER, "parents": 4, "children": 5},
        tasks=lambda params: params["parents"] * (params["children"] + 1),
        repeat=3,
        target=all_of(ratio_at_most(1 / 3, "distributed"), ratio_at_most(1.0, "ray")),
        anchors=("distributed", "ray"),
        session="cluster",
    ),
]
