"""Dask's module functions that are a collection's method under another spelling: ``dd.map_overlap``
and ``dd.repartition``.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"x": range(6)}), npartitions=3)
    >>> gd.repartition(df, divisions=[0, 3, 5]).npartitions
    2
    >>> gd.map_overlap(lambda p: p.x.diff(), df, 1, 0).compute(scheduler="sync").tolist()
    [nan, 1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from .frame import DataFrame
from .series import Series

__all__ = ["map_overlap", "repartition"]


def map_overlap(func, df, before, after, *args, meta=None, enforce_metadata=True, transform_divisions=True,
                clear_divisions=False, align_dataframes=False, **kwargs):
    """``func`` on each partition of ``df`` with ``before``/``after`` rows of its neighbours attached (see
    `DataFrame.map_overlap`); other collections among ``args`` are not supported."""
    if not isinstance(df, (DataFrame, Series)):
        raise TypeError(f"map_overlap needs a graphflow DataFrame or Series, not {type(df).__name__}")
    if any(isinstance(a, (DataFrame, Series)) for a in args):
        raise NotImplementedError("map_overlap over several collections is not supported; join them first")
    return df.map_overlap(func, before, after, *args, meta=meta, **kwargs)


def repartition(df, divisions, force: bool = False):
    """``df`` cut at new ``divisions`` (its own must be known), as `DataFrame.repartition(divisions=)`."""
    if not isinstance(df, (DataFrame, Series)):
        raise TypeError(f"repartition needs a graphflow DataFrame or Series, not {type(df).__name__}")
    return df.repartition(divisions=divisions, force=force)
