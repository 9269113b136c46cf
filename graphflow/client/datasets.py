"""Published datasets: named results kept on the cluster for any client, as dask.distributed's.

``client.publish_dataset(df=persisted_df)`` stores the object under a name
in the scheduler and keeps the results its futures name in memory, even after
the publishing client leaves; another client's ``get_dataset("df")`` gets an
equal object whose futures are its own.  ``client.datasets`` is the same as a
mapping.

What travels: the object, pickled with every `Future` inside it replaced by a
marker holding its key (a future cannot be pickled); `get_dataset` puts a
future of the asking client in place of each marker.  The futures may sit in
lists, tuples, dicts and sets, or be a persisted collection's (its graph's
`DataNode` values).

    >>> with gf.Client() as a, gf.Client(a.scheduler_address) as b:    # doctest: +SKIP
    ...     a.publish_dataset(x=a.submit(sum, [1, 2]))
    ...     b.get_dataset("x").result(), b.list_datasets()
    (3, ['x'])
"""

from __future__ import annotations

import pickle
from collections.abc import MutableMapping

from ..comm import messages as wire
from ..spec import DataNode, TaskGraph
from ..spec.collections import is_collection
from ..utils.pickling import dumps
from ..utils.traverse import rebuild
from .futures import Future, futures_of

__all__ = ["PublishedDatasets", "Datasets"]


class _Key:
    """Where a Future stood in a published object: the key it named."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __reduce__(self):
        return (_Key, (self.key,))


class PublishedDatasets:
    """The dataset methods of `graphflow.client.Client` (see the module docstring)."""

    def publish_dataset(self, *args, name=None, override: bool = False, **kwargs) -> None:
        """Publish ``name=value`` pairs (or one ``value`` with ``name=``); ``override`` replaces a published one."""
        if args:
            if name is None or len(args) != 1:
                raise TypeError("publish_dataset takes name=value pairs, or one value and name=...")
            kwargs[name] = args[0]
        for dataset_name, value in kwargs.items():
            keys = [f.key for f in futures_of(value)]
            self.ask(wire.DatasetRequest("publish", dataset_name, dumps(_to_markers(value)), keys, override))

    def get_dataset(self, name, default=KeyError):
        """The object published as ``name``, with this client's futures in it; ``default`` if there is none
        (`KeyError` naming the published datasets when no default is given)."""
        try:
            value, keys = self.ask(wire.DatasetRequest("get", name))
        except KeyError:
            if default is KeyError:
                raise
            return default
        futures = {k: Future(k, self) for k in keys}
        if keys:  # only now: a report arriving before its future exists would be dropped
            self.ask(wire.DatasetRequest("want", name, keys=list(keys)))
        return _from_markers(pickle.loads(value), futures)

    def list_datasets(self) -> list:
        """The names of the published datasets."""
        return self.ask(wire.DatasetRequest("list"))

    def unpublish_dataset(self, name) -> None:
        """Remove dataset ``name``; its results are freed unless a client still holds futures to them."""
        self.ask(wire.DatasetRequest("delete", name))

    @property
    def datasets(self) -> "Datasets":
        """The published datasets as a mutable mapping: ``client.datasets["x"] = fut``, ``del ...``."""
        return Datasets(self)


class Datasets(MutableMapping):
    """``client.datasets``: published datasets as a mapping (see `PublishedDatasets`)."""

    def __init__(self, client):
        self.client = client

    def __getitem__(self, name):
        return self.client.get_dataset(name)

    def __setitem__(self, name, value):
        self.client.publish_dataset(value, name=name, override=True)

    def __delitem__(self, name):
        self.client.unpublish_dataset(name)

    def __iter__(self):
        return iter(self.client.list_datasets())

    def __len__(self):
        return len(self.client.list_datasets())


def _to_markers(obj):
    if is_collection(obj):
        graph = obj.__graphflow_graph__()
        nodes = {k: DataNode(k, _Key(n.value.key)) if type(n) is DataNode and isinstance(n.value, Future) else n
                 for k, n in graph.items()}
        return obj.__graphflow_rebuild__(TaskGraph.adopt(nodes))
    return rebuild(obj, lambda x: isinstance(x, Future), lambda f: _Key(f.key))


def _from_markers(obj, futures: dict):
    if is_collection(obj):
        graph = obj.__graphflow_graph__()
        nodes = {k: DataNode(k, futures[n.value.key]) if type(n) is DataNode and isinstance(n.value, _Key) else n
                 for k, n in graph.items()}
        return obj.__graphflow_rebuild__(TaskGraph.adopt(nodes))
    return rebuild(obj, lambda x: isinstance(x, _Key), lambda m: futures[m.key])
