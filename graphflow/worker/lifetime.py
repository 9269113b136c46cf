"""Workers that leave on their own: ``--lifetime 1h --lifetime-stagger 5m [--lifetime-restart]``.

Spot instances and batch-queue jobs have a known end.  A worker given a
lifetime asks the scheduler to retire it once ``lifetime`` plus or minus a
uniform random ``stagger`` has passed (so workers started together do not
all leave at once), through the same graceful path as
``client.retire_workers``: its results are copied to other workers, its queued
tasks and actors move, and only then does the scheduler tell it to stop.  It
then exits with code 0, which a supervisor (``graphflow worker``,
`LocalCluster`) takes as final -- or, with ``lifetime_restart``, with
`EXIT_LIFETIME_RESTART`, which the supervisor answers with a fresh worker.

If the scheduler cannot retire it yet (it is the last running worker and
holds data, or the retirement timed out), it says so (`RetireRefused`) and
the worker keeps working and asks again ``RETRY_INTERVAL`` seconds later.

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_lifetime_options(p)
    >>> kwargs = lifetime_kwargs(p.parse_args(["--lifetime", "1h", "--lifetime-stagger", "5m"]))
    >>> kwargs
    {'lifetime': 3600.0, 'lifetime_stagger': 300.0, 'lifetime_restart': False}
    >>> lifetime_argv(kwargs)
    ['--lifetime', '3600.0', '--lifetime-stagger', '300.0']
    >>> 3300.0 <= lifetime_delay(3600.0, 300.0) <= 3900.0
    True
"""

from __future__ import annotations

import logging
import random

from ..units import parse_duration

logger = logging.getLogger("graphflow.worker")

__all__ = ["Lifetime", "add_lifetime_options", "lifetime_kwargs", "lifetime_argv", "lifetime_delay",
           "EXIT_LIFETIME_RESTART", "RETRY_INTERVAL"]

EXIT_LIFETIME_RESTART = 5  # not a final code: the supervisor starts a fresh worker in its place
RETRY_INTERVAL = 2.0  # seconds between asks while the scheduler cannot retire this worker


def add_lifetime_options(parser) -> None:
    """Add ``--lifetime``, ``--lifetime-stagger`` and ``--lifetime-restart``."""
    parser.add_argument("--lifetime", default=None,
                        help="leave gracefully after this long, e.g. 1h, 30m, 90s (default: never)")
    parser.add_argument("--lifetime-stagger", default=None,
                        help="randomize the lifetime by up to this much either way, e.g. 5m (default 0)")
    parser.add_argument("--lifetime-restart", action="store_true",
                        help="start a fresh worker in the place of one whose lifetime ended")


def lifetime_kwargs(args) -> dict:
    """``Worker(...)`` keyword arguments from parsed flags."""
    return {"lifetime": parse_duration(args.lifetime) if args.lifetime else None,
            "lifetime_stagger": parse_duration(args.lifetime_stagger) if args.lifetime_stagger else 0.0,
            "lifetime_restart": bool(args.lifetime_restart)}


def lifetime_argv(kwargs: dict) -> list:
    """The flags that give a child worker process the same `lifetime_kwargs` (durations accepted as strings)."""
    argv = []
    if kwargs.get("lifetime") is not None:
        argv += ["--lifetime", str(parse_duration(kwargs["lifetime"]))]
        if kwargs.get("lifetime_stagger"):
            argv += ["--lifetime-stagger", str(parse_duration(kwargs["lifetime_stagger"]))]
        if kwargs.get("lifetime_restart"):
            argv += ["--lifetime-restart"]
    return argv


def lifetime_delay(lifetime: float, stagger: float = 0.0, rng=random) -> float:
    """Seconds until a worker asks to leave: ``lifetime`` +/- uniform(``stagger``), never negative."""
    return max(0.0, lifetime + (rng.uniform(-stagger, stagger) if stagger else 0.0))


class Lifetime:
    """One worker's lifetime: the timer, the ask, the retries, and the exit code it leaves with."""

    def __init__(self, worker, lifetime: float, stagger: float = 0.0, restart: bool = False):
        self.worker = worker
        self.delay = lifetime_delay(lifetime, stagger)
        self.restart = restart
        self.asked = False
        self._timer = None

    def start(self) -> None:
        self._timer = self.worker.loop.call_later(self.delay, self.ask)

    def ask(self) -> None:
        """Ask the scheduler to retire this worker (the reply is a `StopWorker`, or a `RetireRefused`)."""
        from ..comm.messages import RetireMe

        worker = self.worker
        self._timer = None
        if worker.closed:
            return
        if not self.asked:
            logger.info("worker %s: lifetime of %.1f s is up; asking the scheduler to retire it", worker.address,
                        self.delay)
        self.asked = True
        worker.scheduler.send(RetireMe())

    def refused(self, reason: str) -> None:
        """The scheduler cannot retire this worker now: keep working, ask again later."""
        wait = RETRY_INTERVAL * random.uniform(0.5, 1.5)  # workers refused together do not ask together again
        logger.info("worker %s: cannot retire yet (%s); asking again in %.1f s", self.worker.address, reason, wait)
        if self._timer is None and not self.worker.closed:
            self._timer = self.worker.loop.call_later(wait, self.ask)

    def exit_code(self) -> int:
        """0 (final) when told to stop, `EXIT_LIFETIME_RESTART` after a lifetime retirement with restart."""
        return EXIT_LIFETIME_RESTART if self.asked and self.restart else 0

    def stop(self) -> None:
        if self._timer is not None:
            self.worker.loop.remove_timeout(self._timer)
            self._timer = None
