"""``merge(..., indicator=True)``: pandas' ``_merge`` column, saying which side each output row came from.

The model: before the join each side gets a marker column that is never null
(``MARK_RIGHT`` on the right side; ``MARK_LEFT`` on the left one too when left
rows can be missing: right and outer joins).  After the join a row whose right
marker is null had no right match (``left_only``), one whose left marker is
null no left match (``right_only``), any other ``both``.  `MarkMatches` turns
the markers into the categorical column (categories ``left_only``,
``right_only``, ``both``, as pandas) and drops them.

    left  k v        right  k w        left.merge(right, on="k", how="left", indicator=True)
          1 a               1 x          k v  w    _merge
          2 b                            1 a  x    both
                                         2 b  NaN  left_only

Keeping ``_merge == "left_only"`` after a left merge is the pandas/Dask way to
write NOT EXISTS (an anti join); the optimizer rule
`graphflow.dataframe.optimize.antijoin` turns that pattern into an anti join
that never builds the matched rows: `AntiJoin` runs the merge's own join op
on only the unmatched left rows against an empty right side, so the columns
come out exactly as the merge's without this module knowing the join's column
layout.  `MarkMatches` carries its `AntiJoin` (``anti``) for the rule to swap in.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MARK_LEFT", "MARK_RIGHT", "CATEGORIES", "MarkMatches", "AntiJoin", "indicator_name", "add_markers"]

MARK_LEFT, MARK_RIGHT = "__graphflow_left_row__", "__graphflow_right_row__"
CATEGORIES = pa.array(["left_only", "right_only", "both"], pa.large_string())
_MERGE_TYPE = pa.dictionary(pa.int8(), pa.large_string())


def indicator_name(indicator, left_names, right_names):
    """The indicator column's name (``"_merge"`` for True, else the given string), or None for False.

    Raises ValueError, as pandas does, when a side already has a column of that name."""
    if indicator is False or indicator is None:
        return None
    if indicator is True:
        name = "_merge"
    elif isinstance(indicator, str):
        name = indicator
    else:
        raise ValueError("indicator option can only accept boolean or string arguments")
    for side in (left_names, right_names):
        if name in side:
            raise ValueError(f"Cannot use `indicator=True` option when data contains a column named {name}"
                             if indicator is True else
                             f"Cannot use name of an existing column for indicator column ({name!r})")
    return name


def add_markers(left, right, how):
    """``(left, right)`` with the marker columns the indicator needs (lazy; constant columns)."""
    right = right.assign(**{MARK_RIGHT: True})
    if how in ("right", "outer"):
        left = left.assign(**{MARK_LEFT: True})
    return left, right


class MarkMatches:
    """Op: the merged table with the markers replaced by the categorical indicator column ``name``.

    ``anti`` is the `AntiJoin` doing the same merge for the unmatched left rows
    only, which the anti-join rule swaps in (not part of the token: equal
    merges give equal markers)."""

    __slots__ = ("name", "how", "anti")

    def __init__(self, name, how, anti=None):
        self.name, self.how, self.anti = name, how, anti

    def __call__(self, table):
        n = table.num_rows
        codes = pc.if_else(pc.is_null(table.column(MARK_RIGHT)), 0, 2) if n else pa.array([], pa.int8())
        drop = [MARK_RIGHT]
        if MARK_LEFT in table.column_names:
            if n:
                codes = pc.if_else(pc.is_null(table.column(MARK_LEFT)), 1, codes)
            drop.append(MARK_LEFT)
        codes = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
        column = pa.DictionaryArray.from_arrays(codes.cast(pa.int8()), CATEGORIES)
        return table.drop_columns(drop).append_column(pa.field(self.name, _MERGE_TYPE), column)

    def __graphflow_tokenize__(self):
        return ("MarkMatches", self.name, self.how)

    def __repr__(self):
        return f"MarkMatches({self.name}, {self.how})"


class AntiJoin:
    """Op: the rows of a left join whose keys have no match on the right (null keys never match), in the
    left join's own columns (the right ones null), without building the matched rows.

    ``join(left, right)`` is the merge's join op; the right argument is the
    right partition (a table) or the broadcast side (an object with ``table``)."""

    __slots__ = ("join", "left_keys", "right_keys")

    def __init__(self, join, left_keys, right_keys):
        self.join, self.left_keys, self.right_keys = join, tuple(left_keys), tuple(right_keys)

    def __call__(self, left, right):
        table = getattr(right, "table", right)
        if len(self.left_keys) == 1:
            found = pc.is_in(left.column(self.left_keys[0]),
                             value_set=table.column(self.right_keys[0]).combine_chunks(), skip_nulls=True)
            unmatched = left.filter(pc.invert(found))
        else:
            keys = table.select(list(self.right_keys))
            unmatched = left.join(keys, keys=list(self.left_keys), right_keys=list(self.right_keys),
                                  join_type="left anti", use_threads=False)
        empty = table.slice(0, 0)
        return self.join(unmatched, empty if table is right else type(right)(empty, True, None))

    def __graphflow_tokenize__(self):
        return ("AntiJoin", self.left_keys, self.right_keys, getattr(self.join, "__graphflow_tokenize__")())

    def __repr__(self):
        return f"AntiJoin(on {list(self.left_keys)} = {list(self.right_keys)})"
