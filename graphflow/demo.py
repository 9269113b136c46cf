"""``graphflow demo`` (what ``make demo`` runs): a real graph, optimized and computed.

1. A word count over synthetic text shards, built with ``@delayed``: count
   each shard, merge the counts by a tree of fan-in 4, keep the top words.
   The answer is checked against a plain-Python count.
2. ``n_tasks`` tiny tasks summed by a tree of fan-in 8, run on the sync,
   threads and processes schedulers and on a LocalCluster of two worker
   processes; each answer is checked against the
   closed form, and the time per task is printed.
3. The word-count graph is drawn (SVG with graphviz, else DOT).
"""

from __future__ import annotations

import collections
import random
import time

from . import compute, delayed, optimize
from .errors import GraphvizNotFoundError

WORDS = ("graph task lazy optimize cull fuse order schedule worker thread process "
         "result memory key token chunk array frame actor spill").split()


@delayed(pure=True)
def make_shard(seed: int, n_words: int) -> str:
    """Synthetic text: ``n_words`` words drawn with a seeded generator."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


@delayed(pure=True)
def count_words(text: str) -> collections.Counter:
    """Word counts of one shard."""
    return collections.Counter(text.split())


@delayed(pure=True)
def merge_counts(counts) -> collections.Counter:
    """The sum of several word counts."""
    total = collections.Counter()
    for c in counts:
        total.update(c)
    return total


@delayed(pure=True)
def top(counts: collections.Counter, n: int) -> list:
    """The ``n`` most common words."""
    return counts.most_common(n)


def inc(x):
    """``x + 1``: the tiny task of the scheduling-overhead part."""
    return x + 1


def tree_sum(values, fan_in: int):
    """Sum delayed values by a tree: the shape most reductions take."""
    while len(values) > 1:
        values = [delayed(sum, pure=True)(values[i:i + fan_in]) for i in range(0, len(values), fan_in)]
    return values[0]


def word_count(n_shards: int = 16, n_words: int = 20_000):
    """The lazy top-5 words over ``n_shards`` shards, merged by a tree of fan-in 4."""
    counts = [count_words(make_shard(seed, n_words)) for seed in range(n_shards)]
    while len(counts) > 1:
        counts = [merge_counts(counts[i:i + 4]) for i in range(0, len(counts), 4)]
    return top(counts[0], 5)


def _cluster_step(total, want: int, n_nodes: int) -> None:
    """The same graph on a LocalCluster: a scheduler and two worker processes over zmq on loopback."""
    from .client.client import Client

    t0 = time.perf_counter()
    with Client(n_workers=2, threads_per_worker=1) as client:
        started = time.perf_counter() - t0
        before = client.scheduler_info()["tasks_executed"]
        t0 = time.perf_counter()
        value = total.compute()  # the open Client is the default scheduler
        elapsed = time.perf_counter() - t0
        ran = client.scheduler_info()["tasks_executed"] - before
        assert value == want, ("cluster", value, want)
        print(f"   {'cluster':>9}: {value} in {elapsed:.3f} s ({elapsed / n_nodes * 1e6:.1f} us/task; "
              f"{ran} tasks ran on 2 worker processes, cluster started in {started:.2f} s)")


def run_demo(n_tasks: int = 20_000, drawing: str = "demo-graph.svg") -> int:
    """Run the three parts above, checking every answer; returns the exit code."""
    print("graphflow demo\n")

    result = word_count()
    graph = result.__graphflow_graph__()
    (optimized,) = optimize(result)
    print(f"1. word count over 16 shards: {len(graph)} nodes built, "
          f"{len(optimized.__graphflow_graph__())} after cull/inline/fuse")
    t0 = time.perf_counter()
    got = result.compute()
    elapsed = time.perf_counter() - t0
    expected = collections.Counter()
    for seed in range(16):
        expected.update(make_shard(seed, 20_000).compute(scheduler="sync").split())
    assert got == expected.most_common(5), (got, expected.most_common(5))
    print(f"   top words: {got}  ({elapsed * 1000:.0f} ms, matches a plain count)\n")

    print(f"2. {n_tasks} tasks summed by a tree of fan-in 8:")
    t0 = time.perf_counter()
    total = tree_sum([delayed(inc)(i) for i in range(n_tasks)], 8)
    n_nodes = len(total.__graphflow_graph__())
    build = time.perf_counter() - t0
    print(f"   built {n_nodes} tasks in {build * 1000:.0f} ms")
    want = n_tasks * (n_tasks + 1) // 2
    for scheduler in ("sync", "threads", "processes"):
        t0 = time.perf_counter()
        (value,) = compute(total, scheduler=scheduler)
        elapsed = time.perf_counter() - t0
        assert value == want, (scheduler, value, want)
        print(f"   {scheduler:>9}: {value} in {elapsed:.3f} s ({elapsed / n_nodes * 1e6:.1f} us/task)")
    _cluster_step(total, want, n_nodes)

    print("\n3. drawing the word-count graph:")
    try:
        path = result.visualize(drawing)
    except GraphvizNotFoundError as exc:
        print(f"   {exc}")
        path = result.visualize(drawing.rsplit(".", 1)[0] + ".dot")
    print(f"   wrote {path}")
    print("\ndone: every answer was checked.")
    return 0
