"""``repartition(n)``: change the number of partitions without a shuffle, keeping row order.

Fewer partitions: consecutive inputs are concatenated (input i goes to output
``i * n // m``).  More: input i is cut into ``k_i`` even slices, the ``k_i``
adding up to ``n``.

    >>> import graphflow.dataframe as gd
    >>> import pyarrow as pa
    >>> df = gd.from_arrow(pa.table({"x": list(range(10))}), npartitions=2)
    >>> [len(df.repartition(5).partitions[i].compute(scheduler="sync")) for i in range(5)]
    [1, 2, 2, 2, 3]
"""

from __future__ import annotations

import pyarrow as pa

import math

from .. import base
from ..spec import Ref, Task
from ..utils.traverse import identity
from .collection import Scalar
from .frame import DataFrame
from .index_ops import interpolate_divisions, repartition_divisions
from .plan import Blockwise, Func, PlanNode, Reduce

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

    @property
    def divisions(self):
        """Merging consecutive partitions keeps the divisions at the first input of each output."""
        d, m, n = self.children[0].divisions, self.children[0].npartitions, self._npartitions
        if d is None or n > m:
            return None
        firsts = [min(i for i in range(m) if i * n // m == j) for j in range(n)]
        return tuple(d[i] for i in firsts) + (d[-1],)

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


def _nbytes(table):
    import pyarrow as pa

    return pa.table({"n": [table.nbytes]})


def repartition(df, divisions=None, npartitions=None, partition_size=None, force: bool = False) -> DataFrame:
    """``df`` with new partitions: cut at ``divisions`` (needs known divisions; see
    `graphflow.dataframe.index_ops.repartition_divisions`), or ``npartitions`` of them (consecutive
    partitions merged, or each split evenly; known numeric or time divisions are spread anew and the
    rows cut at them, as Dask), or about ``partition_size`` bytes each (``"100MB"`` or a number: the
    partitions' sizes are measured now, as Dask does)."""
    if isinstance(divisions, int) and not isinstance(divisions, bool) and npartitions is None:
        divisions, npartitions = None, divisions  # repartition(5): the old positional npartitions
    if sum(x is not None for x in (divisions, npartitions, partition_size)) != 1:
        raise ValueError("Please provide exactly one of the ``npartitions=``, ``divisions=``, "
                         "``partition_size=`` keyword arguments")
    if divisions is not None:
        return repartition_divisions(df, divisions, force=force)
    if partition_size is not None:
        from ..units import parse_bytes

        size = parse_bytes(partition_size)
        if size <= 0:
            raise ValueError(f"partition_size must be positive, not {partition_size!r}")
        per = Blockwise(Func(_nbytes), (df.expr,), label="partition-bytes")
        [sizes] = base.compute(Scalar(Reduce(per, _concat, identity, per.schema)), scheduler="sync")
        npartitions = max(1, math.ceil(sum(sizes.column("n").to_pylist()) / size))
    if not isinstance(npartitions, int) or npartitions < 1:
        raise ValueError(f"npartitions must be a positive int, not {npartitions!r}")
    if df.known_divisions and npartitions > df.npartitions:
        new = interpolate_divisions(df.divisions, npartitions)
        if new is not None:
            return repartition_divisions(df, new, force=True)
    return DataFrame(Repartition(df.expr, npartitions))
