"""Graph shapes shared by the optimizer tests."""

from operator import add

from graphflow.spec import DataNode, Ref, Task, TaskGraph


def inc(x):
    return x + 1


def total(xs):
    return sum(xs)


def reduce_by_tree(nodes: list, layer: list, name: str, fan_in: int = 8):
    """Append a tree of ``total`` tasks over the keys in ``layer`` to ``nodes``; returns the root key."""
    level = 0
    while len(layer) > 1:
        nxt = []
        for j in range(0, len(layer), fan_in):
            key = (name, level, j // fan_in)
            nodes.append(Task.from_call(key, total, ([Ref(k) for k in layer[j:j + fan_in]],)))
            nxt.append(key)
        layer, level = nxt, level + 1
    return layer[0]


def tree_reduction(n_leaves: int, fan_in: int = 8):
    """Leaves summed by a tree: returns (graph, root key)."""
    nodes = [DataNode(("leaf", i), i) for i in range(n_leaves)]
    root = reduce_by_tree(nodes, [("leaf", i) for i in range(n_leaves)], "sum", fan_in)
    return TaskGraph(nodes), root


def chains(n_chains: int, length: int):
    """Independent chains ``x -> inc -> inc ...``: returns (graph, tail keys)."""
    nodes, tails = [], []
    for c in range(n_chains):
        nodes.append(Task(("chain", c, 0), inc, c))
        for j in range(1, length):
            nodes.append(Task(("chain", c, j), inc, Ref(("chain", c, j - 1))))
        tails.append(("chain", c, length - 1))
    return nodes, tails


def chains_into_tree(n_chains: int, length: int, fan_in: int = 8):
    """Chains whose tails are summed by a tree: returns (graph, root key)."""
    nodes, tails = chains(n_chains, length)
    root = reduce_by_tree(nodes, tails, "agg", fan_in)
    return TaskGraph(nodes), root


def chain(length: int):
    nodes = [DataNode("x0", 0)] + [Task(f"x{i}", inc, Ref(f"x{i - 1}")) for i in range(1, length)]
    return TaskGraph(nodes), f"x{length - 1}"


def diamond():
    return TaskGraph([DataNode("a", 1), Task("b", inc, Ref("a")), Task("c", inc, Ref("a")),
                      Task("d", add, Ref("b"), Ref("c"))])
