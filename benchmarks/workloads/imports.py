"""``import graphflow`` time in a fresh interpreter, beside ``import dask``.

Each sample is a new ``python -c`` process timing just the import statement
(interpreter start-up excluded).  The warm-up sample fills the OS file cache
and writes bytecode caches, so the samples measure a user's second-and-later
start-up.  graphflow promises to load numpy, pyarrow, zmq and tornado only
when something needs them.
"""

from __future__ import annotations

import functools

from .. import probe
from ..model import Engine, Workload
from ..targets import value_below

KIND = "import_time"


def case_for(engine: Engine):
    """A case timing ``engine.import_statement`` in a child process."""
    return functools.partial(_run, engine.import_statement)


def _run(statement: str, params) -> dict:
    return probe.import_seconds(statement)


WORKLOADS = [
    Workload(
        name="import",
        summary="`import graphflow` vs `import dask`, fresh process each",
        kind=KIND,
        params={},
        quick_params={},
        repeat=7,
        target=value_below(0.3, "s"),
        isolate=False,  # each sample is a fresh process already
        case_for=case_for,
    ),
]
