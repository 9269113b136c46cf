"""The shuffle: every input partition sends each row to the output partition its key picks.

A shuffle is a first-class plan node (`Shuffle`) with a *partitioner*: a
function ``(table, n, *extra) -> numpy int array`` of target partitions, one
per row.  `hash_partitioner` hashes key columns (groupby with many groups,
joins, drop_duplicates); sort uses a range partitioner whose boundaries come
from a sampling task (``extra``).  On the local executors the shuffle is plain
tasks, for m inputs and n outputs::

    split-i  = split(partition i)           -> n tables        (m tasks)
    piece-ij = split-i[j]                                       (m * n tiny tasks)
    out-j    = concat(piece-0j ... piece-(m-1)j)                (n tasks)

The per-piece tasks let a cluster move only the rows each output needs.  The
seam for a worker-to-worker shuffle is `Shuffle.tasks`: a p2p version would
emit one send task per input and one receive per output instead.

A shuffle may keep only some outputs (``only=``, set by the
`prune_shuffle_outputs` rule when just some partitions are read, as
``head`` after ``sort_values`` does): each split then drops the rows of the
other outputs before cutting, so reading partition 0 of a sort costs one
filter per input instead of a full reordering.

Hashing is deterministic across processes (no Python ``hash``): integers and
timestamps are mixed with a 64-bit multiplier, floats through their bits,
strings with a polynomial rolling hash computed over Arrow's data buffer with
numpy, so equal keys land in the same partition on every worker.

    >>> import pyarrow as pa
    >>> t = pa.table({"k": ["a", "b", "a", None], "v": [1, 2, 3, 4]})
    >>> ids = hash_partitioner(t, 4, ["k"])
    >>> bool(ids[0] == ids[2]), [len(p) for p in split_table(t, ids, 4)] == list(np.bincount(ids, minlength=4))
    (True, True)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..spec import Ref, Task, tokenize
from .plan import PlanNode

__all__ = ["Shuffle", "hash_partitioner", "hash_columns", "split_table", "shuffle"]

_MIX = np.uint64(0x9E3779B97F4A7C15)
_P = np.uint64(1099511628211)


def _hash_strings(arr: pa.Array) -> np.ndarray:
    arr = arr.cast(pa.large_string()) if not pa.types.is_large_string(arr.type) else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = data[lo:hi].astype(np.uint64)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(len(data), _P, dtype=np.uint64)) if len(data) else data
        prefix = np.concatenate([[np.uint64(0)], np.cumsum(data * powers, dtype=np.uint64)])
        rel = offsets - lo
        h = prefix[rel[1:]] - prefix[rel[:-1]]
        # Positions differ per row: make the hash independent of where the string sits.
        inv = _inverse_powers(rel[:-1], powers)
        return h * inv + (rel[1:] - rel[:-1]).astype(np.uint64) * _MIX


def _inverse_powers(starts, powers):
    # P is odd, so it is invertible mod 2**64: h * P^-(start+1) puts every string at position 0.
    p_inv = np.uint64(pow(int(_P), -1, 1 << 64))
    with np.errstate(over="ignore"):
        base = np.cumprod(np.full(max(int(starts.max()) + 1 if len(starts) else 1, 1), p_inv, dtype=np.uint64))
    return base[starts] if len(starts) else np.zeros(0, np.uint64)


def _hash_array(arr: pa.Array) -> np.ndarray:
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        out = _hash_strings(arr.cast(pa.large_string()) if pa.types.is_binary(t) else arr)
    else:
        if pa.types.is_floating(t):
            arr = pc.add(arr.cast(pa.float64()), 0.0)  # -0.0 + 0.0 == +0.0: equal keys, equal bits
            vals = arr.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.uint64)
        elif pa.types.is_boolean(t):
            vals = arr.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint64)
        else:
            ints = arr.cast(pa.int64())
            vals = (ints.fill_null(0) if ints.null_count else ints).to_numpy(zero_copy_only=False).view(np.uint64)
        with np.errstate(over="ignore"):
            out = (vals ^ (vals >> np.uint64(31))) * _MIX
    if arr.null_count:
        out = np.where(arr.is_null().to_numpy(zero_copy_only=False), np.uint64(7), out)
    return out


def hash_columns(table: pa.Table, keys) -> np.ndarray:
    """A deterministic uint64 hash of each row's ``keys`` columns."""
    total = None
    for k in keys:
        col = table.column(k)
        h = _hash_array(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
        if total is None:
            total = h
            continue
        with np.errstate(over="ignore"):
            total = (total * np.uint64(31) + h) ^ (total >> np.uint64(29))
    return total if total is not None else np.zeros(table.num_rows, dtype=np.uint64)


def hash_partitioner(table: pa.Table, n: int, keys) -> np.ndarray:
    """The output partition of each row: its key hash modulo ``n``."""
    h = hash_columns(table, keys)
    # The top 32 bits scaled to [0, n): a multiply and a shift instead of a 64-bit modulo.
    with np.errstate(over="ignore"):
        return ((h >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32)


def split_table(table: pa.Table, ids: np.ndarray, n: int) -> list:
    """``table`` cut into ``n`` tables by target id (row order kept within each)."""
    if n == 1:
        return [table]
    # 16-bit ids make numpy's stable sort a radix sort
    small = ids.astype(np.uint16, copy=False) if n <= 65536 else ids.astype(np.int64)
    order = np.argsort(small, kind="stable")
    counts = np.bincount(small, minlength=n)
    ordered = table.take(pa.array(order))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [ordered.slice(int(bounds[j]), int(counts[j])) for j in range(n)]


def _split(table, n, partitioner, *extra):
    return split_table(table, partitioner(table, n, *extra), n)


def _split_only(table, n, only, partitioner, *extra):
    """The rows of outputs ``only`` (positions in ``only`` become the new ids), cut into len(only) tables."""
    ids = partitioner(table, n, *extra)
    remap = np.full(n, -1, dtype=np.int64)
    remap[list(only)] = np.arange(len(only))
    new = remap[ids]
    keep = new >= 0
    if not keep.all():
        table, new = table.filter(pa.array(keep)), new[keep]
    return split_table(table, new, len(only))


def _piece(pieces, j):
    return pieces[j]


def _gather(pieces, schema):
    pieces = [p for p in pieces if p.num_rows]
    if not pieces:
        return schema.empty_table()
    return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]


class Shuffle(PlanNode):
    """``child`` repartitioned into ``n`` partitions by ``partitioner`` (children[1:]: its extra inputs)."""

    label = "shuffle"

    def __init__(self, child, partitioner, n: int, extra=(), args=(), only=None):
        self.children = (child,) + tuple(extra)
        self.partitioner = partitioner
        self.args = tuple(args)
        self.total = n  # partitions the partitioner cuts into
        self.only = None if only is None else tuple(only)
        self._npartitions = n if only is None else len(self.only)
        self._schema = child.schema

    def params(self):
        return (tokenize(self.partitioner), self.args, self.total, self.only)

    def with_children(self, children):
        return Shuffle(children[0], self.partitioner, self.total, children[1:], self.args, self.only)

    def column_needs(self, needed):
        """Rows move, columns pass through: the ``needed`` ones plus the hash keys (None: all, for other
        partitioners or extra inputs)."""
        keys = getattr(self.partitioner, "keys", None)
        if len(self.children) > 1 or not isinstance(keys, tuple):
            return None
        return [set(needed) | set(keys)]

    def keeping(self, indices) -> "Shuffle":
        """This shuffle producing only its outputs ``indices`` (in that order)."""
        only = [self.only[i] for i in indices] if self.only is not None else list(indices)
        return Shuffle(self.children[0], self.partitioner, self.total, self.children[1:], self.args, only)

    def tasks(self):
        child, n = self.children[0], self._npartitions
        extra = [Ref((c.name, 0)) for c in self.children[1:]]
        split, piece = self.name + "-split", self.name + "-piece"
        if self.only is None:
            head = (_split, self.total)
        else:
            head = (_split_only, self.total, self.only)
        out = []
        for i in range(child.npartitions):
            out.append(Task((split, i), head[0], Ref((child.name, i)), *head[1:], self.partitioner, *self.args,
                            *extra))
            out += [Task((piece, i, j), _piece, Ref((split, i)), j) for j in range(n)]
        for j in range(n):
            refs = [Ref((piece, i, j)) for i in range(child.npartitions)]
            out.append(Task((self.name, j), _gather, refs, self._schema))
        return out

    def describe(self):
        kept = "" if self.only is None else f" keeping {list(self.only)} of {self.total}"
        return f"Shuffle[{self.children[0].npartitions} -> {self._npartitions}] by {self.partitioner!r}{kept}"


class _HashBy:
    """Partitioner over key columns (picklable, tokenizable)."""

    def __init__(self, keys):
        self.keys = tuple(keys)

    def __call__(self, table, n):
        return hash_partitioner(table, n, self.keys)

    def __graphflow_tokenize__(self):
        return ("hash", self.keys)

    def __repr__(self):
        return f"hash({', '.join(map(str, self.keys))})"


def shuffle(plan: PlanNode, keys, npartitions: int) -> Shuffle:
    """A hash shuffle of ``plan`` on ``keys`` into ``npartitions``: equal keys meet in one partition."""
    return Shuffle(plan, _HashBy(keys), npartitions, args=())
