"""``@ray.remote`` functions: ``f.remote(*args)`` submits one graphflow task and returns its ObjectRef.

    >>> import graphflow.ray as ray
    >>> @ray.remote(num_returns=2)
    ... def divmod_(a, b):
    ...     return a // b, a % b
    >>> divmod_.options(num_cpus=1).remote      # doctest: +ELLIPSIS
    <bound method RemoteFunction.remote of <ray.remote function divmod_...>>

Each call is one task with a fresh key (Ray's tasks are not pure: two calls
run twice).  ``num_returns=n`` adds n small tasks that pick the items of the
result (a result of another length fails them with a `ValueError`);
``num_cpus``, ``num_gpus`` and ``resources`` become the task's resource
request (`graphflow.ray.session` says when); ``max_retries`` reruns a task
that raised only with ``retry_exceptions=True`` (graphflow recomputes tasks
lost with their worker anyway); ``name`` names the key.
"""

from __future__ import annotations

import itertools
import uuid

from ..client.futures import futures_to_refs
from ..spec import Ref, Task, funcname
from . import session
from .calls import call

__all__ = ["RemoteFunction", "TASK_OPTIONS", "resource_request", "check_options"]

TASK_OPTIONS = frozenset({
    "num_cpus", "num_gpus", "resources", "memory", "max_retries", "retry_exceptions", "num_returns", "name",
    "scheduling_strategy", "runtime_env", "accelerator_type", "max_calls", "placement_group",
    "placement_group_bundle_index", "placement_group_capture_child_tasks", "label_selector", "enable_task_events",
    "_metadata",
})

_prefix = uuid.uuid4().hex[:10]
_counter = itertools.count()


def check_options(options: dict, allowed: frozenset, what: str) -> dict:
    """``options`` if every name is one of ``allowed``; else TypeError naming the unknown ones."""
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"{what} got unknown options {unknown}; valid ones are {sorted(allowed)}")
    return options


def resource_request(options: dict) -> dict | None:
    """The graphflow resource request of Ray's ``num_cpus`` / ``num_gpus`` / ``resources`` options (None: none)."""
    request = {}
    cpus = options.get("num_cpus")
    if cpus and session.wants_cpu_resource():
        request["CPU"] = float(cpus)
    if options.get("num_gpus"):
        request["GPU"] = float(options["num_gpus"])
    for name, amount in (options.get("resources") or {}).items():
        if name in ("CPU", "GPU"):
            raise ValueError(f"use num_cpus/num_gpus, not resources={{{name!r}: ...}}")
        if amount:
            request[name] = float(amount)
    return request or None


class RemoteFunction:
    """A function made remote: ``.remote(*args, **kwargs)`` runs it on the cluster; ``.options(...)`` varies it."""

    def __init__(self, func, options: dict | None = None):
        self._function = func
        self._options = check_options(dict(options or {}), TASK_OPTIONS, "@ray.remote")
        n = self._options.get("num_returns", 1)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"num_returns must be a whole number >= 1, not {n!r}")
        self.__name__ = getattr(func, "__name__", "remote_function")
        self.__doc__ = getattr(func, "__doc__", None)

    def options(self, **options) -> "RemoteFunction":
        """A copy with these options changed (Ray's task options: num_cpus, num_returns, max_retries, ...)."""
        changed = check_options(options, TASK_OPTIONS, ".options()")
        return RemoteFunction(self._function, {**self._options, **changed})

    def remote(self, *args, **kwargs):
        """Submit one call; returns an ObjectRef (a list of ``num_returns`` of them when that is above 1)."""
        options = self._options
        n = options.get("num_returns", 1)
        client = session.client()
        key = f"{options.get('name') or funcname(self._function)}-{_prefix}{next(_counter):x}"
        resources = resource_request(options)
        retries = options.get("max_retries") if options.get("retry_exceptions") else None
        if retries is not None and retries < 0:
            retries = 1_000_000  # Ray's -1: retry without end
        func = self._function

        def submit(args2, kwargs2):
            specs = {key: Task.from_call(key, func, futures_to_refs(args2, client), futures_to_refs(kwargs2, client))}
            wanted = [key] if n == 1 else [f"{key}-{i}" for i in range(n)]
            if n > 1:
                for i, item in enumerate(wanted):
                    specs[item] = Task(item, pick_item, Ref(key), i, n)
            futures = client.submit_graph(
                specs, wanted, None, {k: retries for k in specs} if retries else None, None,
                {k: resources for k in specs} if resources else None)
            return [futures[k] for k in wanted]

        refs = call(args, kwargs, n, submit)
        return refs[0] if n == 1 else refs

    def __call__(self, *args, **kwargs):
        raise TypeError(f"remote function {self.__name__!r} cannot be called directly: use "
                        f"{self.__name__}.remote(...) (and ray.get on the result)")

    def __repr__(self):
        return f"<ray.remote function {self.__name__} {id(self):#x}>"


def pick_item(value, i: int, n: int):
    """Item ``i`` of a task's result declared with ``num_returns=n``."""
    try:
        count = len(value)
    except TypeError:
        count = None
    if count != n:
        raise ValueError(f"the task was declared with num_returns={n} but returned "
                         f"{'a ' + type(value).__name__ if count is None else f'{count} values'}")
    return value[i]
