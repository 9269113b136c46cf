"""Static ordering: a priority for every task, chosen to keep few results alive.

Executors run ready tasks lowest priority first (the sync executor runs them in
exactly this order), so the order decides how many intermediate results are
held at once.  The model is a post-order depth-first walk from the outputs,
plus one greedy rule:

1. Walk from each output (in the order requested) down its dependencies,
   taller subtrees first (Sethi-Ullman: finishing the deeper branch first
   needs fewer live results while the shallow one is computed), and give a
   task its priority once all its dependencies have one.  A reduction is
   therefore completed depth first: a tree of fan-in 8 over 4096 leaves holds
   about ``8 * depth`` results, not 4096.
2. After a task is placed, any task that is now ready *and whose running
   would free a result* (it is the last reader of one of its inputs) is placed
   right away.  This never raises the live count (it adds one result and frees
   at least one) and stops shared inputs from lingering until the walk happens
   to reach their last reader.

Worked example: ``s = sum(a1, a2)`` where ``a1 = f(x)``, ``a2 = g(x)``::

      x
     / \\
    a1  a2
     \\ /
      s

The walk from ``s`` reaches ``x`` through ``a1`` and places ``x`` (0), ``a1`` (1);
rule 2 then places ``a2`` (2) at once because it is ``x``'s last reader, then
``s`` (3).  At most two results are alive at any time.

Everything runs on the graph's integer index (`GraphIndex`): a million-task
graph is ordered without a dict lookup per edge.  `peak_live` replays an order
and counts live results; tests use it to check the promises above.
"""

from __future__ import annotations

from ..utils.gcpause import no_gc
from ..spec import TaskGraph


def order(graph: TaskGraph, keys=None) -> TaskGraph:
    """``graph`` carrying a priority per node (see `compute_priorities`)."""
    return graph.with_order(compute_priorities(graph, keys))


def compute_priorities(graph: TaskGraph, keys=None) -> list:
    """A list with one priority per node index: 0 runs first."""
    idx = graph.index  # rejects missing keys
    if not any(idx.deps):  # no task reads another (100k delayed leaves through compute(list))
        return _unconnected(idx, keys)
    topo = graph.toposort_indices()  # also rejects cycles
    with no_gc():
        return _priorities(graph, topo, keys)


def _priorities(graph: TaskGraph, topo: list, keys) -> list:
    idx = graph.index
    deps, dependents = idx.deps, idx.dependents
    n = len(deps)

    is_output = bytearray(n)
    terminals = []
    for k in keys or ():
        i = idx.index[k]
        if not is_output[i]:
            is_output[i] = 1
            terminals.append(i)
    terminals.extend(i for i in range(n) if not dependents[i] and not is_output[i])

    height = _heights(topo, deps)
    remaining = [len(d) for d in dependents]  # readers not yet placed
    pending = [len(d) for d in deps]  # inputs not yet placed
    prio = [-1] * n
    cursor = [0] * n
    tallest_first: dict = {}  # node -> its inputs, tallest first (only where that differs)
    counter = 0

    for t in terminals:
        if prio[t] >= 0:
            continue
        stack = [t]
        while stack:
            i = stack[-1]
            if prio[i] >= 0:
                stack.pop()
                continue
            ds = deps[i]
            if len(ds) > 1:
                ds = tallest_first.get(i)
                if ds is None:
                    ds = tallest_first[i] = _tallest_first(deps[i], height)
            c = cursor[i]
            nd = len(ds)
            while c < nd and prio[ds[c]] >= 0:
                c += 1
            if c < nd:
                cursor[i] = c + 1
                stack.append(ds[c])
                continue
            stack.pop()
            tallest_first.pop(i, None)
            counter = _place(i, counter, prio, deps, dependents, remaining, pending, is_output)
    return prio


def _unconnected(idx, keys) -> list:
    """What the walk gives a graph without edges, without walking: the requested keys in the order asked,
    then the other nodes in index order."""
    prio = [-1] * len(idx)
    counter = 0
    index = idx.index
    for k in keys or ():
        i = index[k]
        if prio[i] < 0:
            prio[i] = counter
            counter += 1
    for i, p in enumerate(prio):
        if p < 0:
            prio[i] = counter
            counter += 1
    return prio


def _heights(topo, deps) -> list:
    height = [0] * len(deps)
    for i in topo:
        d = deps[i]
        if d:
            if len(d) == 1:
                height[i] = height[d[0]] + 1
            else:
                height[i] = max([height[j] for j in d]) + 1
    return height


def _tallest_first(ds, height):
    first = height[ds[0]]
    for j in ds:
        if height[j] != first:
            return sorted(ds, key=lambda j: -height[j])  # stable: ties keep argument order
    return ds


def _place(i, counter, prio, deps, dependents, remaining, pending, is_output) -> int:
    """Give ``i`` the next priority, then greedily place ready tasks that free a result."""
    work = [i]
    while work:
        j = work.pop()
        if prio[j] >= 0:
            continue
        prio[j] = counter
        counter += 1
        for d in dependents[j]:
            p = pending[d] - 1
            pending[d] = p
            if p == 0:
                for q in deps[d]:
                    if remaining[q] == 1 and not is_output[q]:
                        work.append(d)  # d is q's last reader: running it frees q
                        break
        for p in deps[j]:
            r = remaining[p] - 1
            remaining[p] = r
            if r == 1 and not is_output[p]:
                for d in dependents[p]:
                    if prio[d] < 0:
                        if pending[d] == 0:
                            work.append(d)  # p's last reader is ready: run it, free p
                        break
    return counter


def peak_live(graph: TaskGraph, keys, priorities=None) -> int:
    """Replay ``graph`` in priority order and return the most results alive at once.

    Outputs stay alive to the end; an intermediate dies when its last reader ran.
    """
    idx = graph.index
    deps, dependents = idx.deps, idx.dependents
    prio = priorities if priorities is not None else graph.priorities
    if prio is None:
        prio = compute_priorities(graph, keys)
    outputs = {idx.index[k] for k in keys}
    remaining = [len(d) for d in dependents]
    live = peak = 0
    for i in sorted(range(len(deps)), key=prio.__getitem__):
        for p in deps[i]:
            if prio[p] > prio[i]:
                raise ValueError(f"the order runs {idx.keys[i]!r} before its input {idx.keys[p]!r}")
        live += 1
        if live > peak:
            peak = live
        for p in deps[i]:
            remaining[p] -= 1
            if remaining[p] == 0 and p not in outputs:
                live -= 1
        if not dependents[i] and i not in outputs:
            live -= 1
    return peak
