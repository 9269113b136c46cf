"""``merge``: a broadcast join when one side is small, a hash-shuffle join otherwise.

Broadcast (inner/left joins with a small right side, inner/right with a
small left side)::

    small side -> concat to one partition -> joined with every partition of the big side

Shuffle (anything else): both sides are hash-partitioned on their keys into
the same number of partitions (`shuffle`), so matching keys meet, and
partition i of one side is joined with partition i of the other (by direct
addressing when the right keys are unique dense integers, see `_Join`).

The size of a side is estimated without computing: in-memory partitions by
their bytes, Parquet by row-group metadata, anything derived by the estimate
of its inputs (an upper bound through filters); a side under
`BROADCAST_BYTES` (or of one partition) is broadcast.  ``broadcast=True/False``
forces the choice.

    >>> import graphflow.dataframe as gd
    >>> a = gd.from_dict({"k": [1, 2, 3], "v": ["a", "b", "c"]}, npartitions=2)
    >>> b = gd.from_dict({"k": [1, 3, 4], "v": [10, 30, 40]})
    >>> out = a.merge(b, on="k", how="outer").compute(scheduler="sync").sort_values("k", ignore_index=True)
    >>> out.to_dict("list")
    {'k': [1, 2, 3, 4], 'v_x': ['a', 'b', 'c', nan], 'v_y': [10.0, nan, 30.0, 40.0]}

Keys must exist on their side and have join-compatible types: both are
checked when the merge is built (KeyError / TypeError).  As in pyarrow, null
keys never match.  Columns come as in pandas: the left columns, then the
right ones; with ``on=`` each key column appears once (on the left, holding
the key of either side); with ``left_on``/``right_on`` both key columns are
kept (null where their side had no match); a name found on both sides gets
``suffixes``.  Row order is not defined (sort afterwards).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .frame import DataFrame, check_columns
from .indicator import AntiJoin, MarkMatches, add_markers, indicator_name
from .merge_keys import common_key_types
from .io.metadata import file_metadata
from .join_schema import derived_schema, join_layout
from .io.parquet import ReadParquet
from .plan import Blockwise, FromTables, Reduce, source_total
from .shuffle import shuffle

__all__ = ["merge", "BROADCAST_BYTES", "estimate_bytes"]

BROADCAST_BYTES = 64 << 20
_HOW = {"inner": "inner", "left": "left outer", "right": "right outer", "outer": "full outer"}
_SWAPPED = {"inner": "inner", "left": "right outer", "right": "left outer", "outer": "full outer"}


def estimate_bytes(plan) -> float:
    """An upper estimate of the bytes a plan produces (inf if unknown)."""
    return source_total(plan, _stored_bytes)


def _stored_bytes(node):
    if isinstance(node, FromTables):
        return sum(p.nbytes for p in node.parts)
    return _parquet_bytes(node) if isinstance(node, ReadParquet) else None


def _parquet_bytes(node):
    total = 0
    for path, rg in node.pieces:
        md = file_metadata(path)
        groups = range(md.num_row_groups) if rg is None else [rg]
        total += sum(md.row_group(g).total_byte_size for g in groups)
    return total


class _Join:
    """Join op on two tables (picklable, tokenizable).

    Inner and left joins on one integer key whose right-side values are
    unique and dense (their range at most `DENSE_SPAN` times the row count)
    are a direct-address lookup: a slot array indexed by key holds each right
    row's position, so a partition joins with one scatter and one gather in
    numpy, several times faster than ``Table.join``.  A broadcast side whose
    key is known to be unique (checked once) uses ``index_in`` (one hash of
    the right keys) plus ``take`` otherwise.  With several keys the lookup
    runs on the first one when that alone is unique on the looked-up side
    (TPC-H: ``l_suppkey, c_nationkey = s_suppkey, s_nationkey``), the other
    keys then compared row by row.  An inner join broadcasting its LEFT side
    looks that side up by the right rows' keys (`_BroadcastJoin`).  Every
    other case is ``Table.join``, given the smaller table as its build
    (right) side; all paths give the same columns in the same order
    (`_layout`).
    """

    may_broadcast = False  # a shuffle join the optimizer may turn into a broadcast one (merge sets it)

    def __init__(self, left_keys, right_keys, how, suffixes):
        self.left_keys, self.right_keys = tuple(left_keys), tuple(right_keys)
        self.how, self.suffixes = how, tuple(suffixes)
        self.coalesce = self.left_keys == self.right_keys

    def __call__(self, left, right, unique=False, dense=False):
        """``dense``: the right side's `_DenseKeys` of its first key if already built (None: not applicable);
        ``unique``: whether the right side's first key is known to be unique."""
        if self.how in ("inner", "left") and right.num_rows:
            idx = _lookup(left, right, self.left_keys, self.right_keys, unique, dense)
            if idx is not None:
                return self._assemble(left, right, idx)
        names = [o for _, _, o in _layout(self, left.column_names, right.column_names)]
        if left.num_rows < right.num_rows and len(set(names)) == len(names):
            # pyarrow builds its hash table on the right side: build on the smaller one (a semi join's
            # few keys against a big partition is ~50x faster), then put the columns back in order
            out = right.join(left, keys=list(self.right_keys), right_keys=list(self.left_keys),
                             join_type=_SWAPPED[self.how], left_suffix=self.suffixes[1],
                             right_suffix=self.suffixes[0], coalesce_keys=self.coalesce, use_threads=False)
            if sorted(out.column_names) == sorted(names):
                return out.select(names)
        out = left.join(right, keys=list(self.left_keys), right_keys=list(self.right_keys),
                        join_type=_HOW[self.how], left_suffix=self.suffixes[0],
                        right_suffix=self.suffixes[1], coalesce_keys=self.coalesce, use_threads=False)
        return out if out.column_names == names else out.select(names)

    def _assemble(self, left, right, idx):
        if self.how == "inner":
            keep = idx >= 0
            if not keep.all():
                left, idx = left.filter(pa.array(keep)), idx[keep]
            indices = pa.array(idx)
        else:
            missing = idx < 0
            indices = pa.array(idx, mask=missing) if missing.any() else pa.array(idx)
        cols, names = [], []
        for side, name, out in _layout(self, left.column_names, right.column_names):
            cols.append(left.column(name) if side == "left" else right.column(name).take(indices))
            names.append(out)
        return pa.Table.from_arrays(cols, names=names)

    def _assemble_swapped(self, left, right, idx):
        """An inner join's columns when the LEFT side was looked up: ``idx`` is each right row's left row."""
        keep = idx >= 0
        if not keep.all():
            right, idx = right.filter(pa.array(keep)), idx[keep]
        indices = pa.array(idx)
        cols, names = [], []
        for side, name, out in _layout(self, left.column_names, right.column_names):
            cols.append(right.column(name) if side == "right" else left.column(name).take(indices))
            names.append(out)
        return pa.Table.from_arrays(cols, names=names)

    def __graphflow_tokenize__(self):
        return ("join", self.left_keys, self.right_keys, self.how, self.suffixes)

    # -- projection pushdown (graphflow/dataframe/optimize/projection.py)
    def column_needs(self, needed, schemas):
        """The columns of (left, right) that the output columns ``needed`` come from, plus the keys; a
        name on both sides is kept on both when either of its suffixed outputs is needed (dropping one
        side would rename the other) and dropped from both otherwise."""
        layout = _layout(self, schemas[0].names, schemas[1].names)
        clashed = {name for _, name, out in layout if out != name and out in needed}
        need = (set(self.left_keys), set(self.right_keys))
        for side, name, out in layout:
            if out in needed or name in clashed:
                need[side == "right"].add(name)
        return list(need)

    def output_schema(self, schemas):
        """The joined schema of inputs with ``schemas`` (left, right): derived where the rules are simple
        (`join_schema.derived_schema`), else pyarrow's join of empty tables (which raises its errors)."""
        derived = derived_schema(self.left_keys, self.right_keys, schemas[0], schemas[1], self.suffixes)
        if derived is not None:
            return derived
        return _Join.__call__(self, schemas[0].empty_table(), schemas[1].empty_table()).schema

    # -- broadcasting (merge's choice, and the optimizer's rule optimize/broadcast.py after projection)
    def broadcast_side(self, lbytes, rbytes, lparts=2, rparts=2):
        """"left", "right" or None: the side to broadcast for estimated sizes (bytes) and partition counts."""
        right_ok, left_ok = self.how in ("inner", "left"), self.how in ("inner", "right")
        if right_ok and (rparts == 1 or rbytes < BROADCAST_BYTES) and rbytes <= lbytes:
            return "right"
        if left_ok and (lparts == 1 or lbytes < BROADCAST_BYTES):
            return "left"
        if right_ok and (rparts == 1 or rbytes < BROADCAST_BYTES):
            return "right"
        return None

    def broadcast_plan(self, left, right, side, schema):
        """This join as a Blockwise over ``left`` and ``right`` (plans), ``side`` read whole into one table."""
        bop = _BroadcastJoin(self.left_keys, self.right_keys, self.how, self.suffixes, side)
        if side == "right":
            return Blockwise(bop, (left, _one_partition(right, self.right_keys)), schema, (False, True),
                             label="merge")
        return Blockwise(bop, (_one_partition(left, self.left_keys), right), schema, (True, False), label="merge")

    def __repr__(self):
        return f"Join({self.how} on {list(self.left_keys)} = {list(self.right_keys)})"


DENSE_SPAN = 32
# A broadcast side is prepared once and shared by every partition's join, so its slot array may span
# more: up to this many slots (4 bytes each) beyond DENSE_SPAN per row.  TPC-H q3 at SF1: 147k order
# keys spread over 6M values, probed by 3M lines; hashing them per partition (index_in) cost 1.2 s of CPU.
BROADCAST_DENSE_SLOTS = 1 << 24


def _layout(op, left_names, right_names):
    """The output columns of ``op`` as (side, input name, output name) (`join_schema.join_layout`)."""
    return join_layout(op.left_keys, op.right_keys, left_names, right_names, op.suffixes)


def _int64_values(col):
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    try:
        arr = arr.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None, None
    valid = None if arr.null_count == 0 else arr.is_valid().to_numpy(zero_copy_only=False)
    return (arr.fill_null(0) if arr.null_count else arr).to_numpy(zero_copy_only=False), valid


class _DenseKeys:
    """Unique integer keys as a slot array: ``slots[key - lo]`` is the key's row (-1: no such key).

    `build` gives None when not applicable: non-integer keys, nulls or
    duplicates among them, or a range wider than ``DENSE_SPAN`` times the row
    count plus ``extra_slots`` (the slots cost 4 bytes per value in the range;
    a broadcast side, built once, may take `BROADCAST_DENSE_SLOTS` more)."""

    __slots__ = ("lo", "hi", "slots")

    def __init__(self, lo, hi, slots):
        self.lo, self.hi, self.slots = lo, hi, slots

    @classmethod
    def build(cls, rcol, extra_slots: int = 1024):
        if not pa.types.is_integer(rcol.type) or rcol.null_count:
            return None
        rk, _ = _int64_values(rcol)
        if rk is None or len(rk) == 0 or len(rk) >= 1 << 31:
            return None
        lo, hi = int(rk.min()), int(rk.max())
        span = hi - lo + 1
        if span > DENSE_SPAN * len(rk) + extra_slots:
            return None
        slots = np.full(span, -1, np.int32)
        slots[rk - lo] = np.arange(len(rk), dtype=np.int32)
        if np.count_nonzero(slots >= 0) != len(rk):  # a repeated key: one slot for several rows
            return None
        return cls(lo, hi, slots)

    def index(self, lcol):
        """The row of each of ``lcol``'s keys (-1: none), or None if ``lcol`` is not integer."""
        if not pa.types.is_integer(lcol.type):
            return None
        lk, valid = _int64_values(lcol)
        if lk is None:
            return None
        if len(lk) == 0:
            return np.zeros(0, np.int32)
        if valid is None and int(lk.min()) >= self.lo and int(lk.max()) <= self.hi:
            return self.slots[lk - self.lo]  # every key in range: one gather, no masks
        hit = (lk >= self.lo) & (lk <= self.hi)
        if valid is not None:
            hit &= valid
        idx = np.full(len(lk), -1, np.int32)
        idx[hit] = self.slots[lk[hit] - self.lo]
        return idx


def _dense_index(lcol, rcol):
    """The right row matching each left key (-1: none) by direct addressing, or None (see `_DenseKeys`)."""
    if not pa.types.is_integer(lcol.type):
        return None
    dense = _DenseKeys.build(rcol)
    return None if dense is None else dense.index(lcol)


def _lookup(probe, build, probe_keys, build_keys, unique, dense):
    """Each probe row's build row with equal keys (-1: none) when the build side's FIRST key is unique
    (direct addressing or one hash lookup on it, the other keys then compared row by row); else None."""
    pcol, bcol = probe.column(probe_keys[0]), build.column(build_keys[0])
    idx = _dense_index(pcol, bcol) if dense is False else dense.index(pcol) if dense is not None else None
    if idx is None and unique and bcol.type == pcol.type:
        found = pc.index_in(pcol, options=pc.SetLookupOptions(bcol, skip_nulls=True))
        idx = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if idx is not None and len(probe_keys) > 1:
        idx = _match_rest(probe, build, probe_keys[1:], build_keys[1:], idx)
    return idx


def _match_rest(probe, build, probe_keys, build_keys, idx):
    """``idx`` with -1 where a probe row's other keys differ from (or are null, or its build row's are)."""
    hit = idx >= 0
    if not hit.any():
        return idx
    rows = pa.array(np.where(hit, idx, 0))
    for pk, bk in zip(probe_keys, build_keys):
        same = pc.equal(probe.column(pk), build.column(bk).take(rows)).fill_null(False)
        hit &= same.to_numpy(zero_copy_only=False)
    out = np.asarray(idx).copy()
    out[~hit] = -1
    return out


def _unique_key(table, keys) -> bool:
    return len(keys) == 1 and pc.count_distinct(table.column(keys[0]), mode="all").as_py() == table.num_rows


class _BroadcastJoin(_Join):
    """Join op whose broadcast side arrives `_Prepared` (its key uniqueness checked once, not per partition)."""

    def __init__(self, left_keys, right_keys, how, suffixes, side):
        super().__init__(left_keys, right_keys, how, suffixes)
        self.side = side

    def __graphflow_tokenize__(self):
        return super().__graphflow_tokenize__() + (self.side,)

    def __call__(self, left, right):
        if self.side == "right":
            return super().__call__(left, right.table, right.unique, right.dense)
        if self.how == "inner" and right.num_rows and left.table.num_rows:
            # an inner join is symmetric: look the small left side up by the right rows' keys
            idx = _lookup(right, left.table, self.right_keys, self.left_keys, left.unique, left.dense)
            if idx is not None:
                return self._assemble_swapped(left.table, right, idx)
        return super().__call__(left.table, right)


class _Prepared:
    """The broadcast side: one table, whether its first key column is unique, that key's `_DenseKeys` or None."""

    __slots__ = ("table", "unique", "dense")

    def __init__(self, table, unique, dense=None):
        self.table, self.unique, self.dense = table, unique, dense


class _Prepare:
    def __init__(self, keys):
        self.keys = tuple(keys)

    def __call__(self, table):
        dense = _DenseKeys.build(table.column(self.keys[0]), BROADCAST_DENSE_SLOTS) if table.num_rows else None
        return _Prepared(table, dense is not None or _unique_key(table, self.keys[:1]), dense)

    def __graphflow_tokenize__(self):
        return ("prepare", self.keys)

    def column_needs(self, needed):
        """A reduction to the broadcast side keeps columns: the ``needed`` ones and the keys."""
        return set(needed) | set(self.keys)


def _concat(parts):
    return pa.concat_tables(parts).combine_chunks() if len(parts) > 1 else parts[0]


def _one_partition(plan, keys):
    return Reduce(plan, _concat, _Prepare(keys), plan.schema)


def _as_frame(obj):
    """A graphflow DataFrame from a pandas DataFrame (merging with a pandas frame works, as in Dask)."""
    if isinstance(obj, DataFrame):
        return obj
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        from .construct import from_pandas

        return from_pandas(obj, npartitions=1, sort=False)
    raise TypeError(f"can only merge a DataFrame with a graphflow or pandas DataFrame, not {type(obj).__name__}")


def _keys(on, left_on, right_on, left, right):
    if on is not None:
        left_on = right_on = [on] if isinstance(on, str) else list(on)
    elif left_on is None or right_on is None:
        common = [c for c in left.arrow_names() if c in right.arrow_names()]
        if left_on is None and right_on is None and common:
            left_on = right_on = common
        else:
            raise ValueError("merge needs on=, or both left_on= and right_on=")
    left_on = [left_on] if isinstance(left_on, str) else list(left_on)
    right_on = [right_on] if isinstance(right_on, str) else list(right_on)
    if len(left_on) != len(right_on):
        raise ValueError(f"left_on {left_on} and right_on {right_on} differ in length")
    check_columns(left_on, left.schema, "left merge key")
    check_columns(right_on, right.schema, "right merge key")
    return left_on, right_on


def merge(left, right, on=None, left_on=None, right_on=None, how: str = "inner",
          suffixes=("_x", "_y"), broadcast=None, npartitions=None, left_index: bool = False,
          right_index: bool = False, indicator=False) -> DataFrame:
    """Join two DataFrames on key columns (``how``: inner, left, right, outer); with ``left_index=True`` /
    ``right_index=True`` a side's index is its key (`graphflow.dataframe.index_ops.index_merge`);
    ``indicator=True`` (or a name) adds pandas' ``_merge`` column (`graphflow.dataframe.indicator`)."""
    if left_index or right_index:
        if indicator:
            raise NotImplementedError("merge(indicator=...) with left_index/right_index; merge on columns "
                                      "(reset_index() first) to get the indicator")
        from .index_ops import index_merge

        return index_merge(left, right, how=how, left_on=left_on if on is None else on,
                           right_on=right_on if on is None else on, left_index=left_index,
                           right_index=right_index, suffixes=suffixes, npartitions=npartitions)
    if how not in _HOW:
        raise ValueError(f"how must be one of {sorted(_HOW)}, not {how!r}")
    left, right = _as_frame(left), _as_frame(right)
    # a merge on columns gives a fresh index, as in pandas: the sides' indexes do not take part
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    left_on, right_on = _keys(on, left_on, right_on, left, right)
    left, right, restore = common_key_types(left, right, left_on, right_on, how)  # float vs int keys: numbers
    mark = indicator_name(indicator, left.arrow_names(), right.arrow_names())
    if mark is not None:
        left, right = add_markers(left, right, how)
    op = _Join(left_on, right_on, how, suffixes)
    try:
        schema = op.output_schema([left.schema, right.schema])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        pairs = [f"{a}: {left.schema.field(a).type} / {b}: {right.schema.field(b).type}"
                 for a, b in zip(left_on, right_on)]
        raise TypeError(f"cannot merge on {pairs}: {exc}") from None
    side = _broadcast_side(op, left, right, how, broadcast)
    if side is not None:
        plan = op.broadcast_plan(left.expr, right.expr, side, schema)
    else:
        n = npartitions or max(left.npartitions, right.npartitions)
        lp, rp = shuffle(left.expr, left_on, n), shuffle(right.expr, right_on, n)
        # broadcast=None: the optimizer may still broadcast a side that projection pushdown made small
        op.may_broadcast = broadcast is None and npartitions is None
        plan = Blockwise(op, (lp, rp), schema, label="merge")
    if mark is not None:
        plan = Blockwise(MarkMatches(mark, how, AntiJoin(plan.op, left_on, right_on)), (plan,), label="indicator")
    return restore(DataFrame(plan))


def _broadcast_side(op, left, right, how, broadcast):
    if broadcast is False:
        return None
    right_ok, left_ok = how in ("inner", "left"), how in ("inner", "right")
    rb, lb = estimate_bytes(right.expr), estimate_bytes(left.expr)
    if broadcast is True:
        if right_ok and (rb <= lb or not left_ok):
            return "right"
        if left_ok:
            return "left"
        raise ValueError(f"a {how} join cannot broadcast either side; use broadcast=False")
    return op.broadcast_side(lb, rb, left.npartitions, right.npartitions)
