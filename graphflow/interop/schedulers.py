"""Foreign clusters as graphflow schedulers: ``scheduler="ray"`` and a ``dask.distributed.Client``.

`register` is called once, by ``graphflow/__init__.py``: it names Ray's
executor ``"ray"`` and adds the adapter that recognises a dask.distributed
``Client`` passed as ``scheduler=``.  Neither dask nor ray is imported here.

    >>> import graphflow as gf
    >>> "ray" in gf.base.known_schedulers()
    True
"""

from __future__ import annotations

import sys

from ..base import register_scheduler, register_scheduler_adapter

__all__ = ["register", "get_ray", "dask_client_scheduler"]


def get_ray(graph, keys, **options):
    """Run the graph as Ray tasks (`graphflow.interop.ray`); ray is imported now, not before."""
    from .ray import get_ray as run

    return run(graph, keys, **options)


def dask_client_scheduler(scheduler):
    """A graphflow ``get`` for a ``dask.distributed.Client``, or None (never imports distributed)."""
    distributed = sys.modules.get("distributed")
    if distributed is None or not isinstance(scheduler, distributed.Client):
        return None
    from .dask import DistributedScheduler

    return DistributedScheduler(scheduler)


def register() -> None:
    """Make ``scheduler="ray"`` and ``scheduler=<dask.distributed.Client>`` work."""
    register_scheduler(get_ray, "ray")
    register_scheduler_adapter(dask_client_scheduler)
