"""Bags to other collections: `to_delayed` (and an Item's), and `to_dataframe` through `graphflow.dataframe`.

``to_delayed`` gives one `Delayed` per partition, all sharing one graph (optimized by default, as
in Dask, so a fused chain stays one task per partition).

``to_dataframe`` is an extension point rather than an import: `graphflow.dataframe` sits above
`graphflow.bag` in the layers (it builds bags in ``to_bag``), so this module may not import it.  It
names the function that does the work, ``graphflow.dataframe.from_bag:bag_to_dataframe``, and loads it
on the first call (`graphflow.utils.importing.import_object`), the way settings name classes: a
user who never calls ``to_dataframe`` never imports pandas.

    >>> import graphflow.bag as db
    >>> parts = db.from_sequence([1, 2, 3], npartitions=2).map(lambda x: x * 10).to_delayed()
    >>> [d.compute(scheduler="sync") for d in parts]
    [[10, 20], [30]]
"""

from __future__ import annotations

from ..delayed import Delayed
from ..optimize import optimize_graph
from ..spec import TaskGraph
from ..utils.importing import import_object
from .core import Bag, Item, collect

__all__ = ["to_delayed", "item_to_delayed", "to_dataframe", "FRAME_BUILDER"]

# The function (bag, meta, columns, optimize_graph) -> DataFrame, named, so this layer never imports it.
FRAME_BUILDER = "graphflow.dataframe.from_bag:bag_to_dataframe"


def _graph(collection, keys, optimize: bool) -> TaskGraph:
    graph = TaskGraph.adopt(collect([collection]))
    return optimize_graph(graph, keys) if optimize else graph


def to_delayed(bag: Bag, optimize_graph: bool = True) -> list:
    """One Delayed per partition of ``bag``, computing that partition's list."""
    keys = bag.keys()
    graph = _graph(bag, keys, optimize_graph)
    return [Delayed(k, graph) for k in keys]


def item_to_delayed(item: Item, optimize_graph: bool = True) -> Delayed:
    """The Item's value as a Delayed."""
    return Delayed(item.key, _graph(item, [item.key], optimize_graph))


def to_dataframe(bag: Bag, meta=None, columns=None, optimize_graph: bool = True):
    """A `graphflow.dataframe.DataFrame` with a partition per partition of ``bag``; see the module docstring."""
    return import_object(FRAME_BUILDER)(bag, meta, columns, optimize_graph)
