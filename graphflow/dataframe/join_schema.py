"""The columns of a merge, and its output schema derived without running a join.

Building ``a.merge(b, on="k")`` needs the joined schema (the next step's
columns, ``meta``, projection pushdown).  Joining two empty tables gives it, but
costs ~1.5 ms per merge while the graph is built; for the plain cases the rules
are few, and `derived_schema` applies them:

- the columns in `join_layout` order (the left ones, then the right ones; with
  ``on=`` the key once, on the left; a name on both sides gets the suffixes);
- each keeps its input type (a coalesced key has the type both sides share);
- every field is nullable and the schema has no metadata, as pyarrow's join
  makes them (an outer join's missing rows are nulls of any column).

    >>> import pyarrow as pa
    >>> left = pa.schema([pa.field("k", pa.int64(), nullable=False), ("v", pa.string())])
    >>> right = pa.schema([("k", pa.int64()), ("v", pa.float64())])
    >>> derived_schema(["k"], ["k"], left, right, ("_x", "_y")).names
    ['k', 'v_x', 'v_y']

Anything else (key types that differ, types pyarrow's join may refuse, names
that would clash after suffixing) returns None: the caller then runs the
empty join, which also raises pyarrow's error where the join is impossible.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["join_layout", "derived_schema"]


def join_layout(left_keys, right_keys, left_names, right_names, suffixes):
    """The output columns as (side, input name, output name): the left columns, then the right ones.

    With ``on=`` (same key names) the keys appear once, on the left; with
    ``left_on``/``right_on`` both key columns stay.  A name present on both
    sides gets the suffixes.
    """
    coalesce = tuple(left_keys) == tuple(right_keys)
    right_out = [c for c in right_names if not (coalesce and c in right_keys)]
    sx, sy = suffixes
    out = [("left", c, c + sx if c in right_out else c) for c in left_names]
    return out + [("right", c, c + sy if c in left_names else c) for c in right_out]


def _plain(t: pa.DataType) -> bool:
    """A type pyarrow's hash join takes as key or payload (checked against pyarrow by the tests)."""
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
            or pa.types.is_large_binary(t) or pa.types.is_timestamp(t) or pa.types.is_date(t)
            or pa.types.is_time(t) or pa.types.is_duration(t) or pa.types.is_decimal(t))


def _payload(t: pa.DataType) -> bool:
    """A non-key column's type the join carries unchanged: a plain one, or a dictionary of plain values."""
    return _plain(t) or (pa.types.is_dictionary(t) and _plain(t.value_type))


def derived_schema(left_keys, right_keys, left: pa.Schema, right: pa.Schema, suffixes) -> pa.Schema | None:
    """The schema pyarrow's join of tables with schemas ``left`` and ``right`` would have, with the columns
    in `join_layout` order; None where the rules (module docstring) do not settle it."""
    if len(set(left.names)) != len(left.names) or len(set(right.names)) != len(right.names):
        return None
    for a, b in zip(left_keys, right_keys):
        if a not in left.names or b not in right.names:
            return None
        ta, tb = left.field(a).type, right.field(b).type
        if ta != tb or not _plain(ta):
            return None
    keys = (set(left_keys), set(right_keys))
    for i, schema in enumerate((left, right)):
        if not all(_payload(f.type) for f in schema if f.name not in keys[i]):
            return None
    layout = join_layout(left_keys, right_keys, left.names, right.names, suffixes)
    names = [out for _, _, out in layout]
    if len(set(names)) != len(names):
        return None
    return pa.schema([pa.field(out, (left if side == "left" else right).field(name).type)
                      for side, name, out in layout])
