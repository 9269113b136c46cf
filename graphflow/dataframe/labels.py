"""The pandas labels of an Arrow partition: which columns are the index, and the columns' labels.

Partitions stay ``pyarrow.Table`` s; what pandas would call the index is kept
as ordinary columns named ``__index_level_0__``, ``__index_level_1__``, ...
(pyarrow's own names for a pandas index), and the plan's schema says so in
its metadata, with the index's names and, where pandas' column labels are not
plain strings (numbers, tuples of a MultiIndex), the label of each column:

    >>> import pyarrow as pa
    >>> s = with_labels(pa.schema([("x", pa.int64()), (index_column(0), pa.string())]), index=("k",))
    >>> index_names(s), data_names(s)
    (('k',), ['x'])
    >>> s2 = with_labels(pa.schema([("x_sum", pa.int64())]), labels={"x_sum": ("x", "sum")})
    >>> column_labels(s2)
    [('x', 'sum')]

A categorical column (an Arrow dictionary column) whose categories are
*known* (`categorize`, ``astype(CategoricalDtype([...]))``) has its category
list under ``"categories"`` (`categories`, `with_categories`): every partition
then holds exactly those categories as its dictionary, and meta knows them.

    >>> s3 = with_categories(pa.schema([("c", pa.dictionary(pa.int8(), pa.string()))]), {"c": ["a", "b"]})
    >>> categories(s3)
    {'c': ['a', 'b']}

The columns' own Index may have names and, on one level, categories (``pivot_table`` 's columns are a
``CategoricalIndex`` named after the pivoted column, as in pandas): `with_columns_axis`, `columns_axis`.

Only the plan's schema carries the metadata (kernels drop it from the tables
they make; nothing needs it there).  A schema without it has no stored index:
its rows get a fresh ``RangeIndex`` when converted to pandas.
"""

from __future__ import annotations

import json
import re

import pyarrow as pa

__all__ = ["METADATA_KEY", "index_column", "is_index_column", "index_names", "index_columns", "data_names",
           "data_schema", "column_labels", "label_of", "with_labels", "without_index", "carry_labels",
           "categories", "with_categories", "carry_categories", "columns_axis", "with_columns_axis"]

METADATA_KEY = b"graphflow"
_INDEX_RE = re.compile(r"^__index_level_\d+__$")


def index_column(level: int) -> str:
    """The Arrow column name of index level ``level``."""
    return f"__index_level_{level}__"


def is_index_column(name) -> bool:
    return isinstance(name, str) and _INDEX_RE.match(name) is not None


def _read(schema: pa.Schema) -> dict:
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def _decode(label):
    return tuple(_decode(x) for x in label) if isinstance(label, list) else label


def index_names(schema: pa.Schema) -> tuple:
    """The names of the stored index levels (``()``: no stored index)."""
    return tuple(_decode(n) for n in _read(schema).get("index", ()))


def index_columns(schema: pa.Schema) -> list:
    """The Arrow column names holding the index, level by level."""
    return [index_column(i) for i in range(len(index_names(schema)))]


def data_names(schema: pa.Schema) -> list:
    """The Arrow names of the data columns (everything but the index), in order."""
    return [n for n in schema.names if not is_index_column(n)]


def data_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` without the index columns and without labels metadata."""
    return pa.schema([f for f in schema if not is_index_column(f.name)])


def column_labels(schema: pa.Schema) -> list:
    """The pandas label of each data column (its Arrow name unless the metadata says otherwise)."""
    given = _read(schema).get("labels", {})
    return [_decode(given[n]) if n in given else n for n in data_names(schema)]


def label_of(schema: pa.Schema, name: str):
    """The pandas label of the data column called ``name`` in Arrow."""
    given = _read(schema).get("labels", {})
    return _decode(given[name]) if name in given else name


def with_labels(schema: pa.Schema, index=None, labels=None) -> pa.Schema:
    """``schema`` with the index names ``index`` (a tuple, one per ``__index_level_i__`` column; None keeps
    the present ones) and the labels ``{arrow name: label}`` for columns whose label is not their name."""
    meta = _read(schema)
    if index is not None:
        meta["index"] = list(index)
        if not meta["index"]:
            del meta["index"]
    if labels is not None:
        keep = {k: v for k, v in labels.items() if v != k}
        if keep:
            meta["labels"] = {**meta.get("labels", {}), **keep}
    present = set(schema.names)
    if "categories" in meta:
        meta["categories"] = {k: v for k, v in meta["categories"].items() if k in present}
        if not meta["categories"]:
            del meta["categories"]
    if "labels" in meta:
        meta["labels"] = {k: v for k, v in meta["labels"].items() if k in present}
        if not meta["labels"]:
            del meta["labels"]
    others = {k: v for k, v in (schema.metadata or {}).items() if k not in (METADATA_KEY, b"pandas")}
    if meta:
        others[METADATA_KEY] = json.dumps(meta).encode()
    return schema.with_metadata(others) if others else schema.remove_metadata()


def without_index(schema: pa.Schema) -> pa.Schema:
    """``schema`` minus its index columns, keeping the column labels."""
    return with_labels(data_schema(schema).with_metadata(schema.metadata or {}), index=())


def carry_labels(source: pa.Schema, target: pa.Schema) -> pa.Schema:
    """``target`` with ``source`` 's index and labels, when ``target`` has the index columns and no labels
    of its own (a function's output schema inferred on an empty table loses the metadata)."""
    if METADATA_KEY in (target.metadata or {}):
        return target
    names = index_names(source)
    if not names or not all(c in target.names for c in index_columns(source)):
        return with_labels(target, labels=_read(source).get("labels", {}))
    return with_labels(target, index=names, labels=_read(source).get("labels", {}))


def categories(schema: pa.Schema) -> dict:
    """``{arrow name: [category, ...]}`` of the categorical columns whose categories are known."""
    return dict(_read(schema).get("categories", {}))


def with_categories(schema: pa.Schema, known: dict) -> pa.Schema:
    """``schema`` with the known categories ``{arrow name: list, or None to make them unknown}``."""
    meta = _read(schema)
    cats = {**meta.get("categories", {}), **known}
    meta["categories"] = {k: list(v) for k, v in cats.items() if v is not None and k in schema.names}
    if not meta["categories"]:
        del meta["categories"]
    others = {k: v for k, v in (schema.metadata or {}).items() if k != METADATA_KEY}
    if meta:
        others[METADATA_KEY] = json.dumps(meta).encode()
    return schema.with_metadata(others) if others else schema.remove_metadata()


def carry_categories(source: pa.Schema, target: pa.Schema, renames: dict) -> pa.Schema:
    """``target`` knowing the categories ``source`` knows, for the columns ``renames`` maps
    ``{target name: source name}`` (columns passed through unchanged by a projection)."""
    known = categories(source)
    carried = {new: known[old] for new, old in renames.items()
               if old in known and new in target.names and pa.types.is_dictionary(target.field(new).type)}
    return with_categories(target, carried) if carried else target


def columns_axis(schema: pa.Schema) -> dict:
    """How the columns' Index looks beyond its labels: ``{"names": [one per level], "level": i,
    "categories": [...], "ordered": bool}`` (each key optional; ``{}``: a plain unnamed Index)."""
    return dict(_read(schema).get("columns_axis", {}))


def with_columns_axis(schema: pa.Schema, names, level=None, categories=None, ordered=False) -> pa.Schema:
    """``schema`` whose columns' Index has the level ``names`` and, given ``categories``, level ``level``
    categorical over them (see `columns_axis`)."""
    meta = _read(schema)
    axis = {"names": list(names)}
    if categories is not None:
        axis.update(level=level, categories=list(categories), ordered=bool(ordered))
    meta["columns_axis"] = axis
    others = {k: v for k, v in (schema.metadata or {}).items() if k != METADATA_KEY}
    others[METADATA_KEY] = json.dumps(meta).encode()
    return schema.with_metadata(others)
