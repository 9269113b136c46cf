"""Hive-style partitioned directories: ``root/year=2024/region=eu/part.0.parquet``.

`to_parquet(partition_on=[...])` writes them; `read_parquet` finds the
``key=value`` directories between the root it was given and each file, and
gives every row of the file those values as columns (after the file's own
columns, as pandas and Dask do).  A partition column is categorical (an Arrow
dictionary) whose categories are every value found, in file order, as
integers (``int32``) when all of them are, else strings; ``__HIVE_DEFAULT_PARTITION__``
is null.  Values are URL-escaped in directory names.

    >>> layout = HiveLayout.discover([("d/k=1/x=a/f.parquet", "d"), ("d/k=2/x=b/f.parquet", "d")])
    >>> layout.names, [str(t) for t in layout.schema.types], layout.constants(1, 3).to_pydict()
    (('k', 'x'), ['dictionary<values=int32, indices=int32, ordered=0>', \
'dictionary<values=string, indices=int32, ordered=0>'], {'k': [2, 2, 2], 'x': ['b', 'b', 'b']})
    >>> partition_dir({"k": 1, "x": "a b"})
    'k=1/x=a%20b'
"""

from __future__ import annotations

import os
import re
import urllib.parse

import numpy as np
import pyarrow as pa

__all__ = ["HiveLayout", "partition_dir", "NULL_DIR"]

NULL_DIR = "__HIVE_DEFAULT_PARTITION__"
_INT = re.compile(r"^[+-]?[0-9]+$")


def _segments(path, root) -> list:
    if not root or os.path.normpath(root) == os.path.normpath(path):  # a file named directly: no partitions
        return []
    rel = os.path.relpath(os.path.dirname(path), root)
    parts = [] if rel in (".", "") else rel.split(os.sep)
    return [p.split("=", 1) for p in parts if "=" in p]


def _typed(values):
    """The values as int32 when every one is an integer that fits (as pyarrow's discovery does), else text."""
    if values and all(_INT.match(v) and -2**31 <= int(v) < 2**31 for v in values):
        return pa.array([int(v) for v in values], pa.int32())
    return pa.array(values, pa.string())


class HiveLayout:
    """The partition columns of a set of files: ``names``, their ``dictionaries`` (every value, typed) and
    each file's value codes (``codes[i][j]``: file i's value of column j, -1 for null)."""

    def __init__(self, names, dictionaries, codes):
        self.names = tuple(names)
        self.dictionaries = tuple(dictionaries)
        self.codes = tuple(tuple(c) for c in codes)
        self.schema = pa.schema([pa.field(n, pa.dictionary(pa.int32(), d.type))
                                 for n, d in zip(self.names, self.dictionaries)])

    @classmethod
    def discover(cls, files_with_roots) -> "HiveLayout | None":
        """The layout of ``[(file, root), ...]``, or None when no file sits in ``key=value`` directories."""
        segs = [_segments(f, r) for f, r in files_with_roots]
        if not any(segs):
            return None
        keys = [tuple(k for k, _ in s) for s in segs]
        if len(set(keys)) > 1:
            bad = next(f for (f, _), k in zip(files_with_roots, keys) if k != keys[0])
            raise ValueError(f"the hive-partitioned files disagree on their partition keys: {keys[0]} for "
                             f"{files_with_roots[0][0]!r} but {next(k for k in keys if k != keys[0])} for {bad!r}")
        names = keys[0]
        raw = [[None if v == NULL_DIR else urllib.parse.unquote(v) for _, v in s] for s in segs]
        dictionaries, codes = [], [[0] * len(names) for _ in raw]
        for j in range(len(names)):
            seen = list(dict.fromkeys(r[j] for r in raw if r[j] is not None))
            dictionaries.append(_typed(seen))
            pos = {v: i for i, v in enumerate(seen)}
            for i, r in enumerate(raw):
                codes[i][j] = -1 if r[j] is None else pos[r[j]]
        return cls(names, dictionaries, codes)

    def constants(self, i: int, nrows: int, names=None) -> pa.Table:
        """File ``i`` 's partition values as ``nrows``-row columns (only ``names``, if given)."""
        cols, out_names = [], []
        for j, n in enumerate(self.names):
            if names is not None and n not in names:
                continue
            code = self.codes[i][j]
            idx = pa.array(np.full(nrows, max(code, 0), dtype=np.int32), mask=np.full(nrows, code < 0))
            cols.append(pa.DictionaryArray.from_arrays(idx, self.dictionaries[j]))
            out_names.append(n)
        return pa.Table.from_arrays(cols, names=out_names)

    def __graphflow_tokenize__(self):
        return (self.names, tuple(d.to_pylist() for d in self.dictionaries), self.codes)


def partition_dir(values: dict) -> str:
    """The relative directory for one combination of partition values (``None``: the hive null)."""
    parts = []
    for k, v in values.items():
        text = NULL_DIR if v is None else urllib.parse.quote(str(v), safe="")
        parts.append(f"{k}={text}")
    return "/".join(parts)
