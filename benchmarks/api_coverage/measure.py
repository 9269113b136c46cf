"""One measurement: read the names of some groups, run their marked tests once, count.

    >>> from benchmarks.api_coverage.groups import GROUPS
    >>> m = measure([GROUPS["bag"]], run_tests=False)      # no test run: nothing is proven, so nothing counts
    >>> [(c.title, c.have) for c in m.groups[0].coverages]
    [('Bag', 0), ('module (db.)', 0)]

The marked tests of all the chosen groups run in one pytest process (a test
under ``tests/dataframe`` may name ``da.`` names too); ``tests=`` replaces the
groups' own test paths (the tool's own test points it at one file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .count import Coverage, cover, stray_marks
from .groups import GROUPS, Group, inventory
from .marked import ROOT, MarkedRun, run_marked

__all__ = ["GroupReport", "Measurement", "measure"]


@dataclass
class GroupReport:
    """One group's coverages, a row per sub-group."""

    group: Group
    coverages: list

    @property
    def met(self) -> bool:
        return all(c.met for c in self.coverages)


@dataclass
class Measurement:
    """Everything one run of the tool found."""

    groups: list                                   # [GroupReport]
    run: MarkedRun
    stray: dict = field(default_factory=dict)      # marks naming no sub-group of any group -> [nodeid]


def measure(groups, tests=None, run_tests: bool = True, root: str = ROOT, timeout: float = 1800.0) -> Measurement:
    """Measure ``groups`` (a list of `Group`); ``tests`` overrides their test paths;
    ``run_tests=False`` reads presence only (then nothing counts as tested)."""
    inventories = [[(sub, inventory(sub)) for sub in g.subgroups] for g in groups]
    paths = list(tests) if tests is not None else list(dict.fromkeys(p for g in groups for p in g.tests))
    run = run_marked(paths, timeout=timeout, root=root) if run_tests else MarkedRun(paths=[])
    reports = []
    for group, subs in zip(groups, inventories):
        coverages: list[Coverage] = [
            cover(sub.title, sub.prefix, inv.names, inv.present, run.by_name, inv.excluded, group.target, inv.note)
            for sub, inv in subs]
        reports.append(GroupReport(group, coverages))
    known = {sub.prefix for g in list(GROUPS.values()) + list(groups) for sub in g.subgroups}
    return Measurement(reports, run, stray_marks(run.by_name, known))
