"""Finding a cycle in the part of a graph that was just submitted, in linear time.

A client checks the tasks it is asked to send (`graphflow.client.Client.submit_graph`)
and the scheduler the tasks it takes in (`graphflow.scheduler.handlers.update_graph`);
both look at the new part only: inputs outside it already exist, so they cannot
depend on the new tasks.

Graph intake is on the hot path, so the common case costs one set lookup per
edge: submissions usually list every task after its inputs, and such an
order is itself the proof that there is no cycle.  Only when some task reads
a new key listed after it (or itself) does Kahn's algorithm run, and then it
names one cycle::

    >>> find_cycle({"a": ["c"], "b": ["a"], "c": ["b"], "d": ["c"]})
    ['a', 'b', 'c', 'a']
    >>> find_cycle({"x": [], "y": ["x", "an-older-key"]}) is None
    True

The cycle is shown in execution direction (``a -> b`` means ``b`` reads
``a``), starting at its item listed first.
"""

from __future__ import annotations

__all__ = ["find_cycle"]


def find_cycle(deps: dict) -> list | None:
    """A cycle in ``{item: the items it reads}`` (its first item repeated at its end), or None.

    Values that are not keys of ``deps`` are ignored.  Linear in items plus edges.
    """
    unseen = set(deps)
    discard = unseen.discard
    for item, inputs in deps.items():
        for dep in inputs:
            if dep in unseen:  # a new input listed later, or the item itself: look closer
                return _kahn_cycle(deps)
        discard(item)
    return None


def _kahn_cycle(deps: dict) -> list | None:
    waiting = {}
    dependents: dict = {}
    for item, inputs in deps.items():
        n = 0
        for dep in inputs:
            if dep in deps:
                n += 1
                dependents.setdefault(dep, []).append(item)
        waiting[item] = n
    ready = [item for item, n in waiting.items() if n == 0]
    while ready:
        item = ready.pop()
        for reader in dependents.get(item, ()):
            n = waiting[reader] - 1
            waiting[reader] = n
            if n == 0:
                ready.append(reader)
    stuck = next((item for item, n in waiting.items() if n > 0), None)
    if stuck is None:
        return None
    # Every stuck item reads at least one other stuck item: walk those reads until one repeats.
    seen: dict = {}
    path = []
    item = stuck
    while item not in seen:
        seen[item] = len(path)
        path.append(item)
        item = next(dep for dep in deps[item] if dep in deps and waiting[dep] > 0)
    cycle = path[seen[item]:]
    cycle.reverse()
    position = {item: i for i, item in enumerate(deps)}
    first = min(range(len(cycle)), key=lambda i: position[cycle[i]])  # start where the submission does
    cycle = cycle[first:] + cycle[:first]
    cycle.append(cycle[0])
    return cycle
