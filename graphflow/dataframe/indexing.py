"""The index methods of DataFrame and Series (mixins): ``set_index``, ``loc``, ``iloc``, ``join``,
``clear_divisions`` and the arithmetic of frames aligned on the index.

The work is in `graphflow.dataframe.index_ops` (it builds on DataFrame), reached
through `collection.OPERATIONS`; ``divisions`` and ``known_divisions`` are on
every collection (`collection.PlanCollection`).

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"x": range(6)}, index=list("abcdef")), npartitions=3)
    >>> df.divisions, df.loc["b":"d"].npartitions
    (('a', 'c', 'e', 'f'), 2)
    >>> df.loc["b":"d"].compute(scheduler="sync").x.tolist()
    [1, 2, 3]
"""

from __future__ import annotations

import operator

from .collection import OPERATIONS, PlanCollection
from .labels import data_names
from .plan import Blockwise

__all__ = ["IndexMethods", "FrameIndexMethods"]


class _Forget:
    """Op: the partition unchanged, its divisions forgotten (``clear_divisions``)."""

    def __call__(self, table):
        return table

    def __graphflow_tokenize__(self):
        return "clear-divisions"


class _Indexer:
    def __init__(self, obj, func):
        self._obj, self._func = obj, func

    def __getitem__(self, key):
        return self._func(self._obj, key)


class IndexMethods:
    """What DataFrame and Series share: ``loc``, ``clear_divisions``."""

    def clear_divisions(self):
        """The same collection with unknown divisions (all None), as in Dask."""
        return self._rebuilt(Blockwise(_Forget(), (self.expr,), self.expr.schema, label="clear-divisions"))

    @property
    def loc(self):
        """Rows by index label: ``loc[label]``, ``loc[start:stop]`` (both ends included), ``loc[[labels]]``,
        ``loc[boolean Series]``, and on a DataFrame ``loc[rows, columns]``.  Known divisions prune the
        partitions read; otherwise every partition is scanned."""
        return _Indexer(self, OPERATIONS.loc)


def _frame_binary(op, reflect=False):
    def method(self, other):
        def combine(x, y):
            return op(y, x) if reflect else op(x, y)

        if isinstance(other, PlanCollection) and hasattr(other, "columns") and not hasattr(other, "column_expr"):
            if other.expr is not self.expr:
                return OPERATIONS.align_frames(self, other, combine)
            other_cols = {lab: other[lab] for lab in other.columns}
            exprs = [(n, combine(self[lab], other_cols[lab]).column_expr)
                     for n, lab in zip(data_names(self.schema), self.columns)]
            return self.project(exprs)
        if isinstance(other, PlanCollection):
            raise NotImplementedError("arithmetic of a DataFrame with a Series aligns on the columns in pandas; "
                                      "not supported lazily: combine column by column")
        exprs = [(n, combine(self[lab], other).column_expr) for n, lab in zip(data_names(self.schema), self.columns)]
        return self.project(exprs)

    return method


class FrameIndexMethods(IndexMethods):
    """DataFrame's index methods: ``set_index``, ``iloc``, ``join``, aligned arithmetic."""

    def set_index(self, other, drop: bool = True, sorted: bool = False, divisions=None, npartitions=None):
        """A frame indexed (and sorted) by the column ``other`` (a label or a Series of this frame), as Dask.

        The divisions are computed now from a sample of the key (every partition's
        min and max included); ``divisions=`` gives them, ``npartitions=`` their
        number (default: as many as now).  ``sorted=True`` says the key is
        already sorted across partitions: no shuffle, each partition's min and
        max make the divisions.  ``drop=False`` keeps the key as a column too."""
        return OPERATIONS.set_index(self, other, drop=drop, sorted=sorted, divisions=divisions,
                                    npartitions=npartitions)

    @property
    def iloc(self):
        """Columns by position: ``iloc[:, 0]``, ``iloc[:, [0, 2]]``, ``iloc[:, 1:]``.  Rows by position raise
        NotImplementedError, as in Dask."""
        return _Indexer(self, OPERATIONS.iloc)

    def join(self, other, on=None, how: str = "left", lsuffix: str = "", rsuffix: str = "", npartitions=None):
        """Join ``other`` (a DataFrame or named Series) on its index with this frame's index (or with the
        column ``on``).  Partition-wise when both sides know their divisions; a hash shuffle otherwise."""
        return OPERATIONS.join(self, other, on=on, how=how, lsuffix=lsuffix, rsuffix=rsuffix,
                               npartitions=npartitions)

    __add__ = _frame_binary(operator.add)
    __radd__ = _frame_binary(operator.add, reflect=True)
    __sub__ = _frame_binary(operator.sub)
    __rsub__ = _frame_binary(operator.sub, reflect=True)
    __mul__ = _frame_binary(operator.mul)
    __rmul__ = _frame_binary(operator.mul, reflect=True)
    __truediv__ = _frame_binary(operator.truediv)
    __rtruediv__ = _frame_binary(operator.truediv, reflect=True)
    __floordiv__ = _frame_binary(operator.floordiv)
    __rfloordiv__ = _frame_binary(operator.floordiv, reflect=True)
    __pow__ = _frame_binary(operator.pow)
