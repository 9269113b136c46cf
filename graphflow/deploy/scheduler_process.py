"""One scheduler process: the `Scheduler` shell on this process's IOLoop, with its dashboard.

This is where the scheduler and the dashboard meet: the scheduler package
knows nothing of the dashboard (it only keeps the snapshots the dashboard
reads), so the process that runs both wires them here.  ``graphflow
scheduler`` (`graphflow.cli`) calls `run_scheduler`; a `LocalCluster` starts
that command.

    $ graphflow scheduler --port 8786 --dashboard-address :8787
    graphflow scheduler at tcp://127.0.0.1:8786
    graphflow dashboard at http://127.0.0.1:8787/status
"""

from __future__ import annotations

import os
import signal
import time

from tornado.ioloop import IOLoop

from ..diagnostics.dashboard import start_for_scheduler
from ..scheduler.server import Scheduler
from ..scheduler.trim import tune_malloc
from ..utils.gcpolicy import for_large_heaps
from ..utils.processes import die_with_parent

__all__ = ["run_scheduler"]


def run_scheduler(address: str, token: bytes | None, *, address_file: str | None = None,
                  heartbeat_timeout: float = 5.0, dashboard_address: str | None = None,
                  allowed_failures: int | None = None) -> int:
    """Serve a scheduler in this process until SIGTERM/SIGINT or a shutdown request.

    ``dashboard_address`` (``":8787"``, ``"0.0.0.0:8787"``; None: no dashboard): where the dashboard
    listens, on a thread of its own (`graphflow.diagnostics.dashboard`).  ``allowed_failures``: deaths of
    workers running one task before it errs (None: the setting ``scheduler.allowed_failures``).
    """
    die_with_parent(only_if_supervised=True)
    for_large_heaps()  # the collector's full passes over 1M task records were ~40% of the loop's CPU
    tune_malloc()  # big blocks on mmap, few arenas: memory goes back after a release (scheduler/trim.py)
    loop = IOLoop.current()
    scheduler = Scheduler(address, token, heartbeat_timeout=heartbeat_timeout, allowed_failures=allowed_failures,
                          loop=loop).start()

    def stop(*_):
        loop.add_callback_from_signal(scheduler.shutdown)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.dashboard = start_for_scheduler(scheduler, dashboard_address, token)
    print(f"graphflow scheduler at {scheduler.address}", flush=True)
    if scheduler.dashboard is not None:
        # with the token when one is asked: the printed link is the one a person opens (Jupyter does the same)
        print(f"graphflow dashboard at {scheduler.dashboard.link}", flush=True)
    if address_file:
        _write_atomically(address_file, scheduler.address)
    _serve(loop)
    if scheduler.dashboard is not None:
        scheduler.dashboard.close()
    return 0


def _serve(loop) -> None:
    """Run the loop until the scheduler stops, under cProfile when the setting ``scheduler.profile`` names a file."""
    from .. import config

    path = config.get("scheduler.profile")
    if not path:
        return loop.start()
    import cProfile

    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        loop.start()
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
