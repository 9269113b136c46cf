"""graphflow.bag: partitioned collections of Python objects (lines of logs, JSON records, text).

    >>> import json, graphflow.bag as db
    >>> records = db.from_sequence([json.dumps({"path": p, "status": s}) for p, s in
    ...                             [("/a", 500), ("/b", 200), ("/a", 503), ("/c", 502)]], npartitions=2)
    >>> errors = records.map(json.loads).filter(lambda r: r["status"] >= 500)
    >>> errors.pluck("path").frequencies().topk(1, key=1).compute(scheduler="sync")
    [('/a', 2)]

A `Bag` is a list cut into partitions (each a Python list), computed with
graphflow's local process pool by default, as Dask computes bags with
multiprocessing (see `core`).  Modules: `core` (Bag, Item), `creation`
(from_sequence, range, from_delayed, concat), `text` (read_text,
to_textfiles), `elementwise`, `partitions` (accumulate, repartition, take),
`reductions` (fold, reduction, foldby, count, sum...), `groupby` (the
shuffle), `strings` (``Bag.str``), `convert` (to_delayed, to_dataframe).

The modules form a DAG: each imports `core`, and `core` imports none of them;
Bag's methods reach them through `core.OPERATIONS`, which this file fills once,
at the bottom.
"""

from .. import base
from . import convert, core, elementwise, groupby as _groupby, partitions, reductions, strings, text
from .core import Bag, Item
from .creation import concat, from_delayed, from_sequence, range  # noqa: A004 - Dask's name
from .elementwise import map, map_partitions, zip  # noqa: A004 - Dask's names
from .text import read_text, to_textfiles

__all__ = ["Bag", "Item", "assert_eq", "compute", "concat", "from_delayed", "from_sequence", "map",
           "map_partitions", "range", "read_text", "to_textfiles", "zip"]

compute = base.compute


def assert_eq(a, b, scheduler="sync") -> None:
    """Assert that two bags (or a bag and a list) hold the same elements, in any order, by computing them."""
    from collections import Counter

    va = a.compute(scheduler=scheduler) if isinstance(a, (Bag, Item)) else a
    vb = b.compute(scheduler=scheduler) if isinstance(b, (Bag, Item)) else b
    if isinstance(a, Item) or isinstance(b, Item):
        assert va == vb, f"{va!r} != {vb!r}"
        return
    va, vb = list(va), list(vb)
    try:
        same = Counter(va) == Counter(vb)
    except TypeError:  # unhashable elements: compare their sorted reprs
        same = sorted(repr(x) for x in va) == sorted(repr(x) for x in vb)
    assert same, f"the bags differ: {va!r} != {vb!r}"


core.bind_operations(
    map=elementwise.map, map_partitions=elementwise.map_partitions, starmap=elementwise.starmap,
    filter=elementwise.filter, remove=elementwise.remove, pluck=elementwise.pluck, flatten=elementwise.flatten,
    accumulate=partitions.accumulate, distinct=reductions.distinct, frequencies=reductions.frequencies,
    topk=reductions.topk, product=elementwise.product, zip=elementwise.zip, join=elementwise.join,
    repartition=partitions.repartition, random_sample=elementwise.random_sample, unzip=elementwise.unzip,
    fold=reductions.fold, reduction=reductions.reduction, foldby=reductions.foldby, groupby=_groupby.groupby,
    count=reductions.count, sum=reductions.sum, min=reductions.min, max=reductions.max, mean=reductions.mean,
    std=reductions.std, var=reductions.var, any=reductions.any, all=reductions.all, take=partitions.take,
    to_textfiles=text.to_textfiles, to_dataframe=convert.to_dataframe, to_delayed=convert.to_delayed,
    item_to_delayed=convert.item_to_delayed, item_apply=reductions.item_apply,
    string_accessor=strings.StringAccessor,
)
