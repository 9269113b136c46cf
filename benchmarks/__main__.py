"""Command line: ``python -m benchmarks <workload>... [--vs dask] [--repeat N] [--quick]``.

``python -m benchmarks tpch [--sf 1] [--queries 1,3]`` is its own command: TPC-H on graphflow,
dask, DuckDB and Polars (`benchmarks.tpch.run`; ``tpch --help`` for its options).

Parses the arguments, finds the engines (graphflow, plus each ``--vs`` anchor
that is installed; without ``--vs``, the anchors the chosen workloads name:
dask for the local ones, distributed and ray for the cluster ones), runs the
workloads (`benchmarks.runner`) and prints the table, the per-phase medians
and notes (`benchmarks.report`).  Progress goes to stderr, so
``> results.txt`` keeps only the report.

Exit status: 0; 1 if a graphflow case failed, or with ``--check`` if a target
was missed; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import anchors, report, runner
from .catalog import GROUPS, WORKLOADS
from .engines import SUBJECT, load_engine


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run graphflow and an anchor engine on the same workloads and compare. "
                    "TPC-H: python -m benchmarks tpch --help.",
    )
    p.add_argument("workloads", nargs="*", metavar="workload",
                   help=f"'all', a group ({', '.join(GROUPS)}) or any of: {', '.join(WORKLOADS)}")
    p.add_argument("--vs", action="append", metavar="ANCHOR",
                   help=f"anchor to compare with ({', '.join(anchors.ANCHORS)}, or 'none'); "
                        f"repeatable; default: the workloads' own (dask for local workloads, "
                        f"distributed and ray for the dist ones)")
    p.add_argument("--repeat", type=int, metavar="N",
                   help="timed runs per engine (default: per workload, 5 or fewer for slow ones)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and one run each: checks the runner end to end in seconds")
    p.add_argument("--in-process", action="store_true",
                   help="run every engine in this process instead of a fresh worker per engine "
                        "and workload (for profiling; engines then slow each other down)")
    p.add_argument("--timeout", type=float, default=1800, metavar="SECONDS",
                   help="a sample that runs longer fails and its worker (and cluster) is killed "
                        "(default: 1800; 0: no limit)")
    p.add_argument("--json", metavar="PATH", help="also write every sample to PATH as JSON")
    p.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p


def _select(names: list, parser) -> list:
    if not names:
        parser.error("name at least one workload, or 'all' (see --list)")
    if "all" in names:
        return list(WORKLOADS.values())
    expanded = [m for n in names for m in GROUPS.get(n, [n])]
    unknown = [n for n in expanded if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from: all, {', '.join(GROUPS)}, "
                     f"{', '.join(WORKLOADS)}")
    return [WORKLOADS[n] for n in dict.fromkeys(expanded)]


def _anchor_names(vs, parser, workloads) -> list:
    names = []
    default = list(dict.fromkeys(a for w in workloads for a in w.anchors))
    for item in vs or default:
        names += [n.strip() for n in item.split(",") if n.strip()]
    if "none" in names:
        return []
    unknown = [n for n in names if n not in anchors.ANCHORS]
    if unknown:
        parser.error(f"unknown anchor(s) {unknown}; known: {', '.join(anchors.ANCHORS)}")
    return list(dict.fromkeys(names))


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["tpch"]:
        from .tpch import run as tpch

        return tpch.main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:<14} {w.summary}")
        for name, members in GROUPS.items():
            print(f"{name:<14} group: {' '.join(members)}")
        return 0
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    workloads = _select(args.workloads, parser)
    anchor_names = _anchor_names(args.vs, parser, workloads)

    engines = [load_engine(SUBJECT)]
    missing = {}
    for name in anchor_names:
        reason = anchors.missing_reason(name)
        if reason is None:
            engines.append(load_engine(name))
        else:
            missing[name] = f"missing: {reason}"
            _log(f"{name} is missing: {reason}; showing graphflow numbers only")
    versions = {e.name: e.version for e in engines}
    versions.update((name, "MISSING") for name in missing)

    results = runner.run_all(workloads, engines, missing, repeat=args.repeat, quick=args.quick,
                             in_process=args.in_process, log=_log, timeout=args.timeout or None)

    print(report.format_header(versions, args.quick, any(w.session for w in workloads)))
    print()
    print(report.format_table(results, anchor_names))
    phases = report.format_phases(results)
    if phases:
        print("\nphases (medians):")
        print(phases)
    notes = report.format_notes(results)
    if notes:
        print("\nnotes:")
        print(notes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_json(results, versions, args.quick), f, indent=1)

    if any(r.skipped.get(SUBJECT, "").startswith("FAILED") or r.failures.get(SUBJECT) for r in results):
        return 1
    if args.check and any(r.verdict() is False for r in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
