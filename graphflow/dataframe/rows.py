"""Choosing rows: ``drop_duplicates(subset, keep)``, ``sample``, ``random_split``.

``drop_duplicates`` runs pandas' own on each partition, then again on the
concatenated survivors (a tree: a row that is first in its partition and
first among the survivors is first overall, since partitions keep their
order), so ``keep="first"``/``"last"`` and the index are exactly pandas'.
``keep=False`` (drop every duplicated row) cannot be pre-reduced that way
(a value once in each of two partitions looks unique in both), so its rows
meet in one step.  With ``split_out=n`` the rows are first hash-shuffled on
the subset into n partitions (for many distinct rows); order is then kept
within each output partition only, as in Dask.

``sample(frac)`` draws each partition's share independently, from a seed
per partition derived from ``random_state``; ``random_split`` gives every row
one of the pieces, so the pieces partition the rows.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"k": [1, 2, 1, 3, 2]}), npartitions=2)
    >>> df.drop_duplicates(keep="last").compute(scheduler="sync").index.tolist()
    [2, 3, 4]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .distinct import distinct_rows
from .frame import DataFrame, check_columns
from .labels import column_labels, data_names
from .pandas_edge import frame_to_arrow, to_pandas_frame
from .plan import Blockwise, Func, Reduce
from .series import Series
from .shuffle import shuffle
from ..utils.traverse import identity

__all__ = ["drop_duplicates", "sample", "random_split", "shuffle_on"]

_KEEP = ("first", "last", False)


def _dedup(table, schema, subset, keep):
    names = dict(zip(column_labels(schema), data_names(schema)))
    keys = data_names(schema) if subset is None else [names.get(s) for s in subset]
    if None not in keys:
        fast = distinct_rows(table, keys, keep)  # Arrow's hash grouping where it answers as pandas does
        if fast is not None:
            return fast
    pdf = to_pandas_frame(table, schema)
    return frame_to_arrow(pdf.drop_duplicates(subset=subset, keep=keep), schema=schema)[0]


class _DedupOf:
    """Combine: the concatenated partitions, deduplicated again."""

    def __init__(self, schema, subset, keep):
        self.schema, self.subset, self.keep = schema, subset, keep

    def __call__(self, parts):
        return _dedup(pa.concat_tables(parts), self.schema, self.subset, self.keep)

    def __graphflow_tokenize__(self):
        return ("dedup", str(self.schema), None if self.subset is None else tuple(map(str, self.subset)), self.keep)


def drop_duplicates(coll, subset=None, split_out=None, keep="first", ignore_index: bool = False):
    """Rows (values) without duplicates over ``subset``, keeping the ``keep`` one of each, as pandas."""
    if keep not in _KEEP:
        raise ValueError("keep must be either 'first', 'last' or False")
    series = isinstance(coll, Series)
    frame = coll.to_frame() if series else coll
    labels = list(frame.columns)
    if subset is not None:
        subset = [subset] if not isinstance(subset, (list, tuple)) else list(subset)
        missing = [s for s in subset if s not in labels]
        if missing:
            raise KeyError(f"Index({missing}) not found in the columns {labels}")
        check_columns([frame.arrow_name(s) for s in subset], frame.schema)
    schema = frame.schema
    plan = frame.expr
    if split_out and split_out > 1:
        keys = data_names(schema) if subset is None else [frame.arrow_name(s) for s in subset]
        plan = shuffle(plan, keys, split_out)
        out = DataFrame(Blockwise(Func(_dedup, schema, subset, keep), (plan,), schema, label="drop-duplicates"))
    elif keep is False:
        out = DataFrame(Reduce(plan, _DedupOf(schema, subset, keep), identity, schema,
                               split_every=max(plan.npartitions, 2)))
    else:
        per = Blockwise(Func(_dedup, schema, subset, keep), (plan,), schema, label="drop-duplicates-chunk")
        out = DataFrame(Reduce(per, _DedupOf(schema, subset, keep), identity, schema))
    if ignore_index:
        out = out.reset_index(drop=True)
    return out[out.columns[0]] if series else out


def _seeds(random_state, n):
    rng = np.random.default_rng(random_state)
    return [int(s) for s in rng.integers(0, 2 ** 32 - 1, n)]  # pandas seeds a RandomState: 32 bits


def _sample_part(table, schema, frac, replace, seed):
    pdf = to_pandas_frame(table, schema)
    return frame_to_arrow(pdf.sample(frac=frac, replace=replace, random_state=seed), schema=schema)[0]


def sample(coll, n=None, frac=None, replace: bool = False, random_state=None):
    """About ``frac`` of the rows of every partition, drawn at random (``n=`` is refused, as in Dask: the
    number of rows is not known without a pass)."""
    if n is not None:
        raise ValueError("sample does not support the number of rows n= (as in Dask); pass frac= instead")
    if frac is None:
        raise ValueError("sample needs frac=, the fraction of rows to keep")
    if not replace and not 0 <= frac <= 1:
        raise ValueError("frac must be between 0 and 1 without replacement")
    series = isinstance(coll, Series)
    frame = coll.to_frame() if series else coll
    seeds = _seeds(random_state, frame.npartitions)
    parts = [DataFrame(Blockwise(Func(_sample_part, frame.schema, frac, replace, seed), (frame.get_partition(i).expr,),
                                 frame.schema, label="sample")) for i, seed in enumerate(seeds)]
    out = _stack(parts, frame.schema)
    return out[out.columns[0]] if series else out


def _stack(frames, schema):
    from .plan import Concat

    return DataFrame(Concat([f.expr for f in frames], schema))


def _split_part(table, schema, cuts, piece, seed):
    pdf = to_pandas_frame(table, schema)
    draw = np.random.default_rng(seed).random(len(pdf))
    keep = (draw >= cuts[piece]) & (draw < cuts[piece + 1])
    return frame_to_arrow(pdf[keep], schema=schema)[0]


def random_split(coll, frac, random_state=None, shuffle: bool = False):
    """Pieces of the rows in proportions ``frac`` (normalized): each row lands in exactly one piece."""
    weights = np.asarray(frac, dtype=float)
    if weights.ndim != 1 or len(weights) == 0 or (weights < 0).any() or weights.sum() == 0:
        raise ValueError(f"frac must be a non-empty list of non-negative weights, not {frac!r}")
    cuts = np.concatenate([[0.0], np.cumsum(weights / weights.sum())])
    cuts[-1] = 1.0 + 1e-12
    series = isinstance(coll, Series)
    frame = coll.to_frame() if series else coll
    seeds = _seeds(random_state, frame.npartitions)
    out = []
    for piece in range(len(weights)):
        parts = [DataFrame(Blockwise(Func(_split_part, frame.schema, tuple(cuts), piece, seed),
                                     (frame.get_partition(i).expr,), frame.schema, label="random-split"))
                 for i, seed in enumerate(seeds)]
        part = _stack(parts, frame.schema)
        out.append(part[part.columns[0]] if series else part)
    return out


def shuffle_on(df, on=None, npartitions=None):
    """``df`` hash-shuffled on the columns ``on`` (all columns by default) into ``npartitions``."""
    keys = df.arrow_names() if on is None else [df.arrow_name(c) for c in ([on] if isinstance(on, str) else on)]
    return DataFrame(shuffle(df.expr, keys, npartitions or df.npartitions))
