"""Putting frames together: ``concat`` on either axis and ``merge_asof``.

``concat(axis=0)`` stacks the partitions one after another (missing columns
become nulls, types unified).  ``concat(axis=1)`` puts the columns side by
side partition by partition, aligned on the index within each partition: the
frames must be partitioned alike (equal known divisions, or, as Dask assumes
with a warning, the same number of partitions when divisions are unknown).

``merge_asof`` matches each left row with the nearest right key (pandas'
``merge_asof``): the right side is gathered into one partition and given to
every left partition, so any ``direction`` is exact; the left side must be
sorted on its key, as pandas requires.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> left = gd.from_pandas(pd.DataFrame({"t": [1, 5, 10], "a": [1, 2, 3]}), npartitions=2)
    >>> right = pd.DataFrame({"t": [2, 6], "b": ["x", "y"]})
    >>> gd.merge_asof(left, right, on="t").compute(scheduler="sync").b.tolist()
    [nan, 'x', 'y']
"""

from __future__ import annotations

import warnings

import pandas as pd
import pyarrow as pa

from .construct import from_pandas
from .frame import DataFrame
from .pandas_edge import PandasFunc, frame_to_arrow
from .plan import Blockwise, Concat, Reduce
from .series import Series
from ..utils.traverse import identity

__all__ = ["concat", "merge_asof"]


def _frame(obj):
    if isinstance(obj, (DataFrame, Series)):
        return obj
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return from_pandas(obj, npartitions=1)
    raise TypeError(f"cannot concatenate a {type(obj).__name__}; give graphflow or pandas DataFrames/Series")


def concat(dfs, axis=0, join: str = "outer", ignore_index: bool = False, ignore_unknown_divisions: bool = False,
           interleave_partitions: bool = False):
    """Frames (or Series) one after another (``axis=0``) or side by side (``axis=1``), as pandas.

        >>> import graphflow.dataframe as gd
        >>> a, b = gd.from_dict({"x": [1]}), gd.from_dict({"x": [2], "y": ["s"]})
        >>> gd.concat([a, b]).compute(scheduler="sync").y.tolist()
        [nan, 's']
    """
    dfs = [_frame(d) for d in dfs]
    if not dfs:
        raise ValueError("No objects to concatenate")
    if axis in (1, "columns"):
        return _side_by_side(dfs, join, ignore_unknown_divisions)
    if join not in ("outer", "inner"):
        raise ValueError("join must be 'outer' or 'inner'")
    if all(isinstance(d, Series) for d in dfs):
        names = {d.name for d in dfs}
        common = names.pop() if len(names) == 1 else None
        dfs = [d.rename(common) for d in dfs]
    frames = [d.to_frame() if isinstance(d, Series) else d for d in dfs]
    if join == "inner":
        common = [c for c in frames[0].columns if all(c in f.columns for f in frames[1:])]
        frames = [f[common] for f in frames]
    schema = pa.unify_schemas([f.schema for f in frames], promote_options="permissive")
    out = DataFrame(Concat([f.expr for f in frames], schema))
    if ignore_index:
        out = out.reset_index(drop=True)
    if all(isinstance(d, Series) for d in dfs) and len(out.columns) == 1:
        return out[out.columns[0]]
    return out


def _side_by_side(dfs, join, ignore_unknown):
    counts = {d.npartitions for d in dfs}
    divisions = [d.divisions for d in dfs]
    known = all(dv is not None and None not in dv for dv in divisions)
    if known and any(tuple(dv) != tuple(divisions[0]) for dv in divisions):
        raise ValueError("concat(axis=1) needs frames partitioned alike: repartition them to the same "
                         "divisions first (df.repartition(divisions=other.divisions))")
    if len(counts) > 1:
        raise ValueError(f"concat(axis=1) of frames with different npartitions {sorted(counts)}: repartition "
                         f"them alike first")
    if not known and not ignore_unknown:
        warnings.warn("concatenating frames with unknown divisions: assuming they are partitioned alike "
                      "(pass ignore_unknown_divisions=True to silence this)", UserWarning, stacklevel=3)
    metas = [d.meta for d in dfs]
    meta = pd.concat(metas, axis=1, join=join)
    _, schema = frame_to_arrow(meta, keep_index=True)
    op = PandasFunc(_concat_columns, [d.expr.schema for d in dfs], schema, (join,),
                    series=[isinstance(d, Series) for d in dfs])
    return DataFrame(Blockwise(op, [d.expr for d in dfs], schema, label="concat-columns"))


def _concat_columns(*parts_and_join):
    *parts, join = parts_and_join
    return pd.concat(parts, axis=1, join=join)


def merge_asof(left, right, on=None, left_on=None, right_on=None, left_index=False, right_index=False, by=None,
               left_by=None, right_by=None, suffixes=("_x", "_y"), tolerance=None, allow_exact_matches=True,
               direction="backward"):
    """pandas' ``merge_asof``, left partition by partition against the whole right side."""
    left, right = _frame(left), _frame(right)
    kwargs = dict(on=on, left_on=left_on, right_on=right_on, left_index=left_index, right_index=right_index,
                  by=by, left_by=left_by, right_by=right_by, suffixes=suffixes, tolerance=tolerance,
                  allow_exact_matches=allow_exact_matches, direction=direction)
    meta = pd.merge_asof(left.meta, right.meta, **kwargs)
    keep_index = left_index or right_index
    _, schema = frame_to_arrow(meta, keep_index=keep_index)
    whole = Reduce(right.expr, _concat_tables, identity, right.expr.schema, split_every=max(right.npartitions, 2))
    op = PandasFunc(_asof, [left.expr.schema, right.expr.schema], schema, (kwargs,))
    return DataFrame(Blockwise(op, (left.expr, whole), schema, (False, True), label="merge-asof"))


def _concat_tables(parts):
    return pa.concat_tables(parts, promote_options="permissive")


def _asof(left, right, kwargs):
    return pd.merge_asof(left, right, **kwargs)
