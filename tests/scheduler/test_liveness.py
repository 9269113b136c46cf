"""A busy scheduler is not a dead one: a graph of a million tasks goes into a 2-worker LocalCluster.

Taking the graph in stalls the scheduler's loop for tens of seconds (unpickling a million nodes, then
handing them to the state machine), and the client's own loop while it pickles them.  Nobody may be
declared dead meanwhile: not the scheduler by the client or the workers, not the workers by the scheduler.
"""

import pytest

import graphflow as gf
from graphflow.spec import Ref, Task

N_LEAVES = 1_000_000
FAN_IN = 100


def leaf(i):
    return i


def total(*parts):
    return sum(parts)


def sum_tree(n: int, fan_in: int) -> tuple:
    """``{key: Task}`` of a tree summing ``leaf(0) .. leaf(n - 1)``, ``fan_in`` children per node, and its root.

        leaf-0 ... leaf-99   leaf-100 ... leaf-199   ...
             \\   |   /              \\  |  /
              sum-1-0                sum-1-1      ...
                       \\     |     /
                          sum-2-0 ...  -> the root
    """
    specs = {}
    layer = []
    for i in range(n):
        key = f"leaf-{i}"
        specs[key] = Task(key, leaf, i)
        layer.append(key)
    level = 0
    while len(layer) > 1:
        level += 1
        up = []
        for j in range(0, len(layer), fan_in):
            key = f"sum-{level}-{j // fan_in}"
            specs[key] = Task(key, total, *[Ref(k) for k in layer[j:j + fan_in]])
            up.append(key)
        layer = up
    return specs, layer[0]


@pytest.mark.slow
def test_a_million_task_graph_on_two_workers_gets_its_answer():
    specs, root = sum_tree(N_LEAVES, FAN_IN)
    with gf.Client(n_workers=2, threads_per_worker=1, memory_limit="2GiB", dashboard_address=None) as client:
        workers = client.scheduler_info()["workers"]
        future = client.submit_graph(specs, [root])[root]
        del specs
        assert future.result(timeout=1200) == N_LEAVES * (N_LEAVES - 1) // 2
        assert client.scheduler_info()["workers"].keys() == workers.keys(), "a worker was declared dead"
