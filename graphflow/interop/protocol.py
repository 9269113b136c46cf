"""Dask's collection protocol on graphflow's collections, and ``gf.dask_get``.

`DaskCollection` is a base class of `graphflow.delayed.Delayed`,
`graphflow.array.Array` and the dataframe collections: it answers Dask's
``__dask_graph__``, ``__dask_keys__``, ``__dask_postcompute__`` ... from
graphflow's own protocol, so ``dask.compute(gf_array)``, ``dask.persist`` and
``dask.delayed(f)(gf_array)`` work.  Nothing here imports dask: the methods
that need it load `graphflow.interop.dask` when Dask calls them.
"""

from __future__ import annotations

from ..spec import tokenize

__all__ = ["DaskCollection", "dask_get"]


def dask_get(dsk, keys, **kwargs):
    """A Dask scheduler function that runs Dask graphs on graphflow's threads.

    ``dask.compute(x, scheduler=gf.dask_get)``; see `graphflow.interop.dask.dask_get`
    for the options.  Dask is imported on the first call, not before.
    """
    from .dask import dask_get as run

    return run(dsk, keys, **kwargs)


def _dask_optimize(dsk, keys, **kwargs):
    return dsk  # graphflow's optimizer runs inside gf.dask_get; Dask's own schedulers run the graph as is


def _dask_rebuild(dsk, collection, rename=None):
    from .dask import rebuild_persisted

    return rebuild_persisted(dsk, collection, rename)


class DaskCollection:
    """Dask's collection protocol on top of graphflow's, so Dask functions accept graphflow collections.

    ``dask.compute(x)`` runs on graphflow's threads (through ``gf.dask_get``)
    unless Dask is told another scheduler; ``dask.persist``, ``dask.delayed(f)(x)``
    and ``dask.base.tokenize(x)`` work too.  Nothing here imports dask.
    """

    __slots__ = ()

    __dask_scheduler__ = staticmethod(dask_get)
    __dask_optimize__ = staticmethod(_dask_optimize)

    def __dask_graph__(self):
        from .dask import collection_graph

        return collection_graph(self)

    @property
    def dask(self) -> dict:
        """The Dask graph, as Dask's collections have it (Dask reads ``.dask`` before ``__dask_graph__``)."""
        return self.__dask_graph__()

    def __dask_keys__(self):
        return self.__graphflow_keys__()

    def __dask_postcompute__(self):
        return self.__graphflow_finalize__()

    def __dask_postpersist__(self):
        return _dask_rebuild, (self,)

    def __dask_tokenize__(self):
        return ("graphflow", type(self).__qualname__, tokenize(self))
