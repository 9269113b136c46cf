"""Bags to dataframes: `bag_to_dataframe`, the work behind ``graphflow.bag.Bag.to_dataframe``.

`graphflow.bag` sits below `graphflow.dataframe` in the layers (a bag must import without pandas, and
``to_bag`` here builds bags), so ``Bag.to_dataframe`` names this function
(``graphflow.dataframe.from_bag:bag_to_dataframe``) and loads it on the first call instead of
importing it (see `graphflow.bag.convert`).

Each partition of the bag (dicts, or tuples in column order) becomes a pandas frame with ``meta``'s
columns and dtypes, then a partition of the DataFrame (`from_delayed`), one task each.  Without
``meta`` the first element is computed to find the columns and dtypes, as Dask does.

    >>> import graphflow.bag as db
    >>> b = db.from_sequence([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}], npartitions=2)
    >>> b.to_dataframe(meta={"a": "int64", "b": "object"}).compute(scheduler="sync").a.tolist()
    [1, 2, 3]
"""

from __future__ import annotations

import pandas as pd

from ..bag import Bag
from ..bag.core import new_name
from ..delayed import Delayed
from ..spec import Ref, Task
from .construct import from_delayed

__all__ = ["bag_to_dataframe"]


def _meta_frame(meta, columns) -> pd.DataFrame:
    """An empty pandas DataFrame with the wanted columns and dtypes."""
    if isinstance(meta, pd.DataFrame):
        return meta.iloc[:0]
    if isinstance(meta, pd.Series):
        return meta.iloc[:0].to_frame()
    if isinstance(meta, dict):
        meta = list(meta.items())
    if isinstance(meta, (list, tuple)) and all(isinstance(m, tuple) and len(m) == 2 for m in meta):
        return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in meta})
    raise TypeError(f"to_dataframe: meta must be a pandas DataFrame, a dict of column -> dtype or a list of "
                    f"(column, dtype) pairs, not {type(meta).__name__}")


def _partition_frame(part, meta: pd.DataFrame) -> pd.DataFrame:
    columns = list(meta.columns)
    if part and isinstance(part[0], dict):
        frame = pd.DataFrame.from_records(part, columns=columns)
    else:
        frame = pd.DataFrame.from_records(list(part), columns=columns)
    if len(frame) == 0:
        return meta
    return frame.astype(meta.dtypes.to_dict())


def bag_to_dataframe(bag: Bag, meta=None, columns=None, optimize_graph: bool = True):
    """``Bag.to_dataframe``: a DataFrame with a partition per partition of ``bag`` (elements: dicts, or
    tuples/lists in the order of ``columns`` or of ``meta``'s columns); without ``meta`` the first element
    is computed to find the columns and dtypes."""
    if meta is None:
        head = bag.take(1, warn=False) or bag.take(1, npartitions=-1, warn=False)  # the first partition may be empty
        if not head:
            raise ValueError("to_dataframe: the bag is empty, so no columns can be found; pass meta=")
        first = head[0]
        if isinstance(first, dict):
            sample = pd.DataFrame([first], columns=columns)
        else:
            sample = pd.DataFrame.from_records([tuple(first)], columns=columns)
        meta = sample.iloc[:0]
    else:
        meta = _meta_frame(meta, columns)
        if columns is not None and list(columns) != list(meta.columns):
            raise ValueError(f"to_dataframe: columns {list(columns)} do not match meta's {list(meta.columns)}")
    parts = bag.to_delayed(optimize_graph=optimize_graph)
    name = new_name("bag-to-frame", [d.key for d in parts], str(meta.dtypes.to_dict()))
    frames = [Delayed((name, i), (Task((name, i), _partition_frame, Ref(d.key), meta),), (d,))
              for i, d in enumerate(parts)]
    return from_delayed(frames, meta=meta)
