"""Targets from the issue, as small `Target` factories.

    >>> t = ratio_at_most(1 / 3, "dask")
    >>> t.text
    '<= 0.33x dask'

A target that needs an engine that did not run answers None ("cannot tell"),
never False: a missing anchor is not a missed goal.
"""

from __future__ import annotations

import dataclasses

from .model import Result, Target

__all__ = ["ratio_at_most", "ratio_below", "value_below", "phase_growth_at_most", "all_of", "with_note",
           "finishes", "worst_count_at_most", "overhead_below"]


def ratio_at_most(limit: float, anchor: str = "dask") -> Target:
    """graphflow's median total is at most ``limit`` times the anchor's."""

    def check(result: Result):
        ratio = result.ratio(anchor)
        return None if ratio is None else ratio <= limit

    return Target(f"<= {limit:.2f}x {anchor}", check)


def ratio_below(limit: float, anchor: str = "dask") -> Target:
    """graphflow's median total is strictly below ``limit`` times the anchor's."""

    def check(result: Result):
        ratio = result.ratio(anchor)
        return None if ratio is None else ratio < limit

    return Target(f"< {limit:g}x {anchor}", check)


def value_below(limit: float, unit: str = "s") -> Target:
    """graphflow's median total is below an absolute ``limit``."""

    def check(result: Result):
        value = result.median("graphflow")
        return None if value is None else value < limit

    return Target(f"< {limit:g} {unit}", check)


def phase_growth_at_most(phase: str, ref_phase: str, size: str, ref_size: str, limit: float) -> Target:
    """Cost per unit of ``phase`` at ``params[size]`` is at most ``limit`` times that of
    ``ref_phase`` at ``params[ref_size]``: "linear" with some slack for noise.
    """

    def per_unit(result: Result):
        big, small = result.median("graphflow", phase), result.median("graphflow", ref_phase)
        if big is None or not small:
            return None
        return big / result.params[size], small / result.params[ref_size]

    def check(result: Result):
        costs = per_unit(result)
        return None if costs is None else costs[0] / costs[1] <= limit

    def describe(result: Result):
        costs = per_unit(result)
        if costs is None:
            return None
        return (f"graphflow {phase}: {costs[0] * 1e6:.2f} us per unit at {size}={result.params[size]:,} "
                f"vs {costs[1] * 1e6:.2f} us at {result.params[ref_size]:,} "
                f"(x{costs[0] / costs[1]:.2f}; linear is x1)")

    return Target(f"{phase}/task <= {limit:g}x at {ref_size}", check, describe)


def all_of(*targets: Target) -> Target:
    """Every one of ``targets``: missed if any is missed, met if all are met, else cannot tell.

    >>> all_of(ratio_at_most(0.2, "distributed"), ratio_at_most(0.5, "ray")).text
    '<= 0.20x distributed & <= 0.50x ray'
    """

    def check(result: Result):
        verdicts = [t.check(result) for t in targets]
        if False in verdicts:
            return False
        return True if all(v is True for v in verdicts) else None

    def describe(result: Result):
        notes = [n for n in (t.describe(result) for t in targets) if n]
        return "; ".join(notes) or None

    return Target(" & ".join(t.text for t in targets), check, describe)


def with_note(target: Target, describe) -> Target:
    """``target`` with ``describe(result) -> str | None`` as its note below the table."""
    return dataclasses.replace(target, describe=describe)


def finishes(engine: str = "graphflow") -> Target:
    """Every run of ``engine`` finished (warm-up included): one failure is a miss.

    Meant for ``keep_going`` workloads, where a failed run is counted
    (`Result.failures`) instead of ending the engine's runs.
    """

    def check(result: Result):
        if result.failures.get(engine) or result.skipped.get(engine, "").startswith("FAILED"):
            return False
        return True if result.samples.get(engine) else None

    def describe(result: Result):
        failed = len(result.failures.get(engine, ()))
        runs = failed + len(result.samples.get(engine, ()))
        return f"{engine} finished {runs - failed} of {runs} runs" if runs else None

    return Target("every run finishes" if engine == "graphflow" else f"every {engine} run finishes", check, describe)


def worst_count_at_most(name: str, limit: float, text: str, engine: str = "graphflow") -> Target:
    """The largest value over every sample of the count ``name`` that ``engine`` reported is at
    most ``limit`` (the worst run, not the median: "peak RSS under 1.15x the limit" in every run).
    """

    def check(result: Result):
        values = result.counts_of(engine, name)
        return None if not values else max(values) <= limit

    def describe(result: Result):
        values = result.counts_of(engine, name)
        if not values:
            return None
        return f"{engine} worst {name} of {len(values)} runs: {max(values) / limit:.3f} of the bound ({text})"

    return Target(text, check, describe)


def overhead_below(limit: float, phase: str, watched: str, plain: str, engine: str = "graphflow") -> Target:
    """graphflow's median total (with something on: ``watched``) is under ``1 + limit`` times its ``phase``
    median (the same work without it: ``plain``); the note gives both medians and the ratio."""

    def ratio(result):
        on, off = result.median(engine), result.median(engine, phase)
        return None if on is None or not off else on / off

    def check(result):
        r = ratio(result)
        return None if r is None else r < 1 + limit

    def describe(result):
        r = ratio(result)
        if r is None:
            return None
        return (f"{watched} {result.median(engine):.3f} s vs {plain} {result.median(engine, phase):.3f} s "
                f"(medians): x{r:.3f}, {100 * (r - 1):+.1f}%")

    return Target(f"{watched} < +{100 * limit:.0f}%", check, describe)
