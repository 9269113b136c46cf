"""The counting rules: from names, presence and test outcomes to a sub-group's coverage.

Pure functions over plain data, so the rules are tested without pytest or Dask::

    >>> cov = cover("Series", "Series", names=["Series.a", "Series.b", "Series.c", "Series.d"],
    ...             present={"Series.a", "Series.b", "Series.c"},
    ...             by_name={"Series.a": [("t1", "passed")], "Series.b": [("t2", "passed"), ("t3", "failed")],
    ...                      "Series.d": [("t4", "passed")], "Series.zz": [("t5", "passed")]})
    >>> cov.statuses
    {'Series.a': 'have', 'Series.b': 'failing', 'Series.c': 'untested', 'Series.d': 'absent'}
    >>> cov.have, cov.total, cov.marked_absent, cov.unknown_marks
    (1, 4, {'Series.d': ['t4']}, {'Series.zz': 'Dask has no such name'})

A name counts (``have``) when graphflow has it and at least one test naming
it passed and none failed: a failing comparison is evidence that it does not
work.  Skipped and xfailed tests count neither way.  Present with no passing
test is ``untested``; not present is ``absent`` whatever its tests say (they
are listed in ``marked_absent``: a test that passes without the attribute
tests something else).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["HAVE", "UNTESTED", "FAILING", "ABSENT", "status", "cover", "Coverage", "stray_marks"]

HAVE, UNTESTED, FAILING, ABSENT = "have", "untested", "failing", "absent"


def status(present: bool, outcomes) -> str:
    """One name's status from whether graphflow has it and its tests' outcomes."""
    outcomes = list(outcomes)
    if not present:
        return ABSENT
    if "failed" in outcomes:
        return FAILING
    if "passed" in outcomes:
        return HAVE
    return UNTESTED


@dataclass
class Coverage:
    """One sub-group's row of the report, and its lists."""

    title: str
    prefix: str
    target: float
    statuses: dict                                    # qualified name -> status, sorted by name
    tests: dict = field(default_factory=dict)         # qualified name -> [(nodeid, outcome)]
    marked_absent: dict = field(default_factory=dict)   # absent names some test marks -> [nodeid]
    unknown_marks: dict = field(default_factory=dict)   # marks with our prefix we do not count -> why
    excluded: dict = field(default_factory=dict)        # qualified name -> reason
    note: str | None = None

    def names(self, which: str) -> list:
        """The names with status ``which``."""
        return [n for n, s in self.statuses.items() if s == which]

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def have(self) -> int:
        return len(self.names(HAVE))

    @property
    def present(self) -> int:
        return sum(1 for s in self.statuses.values() if s != ABSENT)

    @property
    def share(self) -> float:
        return self.have / self.total if self.total else 0.0

    @property
    def met(self) -> bool:
        return self.total > 0 and self.share >= self.target


def cover(title: str, prefix: str, names, present, by_name: dict, excluded: dict | None = None,
          target: float = 0.9, note: str | None = None) -> Coverage:
    """Coverage of the counted ``names`` (qualified), given those ``present`` in graphflow and the marked
    tests ``by_name`` (qualified name -> [(nodeid, outcome)], for any group: others' names are ignored)."""
    excluded = dict(excluded or {})
    statuses, tests, marked_absent = {}, {}, {}
    for name in sorted(names):
        runs = by_name.get(name, [])
        statuses[name] = status(name in present, (outcome for _, outcome in runs))
        if runs:
            tests[name] = list(runs)
            if statuses[name] == ABSENT:
                marked_absent[name] = [nodeid for nodeid, _ in runs]
    unknown = {}
    for name in sorted(by_name):
        if name.partition(".")[0] == prefix and name not in statuses:
            unknown[name] = f"excluded: {excluded[name]}" if name in excluded else "Dask has no such name"
    return Coverage(title, prefix, target, statuses, tests, marked_absent, unknown, excluded, note)


def stray_marks(by_name: dict, prefixes) -> dict:
    """Marked names whose prefix belongs to no sub-group (``"Dataframe.x"``): name -> [nodeid]."""
    prefixes = set(prefixes)
    return {name: [nodeid for nodeid, _ in runs] for name, runs in sorted(by_name.items())
            if name.partition(".")[0] not in prefixes or not name.partition(".")[2]}
