"""`Adaptive`: the loop behind ``cluster.adapt()``, on a daemon thread of the cluster object.

Every ``interval`` it asks the scheduler what it recommends (the RPC
``adaptive_target``, computed by the pure `graphflow.scheduler.adaptive`
policy from queued work, measured durations and memory), lets a
`ScaleDecider` apply the hysteresis (up at once, down only after
``wait_count`` consecutive checks asked for it), and acts through the
cluster: `Cluster.scale_to`, which starts workers in parallel, or retires the
recommended ones gracefully and then stops their processes.

A failing check (the scheduler slow to answer, a worker that did not start
in time) is logged and the loop goes on; `stop` ends it, and
`Cluster.close` calls `stop` first.

    >>> import graphflow as gf
    >>> cluster = gf.LocalCluster(n_workers=1)                        # doctest: +SKIP
    >>> adaptive = cluster.adapt(minimum=1, maximum=4, interval="0.5s")  # doctest: +SKIP
    >>> adaptive.stop()                                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import threading
import weakref

from ..errors import ConfigError
from ..scheduler.adaptive import TARGET_DURATION, ScaleDecider
from ..units import parse_duration

logger = logging.getLogger("graphflow.deploy.adaptive")

__all__ = ["Adaptive"]


class Adaptive:
    """Keeps ``cluster`` between ``minimum`` and ``maximum`` workers, following the scheduler's advice.

    ``maximum=None``: no upper bound.  ``target_duration``: how long the
    ready work should take at most (more work -> more workers).  Made by
    `Cluster.adapt`; the loop starts at once.
    """

    def __init__(self, cluster, minimum: int = 0, maximum: int | None = None, interval="1s", wait_count: int = 3,
                 target_duration=TARGET_DURATION):
        if minimum < 0 or (maximum is not None and maximum < minimum):
            raise ConfigError(f"adapt needs 0 <= minimum <= maximum, not minimum={minimum}, maximum={maximum}")
        self._cluster = weakref.ref(cluster)  # a cluster dropped without close() is collected, and the loop ends
        self.minimum = int(minimum)
        self.maximum = None if maximum is None else int(maximum)
        self.interval = parse_duration(interval)
        self.target_duration = parse_duration(target_duration)
        self.decider = ScaleDecider(wait_count)
        self.last_recommendation = None
        self.checks = 0
        self.errors = 0
        self.last_error = None  # the exception of the last failed check, for diagnosis
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="graphflow-adaptive", daemon=True)
        self._thread.start()

    @property
    def cluster(self):
        """The cluster adapted, or None once it was garbage-collected."""
        return self._cluster()

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()

    def stop(self, timeout: float = 30.0) -> None:
        """End the loop; waits for a check in progress (starting or retiring workers) to finish."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.step()
            except Exception as exc:  # one failed check must not end adapting
                self.errors += 1
                self.last_error = exc
                if self._stopped.is_set():
                    return
                logger.warning("adapt: check failed (%s: %s); trying again in %.1f s",
                               type(exc).__name__, exc, self.interval)
            self._stopped.wait(self.interval)

    def step(self) -> None:
        """One check: ask the scheduler, decide, scale."""
        cluster = self.cluster
        if cluster is None or getattr(cluster, "status", None) == "closed":
            self._stopped.set()
            return
        rec = cluster.adaptive_target(self.minimum, self.maximum, self.target_duration)
        self.last_recommendation = rec
        self.checks += 1
        current = len(cluster.launched())
        high = math.inf if self.maximum is None else self.maximum
        target = min(max(rec["target"], self.minimum), high)
        if not self.minimum <= current <= high:  # a manual scale, workers that left on their own: correct at once
            n = int(min(max(current, self.minimum), high))
        else:
            n = self.decider.decide(current, target)
        if n is not None and n != current and not self._stopped.is_set():
            logger.info("adapt: %d -> %d workers (%s)", current, n, rec.get("reasons"))
            cluster.scale_to(n, order=rec.get("order"))

    def __repr__(self):
        bound = "inf" if self.maximum is None else self.maximum
        return f"<Adaptive minimum={self.minimum} maximum={bound} interval={self.interval}s>"
