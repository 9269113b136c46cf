"""Dataframes to bags: ``to_bag`` (``DataFrame.to_bag``, ``Series.to_bag``, ``dd.to_bag``), with Dask's signature.

A partition becomes a partition: one task each, reading the frame's partitions (as pandas objects,
through ``to_delayed``), so nothing is computed while the graph is built.  ``format="tuple"`` gives what pandas'
``itertuples(index=index, name=None)`` gives per row (a Series: its values, or ``(label, value)``
pairs with ``index=True``); ``format="dict"`` gives ``to_dict(orient="records")`` rows.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), npartitions=2)
    >>> df.to_bag().compute(scheduler="sync")
    [(1, 'x'), (2, 'y'), (3, 'z')]
    >>> df.to_bag(format="dict").to_dataframe().compute(scheduler="sync").b.tolist()
    ['x', 'y', 'z']

The other way, ``Bag.to_dataframe``, is `graphflow.dataframe.from_bag`.  This module imports no
collection of this package (the mixin sits under DataFrame and Series), so they may import it.
"""

from __future__ import annotations

import pandas as pd

from ..bag import Bag
from ..bag.core import new_name
from ..spec import Ref, Task

__all__ = ["BagMethods", "to_bag"]

_FORMATS = ("tuple", "dict")


class BagMethods:
    """``to_bag`` of DataFrame and Series."""

    def to_bag(self, index: bool = False, format: str = "tuple") -> Bag:  # noqa: A002 - Dask's name
        """A `graphflow.bag.Bag` of the rows (tuples or dicts; a Series' values), one partition per partition."""
        return to_bag(self, index=index, format=format)


def _rows(pdf, index: bool, format: str) -> list:  # noqa: A002
    if isinstance(pdf, pd.Series):
        if format == "dict":
            return pdf.to_frame().to_dict(orient="records")
        return list(pdf.items()) if index else pdf.tolist()
    if format == "dict":
        rows = pdf.to_dict(orient="records")
        if index:
            return [{"index": label, **row} for label, row in zip(pdf.index.tolist(), rows)]
        return rows
    return list(pdf.itertuples(index=index, name=None))


def to_bag(df, index: bool = False, format: str = "tuple") -> Bag:  # noqa: A002 - Dask's name
    """A Bag of the rows of ``df`` (a DataFrame or Series); see the module docstring."""
    if format not in _FORMATS:
        raise ValueError(f"to_bag: format must be one of {_FORMATS}, not {format!r}")
    parts = df.to_delayed()
    name = new_name("to_bag", [d.key for d in parts], index, format)
    nodes = {(name, i): Task((name, i), _rows, Ref(d.key), index, format) for i, d in enumerate(parts)}
    return Bag(name, len(parts), nodes, parts)
