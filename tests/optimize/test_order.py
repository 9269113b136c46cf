from graphflow.optimize import compute_priorities, order, peak_live
from graphflow.spec import Ref, Task, TaskGraph

from .graphs import chain, chains, chains_into_tree, diamond, inc, tree_reduction


def breadth_first_peak(graph, keys):
    """Peak live results if tasks ran level by level (what a naive scheduler does)."""
    topo_levels = {}
    for k in graph.toposort():
        deps = graph[k].dependencies
        topo_levels[k] = 1 + max((topo_levels[d] for d in deps), default=-1)
    idx = graph.index
    prio_by_level = sorted(range(len(idx)), key=lambda i: (topo_levels[idx.keys[i]], i))
    prio = [0] * len(idx)
    for p, i in enumerate(prio_by_level):
        prio[i] = p
    return peak_live(graph, keys, prio)


def assert_valid_order(graph, prio):
    assert sorted(prio) == list(range(len(graph)))
    idx = graph.index
    for i, deps in enumerate(idx.deps):
        assert all(prio[d] < prio[i] for d in deps)


def test_tree_reduction_is_completed_depth_first():
    r"""
    4096 leaves, fan-in 8, depth 4:

              root
           /   |    \
        s2,0 ...  s2,7
        / | \
     ...        s0,0 ... s0,511
               / | \
            leaf0 ... leaf7
    """
    g, root = tree_reduction(4096, 8)
    prio = compute_priorities(g, [root])
    assert_valid_order(g, prio)
    depth = 4
    assert peak_live(g, [root], prio) <= 8 * depth + 1
    # The first sum runs right after its eight leaves.
    assert prio[g.index.index[("sum", 0, 0)]] == 8
    assert breadth_first_peak(g, [root]) >= 4096


def test_tree_reduction_2_pow_14_with_fan_in_8():
    g, root = tree_reduction(2**14, 8)
    assert peak_live(g, [root], compute_priorities(g, [root])) <= 8 * 5 + 1


def test_many_independent_chains_run_one_at_a_time():
    r"""
    200 chains of 30 tasks, each tail a requested output:

      c0,29   c1,29   ...  c199,29
        |       |             |
       ...     ...           ...
        |       |             |
      c0,0    c1,0    ...  c199,0
    """
    nodes, tails = chains(200, 30)
    g = TaskGraph(nodes)
    prio = compute_priorities(g, tails)
    assert_valid_order(g, prio)
    # outputs are kept, so 200 are alive at the end; never more than one intermediate besides
    assert peak_live(g, tails, prio) <= 200 + 1
    # and each chain is completed before the next one starts
    idx = g.index
    first_chain = sorted(prio[idx.index[("chain", 0, j)]] for j in range(30))
    assert first_chain == list(range(30))


def test_many_chains_into_a_tree_reduction():
    g, root = chains_into_tree(512, 20, 8)
    prio = compute_priorities(g, [root])
    assert_valid_order(g, prio)
    assert peak_live(g, [root], prio) <= 8 * 3 + 2
    assert breadth_first_peak(g, [root]) >= 512


def test_shared_input_is_freed_by_running_its_last_reader_at_once():
    r"""
    x feeds a and b; a and b are separate outputs' inputs:

      oa   ob
      |    |
      a    b
       \  /
        x
    """
    g = TaskGraph([Task("x", inc, 0), Task("a", inc, Ref("x")), Task("b", inc, Ref("x")),
                   Task("oa", inc, Ref("a")), Task("ob", inc, Ref("b"))])
    prio = compute_priorities(g, ["oa", "ob"])
    assert_valid_order(g, prio)
    idx = g.index
    # b runs right after a (it frees x) rather than after oa
    assert prio[idx.index["b"]] < prio[idx.index["oa"]] or prio[idx.index["b"]] == prio[idx.index["a"]] + 1
    assert peak_live(g, ["oa", "ob"], prio) <= 3


def test_taller_input_is_computed_first():
    r"""
    s reads a leaf and a chain of 5: the chain goes first, so the leaf is not held meanwhile.

          s
         / \
      leaf  c4 <- c3 <- ... <- c0
    """
    nodes = [Task("leaf", inc, 0), Task("c0", inc, 0)] + [Task(f"c{i}", inc, Ref(f"c{i-1}")) for i in range(1, 5)]
    nodes.append(Task("s", lambda a, b: a + b, Ref("leaf"), Ref("c4")))
    g = TaskGraph(nodes)
    prio = compute_priorities(g, ["s"])
    idx = g.index
    assert prio[idx.index["c4"]] < prio[idx.index["leaf"]]


def test_order_is_deterministic_and_attached_to_graph():
    g, root = tree_reduction(300, 4)
    assert compute_priorities(g, [root]) == compute_priorities(g, [root])
    o = order(g, [root])
    assert o.priorities == compute_priorities(g, [root])
    assert list(o) == list(g)


def test_deep_chain_orders_without_recursion():
    g, tail = chain(200_000)
    prio = compute_priorities(g, [tail])
    assert prio[0] == 0 and prio[-1] == 199_999


def test_graph_without_keys_orders_all_sinks():
    g = diamond()
    assert_valid_order(g, compute_priorities(g))


def test_a_graph_without_edges_runs_the_requested_keys_in_the_order_asked_then_the_rest():
    graph = TaskGraph([Task(f"t{i}", inc, i) for i in range(5)])
    prio = compute_priorities(graph, ["t4", "t1", "t4"])
    assert [graph.index.keys[i] for i in sorted(range(5), key=prio.__getitem__)] == ["t4", "t1", "t0", "t2", "t3"]
