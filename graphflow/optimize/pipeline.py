"""The optimizer pipeline: named stages run in a fixed order.

    cull -> inline -> blockwise -> fuse -> order

Each stage is a pure function ``(graph, keys) -> graph`` from its own module,
and keeps every requested key.  `optimize_graph` runs them in order, skipping
any stage switched off in the config (``optimization.fuse=False``...), and can
stop after any stage, so a test or a curious user can look at the graph
between two rules:

    >>> from operator import add
    >>> from graphflow.spec import TaskGraph, DataNode, Task, Ref
    >>> g = TaskGraph([DataNode("a", 1), Task("b", add, Ref("a"), 1), Task("c", add, Ref("b"), 1),
    ...                Task("junk", add, Ref("a"), 0)])
    >>> sorted(optimize_graph(g, ["c"], until="cull"))
    ['a', 'b', 'c']
    >>> sorted(optimize_graph(g, ["c"]))          # a inlined, b fused into c
    ['c']
"""

from __future__ import annotations

from .. import config
from ..spec import TaskGraph
from ..spec.collections import collections_to_graph, flatten_keys
from .blockwise import fuse_blockwise
from .cull import cull
from .fuse import fuse_linear
from .inline import inline_constants
from .order import order

STAGES: tuple = (
    ("cull", cull),
    ("inline", inline_constants),
    ("blockwise", fuse_blockwise),
    ("fuse", fuse_linear),
    ("order", order),
)
STAGE_NAMES = tuple(name for name, _ in STAGES)


def optimize_graph(graph: TaskGraph, keys, *, until: str | None = None, stages=None) -> TaskGraph:
    """Run the optimizer stages on ``graph`` for output ``keys``.

    ``until``: stop after this stage.  ``stages``: the names to run (default:
    all that are switched on in the config).
    """
    if until is not None and until not in STAGE_NAMES:
        raise ValueError(f"unknown optimizer stage {until!r}; stages are {STAGE_NAMES}")
    if stages is not None:
        unknown = set(stages) - set(STAGE_NAMES)
        if unknown:
            raise ValueError(f"unknown optimizer stage(s) {sorted(unknown)}; stages are {STAGE_NAMES}")
    if not isinstance(graph, TaskGraph):
        graph = TaskGraph(graph)
    keys = list(keys)
    idle = _only_outputs(graph, keys)
    for name, rule in STAGES:
        wanted = name in stages if stages is not None else config.get(f"optimization.{name}")
        if wanted and not (idle and name != "order"):
            graph = rule(graph, keys)
        if name == until:
            break
    return graph


def _only_outputs(graph: TaskGraph, keys: list) -> bool:
    """Is every node of ``graph`` requested, and none an input of another?  Then no stage but ``order`` has
    anything to do (nothing to cull, inline or fuse): 100k delayed leaves through ``client.compute(list)``
    spent ~4 us a task in the stages that left them as they were."""
    nodes = graph.mapping
    if len(keys) != len(nodes) or any(node.deps for node in nodes.values()):
        return False
    return len(set(keys)) == len(nodes) and all(k in nodes for k in keys)


def optimize_collections(collections, optimize: bool = True, until: str | None = None) -> tuple:
    """``(graph, keys)``: the collections' merged graph (optimized unless told not to) and their unique keys.

    What every runner of collections does first (``gf.compute``, ``client.compute``, the Dask interop).
    """
    graph = collections_to_graph(collections)
    keys = list(dict.fromkeys(flatten_keys([c.__graphflow_keys__() for c in collections], [])))
    if optimize:
        graph = optimize_graph(graph, keys, until=until)
    return graph, keys
