"""Command line: ``python -m benchmarks.api_coverage GROUP... [--json [FILE]] [--tests PATH...]``.

    python -m benchmarks.api_coverage dataframe            # table, missing names; runs the marked tests
    python -m benchmarks.api_coverage all --json           # every group, as JSON on stdout
    python -m benchmarks.api_coverage array --json out.json    # the text on stdout, the JSON in out.json
    python -m benchmarks.api_coverage dataframe --tests tests/dataframe/test_api_marked.py
    python -m benchmarks.api_coverage dataframe --no-tests # presence only: nothing counts as tested
    python -m benchmarks.api_coverage dataframe --excluded # also the names left out, with reasons

Exit status: 0 whatever the coverage (it is a report); 1 if Dask is not
installed (nothing to compare with); 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from .groups import GROUPS, DaskMissing
from .measure import measure
from .report import format_text, to_json


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.api_coverage",
        description="Which of Dask's public names graphflow has: present and passing a marked comparison test.")
    p.add_argument("groups", nargs="+", metavar="GROUP", help=f"'all' or any of: {', '.join(GROUPS)}")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="the report as JSON: on stdout instead of the text, or into FILE beside it")
    p.add_argument("--tests", nargs="+", metavar="PATH",
                   help="run the marked tests under these paths instead of the groups' own test directories")
    p.add_argument("--no-tests", action="store_true", help="do not run the tests: presence only")
    p.add_argument("--excluded", action="store_true", help="list the names left out of the count, with reasons")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds for the test run (default 1800)")
    return p


def main(argv=None) -> int:
    """Run the report; see the module docstring for the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    names = list(GROUPS) if "all" in args.groups else args.groups
    unknown = [g for g in names if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)}; choose from all, {', '.join(GROUPS)}")
    print(f"api_coverage: reading {', '.join(names)} and running their marked tests...", file=sys.stderr)
    try:
        m = measure([GROUPS[g] for g in dict.fromkeys(names)], tests=args.tests, run_tests=not args.no_tests,
                    timeout=args.timeout)
    except DaskMissing as e:
        print(f"api_coverage: {e}", file=sys.stderr)
        return 1
    if args.json == "-":
        json.dump(to_json(m), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(format_text(m, excluded=args.excluded))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_json(m), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
