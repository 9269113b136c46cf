"""Single-threaded numpy, block by block: the floor the array workloads are held to.

Its cases live with the workloads (`benchmarks.workloads.array.NUMPY_CASES`),
next to graphflow's and dask's versions of the same computation.
"""

from __future__ import annotations

import numpy

from ..model import Engine

__all__ = ["engine"]


def engine() -> Engine:
    """numpy (one thread, a loop over the blocks) as an `Engine`."""
    from ..workloads.array import NUMPY_CASES

    return Engine("numpy", numpy.__version__, dict(NUMPY_CASES), "import numpy")
