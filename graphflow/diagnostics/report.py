"""`performance_report`: one standalone HTML file about what a block of code made the cluster do.

    >>> import graphflow as gf
    >>> with gf.Client(n_workers=2) as client:                          # doctest: +SKIP
    ...     with gf.performance_report("report.html"):
    ...         total.compute()

On exit the report asks the scheduler for what happened since the block
began -- the task stream (`Client.get_task_stream`), each worker's memory
samples (`Client.get_memory_history`) and the workers' logs
(`Client.get_worker_logs`) -- and writes one HTML file: the task stream,
compute seconds per task prefix, memory over time per worker, the logs, the
block's duration and task count.  The charts are the dashboard's own
(``dashboard/static/charts.js`` with the vendored Chart.js), inlined with
the data as JSON, so the file opens anywhere with no network; the numbers
are also written as plain HTML tables, readable without JavaScript.

A block that raises still gets its report (often the one you want).
"""

from __future__ import annotations

import html
import json
import os
import time

__all__ = ["performance_report", "render_report", "summarize_prefixes"]

_STATIC = os.path.join(os.path.dirname(__file__), "dashboard", "static")
_SCRIPTS = ("vendor/chart-4.6.1.umd.min.js", "charts.js", "taskstream.js", "report.js")
_LOG_LINES = 2000  # per worker: a report stays a file you can mail


class performance_report:
    """Context manager writing ``filename`` (HTML) about the work the cluster did inside the block.

    ``client``: the cluster to ask (default: the current `graphflow.Client`).
    ``title``: the page's title (default: the file name and the block's start time).
    """

    def __init__(self, filename: str = "graphflow-report.html", *, client=None, title: str | None = None):
        self.filename = os.fspath(filename)
        self.client = client
        self.title = title
        self.start: float | None = None
        self.stop: float | None = None

    def __enter__(self) -> "performance_report":
        if self.client is None:
            from ..client.current import default_client

            self.client = default_client()
        self.start = time.time()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop = time.time()
        data = collect(self.client, self.start, self.stop)
        title = self.title or f"graphflow performance report: {os.path.basename(self.filename)}"
        page = render_report(data, title)
        tmp = f"{self.filename}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, self.filename)


def collect(client, start: float, stop: float) -> dict:
    """The report's data: what the scheduler recorded between ``start`` and ``stop`` (time.time())."""
    records = [r for r in client.get_task_stream(start=start) if r["start"] >= start - 1.0]
    memory = client.get_memory_history(start=start)
    get_logs = getattr(client, "get_worker_logs", None)  # optional: older schedulers have no logs to give
    logs = {}
    if get_logs is not None:
        for worker, lines in (get_logs() or {}).items():
            kept = [list(line) for line in lines if line and line[0] >= start - 1.0]
            logs[worker] = kept[-_LOG_LINES:]
    return {
        "start": start, "stop": stop, "duration": stop - start, "ntasks": len(records),
        "task_stream": records, "prefixes": summarize_prefixes(records), "memory": memory, "logs": logs,
    }


def summarize_prefixes(records) -> list:
    """``[{"prefix", "seconds", "count", "erred"}]``: compute time per prefix, most time first.

    >>> summarize_prefixes([{"prefix": "inc", "start": 0.0, "stop": 0.5, "status": "finished"},
    ...                     {"prefix": "inc", "start": 1.0, "stop": 1.25, "status": "erred"}])
    [{'prefix': 'inc', 'seconds': 0.75, 'count': 2, 'erred': 1}]
    """
    rows: dict = {}
    for r in records:
        row = rows.setdefault(r["prefix"], {"prefix": r["prefix"], "seconds": 0.0, "count": 0, "erred": 0})
        row["seconds"] += max(0.0, r["stop"] - r["start"])
        row["count"] += 1
        row["erred"] += r.get("status") == "erred"
    return sorted(rows.values(), key=lambda row: -row["seconds"])


def _script(text: str) -> str:
    # "</" would end the <script> element early; "<\/" means the same inside JS strings and regexes.
    return text.replace("</", "<\\/")


def _read(name: str) -> str:
    with open(os.path.join(_STATIC, name), encoding="utf-8") as f:
        return f.read()


def _prefix_table(prefixes: list) -> str:
    rows = "".join(
        f'<tr data-prefix="{html.escape(p["prefix"])}"><td>{html.escape(p["prefix"])}</td>'
        f'<td>{p["count"]}</td><td>{p["seconds"]:.3f}</td><td>{p["erred"]}</td></tr>'
        for p in prefixes)
    return ('<table id="prefix-summary" class="numbers"><thead><tr><th>prefix</th><th>tasks</th>'
            f'<th>compute seconds</th><th>erred</th></tr></thead><tbody>{rows}</tbody></table>')


def _logs_html(logs: dict) -> str:
    if not logs:
        return "<p>No worker logs (none were written in this block, or this cluster keeps none).</p>"
    parts = []
    for worker in sorted(logs):
        lines = "\n".join(f"{time.strftime('%H:%M:%S', time.localtime(t))}.{int(t % 1 * 1000):03d} {level} {msg}"
                          for t, level, msg in logs[worker])
        parts.append(f"<h3>{html.escape(worker)}</h3><pre class=\"logs\">{html.escape(lines) or '(empty)'}</pre>")
    return "".join(parts)


def render_report(data: dict, title: str) -> str:
    """The whole HTML page for ``data`` (as `collect` makes it): scripts, style and data inlined."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["start"]))
    payload = _script(json.dumps(data, separators=(",", ":"), default=str))
    scripts = "\n".join(f"<script>\n{_script(_read(name))}\n</script>" for name in _SCRIPTS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>
{_read("dashboard.css")}
</style>
</head>
<body>
<header>
  <h1>{html.escape(title)}</h1>
  <p id="summary" data-duration="{data['duration']:.6f}" data-ntasks="{data['ntasks']}" data-stream-bars="0">
    started {started} &middot; {data['duration']:.2f} s &middot; {data['ntasks']} tasks run</p>
</header>
<main>
  <section class="panel wide" id="panel-stream">
    <h2>Task stream <small>(one row per worker thread, one bar per task)</small></h2>
    <div class="chart tall"><canvas id="chart-task-stream"></canvas></div>
  </section>
  <section class="panel" id="panel-prefixes">
    <h2>Compute time per task prefix</h2>
    <div class="chart"><canvas id="chart-prefixes"></canvas></div>
    {_prefix_table(data["prefixes"])}
  </section>
  <section class="panel" id="panel-memory">
    <h2>Worker memory over time <small>(solid: managed, dashed: unmanaged, dotted: spilled)</small></h2>
    <div class="chart"><canvas id="chart-memory-history"></canvas></div>
  </section>
  <section class="panel wide" id="panel-logs">
    <h2>Worker logs</h2>
    {_logs_html(data["logs"])}
  </section>
</main>
<script type="application/json" id="report-data">{payload}</script>
{scripts}
</body>
</html>
"""
