"""The client side of a cluster: `Client`, `Future`, `wait`, `as_completed`, actor handles.

`client` is the `Client` (a connection to a scheduler, driven from a
background event loop, `loop`); `futures` are the handles it returns;
`actors` are eager actor handles; `remote` ships functions by value;
`session` is its connection to the scheduler, `transfer` to workers, `refs`
the keys its futures hold, `current` which client a call without one uses,
`in_task` the client and worker a task running on a worker reaches.
"""

from .client import Client
from .current import default_client, set_client_class
from .futures import Future, as_completed, futures_of, wait
from .in_task import get_client, get_worker, rejoin, secede, worker_client
from .placement import annotate

set_client_class(Client)  # actor handles in a task open a Client through graphflow.client.current

__all__ = ["Client", "Future", "annotate", "as_completed", "default_client", "futures_of", "get_client",
           "get_worker", "rejoin", "secede", "wait", "worker_client"]
