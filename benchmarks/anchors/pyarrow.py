"""Single-threaded pyarrow on the whole table: the floor the dataframe workloads are held to.

Its cases live with the workloads (`benchmarks.workloads.dataframe.PYARROW_CASES`),
next to graphflow's and dask's versions of the same query.
"""

from __future__ import annotations

import pyarrow

from ..model import Engine

__all__ = ["engine"]


def engine() -> Engine:
    """pyarrow (one thread, one table) as an `Engine`."""
    from ..workloads.dataframe import PYARROW_CASES

    return Engine("pyarrow", pyarrow.__version__, dict(PYARROW_CASES), "import pyarrow")
