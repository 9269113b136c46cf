"""The child process of `benchmarks.probe.peak_rss`: one engine's ``graph_phases`` case, its peak RSS growth.

    python -m benchmarks.probe_child peak-rss dask '{"leaves": 2000, "fan_in": 8}'

prints ``{"total": peak - baseline, "baseline": baseline}`` in bytes as JSON
(see `benchmarks.probe` for how).  It finds the engine by name
(`benchmarks.engines`), which imports the workloads; that is why this entry
point is a module of its own, above them, and not part of `benchmarks.probe`,
which the workloads import.
"""

from __future__ import annotations

import json
import sys

from .engines import load_engine
from .probe import peak_growth

__all__ = ["main"]


def _peak_rss_child(engine_name: str, params: dict) -> dict:
    case = load_engine(engine_name).cases["graph_phases"]
    return peak_growth(case, params)


def main(argv=None) -> int:
    """Child entry point: ``peak-rss ENGINE PARAMS_JSON``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] != "peak-rss":
        print("usage: python -m benchmarks.probe_child peak-rss ENGINE PARAMS_JSON", file=sys.stderr)
        return 2
    print(json.dumps(_peak_rss_child(argv[1], json.loads(argv[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
