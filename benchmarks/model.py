"""The data the runner works with: `Workload`, `Engine`, `Target` and `Result`.

A *workload* names a *kind* of measurement (``"delayed_sum"``) and the
parameters to run it with.  An *engine* (graphflow, or an anchor such as dask)
maps kinds to *cases*: functions ``case(params) -> {phase: value}`` that build
and run the work once and return what they measured, always with a
``"total"`` phase.  Values are seconds, or bytes for memory workloads.

    workload sum10k: kind "delayed_sum", params {"leaves": 10000, ...}
        |-> graphflow's "delayed_sum" case -> {"build": .., "compute": .., "total": ..}
        '-> dask's "delayed_sum" case      -> {"build": .., "compute": .., "total": ..}

Adding an anchor means adding one module of cases (see `benchmarks.anchors`);
a workload it has no case for shows as "n/a".  A `Result` holds every sample
of every engine for one workload; medians and ratios are derived from it.
A case may also return ``"counts": {"ran": n}`` beside its phases: numbers
that are not measurements of time or memory, such as the tasks the engine
says it ran; they are kept apart (`Result.count`).  A workload may say what
the table prints beside each engine's value (`Beside`: by default the count
of tasks run) and whether an engine goes on after a failed sample
(``keep_going``: the failures are counted, `Result.failures`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Case", "Engine", "Workload", "Target", "Result", "Beside"]

Case = Callable[[Mapping], dict]


@dataclass(frozen=True)
class Engine:
    """An engine under test: a name, a version string and its cases by kind."""

    name: str
    version: str
    cases: Mapping[str, Case]
    import_statement: str  # what "importing this engine" means, for the import-time workload


@dataclass(frozen=True)
class Target:
    """A goal from the issue, e.g. "graphflow <= 1/3 of dask's time".

    ``check(result)`` returns True (met), False (missed) or None (cannot tell,
    e.g. the anchor did not run).
    """

    text: str
    check: Callable[["Result"], bool | None]
    describe: Callable[["Result"], str | None] = lambda result: None  # an explanatory note


@dataclass(frozen=True)
class Beside:
    """What the table prints in brackets after each engine's value, in place of the count of
    tasks run: ``text(result, engine)`` (None prints nothing), explained once below the table
    by ``legend``.  E.g. the peak RSS of each worker and the bytes spilled.
    """

    text: Callable[["Result", str], str | None]
    legend: str


@dataclass(frozen=True)
class Workload:
    """One row of the table.  See the module docstring for kinds and cases.

    ``warmup``: ``"same"`` runs each engine once untimed at full size first;
    ``"small"`` warms up at the quick size instead (for runs that take tens of
    seconds, where a full warm-up buys nothing but time); ``"none"`` skips it
    (each sample is a fresh process anyway).
    ``anchor_repeat`` caps the repeats of anchors whose run is slow.
    ``skip`` maps an engine name to the reason it is not run.
    ``isolate``: run each engine's samples in a worker process of its own
    (`benchmarks.worker`); off for workloads whose cases start a fresh
    process per sample anyway.
    ``case_for`` overrides how a case is found (subprocess workloads make one
    per engine); by default it is ``engine.cases.get(kind)``.
    ``anchors``: the anchors this workload is compared with when the command
    line names none (``--vs``).
    ``session``: workloads with the same session name that run one after the
    other share each engine's worker process, and with it whatever long-lived
    resource the cases keep in `benchmarks.sessions` (a cluster): each engine
    then runs all of the session's workloads in one block (warm-up and
    samples), and its worker closes before the next engine starts, so an idle
    cluster never runs beside the engine being timed.
    ``beside``: what to print after each engine's value (`Beside`); by default
    the count of tasks run, when the cases report one.
    ``keep_going``: a failed sample is counted (`Result.failures`) and the
    engine runs its next sample, unless its worker process died; by default
    the first failure ends that engine's part in the workload.
    """

    name: str
    summary: str
    kind: str
    params: Mapping
    quick_params: Mapping
    tasks: Callable[[Mapping], int | None] = lambda params: None
    repeat: int = 5
    anchor_repeat: int | None = None
    warmup: str = "same"
    unit: str = "s"
    target: Target | None = None
    skip: Mapping[str, str] = field(default_factory=dict)
    isolate: bool = True
    case_for: Callable[[Engine], Case | None] | None = None
    anchors: tuple = ("dask",)
    session: str | None = None
    beside: Beside | None = None
    keep_going: bool = False

    def case(self, engine: Engine) -> Case | None:
        """The function that runs this workload on ``engine``, or None if it has none."""
        if self.case_for is not None:
            return self.case_for(engine)
        return engine.cases.get(self.kind)


@dataclass
class Result:
    """All samples of one workload: ``samples[engine] = [ {phase: value}, ... ]``."""

    workload: Workload
    params: Mapping  # the sizes actually run (full or --quick)
    tasks: int | None
    engines: list  # engine names in column order, graphflow first
    samples: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)  # engine -> why it has no samples
    counts: dict = field(default_factory=dict)  # engine -> [{"ran": n, ...} per sample]
    failures: dict = field(default_factory=dict)  # engine -> [why, per failed run] (keep_going workloads)

    def median(self, engine: str, phase: str = "total") -> float | None:
        """Median of one phase over the samples of ``engine`` (None if it did not run)."""
        values = [s[phase] for s in self.samples.get(engine, ()) if phase in s]
        return statistics.median(values) if values else None

    def count(self, engine: str, name: str) -> int | None:
        """Median over the samples of a count the engine reported (e.g. ``"ran"``: tasks it
        says it executed), or None if it reported none.  Cases report counts under the
        ``"counts"`` key of their result; the runner keeps them apart from the phases.
        """
        values = [c[name] for c in self.counts.get(engine, ()) if name in c]
        return int(statistics.median_low(values)) if values else None

    def count_names(self, engine: str) -> list:
        """Names of the counts ``engine`` reported, in order."""
        names: dict = {}
        for counts in self.counts.get(engine, ()):
            names.update(dict.fromkeys(counts))
        return list(names)

    def counts_of(self, engine: str, name: str) -> list:
        """Every sample's value of one count of ``engine`` (e.g. to take the worst, not the median)."""
        return [c[name] for c in self.counts.get(engine, ()) if name in c]

    def phases(self, engine: str) -> list:
        """Phase names ``engine`` reported, in the order it reported them."""
        names: dict = {}
        for sample in self.samples.get(engine, ()):
            names.update(dict.fromkeys(sample))
        return list(names)

    def ratio(self, anchor: str, engine: str = "graphflow") -> float | None:
        """``engine``'s median total over ``anchor``'s: below 1 means ``engine`` wins."""
        ours, theirs = self.median(engine), self.median(anchor)
        if ours is None or not theirs:
            return None
        return ours / theirs

    def per_task(self, engine: str) -> float | None:
        """Median total divided by the number of tasks (None when that means nothing)."""
        value = self.median(engine)
        if value is None or not self.tasks:
            return None
        return value / self.tasks

    def verdict(self) -> bool | None:
        """Whether the workload's target was met (None: no target, or cannot tell)."""
        target = self.workload.target
        return None if target is None else target.check(self)
