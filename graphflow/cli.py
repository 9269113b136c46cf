"""The ``graphflow`` command: ``graphflow demo``, ``graphflow --version``.

``python -m graphflow ...`` is the same command.  The cluster commands
(``graphflow scheduler``, ``graphflow worker``) arrive with the distributed
runtime.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="graphflow", description="A lazy task-graph compute engine.")
    parser.add_argument("--version", action="version", version=f"graphflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="build a real graph, optimize it and compute it on every local scheduler")
    demo.add_argument("--tasks", type=int, default=20_000, help="number of leaf tasks (default 20000)")
    demo.add_argument("--output", default="demo-graph.svg",
                      help="where to draw the small example graph (.dot/.svg/.png; default demo-graph.svg)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``graphflow`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(n_tasks=args.tasks, drawing=args.output)
    _parser().print_help()
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
