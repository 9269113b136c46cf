"""Random DAGs: every optimizer stage and executor agrees with a plain evaluation."""

from hypothesis import given, settings, strategies as st

from graphflow.local import get_processes, get_sync, get_threads
from graphflow.optimize import compute_priorities, optimize_graph, peak_live
from graphflow.spec import DataNode, Ref, Task, TaskGraph


def combine(i, *inputs):
    return i + sum(inputs)


@st.composite
def dags(draw, max_nodes=40):
    """A DAG where node i reads a random subset of nodes before it; some nodes are data."""
    n = draw(st.integers(1, max_nodes))
    nodes, expected = [], {}
    for i in range(n):
        inputs = sorted(draw(st.sets(st.integers(0, i - 1), max_size=4))) if i else []
        key = ("n", i)
        if not inputs and draw(st.booleans()):
            nodes.append(DataNode(key, i))
            expected[key] = i
        else:
            nodes.append(Task(key, combine, i, *[Ref(("n", j)) for j in inputs]))
            expected[key] = i + sum(expected[("n", j)] for j in inputs)
    outputs = draw(st.lists(st.sampled_from(list(expected)), min_size=1, max_size=5, unique=True))
    return TaskGraph(nodes), outputs, expected


@settings(max_examples=60, deadline=None)
@given(dags())
def test_optimized_graphs_compute_the_same_values(case):
    graph, outputs, expected = case
    want = [expected[k] for k in outputs]
    for until in ("cull", "inline", "fuse", "order"):
        g = optimize_graph(graph, outputs, until=until)
        assert all(k in g for k in outputs)
        assert get_sync(g, outputs) == want
    assert get_threads(optimize_graph(graph, outputs), outputs, num_workers=3) == want
    assert get_threads(graph, outputs, num_workers=2) == want


@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=60))
def test_order_is_a_valid_schedule(case):
    graph, outputs, _ = case
    prio = compute_priorities(graph, outputs)
    assert sorted(prio) == list(range(len(graph)))
    for i, deps in enumerate(graph.index.deps):
        assert all(prio[d] < prio[i] for d in deps)
    # never worse than holding everything
    assert peak_live(graph, outputs, prio) <= len(graph)


@settings(max_examples=8, deadline=None)
@given(dags(max_nodes=25))
def test_processes_agree(case):
    graph, outputs, expected = case
    assert get_processes(optimize_graph(graph, outputs), outputs, num_workers=2) == [expected[k] for k in outputs]
