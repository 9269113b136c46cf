"""The worker's record of one key: `WorkerTask`.

`graphflow.worker.state.WorkerState` keeps one `WorkerTask` per key it runs,
fetches or holds, in ``WorkerState.tasks``; its module docstring describes
the states and the table of transitions between them.  This module holds only
the record, so the modules that add events to the worker
(`graphflow.worker.replicas`) can create tasks without importing the state
machine that lists their handlers.

A task records its links both ways, as ordered sets (dicts of task -> None):
``dependencies`` and ``dependents`` (local tasks only), and ``waiting_for``,
the dependencies not in memory yet.  Worked example, ``c = add(a, b)`` with
``a`` here and ``b`` still on its way::

    >>> a, b, c = WorkerTask("a", "memory"), WorkerTask("b", "flight"), WorkerTask("c", "waiting")
    >>> c.dependencies = {a: None, b: None}
    >>> c.waiting_for = {b: None}
    >>> a.dependents[c] = b.dependents[c] = None
    >>> c, list(c.waiting_for)
    (<WorkerTask 'c' waiting>, [<WorkerTask 'b' flight>])
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["WorkerTask"]


@dataclass(slots=True, eq=False)
class WorkerTask:
    """One key as this worker sees it (hashed by identity; see `graphflow.worker.state` for its states)."""

    key: object
    state: str = "released"
    run: object = None  # the comm.messages.TaskSpec, for a task the scheduler sent here to run
    priority: tuple = ()
    assigned: bool = False
    # Ordered sets (dicts of task -> None): identity-hashed sets would iterate in memory-address
    # order, and the order of cascading transitions (so of commands and log) must be reproducible.
    dependencies: dict = field(default_factory=dict)
    dependents: dict = field(default_factory=dict)
    waiting_for: dict = field(default_factory=dict)  # dependencies not in memory yet
    who_has: list = field(default_factory=list)  # peers to fetch from (never this worker)
    nbytes: int = 0  # expected size while fetched, actual once in memory
    type_name: str = ""
    coming_from: str | None = None
    previous: str | None = None  # while cancelled: "executing" or "flight"

    def __repr__(self):
        return f"<WorkerTask {self.key!r} {self.state}>"
