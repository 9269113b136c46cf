"""The coverage report as text (a table per group, then the lists) and as JSON.

The table, one row per sub-group::

    sub-group       have  total       %  present  untested  failing  90%
    DataFrame          2    155    1.3%       40        38        0  not met

``have`` counts the names graphflow has *and* a passing comparison test
names; ``present`` the names graphflow has at all; ``untested`` and
``failing`` split the difference.  Below the table: per sub-group the names
graphflow lacks, those present but untested, failing ones with their tests,
marks naming absent or unknown names, and (``excluded=True``) the names left
out of the count with their reasons.
"""

from __future__ import annotations

import textwrap

from .count import ABSENT, FAILING, HAVE, UNTESTED
from .groups import dask_version

__all__ = ["format_text", "to_json"]

_WIDTH = 100


def _bare(names, prefix):
    return [n[len(prefix) + 1:] for n in names]


def _wrapped(title: str, names) -> list:
    names = list(names)
    if not names:
        return []
    body = textwrap.fill(" ".join(names), width=_WIDTH, initial_indent="    ", subsequent_indent="    ",
                         break_on_hyphens=False)
    return [f"  {title} ({len(names)}):", body]


def _header(m) -> list:
    import graphflow

    run = m.run
    lines = [f"API coverage of graphflow {graphflow.__version__} against dask {dask_version() or '(not installed)'}"]
    if not run.paths:
        lines.append("marked tests: none run")
    else:
        counts = ", ".join(f"{n} {o}" for o, n in sorted(run.outcomes.items())) or "none found"
        lines.append(f"marked tests in {', '.join(run.paths)}: {run.tests} ({counts})")
    for path in run.collection_errors:
        lines.append(f"  could not collect {path} (its marked tests did not run)")
    if run.problem:
        lines.append(f"  PROBLEM: {run.problem}")
        lines += ["    " + line for line in run.output.strip().splitlines()[-15:]]
    return lines


def _table(report) -> list:
    target = report.group.target
    head = f"  {'sub-group':<16}{'have':>6}{'total':>7}{'%':>8}{'present':>9}{'untested':>10}{'failing':>9}" \
           f"  {target:.0%}"
    rows = [head]
    for c in report.coverages:
        rows.append(f"  {c.title:<16}{c.have:>6}{c.total:>7}{c.share:>8.1%}{c.present:>9}"
                    f"{len(c.names(UNTESTED)):>10}{len(c.names(FAILING)):>9}  {'met' if c.met else 'not met'}")
    verdict = "met" if report.met else "not met: " + ", ".join(
        f"{c.title} {c.share:.1%}" for c in report.coverages if not c.met)
    rows.append(f"  target {target:.0%} of each sub-group: {verdict}")
    return rows


def _lists(c, excluded: bool) -> list:
    p = c.prefix
    lines = [f"{c.title}:"]
    if c.note:
        lines.append(f"  note: {c.note}")
    lines += _wrapped("missing", _bare(c.names(ABSENT), p))
    lines += _wrapped("present but no passing marked test", _bare(c.names(UNTESTED), p))
    for name in c.names(FAILING):
        failed = [nodeid for nodeid, outcome in c.tests[name] if outcome == "failed"]
        lines.append(f"  failing: {name} ({', '.join(failed)})")
    for name, nodeids in c.marked_absent.items():
        lines.append(f"  marked but missing on graphflow: {name} ({', '.join(nodeids)})")
    for name, why in c.unknown_marks.items():
        lines.append(f"  marked but not counted: {name} ({why})")
    if excluded:
        lines += [f"  excluded: {name}: {why}" for name, why in sorted(c.excluded.items())]
    elif c.excluded:
        lines.append(f"  excluded from the count: {len(c.excluded)} names (--excluded lists them with reasons)")
    return lines if len(lines) > 1 else lines + ["  nothing missing"]


def format_text(m, excluded: bool = False) -> str:
    """The whole report of a `measure.Measurement` as text."""
    lines = _header(m)
    for report in m.groups:
        lines += ["", f"{report.group.name}", *_table(report)]
    for report in m.groups:
        for c in report.coverages:
            lines += [""] + _lists(c, excluded)
    for name, nodeids in m.stray.items():
        lines.append(f"marked with no known prefix: {name} ({', '.join(nodeids)})")
    return "\n".join(lines) + "\n"


def _coverage_json(c) -> dict:
    return {
        "title": c.title, "prefix": c.prefix, "have": c.have, "total": c.total, "present": c.present,
        "percent": round(100 * c.share, 2), "target_percent": round(100 * c.target, 2), "met": c.met,
        "names": {s: c.names(s) for s in (HAVE, UNTESTED, FAILING, ABSENT)},
        "tests": {name: [{"nodeid": n, "outcome": o} for n, o in runs] for name, runs in c.tests.items()},
        "marked_absent": c.marked_absent, "unknown_marks": c.unknown_marks, "excluded": c.excluded,
        "note": c.note,
    }


def to_json(m) -> dict:
    """The report as plain data: per group, per sub-group, the counts and every list."""
    import graphflow

    run = m.run
    return {
        "graphflow": graphflow.__version__, "dask": dask_version(),
        "tests": {"paths": run.paths, "count": run.tests, "outcomes": run.outcomes,
                  "collection_errors": run.collection_errors, "problem": run.problem},
        "groups": {r.group.name: {"met": r.met, "subgroups": [_coverage_json(c) for c in r.coverages]}
                   for r in m.groups},
        "stray_marks": m.stray,
    }
