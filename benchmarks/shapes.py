"""Engine-neutral graph shapes: the task functions and the tree/chain arithmetic.

Every engine builds the *same* graph from these pieces, so a ratio compares
engines, not workloads.  Nothing here imports graphflow or an anchor.

A tree reduction of ``n`` items with fan-in ``k`` combines consecutive groups
of ``k`` until one item is left.  ``reduce_tree`` does the grouping and asks a
``combine(level, index, chunk)`` callback to make each new node, so the same
loop builds `Delayed` calls, graphflow `Task` nodes or a dask dict graph:

    >>> reduce_tree(list(range(10)), 4, lambda level, j, chunk: sum(chunk))
    45
    >>> tree_task_count(10_000, 8)     # 10k leaves + 1,431 sums
    11431
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = [
    "inc",
    "add",
    "reduce_tree",
    "tree_task_count",
    "expected_tree_sum",
    "check",
    "leaf_key",
    "sum_key",
    "make_array",
    "consume",
    "expected_consume",
    "CONSUME_STRIDE",
    "gate",
    "transfer_floor",
]


def inc(x):
    """The trivial task: scheduling overhead dwarfs its cost, which is the point."""
    return x + 1


def add(*xs):
    """Sum the values of one group of a tree reduction."""
    return sum(xs)


def reduce_tree(items: Sequence, fan_in: int, combine: Callable):
    """Reduce ``items`` to one by combining groups of ``fan_in``; returns the root.

    ``combine(level, index, chunk)`` makes the node for group ``index`` of tree
    level ``level`` (1 is the level just above the leaves).
    """
    if fan_in < 2:
        raise ValueError(f"fan_in must be at least 2, not {fan_in}")
    if not items:
        raise ValueError("a tree reduction needs at least one item")
    items = list(items)
    level = 0
    while len(items) > 1:
        level += 1
        items = [
            combine(level, j // fan_in, items[j:j + fan_in])
            for j in range(0, len(items), fan_in)
        ]
    return items[0]


def tree_task_count(leaves: int, fan_in: int) -> int:
    """Nodes in a tree reduction: the leaves plus every combining node."""
    total = width = leaves
    while width > 1:
        width = -(-width // fan_in)  # ceil: a short last group still makes a node
        total += width
    return total


def expected_tree_sum(leaves: int) -> int:
    """The value of ``sum(inc(i) for i in range(leaves))``, to check each run's answer."""
    return leaves * (leaves + 1) // 2


def check(engine: str, got, expected) -> None:
    """Refuse a timing whose answer is wrong: a fast wrong engine is not fast."""
    if got != expected:
        raise AssertionError(f"{engine} computed {got!r}, expected {expected!r}")


def leaf_key(i: int, name: str = "inc") -> tuple:
    """Raw-graph key of leaf ``i``: tuple keys, as array-like dask graphs use."""
    return (name, i)


def sum_key(level: int, j: int, name: str = "sum") -> tuple:
    """Raw-graph key of group ``j`` on tree level ``level``."""
    return (name, level, j)


# ------------------------------------------------------------ tasks for clusters
# Module-level functions, so every engine ships them to its workers by reference.

CONSUME_STRIDE = 512  # float64s: 4096 bytes, one element per memory page


def make_array(n: int):
    """The producer of the transfer workloads: ``n`` float64s (8n bytes), every page written."""
    import numpy as np

    return np.arange(n, dtype=np.float64)


def consume(x) -> float:
    """The consumer: sums one element per 4 KiB page, so every page of the array is touched
    (an engine cannot win by not really delivering the data) while the arithmetic stays
    negligible beside moving 400 MB.
    """
    return float(x[::CONSUME_STRIDE].sum())


def expected_consume(n: int) -> float:
    """``consume(make_array(n))`` without making the array: 0 + s + 2s + ... below n."""
    m = -(-n // CONSUME_STRIDE)  # elements taken
    return float(CONSUME_STRIDE * (m * (m - 1) // 2))


def transfer_floor(n: int) -> float:
    """Seconds to make and consume the array in this process: the floor no cluster can beat."""
    import time

    t = time.perf_counter()
    consume(make_array(n))
    return time.perf_counter() - t


def gate(path: str, timeout: float = 300.0) -> int:
    """A root task that blocks until the file ``path`` exists (or ``timeout`` passes), then
    returns 0: whatever depends on it stays waiting in the scheduler until the driver opens it.
    """
    import os
    import time

    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.005)
    return 0
