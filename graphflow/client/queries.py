"""What a `Client` can ask the scheduler about the cluster: who holds what, workers, memory, stories.

Kept apart from `graphflow.client.client` (connection, submission, results) so the
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

    def retire_workers(self, workers, close_anyway: bool = False, timeout: float | None = None) -> list:
        """Retire ``workers`` gracefully; return the addresses that left (unknown ones are skipped).

        Each worker first hands everything over: results only it holds are
        copied to the other workers (within their memory targets; through
        shared memory on one host), tasks it has not started go elsewhere, one
        it is running finishes there, and its actors are recreated on another
        worker from a fresh checkpoint.  Nothing is recomputed and no task
        runs twice; `who_has` names the new holders as soon as this returns.

        Raises `graphflow.errors.RetireError` (the workers keep running) when
        it cannot finish within ``timeout`` seconds (default: config
        ``scheduler.retire_timeout``, 60 s), or when no running worker would
        be left to receive the data -- unless ``close_anyway=True``: then
        such workers are closed anyway and what they held is recomputed.

        >>> a, b = client.scheduler_info()["workers"]                  # doctest: +SKIP
        >>> x = client.submit(make_array, workers=[a])                 # doctest: +SKIP
        >>> client.retire_workers([a]), client.who_has([x])            # doctest: +SKIP
        (['tcp://127.0.0.1:40231'], {'make_array-1f2e...': ['tcp://127.0.0.1:40232']})
        """
        from .. import config

        workers = _as_list(workers)
        info = self.scheduler_info()["workers"] if self.cluster is not None else {}
        limit = float(config.get("scheduler.retire_timeout") if timeout is None else timeout)
        # the scheduler answers by its own deadline; ours only guards against a scheduler that is gone
        retired = self._rpc("retire_workers", timeout=limit + max(10.0, self.timeout), workers=workers,
                            close_anyway=close_anyway, retire_timeout=timeout)
        if self.cluster is not None:
            self.cluster._forget_workers({info[a]["pid"] for a in retired if a in info})
        return retired

    def story(self, *keys) -> list:
        """The scheduler's log records that mention ``keys``: how each got to its state."""
        return self._rpc("story", keys=list(keys))

    def get_worker_logs(self, n: int | None = None, timeout: float = 5.0) -> dict:
        """Each worker's recent log: ``{address: [(time, level, message), ...]}``, oldest first.

        Holds the worker's ``graphflow`` log records (at ``GRAPHFLOW_LOGGING_LEVEL``,
        WARNING by default) and every line its tasks printed (``"[key] text"``;
        level INFO for stdout, WARNING for stderr); the last 10,000 per worker.
        ``n``: only the last ``n`` of each.  Workers are asked directly, all at
        once; one that does not answer within ``timeout`` seconds is left out
        (and named in a warning) rather than holding up the others.

        >>> client.submit(print, "hello").result()                   # doctest: +SKIP
        >>> [m for logs in client.get_worker_logs().values() for _, _, m in logs]   # doctest: +SKIP
        ['[print-5f0c...] hello']
        """
        from ..worker.logs import ask_workers

        return ask_workers(self, list(self._rpc("scheduler_info")["workers"]), n, timeout)

    def _repr_html_(self):
        from ..cards import client_html

        return client_html(self)

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard's URL, ``http://127.0.0.1:8787/status`` by default; None if the scheduler runs without one.

        A dashboard listening beyond loopback asks for the cluster token once:
        open the link with ``?token=TOKEN`` appended (``client.token``).
        """
        from ..comm.addresses import link_for_client

        return link_for_client(self._rpc("scheduler_info").get("dashboard"), self.scheduler_address)

    def get_task_stream(self, start=None, count=None) -> list:
        """What ran where: one record per finished or erred task, oldest first.

        Each record is a dict ``{"key", "prefix", "worker", "thread", "start",
        "stop", "nbytes", "status"}``: ``thread`` is the index of the worker
        thread that ran it, ``start``/``stop`` wall-clock seconds
        (``time.time()`` on the worker), ``nbytes`` the result's size (0 when
        erred), ``status`` ``"finished"`` or ``"erred"``.  ``start`` keeps the
        records that stopped at or after that time; ``count`` keeps the last
        ``count``.  The scheduler remembers the last 100,000 runs (gf.config
        ``scheduler.task_stream_size``).

        >>> t0 = time.time()                                             # doctest: +SKIP
        >>> client.gather(client.map(inc, range(10)))                     # doctest: +SKIP
        >>> recs = client.get_task_stream(start=t0)                       # doctest: +SKIP
        >>> len(recs), recs[-1]["prefix"], recs[-1]["status"]             # doctest: +SKIP
        (10, 'inc', 'finished')
        """
        return self._rpc("task_stream", start=start, count=count)

    def get_memory_history(self, start=None) -> dict:
        """Each worker's memory over time: ``{address: [{"time", "managed", "spilled", "unmanaged", "rss"}, ...]}``.

        The scheduler samples every worker's last reported memory every 0.5 s
        (gf.config ``scheduler.dashboard_interval``) and keeps the last
        100,000 samples; ``start`` (a ``time.time()`` value) keeps the samples
        taken since.  Byte counts mean what they mean in `memory`.

        >>> t0 = time.time()                                             # doctest: +SKIP
        >>> x = client.compute(big_array.sum()).result()                  # doctest: +SKIP
        >>> hist = client.get_memory_history(start=t0)                    # doctest: +SKIP
        >>> max(s["managed"] for samples in hist.values() for s in samples)   # doctest: +SKIP
        160000000
        """
        return self._rpc("memory_history", start=start)


def _as_list(x) -> list:
    from .client import _as_list as as_list  # lazily: graphflow.client.client imports this module

    return as_list(x)


def _collect_futures(obj, out: list) -> None:
    from .client import _collect_futures as collect

    collect(obj, out)
