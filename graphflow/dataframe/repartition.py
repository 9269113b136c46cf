"""``repartition(n)``: change the number of partitions without a shuffle, keeping row order.

Fewer partitions: consecutive inputs are concatenated (input i goes to output
``i * n // m``).  More: input i is cut into ``k_i`` even slices, the ``k_i``
adding up to ``n``.

    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"x": list(range(10))}, npartitions=2)
    >>> [len(df.repartition(5).partitions[i].compute(scheduler="sync")) for i in range(5)]
    [1, 2, 2, 2, 3]
"""

from __future__ import annotations

import pyarrow as pa

from ..spec import Ref, Task
from .frame import DataFrame
from .plan import PlanNode

__all__ = ["repartition"]


def _concat(parts):
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _slice(table, j, k):
    n = table.num_rows
    return table.slice(j * n // k, (j + 1) * n // k - j * n // k)


class Repartition(PlanNode):
    label = "repartition"

    def __init__(self, child, n):
        self.children = (child,)
        self._npartitions = n
        self._schema = child.schema

    def params(self):
        return (self._npartitions,)

    def with_children(self, children):
        return Repartition(children[0], self._npartitions)

    def tasks(self):
        child, n = self.children[0], self._npartitions
        m = child.npartitions
        if n <= m:
            groups = [[] for _ in range(n)]
            for i in range(m):
                groups[i * n // m].append(Ref((child.name, i)))
            return [Task((self.name, j), _concat, g) for j, g in enumerate(groups)]
        out, j = [], 0
        for i in range(m):
            k = n // m + (1 if i < n % m else 0)
            for s in range(k):
                out.append(Task((self.name, j), _slice, Ref((child.name, i)), s, k))
                j += 1
        return out


def repartition(df, npartitions: int) -> DataFrame:
    if not isinstance(npartitions, int) or npartitions < 1:
        raise ValueError(f"npartitions must be a positive int, not {npartitions!r}")
    return DataFrame(Repartition(df.expr, npartitions))
