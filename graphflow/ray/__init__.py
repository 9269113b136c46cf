"""Ray Core's API on graphflow: ``import graphflow.ray as ray`` runs Ray programs unchanged.

    >>> import graphflow.ray as ray
    >>> @ray.remote
    ... def square(x):
    ...     return x * x
    >>> ray.init(num_cpus=2)                                   # doctest: +SKIP
    >>> ray.get([square.remote(i) for i in range(4)])          # doctest: +SKIP
    [0, 1, 4, 9]

The pieces: `session` (``init``, ``shutdown``, resources, nodes: a local
one-node cluster or a running graphflow scheduler), `objects` (`ObjectRef`,
``get``, ``put``, ``wait``, ``cancel``), `calls` (how top-level refs among
arguments are resolved, and calls wait for actor results without blocking),
`remote_function` (``@ray.remote`` functions as graphflow tasks), `actors`
(``@ray.remote`` classes on graphflow's eager actors, named and detached
actors, ``get_actor``, ``kill``) and `exceptions` (Ray's error classes).
"""

from __future__ import annotations

import inspect

from . import exceptions
from .actors import ActorClass, ActorHandle, get_actor, kill
from .exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError, TaskCancelledError
from .objects import ObjectRef, cancel, get, put, wait
from .remote_function import RemoteFunction
from .session import available_resources, cluster_resources, init, is_initialized, nodes, shutdown

__all__ = [
    "init", "shutdown", "is_initialized", "remote", "get", "put", "wait", "cancel", "kill", "get_actor",
    "available_resources", "cluster_resources", "nodes", "ObjectRef", "ActorClass", "ActorHandle",
    "RemoteFunction", "exceptions", "GetTimeoutError", "RayError", "RayTaskError", "RayActorError",
    "TaskCancelledError",
]


def remote(*args, **options):
    """``@ray.remote`` or ``@ray.remote(num_cpus=1, num_returns=2, ...)`` on a function or a class."""
    if len(args) == 1 and not options and (inspect.isclass(args[0]) or callable(args[0])):
        return _make_remote(args[0], {})
    if args:
        raise TypeError("@ray.remote takes a function or class, or only keyword options: @ray.remote(num_cpus=1)")
    return lambda target: _make_remote(target, options)


def _make_remote(target, options: dict):
    if inspect.isclass(target):
        return ActorClass(target, options)
    if not callable(target):
        raise TypeError(f"@ray.remote applies to a function or a class, not {type(target).__name__}")
    return RemoteFunction(target, options)
