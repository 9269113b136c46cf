"""The client side of a cluster: `Client`, `Future`, `wait`, `as_completed`, actor handles.

`client` is the `Client` (a connection to a scheduler, driven from a
background event loop, `loop`); `futures` are the handles it returns;
`actors` are eager actor handles; `remote` ships functions by value;
`queries` are the client's questions about the cluster.
"""

from .client import Client, default_client
from .futures import Future, as_completed, wait

__all__ = ["Client", "Future", "as_completed", "default_client", "wait"]
