"""The dashboard's cost and latency, with a real headless Chromium on the page (graphflow only).

``dash-overhead`` (kind ``dashboard_overhead``)
    the ``dist10k`` work (10k ``delayed`` inc(i) summed by a fan-in-8 tree,
    one ``gf.compute`` on 2 workers x 1 thread, `benchmarks.futures_cases`)
    run twice per sample on one cluster: once with the dashboard open in a
    headless Chromium (the page polls the API, the scheduler builds a
    snapshot every 0.5 s), once with no page open and the scheduler idle
    long enough to stop building snapshots.  The order alternates between
    samples so drift hits both, and both runs start after the same pause
    (an idle cluster's first run is slower: caches and CPU clocks have
    cooled down).  ``total`` is the run with the page open,
    ``plain`` the one without; the target: the medians differ by under 5%.
    Beside the times, CPU seconds during each run (from ``/proc``): the
    scheduler process's with the page (``sched_cpu``) and without
    (``sched_cpu_plain``), and Chromium's (``browser_cpu``, all its
    processes): on a loaded machine they tell the cost apart from the noise.
    On a 2-core machine the browser shares the cores with the busy workers,
    so its CPU time shows up almost one for one in the wall time.
``dash-visible`` (kind ``dashboard_visible``)
    with the page open, a graph of about 1,000 tasks is submitted
    (``client.compute``), all behind a *gate* task (a root that blocks until
    the driver creates a file, so nothing finishes and leaves the scheduler
    before it is seen); the sample is the time from the submit call until the
    page's DOM says the scheduler holds them all (``#summary[data-tasks]``,
    polled by the browser on every animation frame).  Target: under 1 s.

The cluster and the browser start on the untimed warm-up and serve every
sample (`benchmarks.sessions`).  Needs Debian's ``chromium`` (``make test``
installs it when run as root) and playwright (the test extra).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import tempfile
import time

from . import futures_cases, sessions, shapes
from .model import Workload
from .overhead_rows import CLUSTER, overhead_row
from .targets import value_below

__all__ = ["WORKLOADS", "GROUP", "GRAPHFLOW_CASES"]

NAME = "graphflow"
SESSION = "dashboard"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
_samples = itertools.count()
_page_closed = [0.0]  # time.monotonic() when the last page closed: the scheduler builds snapshots a while after
_last_run = [0.0]  # time.monotonic() when the last timed run ended


def _client(params):
    import graphflow as gf

    def start():
        return gf.Client(n_workers=params["workers"], threads_per_worker=params["threads_per_worker"],
                         dashboard_address=":0")

    return sessions.shared((SESSION, params["workers"], params["threads_per_worker"]), start, lambda c: c.close())


def _browser():
    def start():
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            raise RuntimeError("the dashboard benchmarks need Debian's chromium: apt-get install chromium "
                               "(make test installs it when run as root)")
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        return playwright, playwright.chromium.launch(executable_path=executable, args=ARGS)

    def close(pair):
        pair[1].close()
        pair[0].stop()

    return sessions.shared((SESSION, "chromium"), start, close)[1]


def _open_page(client):
    page = _browser().new_page(viewport={"width": 1400, "height": 1000})
    page.goto(client.dashboard_link)
    page.wait_for_function("() => document.getElementById('summary').dataset.status === 'live'", timeout=30_000)
    return page


def _close_page(page) -> None:
    page.close()
    _page_closed[0] = time.monotonic()


def _settle_seconds() -> float:
    """The pause before each run: longer than the scheduler goes on building snapshots for a closed page."""
    try:
        from graphflow.scheduler.snapshot import IDLE_AFTER
    except ImportError:  # pragma: no cover - an older scheduler: it builds nothing for nobody
        IDLE_AFTER = 0.0
    return max(3.0, IDLE_AFTER + 1.0)


def _settle(since: float) -> None:
    left = since + _settle_seconds() - time.monotonic()
    if left > 0:
        time.sleep(left)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _browser_pids() -> list:
    """This process's descendants that are Chromium (the playwright driver is not counted)."""
    parents, names = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
            except OSError:
                continue
            names[int(entry)] = text[text.index("(") + 1:text.rindex(")")]
            parents[int(entry)] = int(text.rsplit(")", 1)[1].split()[1])
    me, found = os.getpid(), []
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor != me:
            ancestor = parents.get(ancestor)
        if ancestor == me and names[pid].startswith("chrom"):
            found.append(pid)
    return found


def _ran(client) -> int:
    return client.scheduler_info()["tasks_executed"]


def dashboard_overhead(params) -> dict:
    """dist10k twice: with the dashboard open in Chromium (``total``) and with no page (``plain``)."""
    import graphflow as gf

    client = _client(params)
    scheduler = client.scheduler_info()["pid"]
    order = ("watched", "plain") if next(_samples) % 2 else ("plain", "watched")
    times, cpu, counts = {}, {}, {}
    for mode in order:
        page = None
        if mode == "watched":
            page = _open_page(client)  # then the same pause: it has drawn what it found and polls, as if left open
            _settle(time.monotonic())
        else:
            _settle(max(_page_closed[0], _last_run[0]))
        browsers = _browser_pids() if page is not None else []
        before = _cpu_seconds(scheduler), sum(map(_cpu_seconds, browsers))
        phases = futures_cases.delayed_sum(client, params, _ran, NAME, gf.delayed, gf.compute)
        _last_run[0] = time.monotonic()
        cpu[mode] = _cpu_seconds(scheduler) - before[0], sum(map(_cpu_seconds, browsers)) - before[1]
        times[mode] = phases["total"]
        counts = phases.get("counts", counts)
        if page is not None:
            _close_page(page)
    return {"total": times["watched"], "plain": times["plain"], "sched_cpu": cpu["watched"][0],
            "sched_cpu_plain": cpu["plain"][0], "browser_cpu": cpu["watched"][1], "counts": counts}


def dashboard_visible(params) -> dict:
    """Seconds from ``client.compute`` of a gated ~1,000-task graph until the page shows them all."""
    import graphflow as gf

    client = _client(params)
    page = sessions.shared((SESSION, "page"), lambda: _open_page(client), _close_page)
    _wait_scheduler_empty(client)
    page.wait_for_function("() => document.getElementById('summary').dataset.tasks === '0'", timeout=30_000)
    with tempfile.TemporaryDirectory(prefix="gf-bench-dash-") as tmp:
        gate_path = os.path.join(tmp, "gate")
        gate = gf.delayed(shapes.gate, pure=False)(gate_path)
        add = gf.delayed(shapes.add, pure=False)
        root = shapes.reduce_tree([add(gate, i) for i in range(params["leaves"])], params["fan_in"],
                                  lambda level, j, chunk: add(*chunk))
        n = len(root.__graphflow_graph__())
        t0 = time.perf_counter()
        future = client.compute(root, optimize_graph=False)
        page.wait_for_function("n => Number(document.getElementById('summary').dataset.tasks) >= n", arg=n,
                               polling="raf", timeout=30_000)
        shown = time.perf_counter() - t0
        client.cancel(future)
        with open(gate_path, "w"):
            pass  # the gate opens: its worker thread is free again
        del future
        _wait_scheduler_empty(client)
    return {"total": shown, "counts": {"tasks": n}}


def _wait_scheduler_empty(client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while client.scheduler_info()["tasks"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scheduler still holds tasks {timeout:.0f} s after the last sample")
        time.sleep(0.05)


GRAPHFLOW_CASES = {"dashboard_overhead": dashboard_overhead, "dashboard_visible": dashboard_visible}

WORKLOADS = [
    overhead_row(
        "dash-overhead",
        "dist10k with the dashboard open in headless Chromium vs with no page (same cluster)",
        "dashboard_overhead", SESSION, 0.05, ("page open", "no page"),
    ),
    Workload(
        name="dash-visible",
        summary="submit of a gated ~1,000-task graph until the dashboard page shows every task",
        kind="dashboard_visible",
        params={**CLUSTER, "leaves": 875, "fan_in": 8},
        quick_params={**CLUSTER, "leaves": 100, "fan_in": 8},
        tasks=lambda params: shapes.tree_task_count(params["leaves"], params["fan_in"]) + 1,
        repeat=9,
        target=dataclasses.replace(value_below(1.0, "s"), text="< 1 s"),
        anchors=(),
        session=SESSION,
    ),
]

GROUP = [w.name for w in WORKLOADS]
