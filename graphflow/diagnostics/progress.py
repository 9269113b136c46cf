"""Progress bars: `ProgressBar` for local runs, `progress` for work on a cluster.

Both draw with tqdm (``tqdm.auto``: a widget in Jupyter when ipywidgets is
installed, text elsewhere) and redraw at most every ``dt`` / ``interval``
seconds (0.1 by default), from a thread of their own: the tasks themselves
only bump a counter.

`ProgressBar` is a `Callback` of the local executors::

    >>> import graphflow as gf, io
    >>> out = io.StringIO()
    >>> with ProgressBar(out=out):
    ...     gf.compute(*[gf.delayed(abs)(-i) for i in range(3)], scheduler="threads")
    (0, 1, 2)
    >>> "100%" in out.getvalue() and "3/3" in out.getvalue()
    True

`progress` follows futures or persisted collections on a `Client`: one bar
per task prefix (``inc``, ``sum`` ...) and one for all tasks, counted by the
scheduler (`graphflow.scheduler.progress`) and polled ten times a second.
In a terminal it returns once everything has settled; in a notebook it
returns at once and a background thread keeps the widget up to date::

    x = client.persist(df)
    gf.progress(x)        # [inc] 100% 1000/1000 ... [total] 100% 1125/1125

A task that fails stops its bar (marked erred, with the count); the call
returns as soon as the futures have settled, failed or not.
"""

from __future__ import annotations

import sys
import threading
import time

from ..comm.messages import ProgressRequest
from ..local.callbacks import Callback

__all__ = ["ProgressBar", "progress", "DistributedProgress"]


def _tqdm_class(out):
    """Plain tqdm writing to ``out`` when given; else ``tqdm.auto`` (widget in a notebook)."""
    if out is not None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


# ------------------------------------------------------------------ local runs


class ProgressBar(Callback):
    """A bar of tasks done / total for local ``compute()`` calls made while it is active.

    ``minimum``: show nothing for runs shorter than this many seconds;
    ``dt``: seconds between redraws; ``out``: a file to draw to (default: tqdm's,
    i.e. stderr or the notebook widget); ``width``: characters of the whole line
    (default: tqdm's).  ``last_duration`` is the last run's duration in seconds.
    """

    def __init__(self, minimum: float = 0.0, dt: float = 0.1, out=None, width: int | None = None):
        super().__init__()
        self.minimum = minimum
        self.dt = dt
        self.out = out
        self.width = width
        self.last_duration = 0.0
        # Finished keys: list.append is atomic and a C call, the cheapest thread-safe counter a task can bump.
        self._finished: list = []
        self.task_finish = self._finished.append
        self._bar = None
        self._ticker = None
        self._stop = threading.Event()
        self._started = 0.0

    def start(self, plan) -> None:
        self._finished.clear()
        self._started = time.monotonic()
        tqdm = _tqdm_class(self.out)
        kwargs = {"file": self.out} if self.out is not None else {}
        self._bar = tqdm(total=len(plan), unit="tasks", delay=self.minimum, mininterval=self.dt,
                         ncols=self.width, **kwargs)
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="graphflow-progressbar", daemon=True)
        self._ticker.start()

    def finish(self) -> None:
        self.last_duration = time.monotonic() - self._started
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(5)
            self._ticker = None
        bar, self._bar = self._bar, None
        if bar is None:
            return
        self._draw(bar)
        if bar.n < bar.total:
            bar.set_description("stopped", refresh=False)
        bar.close()
        self._finished.clear()

    def _tick(self) -> None:
        bar = self._bar
        while not self._stop.wait(self.dt):
            self._draw(bar)

    def _draw(self, bar) -> None:
        done = len(self._finished)
        if done > bar.n:
            bar.update(done - bar.n)


# ------------------------------------------------------------------ a cluster


def progress(*futures_or_collections, notebook=None, multi: bool = True, complete: bool = True,
             interval: float = 0.1, out=None) -> "DistributedProgress":
    """Bars for work on a cluster: ``gf.progress(client.persist(x))`` or ``gf.progress(futures)``.

    ``notebook``: return at once and update from a background thread (default:
    True inside Jupyter); otherwise block until every future has settled.
    ``multi``: one bar per task prefix plus a total (False: the total only).
    ``complete``: count tasks already done when called (False: only what is left).
    ``interval``: seconds between polls of the scheduler; ``out``: a file to draw to.
    Returns a `DistributedProgress` (``.wait()``, ``.counts``, ``.erred``).
    """
    futures = _futures_of(futures_or_collections)
    if notebook is None:
        notebook = _in_notebook()
    display = DistributedProgress(futures, multi=multi, complete=complete, interval=interval, out=out)
    if notebook:
        display.start()
    else:
        display.run()
    return display


class DistributedProgress:
    """Polls the scheduler's counters for ``futures`` and draws them; see `progress`."""

    def __init__(self, futures: list, multi: bool = True, complete: bool = True, interval: float = 0.1,
                 out=None):
        self.futures = futures
        self.client = futures[0].client if futures else None
        self.multi = multi
        self.complete = complete
        self.interval = interval
        self.out = out
        self.counts: dict = {}  # prefix -> [total, done, erred], as shown
        self.error: BaseException | None = None  # why polling stopped early (scheduler gone ...)
        self.finished = threading.Event()
        self._settled = threading.Event()
        self._bars: dict = {}
        self._thread = None
        pending = [len(futures)]
        lock = threading.Lock()

        def one_settled(_):
            with lock:
                pending[0] -= 1
                if pending[0] <= 0:
                    self._settled.set()

        if not futures:
            self._settled.set()
        for f in futures:
            f.add_done_callback(one_settled)

    @property
    def erred(self) -> int:
        """Tasks that failed (or depend on one that did)."""
        return sum(c[2] for c in self.counts.values())

    def start(self) -> "DistributedProgress":
        """Poll from a background thread; returns at once."""
        self._thread = threading.Thread(target=self._run_logged, name="graphflow-progress", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the bars are final; True if they are."""
        return self.finished.wait(timeout)

    def run(self) -> None:
        """Poll and draw in this thread until every future has settled."""
        try:
            if self.client is not None:
                self._poll_until_settled()
        finally:
            self._close_bars()
            self.futures = []  # the bars are final: do not keep results alive on the cluster
            self.finished.set()

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception as exc:  # a background thread has nobody to raise to
            self.error = exc
            import logging

            logging.getLogger("graphflow.diagnostics").warning("gf.progress stopped: %s", exc)

    def _poll_until_settled(self) -> None:
        keys = list(dict.fromkeys(f.key for f in self.futures))
        report = self.client.ask(ProgressRequest(keys=keys))
        ident = report["id"]
        self._draw(report)
        while not report["finished"] and not self._settled.is_set():
            self._settled.wait(self.interval)
            report = self.client.ask(ProgressRequest(ident=ident))
            self._draw(report)
        self._draw(self.client.ask(ProgressRequest(ident=ident, close=True)))

    def _draw(self, report: dict) -> None:
        counts = {}
        for prefix, (total, done, erred) in report["prefixes"].items():
            if not self.complete:
                before = report["initial"].get(prefix, 0)
                total, done = total - before, done - before
            counts[prefix] = [total, done, erred]
        self.counts = counts
        rows = dict(counts) if self.multi else {}
        if not self.multi or len(counts) > 1:
            rows["total"] = [sum(c[i] for c in counts.values()) for i in range(3)]
        for name, (total, done, erred) in rows.items():
            bar = self._bars.get(name)
            if bar is None:
                bar = self._bars[name] = self._new_bar(name, total)
            if total != bar.total:
                bar.total = total
            if done > bar.n:
                bar.update(done - bar.n)
            if erred:
                bar.set_postfix_str(f"{erred} erred", refresh=False)
                bar.colour = "red"
                bar.refresh()

    def _new_bar(self, name: str, total: int):
        tqdm = _tqdm_class(self.out)
        kwargs = {"file": self.out} if self.out is not None else {}
        return tqdm(total=total, desc=name, unit="tasks", position=len(self._bars), leave=True,
                    mininterval=self.interval, **kwargs)

    def _close_bars(self) -> None:
        for bar in self._bars.values():
            bar.close()

    def _ipython_display_(self):
        """Nothing to show: the bars are the display (a notebook cell ending in gf.progress(x))."""

    def __repr__(self):
        total = [sum(c[i] for c in self.counts.values()) for i in range(3)]
        state = "finished" if self.finished.is_set() else "running"
        return f"<graphflow progress: {total[1]}/{total[0]} tasks done, {total[2]} erred, {state}>"


def _futures_of(args) -> list:
    """The futures behind ``args``: futures (also in lists, dicts), or persisted collections."""
    from ..client.futures import futures_of
    from ..spec.collections import is_collection

    found: list = []
    for arg in args:
        held = futures_of(arg)
        if not held and is_collection(arg):
            raise TypeError(f"gf.progress follows work on a cluster; {type(arg).__name__} {arg!r:.80} is not "
                            f"persisted there: pass client.persist(x) (or futures from client.compute)")
        if not held:
            raise TypeError(f"gf.progress takes futures or persisted collections, not {arg!r:.80}")
        found.extend(held)
    clients = {id(f.client) for f in found}
    if len(clients) > 1:
        raise ValueError("gf.progress got futures of several clients; call it once per client")
    return found


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where a blocking call would freeze the widget it shows)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:
        return False
