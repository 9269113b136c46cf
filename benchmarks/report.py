"""Turn `Result` s into the printed table, the per-phase details and a JSON record.

The table has one row per workload::

    workload   tasks    graphflow  dask      gf/dask  gf/task  dask/task  target         met
    sum10k     11,431   0.130 s    1.25 s    0.10     11.4 us  109 us     <= 0.33x dask  yes

Values carry their unit (seconds, or MiB for memory rows); ``gf/dask`` is
graphflow's median over the anchor's (below 1: graphflow is faster or
smaller); the per-task columns divide the median by the number of tasks.
``met`` is ``yes``, ``NO``, or ``?`` when it cannot be told (anchor missing).

Workloads whose cases count the tasks that really ran (the distributed ones)
show that count in brackets after each engine's time: ``0.512 s [11,431]``.
The count comes from the engine itself (graphflow's and dask's schedulers,
ray's remote calls), so fusing tasks cannot hide in the per-task figures.
"""

from __future__ import annotations

import os
import platform
import sys

from .engines import SUBJECT
from .model import Result

__all__ = ["format_header", "format_table", "format_phases", "format_notes", "to_json"]


def _value(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "B":
        return f"{value / 2**20:,.1f} MiB"
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 10:
        return f"{value:.1f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value:.3f} s" if value >= 0.01 else f"{value:.4f} s"


def _per_task(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "B":
        return f"{value:,.0f} B"
    us = value * 1e6
    return f"{us:,.0f} us" if us >= 100 else f"{us:.1f} us"


def _ratio(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value >= 0.01 else f"{value:.4f}"


def _met(verdict) -> str:
    return {True: "yes", False: "NO", None: "?"}[verdict]


_SHOWN_COUNTS = ("ran", "held")  # the count printed beside an engine's value, first found


def _beside(result: Result, engine: str) -> str | None:
    beside = result.workload.beside
    if beside is not None:
        return beside.text(result, engine)
    for name in _SHOWN_COUNTS:
        count = result.count(engine, name)
        if count is not None:
            return f"{count:,}"
    return None


def _cell(result: Result, engine: str) -> str:
    value = result.median(engine)
    failed = len(result.failures.get(engine, ()))
    if value is not None:
        text = _value(value, result.workload.unit)
        extra = [t for t in (_beside(result, engine),) if t]
        if failed:
            extra.append(f"{failed} of {failed + len(result.samples[engine])} FAILED")
        return f"{text} [{'; '.join(extra)}]" if extra else text
    reason = result.skipped.get(engine, "")
    if reason.startswith("FAILED") or failed:
        return "FAILED"
    if reason.startswith("missing"):
        return "missing"
    return "skipped" if reason.startswith("skipped") else "n/a"


def format_header(engines: dict, quick: bool, sessions: bool = False) -> str:
    """One line naming the versions, the interpreter and the machine (``sessions``: some
    workloads ran engine after engine, each on a cluster of its own).
    """
    versions = ", ".join(f"{name} {version}" for name, version in engines.items())  # "dask MISSING" too
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    order = "engines alternating" + (" (cluster workloads: one engine after another)" if sessions else "")
    mode = "QUICK (tiny sizes, 1 run: a smoke test, not a measurement)" if quick else \
        f"medians after a warm-up, {order}"
    return (f"{versions} | Python {platform.python_version()} on {sys.platform}, {cpus} CPUs | {mode}")


def format_table(results: list, anchors: list) -> str:
    """The main table: one row per workload, a value and a ratio per anchor."""
    head = ["workload", "tasks", SUBJECT]
    for a in anchors:
        head += [a, f"gf/{a}"]
    head += ["gf/task"] + [f"{a}/task" for a in anchors] + ["target", "met"]
    rows = [head]
    for r in results:
        unit = r.workload.unit
        row = [r.workload.name, f"{r.tasks:,}" if r.tasks else "-", _cell(r, SUBJECT)]
        for a in anchors:
            row += [_cell(r, a), _ratio(r.ratio(a))]
        row += [_per_task(r.per_task(SUBJECT), unit)] + [_per_task(r.per_task(a), unit) for a in anchors]
        target = r.workload.target
        row += [target.text if target else "-", _met(r.verdict()) if target else "-"]
        rows.append(row)
    text_columns = {0, len(head) - 2, len(head) - 1}  # workload, target, met: the rest are numbers
    table = _align(rows, text_columns)
    if any(r.counts for r in results if r.workload.beside is None):
        table += ("\n[n] after a value: tasks that engine ran per sample, as it counts them "
                  "(graphflow/distributed: their schedulers; ray: remote calls); held, for sched-mem")
    for legend in dict.fromkeys(r.workload.beside.legend for r in results if r.workload.beside):
        table += "\n" + legend
    return table


def _align(rows: list, text_columns=frozenset({0})) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.ljust(w) if i in text_columns else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_phases(results: list) -> str:
    """Median of every phase each engine reported, with the number of samples."""
    rows = []
    for r in results:
        unit = r.workload.unit
        for engine in r.engines:
            samples = r.samples.get(engine)
            if not samples:
                continue
            parts = []
            for phase in r.phases(engine):
                if phase == "total":
                    continue
                value = r.median(engine, phase)
                parts.append(f"{phase} {_value(value, unit if phase != 'baseline' else 'B')}")
            parts.append(f"total {_value(r.median(engine), unit)}")
            parts += [f"{name} {r.count(engine, name):,}" for name in r.count_names(engine)]
            rows.append([r.workload.name, engine, f"n={len(samples)}", "  ".join(parts)])
    if not rows:
        return ""
    return _align(rows, text_columns={0, 1, 2, 3})


def format_notes(results: list) -> str:
    """Skipped or failed engines, and what each target's check found.  An anchor with no case
    for a workload that does not name it among its anchors is not worth a note.
    """
    lines = []
    for r in results:
        for engine, reason in r.skipped.items():
            if reason.startswith("n/a") and engine not in r.workload.anchors:
                continue  # an anchor this workload is not meant for (dask beside a cluster workload)
            # a missing engine is said once, not once per workload
            where = engine if reason.startswith("missing") else f"{r.workload.name}: {engine}"
            lines.append(f"{where}: {reason}")
        for engine, failures in r.failures.items():
            runs = len(failures) + len(r.samples.get(engine, ()))
            lines.append(f"{r.workload.name}: {engine}: {len(failures)} of {runs} runs FAILED: {failures[0]}")
        target = r.workload.target
        note = target.describe(r) if target else None
        if note:
            lines.append(f"{r.workload.name}: {note}")
    return "\n".join(dict.fromkeys(lines))


def to_json(results: list, engines: dict, quick: bool) -> dict:
    """Everything measured, for tools: every sample of every phase, and the summary."""
    return {
        "engines": engines,
        "quick": quick,
        "python": platform.python_version(),
        "results": [
            {
                "workload": r.workload.name,
                "kind": r.workload.kind,
                "unit": r.workload.unit,
                "params": dict(r.params),
                "tasks": r.tasks,
                "samples": r.samples,
                "counts": r.counts,
                "median": {e: r.median(e) for e in r.samples},
                "ratio": {e: r.ratio(e) for e in r.samples if e != SUBJECT},
                "skipped": r.skipped,
                "failures": r.failures,
                "target": r.workload.target.text if r.workload.target else None,
                "met": r.verdict(),
            }
            for r in results
        ],
    }
