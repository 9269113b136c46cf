"""The client side of a cluster: `Client`, `Future`, `wait`, `as_completed`, actor handles.

`client` is the `Client` (a connection to a scheduler, driven from a
background event loop, `loop`); `futures` are the handles it returns;
`actors` are eager actor handles; `remote` ships functions by value;
`admin` its cluster-wide methods (run, restart, plugins, versions),
`datasets` published datasets, `metadata` the scheduler's metadata and event
logs, `executor` a concurrent.futures view, `coordination` the primitives
the scheduler keeps (Lock, Semaphore, Event, Queue, Variable); `session` is
its connection to the scheduler, `transfer` to workers, `refs` the keys its
futures hold, `current` which client a call without one uses, `in_task` the
client and worker a task running on a worker reaches.
"""

from .admin import SchedulerPlugin, WorkerPlugin
from .client import Client
from .coordination import Event, Lock, Queue, Semaphore, Variable
from .current import default_client, set_client_class
from .futures import (
    ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, DoneAndNotDoneFutures, Future, as_completed, fire_and_forget,
    futures_of, wait,
)
from .placement import annotate
from .in_task import get_client, get_worker, rejoin, secede, worker_client

set_client_class(Client)  # actor handles in a task open a Client through graphflow.client.current

__all__ = ["Client", "Future", "annotate", "as_completed", "default_client", "futures_of", "wait", "fire_and_forget",
           "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION", "DoneAndNotDoneFutures", "Lock", "Semaphore",
           "Event", "Queue", "Variable", "WorkerPlugin", "SchedulerPlugin", "get_client", "get_worker", "rejoin",
           "secede", "worker_client"]
