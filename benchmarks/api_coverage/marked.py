"""Running the ``api``-marked tests: pytest in a child process, with `plugin` recording the outcomes.

    run = run_marked(["tests/dataframe"])
    run.by_name["Series.isin"]   # [("tests/dataframe/test_api_marked.py::test_isin...", "passed")]

The child is ``python -m pytest -m api -p benchmarks.api_coverage.plugin``
over the given paths, from the repository root, so the project's pytest
settings (setup.cfg: timeouts, strict markers) hold.  A test module that fails
to import does not stop the others (``--continue-on-collection-errors``);
it is listed in ``collection_errors``.  pytest's own output is kept in
``output`` for when the run goes wrong (exit status other than 0, 1 or 5:
5 is "no marked tests").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

__all__ = ["MarkedRun", "run_marked", "ROOT"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class MarkedRun:
    """What the marked tests said: by Dask name, the tests naming it and their outcomes."""

    paths: list
    by_name: dict = field(default_factory=dict)     # "Series.isin" -> [(nodeid, outcome)]
    tests: int = 0
    outcomes: dict = field(default_factory=dict)    # outcome -> number of tests
    collection_errors: list = field(default_factory=list)
    problem: str | None = None                      # why the run itself went wrong, with pytest's output
    output: str = ""


def run_marked(paths, timeout: float = 1800.0, root: str = ROOT) -> MarkedRun:
    """Run the ``api``-marked tests under ``paths`` (relative to ``root`` or absolute) and read them."""
    existing = [p for p in paths if os.path.exists(os.path.join(root, p))]
    run = MarkedRun(paths=existing)
    if not existing:
        return run
    with tempfile.TemporaryDirectory(prefix="gf-api-coverage-") as tmp:
        record = os.path.join(tmp, "record.json")
        cmd = [sys.executable, "-m", "pytest", "-q", "-m", "api", "-p", "benchmarks.api_coverage.plugin",
               "--api-record", record, "-p", "no:cacheprovider", "--continue-on-collection-errors", *existing]
        try:
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            run.problem = f"the marked tests did not finish within {timeout:.0f} s: {' '.join(cmd)}"
            out = e.stdout or ""  # bytes even with text=True on some Pythons
            run.output = out.decode(errors="replace") if isinstance(out, bytes) else out
            return run
        run.output = proc.stdout + proc.stderr
        if not os.path.exists(record):
            run.problem = f"pytest exited with status {proc.returncode} before writing its record: {' '.join(cmd)}"
            return run
        with open(record) as f:
            data = json.load(f)
    if proc.returncode not in (0, 1, 5):
        run.problem = f"pytest exited with status {proc.returncode}: {' '.join(cmd)}"
    run.collection_errors = data["collection_errors"]
    for test in data["tests"]:
        run.tests += 1
        run.outcomes[test["outcome"]] = run.outcomes.get(test["outcome"], 0) + 1
        for name in test["names"]:
            run.by_name.setdefault(name, []).append((test["nodeid"], test["outcome"]))
    return run
