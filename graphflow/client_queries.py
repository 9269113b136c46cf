"""What a `Client` can ask the scheduler about the cluster: who holds what, workers, memory, stories.

Kept apart from `graphflow.client` (connection, submission, results) so the
questions a user asks of a running cluster grow here: a mixin that needs only
``self._rpc`` (a blocking call to the scheduler) and ``self.cluster``.
"""

from __future__ import annotations

__all__ = ["ClusterQueries"]


class ClusterQueries:
    """Methods of `graphflow.Client` that ask the scheduler about the cluster."""

    def who_has(self, futures=None) -> dict:
        """``{key: [worker addresses]}`` for ``futures`` (all of this client's when None)."""
        flat: list = []
        _collect_futures(futures if futures is not None else [], flat)
        keys = [f.key for f in flat] if futures is not None else list(self._states)
        return self._rpc("who_has", keys=keys)

    def scheduler_info(self) -> dict:
        """The scheduler's address and pid, its workers (threads, memory, tasks) and counters."""
        return self._rpc("scheduler_info")

    def memory(self) -> dict:
        """Each worker's memory, as of its last heartbeat (at most 0.5 s old): ``{address: {...}}``.

        ``managed``: bytes of results held in memory; ``spilled``: bytes of
        results on disk; ``shared``: bytes of results it maps from another
        worker's shared-memory block on the same host (that worker counts
        them in its ``managed``: the host holds them once); ``unmanaged``:
        the rest of the process's resident memory (interpreter, libraries,
        temporaries of running tasks); ``rss`` = managed + shared + unmanaged; ``limit``: its memory limit (None: no
        limit); ``paused``: it starts no tasks until its memory drops.

        >>> with gf.Client(n_workers=1, memory_limit="1GiB") as c:   # doctest: +SKIP
        ...     c.memory()
        {'tcp://127.0.0.1:40231': {'managed': 0, 'spilled': 0, 'unmanaged': 71811072, ...}}
        """
        return self._rpc("memory")

    def retire_workers(self, workers) -> list:
        """Close these workers cleanly (their results are recomputed elsewhere if needed)."""
        workers = _as_list(workers)
        info = self.scheduler_info()["workers"] if self.cluster is not None else {}
        retired = self._rpc("retire_workers", workers=workers)
        if self.cluster is not None:
            self.cluster._forget_workers({info[a]["pid"] for a in retired if a in info})
        return retired

    def story(self, *keys) -> list:
        """The scheduler's log records that mention ``keys``: how each got to its state."""
        return self._rpc("story", keys=list(keys))


def _as_list(x) -> list:
    from .client import _as_list as as_list  # lazily: graphflow.client imports this module

    return as_list(x)


def _collect_futures(obj, out: list) -> None:
    from .client import _collect_futures as collect

    collect(obj, out)
