"""Categoricals: ``categorize``, ``astype("category")`` and the ``.cat`` accessor, with Dask's rules.

A categorical column is an Arrow dictionary column.  Its categories are
*unknown* (each partition has its own dictionary: ``astype("category")``, as in
Dask) or *known*: then every partition's dictionary is exactly the category
list, which the schema's metadata also holds (`labels.categories`), so the meta
(``df.meta``), ``get_dummies`` and ``pivot_table`` know them without computing:

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"c": ["b", "a", None, "b"]}), npartitions=2)
    >>> df.c.astype("category").cat.known
    False
    >>> known = df.categorize()                       # computes the categories now, as Dask does
    >>> known.c.cat.known, list(known.c.cat.categories)
    (True, ['a', 'b'])
    >>> known.compute(scheduler="sync").c.cat.categories.tolist()
    ['a', 'b']

Finding the categories (``categorize``, ``cat.as_known()``,
``cat.remove_unused_categories()``) computes, as in Dask; everything else is lazy.
Categories are kept as JSON in the metadata, so they must be strings, numbers
or booleans.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import base
from ..errors import GraphflowError
from .accessors import attribute, empty_pandas, partitionwise
from .collection import OPERATIONS, CallMethod
from .colexpr import Call, Col
from .labels import categories, column_labels, data_names, with_categories
from .plan import Blockwise, Project

__all__ = ["CategoricalMethods", "CategoricalAccessor", "is_category_dtype", "with_known", "UnknownCategoriesError"]

_UNKNOWN = ("`df.column.cat.{what}` with unknown categories is not supported.  Please use "
            "`column.cat.as_known()` or `df.categorize()` beforehand to ensure known categories")


class UnknownCategoriesError(NotImplementedError, AttributeError, GraphflowError):
    """An operation needs a categorical's categories, which are not known without computing (Dask's
    ``AttributeNotImplementedError``)."""


def is_category_dtype(dtype) -> bool:
    """``"category"`` or a ``pandas.CategoricalDtype``."""
    return isinstance(dtype, pd.CategoricalDtype) or (isinstance(dtype, str) and dtype == "category")


def _index_type(n: int) -> pa.DataType:
    """The codes' type pandas picks for ``n`` categories."""
    for t, top in ((pa.int8(), 127), (pa.int16(), 32767), (pa.int32(), 2 ** 31 - 1)):
        if n < top:
            return t
    return pa.int64()


def _json_values(values, column) -> list:
    out = [v.as_py() if isinstance(v, pa.Scalar) else v for v in values]
    for v in out:
        if not isinstance(v, (str, int, float, bool)):
            raise TypeError(f"cannot keep the categories of column {column!r} as known: {type(v).__name__} "
                            f"values (known categories must be strings, numbers or booleans)")
    return out


def _sorted(values: list) -> list:
    try:
        return sorted(values)
    except TypeError:
        return values


def with_known(coll, known: dict):
    """``coll`` (DataFrame or Series) whose schema knows ``{arrow name: categories or None}``."""
    plan = coll.expr if getattr(coll, "column_expr", None) is None else coll.source
    schema = with_categories(plan.schema, known)
    names = plan.schema.names
    wrapped = Blockwise(Project([(n, Col(n)) for n in names]), (plan,), schema, label="categories")
    if getattr(coll, "column_expr", None) is None:
        return OPERATIONS.DataFrame(wrapped)
    col = coll.arrow_column
    if col not in names:  # a formula: materialize it first
        return with_known(OPERATIONS.Series(coll.expr, Col(col), coll.name, coll.arrow_type), known)
    return OPERATIONS.Series(wrapped, Col(col), coll.name, coll.arrow_type)


class _Encode:
    """Op: the columns ``{name: dictionary}`` dictionary-encoded with exactly that dictionary (known
    categories); values outside it become nulls."""

    def __init__(self, dictionaries: dict):
        self.dictionaries = dictionaries

    def __call__(self, table):
        for name, dictionary in self.dictionaries.items():
            col = table.column(name)
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            codes = pc.index_in(col, value_set=dictionary).cast(_index_type(len(dictionary)))
            chunks = [pa.DictionaryArray.from_arrays(c, dictionary) for c in codes.chunks] or \
                [pa.DictionaryArray.from_arrays(pa.array([], codes.type), dictionary)]
            table = table.set_column(table.schema.get_field_index(name), name, pa.chunked_array(chunks))
        return table

    def __graphflow_tokenize__(self):
        return ("categorize", tuple((n, str(d.type), tuple(d.to_pylist())) for n, d in self.dictionaries.items()))


def _encode(coll, found: dict, ordered: dict | None = None):
    """``coll`` with the columns ``{arrow name: categories}`` encoded as known categoricals."""
    plan = coll.expr
    dictionaries, fields = {}, []
    for f in plan.schema:
        if f.name in found:
            value_type = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
            dictionaries[f.name] = pa.array(found[f.name], value_type)
            t = pa.dictionary(_index_type(len(found[f.name])), value_type, (ordered or {}).get(f.name, False))
            fields.append(pa.field(f.name, t))
        else:
            fields.append(f)
    schema = with_categories(pa.schema(fields, metadata=plan.schema.metadata), found)
    out = Blockwise(_Encode(dictionaries), (plan,), schema, label="categorize")
    if getattr(coll, "column_expr", None) is None:
        return OPERATIONS.DataFrame(out)
    return OPERATIONS.Series(out, Col(coll.arrow_column), coll.name, schema.field(coll.arrow_column).type)


def _find_categories(series_list) -> list:
    """The distinct non-null values of each Series, computed together (sorted when they sort)."""
    plain = [s.derive(Call("cast", [s.column_expr], pc.CastOptions.safe(s.arrow_type.value_type)))
             if pa.types.is_dictionary(s.arrow_type) else s for s in series_list]  # partitions' dictionaries differ
    uniques = base.compute(*[s.dropna().unique() for s in plain], scheduler="threads")
    return [_sorted(_json_values(pd.Series(u).dropna().tolist(), s.name)) for u, s in zip(uniques, series_list)]


class CategoricalMethods:
    """DataFrame and Series methods for categoricals (a mixin of both)."""

    def known_meta(self, meta):
        """The empty pandas object ``meta`` of this collection with its known categories filled in."""
        schema = self.expr.schema
        known = categories(schema)
        if not known:
            return meta
        for name, label in zip(data_names(schema), column_labels(schema)):
            if name not in known:
                continue
            if isinstance(meta, pd.Series):
                return meta.cat.set_categories(known[name])
            meta[label] = meta[label].cat.set_categories(known[name])
        return meta

    def categorize(self, columns=None, index=None, split_every=None):
        """Convert columns (all string and unknown-categorical ones by default) to categoricals with known
        categories.  This computes the distinct values of those columns now, as Dask does."""
        if index:
            raise NotImplementedError("categorize(index=True): graphflow cannot make the index categorical; "
                                      "reset_index() first and categorize the column")
        schema, known = self.expr.schema, categories(self.expr.schema)
        names = dict(zip(column_labels(schema), data_names(schema)))
        if columns is None:
            picked = [n for n in data_names(schema) if n not in known and (
                pa.types.is_string(schema.field(n).type) or pa.types.is_large_string(schema.field(n).type)
                or pa.types.is_dictionary(schema.field(n).type))]
        else:
            columns = [columns] if not isinstance(columns, (list, tuple)) else list(columns)
            missing = [c for c in columns if c not in names]
            if missing:
                raise KeyError(f"{missing} not in columns {list(names)}")
            picked = [names[c] for c in columns if names[c] not in known]
        if not picked:
            return self
        found = _find_categories([self[c] if c in self.arrow_names() else self[c] for c in picked])
        ordered = {n: schema.field(n).type.ordered for n in picked if pa.types.is_dictionary(schema.field(n).type)}
        return _encode(self, dict(zip(picked, found)), ordered)

    def _astype_category(self, dtype):
        """``astype("category")`` (unknown categories, as Dask) or ``astype(CategoricalDtype(cats))``
        (known)."""
        if getattr(self, "column_expr", None) is not None:
            return self._astype_categories({self.name: dtype}, series=True)
        return self._astype_categories({label: dtype for label in column_labels(self.expr.schema)})

    def _astype_categories(self, mapping: dict, series: bool = False):
        """``astype({label: dtype})`` with some categorical dtypes: pandas' ``astype`` on every partition."""
        empty = empty_pandas(self)
        frame = empty.to_frame() if series else empty
        meta = frame.astype(mapping)
        known, schema = {}, self.expr.schema
        names = [self.arrow_column] if series else data_names(schema)
        for (label, dtype), name in zip(mapping.items(), names) if series else \
                ((item, dict(zip(column_labels(schema), names))[item[0]]) for item in mapping.items()):
            if not is_category_dtype(dtype):
                continue
            if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
                known[name] = _json_values(list(dtype.categories), label)
            else:  # unknown: keep the value type of the source in the (empty) categories
                source = frame[label].dtype
                values = source.categories if isinstance(source, pd.CategoricalDtype) else pd.Index([], dtype=source)
                meta[label] = meta[label].cat.set_categories(values[:0])
        arg = mapping[self.name] if series else mapping
        out = partitionwise(self, "astype", arg, meta=meta.iloc[:, 0] if series else meta)
        return with_known(out, known) if known else out

    @property
    def cat(self):
        """The ``.cat`` accessor of a categorical Series."""
        return CategoricalAccessor(self)


class CategoricalAccessor:
    """``series.cat``: the categories and codes of a categorical Series, and their changes."""

    def __init__(self, series):
        if getattr(series, "column_expr", None) is None or not pa.types.is_dictionary(series.arrow_type):
            raise AttributeError("Can only use .cat accessor with a 'category' dtype")
        self._s = series

    @property
    def known(self) -> bool:
        """Whether the categories are known without computing."""
        return self._s.arrow_column in categories(self._s.expr.schema)

    def _require_known(self, what):
        if not self.known:
            raise UnknownCategoriesError(_UNKNOWN.format(what=what))

    @property
    def categories(self):
        """The categories (a pandas Index); known categories only."""
        self._require_known("categories")
        return empty_pandas(self._s).cat.categories

    @property
    def codes(self):
        """The integer codes (-1 for missing); known categories only (else the codes differ by partition)."""
        self._require_known("codes")
        return attribute(self._s, "cat.codes")

    @property
    def ordered(self) -> bool:
        """Whether the categories are ordered."""
        return self._s.arrow_type.ordered

    def as_known(self, **kwargs):
        """The same Series with known categories (computes the distinct values now, as Dask)."""
        if self.known:
            return self._s
        found = _find_categories([self._s])[0]
        return _encode(self._s, {self._s.arrow_column: found}, {self._s.arrow_column: self.ordered})

    def as_unknown(self):
        """The same Series with unknown categories (nothing computed)."""
        return with_known(self._s, {self._s.arrow_column: None}) if self.known else self._s

    def _change(self, method, *args, **kwargs):
        out = partitionwise(self._s, f"cat.{method}", *args, **kwargs)
        if self.known:
            meta = CallMethod(f"cat.{method}", args, kwargs)(empty_pandas(self._s))
            cats = _json_values(list(meta.cat.categories), self._s.name)
            out = with_known(out, {out.arrow_column: cats})
        return out

    def add_categories(self, new_categories):
        """``new_categories`` appended to the categories."""
        return self._change("add_categories", new_categories)

    def remove_categories(self, removals):
        """The categories without ``removals`` (their values become missing)."""
        return self._change("remove_categories", removals)

    def rename_categories(self, new_categories):
        """The categories renamed (a list, a dict or a function)."""
        return self._change("rename_categories", new_categories)

    def reorder_categories(self, new_categories, ordered=None):
        """The same categories in the order ``new_categories``."""
        return self._change("reorder_categories", new_categories, ordered=ordered)

    def set_categories(self, new_categories, ordered=None, rename: bool = False):
        """The categories replaced by ``new_categories`` (values not among them become missing)."""
        out = partitionwise(self._s, "cat.set_categories", new_categories, ordered=ordered, rename=rename)
        return with_known(out, {out.arrow_column: _json_values(list(new_categories), self._s.name)})

    def as_ordered(self):
        """The categories marked ordered."""
        return self._change("as_ordered")

    def as_unordered(self):
        """The categories marked unordered."""
        return self._change("as_unordered")

    def remove_unused_categories(self):
        """The categories without those no value uses (computes the values present now, as Dask)."""
        s = self.as_known()
        present = set(_find_categories([s])[0])
        keep = [c for c in CategoricalAccessor(s).categories if c in present]
        return CategoricalAccessor(s).set_categories(keep)
