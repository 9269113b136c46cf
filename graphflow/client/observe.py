"""What a `Client` can read about its cluster's past and present: memory, logs, task stream, stories.

`ClusterObservations` is a mixin of `graphflow.client.Client`; each method is
one question to the scheduler (or to every worker) and returns plain data.
"""

from __future__ import annotations

from ..comm import messages as wire

__all__ = ["ClusterObservations"]


class ClusterObservations:
    """The `Client` methods that observe the cluster (memory, logs, task stream, a key's story)."""

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
        return self.ask(wire.MemoryRequest())

    def story(self, *keys) -> list:
        """The scheduler's log records that mention ``keys``: how each got to its state."""
        return self.ask(wire.StoryRequest(list(keys)))

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
        workers = list(self.ask(wire.SchedulerInfoRequest())["workers"])
        answers = self.transfer.ask_each(workers, wire.WorkerLogsRequest(n), timeout)
        return {worker: [tuple(record) for record in records] for worker, records in answers.items()}

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
        return self.ask(wire.TaskStreamRequest(start, count))

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
        return self.ask(wire.MemoryHistoryRequest(start))
