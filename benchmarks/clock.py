"""A stopwatch that times the phases of one run with `time.perf_counter`.

    >>> watch = Stopwatch()
    >>> _ = sum(range(1000)); watch.lap("build")
    >>> _ = sum(range(1000)); watch.lap("compute")
    >>> sorted(watch.phases())
    ['build', 'compute', 'total']

``total`` runs from the stopwatch's creation to the last lap, so work done
after the last lap (checking the answer, freeing the graph) is not timed.
"""

from __future__ import annotations

import statistics
from time import perf_counter

__all__ = ["Stopwatch", "latency_summary"]


class Stopwatch:
    """Laps in seconds; create it right where timing should start."""

    __slots__ = ("_start", "_last", "_laps")

    def __init__(self):
        self._laps: dict = {}
        self._start = self._last = perf_counter()

    def lap(self, name: str) -> None:
        """Close the phase ``name``: the time since the previous lap (or the start)."""
        now = perf_counter()
        self._laps[name] = now - self._last
        self._last = now

    def phases(self) -> dict:
        """``{phase: seconds}`` plus ``"total"``."""
        out = dict(self._laps)
        out["total"] = self._last - self._start
        return out


def latency_summary(times: list) -> dict:
    """Phases for a run of round trips: the median as ``total``, and the spread.

    >>> latency_summary([0.3, 0.1, 0.2])["total"]
    0.2
    """
    times = sorted(times)
    return {"p10": times[len(times) // 10], "p90": times[(len(times) * 9) // 10],
            "mean": statistics.fmean(times), "total": statistics.median(times)}
