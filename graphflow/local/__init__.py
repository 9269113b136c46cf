"""Local executors: run a graph in this process (sync, threads) or on a pool of local processes.

`executors` holds the three ``get(graph, keys, **options)`` functions and the
`ExecutionPlan` they share; `pool` keeps the worker processes of
``scheduler="processes"`` and `child` is the program each of them runs;
`callbacks` is the seam progress bars hook into.
"""

from .executors import ExecutionPlan, default_num_workers, get_processes, get_sync, get_threads

__all__ = ["ExecutionPlan", "default_num_workers", "get_processes", "get_sync", "get_threads"]
