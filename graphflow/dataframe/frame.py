"""`DataFrame`: a lazy, partitioned table whose partitions are ``pyarrow.Table`` s.

The API is the pandas/Dask one; each method adds a node to the plan and
returns a new DataFrame, checking names and types against the schema at once
(a missing column is a KeyError that lists the schema, before anything runs):

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"k": [1, 1, 2], "x": [1.0, 2.0, 4.0]}), npartitions=2)
    >>> df.npartitions, list(df.columns)
    (2, ['k', 'x'])
    >>> df2 = df[df.x > 1].assign(y=df.x * 2)
    >>> df2.compute(scheduler="sync").to_dict("list")
    {'k': [1, 2], 'x': [2.0, 4.0], 'y': [4.0, 8.0]}

A Series used on a frame derived from its own by filters and projections
(``df[df.x > 1].assign(y=df.x * 2)`` above) is evaluated row by row on the
derived frame, which is what pandas' index alignment would give.  Series from
unrelated frames cannot be combined (there is no index to align on).

Methods whose work lives in a module that imports DataFrame (reductions,
``groupby``, ``merge``, ``sort_values``, ``repartition``, the writers) call it
through `collection.OPERATIONS`; see `graphflow.dataframe.collection`.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .categorical import CategoricalMethods, is_category_dtype
from .collection import OPERATIONS, ColumnReductions, PlanCollection, Scalar, concat_tables, result_table
from .colexpr import Call, Col, ColExpr, Lit, for_filter, output_type
from .indexing import FrameIndexMethods
from .labels import (carry_categories, column_labels, data_names, index_column, index_columns, index_names,
                     label_of, with_labels)
from .pandas_edge import PandasFunc, infer_output, meta_schema, parts_to_pandas_frame, sample_meta, to_pandas_frame
from .methods import FrameMethods
from .more_methods import MoreFrameMethods
from .plan import Blockwise, Filter, Func, Partitions, Project, Reduce
from .reshape import ReshapeMethods
from .row_ids import RowPositions
from .series import Index, Series
from .to_array import ArrayMethods
from .to_bag import BagMethods
from .resample import ResampleMethods
from .windows import WindowMethods
from .zipped import attach, common_source, needs_pandas_text

__all__ = ["DataFrame", "check_columns"]


def check_columns(names, schema: pa.Schema, what: str = "column"):
    """Raise KeyError naming the first of ``names`` not in ``schema`` and listing the schema."""
    have = set(schema.names)
    for n in names:
        if n not in have:
            listing = ", ".join(f"{f.name}: {f.type}" for f in schema if f.name in data_names(schema))
            raise KeyError(f"{what} {n!r} not found; the columns are: {listing}")


def _finalize_frame(parts, schema):
    return parts_to_pandas_frame(parts, schema, result_table)


def _finalize_arrow(parts, schema):
    return concat_tables(parts, schema)


class DataFrame(ArrayMethods, BagMethods, MoreFrameMethods, WindowMethods, ResampleMethods, FrameIndexMethods,
                CategoricalMethods, ReshapeMethods, FrameMethods, ColumnReductions, PlanCollection):
    """A lazy partitioned table; ``compute()`` returns a ``pandas.DataFrame`` (``to_arrow()`` a
    ``pyarrow.Table``)."""

    def __graphflow_finalize__(self):
        if self.__dict__.get("_as_arrow"):
            return _finalize_arrow, (self.expr.schema,)
        return _finalize_frame, (self.expr.schema,)

    # -- schema, without computing
    @property
    def schema(self) -> pa.Schema:
        """The partitions' Arrow schema: the data columns, then the index's ``__index_level_i__`` columns."""
        return self.expr.schema

    def _shared_meta(self):
        """The cached meta itself (`cached_meta`): for readers that do not change it."""
        return self.cached_meta(lambda: self.known_meta(to_pandas_frame(self.schema.empty_table(), self.schema)))

    @property
    def _meta(self):
        """An empty pandas DataFrame with this frame's columns, dtypes and index (as Dask's ``_meta``); a
        shallow copy of the cached one, so a caller's changes stay its own."""
        return self._shared_meta().copy(deep=False)

    meta = _meta  # the same, for the modules that build on it

    @property
    def columns(self):
        """The column labels, a ``pandas.Index`` (the index is not a column)."""
        return self._shared_meta().columns

    @property
    def dtypes(self):
        """The pandas dtype of each column, a ``pandas.Series`` (as pandas)."""
        return self._shared_meta().dtypes

    def arrow_names(self) -> list:
        """The Arrow names of the data columns (not the index)."""
        return data_names(self.schema)

    _data_names = arrow_names

    def arrow_name(self, label) -> str:
        """The Arrow column holding the column labelled ``label`` (its own name unless relabelled)."""
        names = data_names(self.schema)
        if isinstance(label, str) and label in names:
            return label
        for name, lab in zip(names, column_labels(self.schema)):
            if lab == label:
                return name
        check_columns([label], self.schema)
        return label

    _arrow_name = arrow_name

    def __repr__(self):
        cols = "\n".join(f"  {f.name}: {f.type}" for f in self.schema if f.name in self.arrow_names())
        idx = index_names(self.schema)
        where = f", index={list(idx)}" if idx else ""
        return f"graphflow.DataFrame<npartitions={self.npartitions}{where}>\n{cols}"

    def _repr_html_(self):
        from ..cards import dataframe_html

        return dataframe_html(self)

    def __dir__(self):
        return list(super().__dir__()) + [c for c in self.arrow_names() if c.isidentifier()]

    # -- selection
    def __getattr__(self, name):
        # "expr" itself is only missing before __init__ (copy/unpickle): it must not recurse into self.expr;
        # a column named "_merge" (merge's indicator) is an attribute as in pandas, dunder names never are
        if not name.startswith("__") and name != "expr" and name in data_names(self.expr.schema):
            return self[name]
        raise AttributeError(f"'DataFrame' object has no attribute or column {name!r}")

    def __getitem__(self, key):
        if isinstance(key, Series):
            if not key.aligns_with(self.expr) and common_source(self.expr, key.source) is not None:
                base, name = attach(self, key)  # a mask a pandas function made from this frame
                kept = DataFrame(Blockwise(Filter(for_filter(Col(name))), (base.expr,), base.schema))
                return kept.project([(n, Col(n)) for n in self.arrow_names()])
            return DataFrame(Blockwise(Filter(for_filter(key.column_expr_on(self.expr))), (self.expr,), self.schema))
        if isinstance(key, (list, tuple)) or type(key).__name__ == "Index":
            names = [self.arrow_name(k) for k in key]
            return self.project([(n, Col(n)) for n in names])
        name = self.arrow_name(key)
        return Series(self.expr, Col(name), label_of(self.schema, name), self.schema.field(name).type)

    def __setitem__(self, name, value):
        self.expr = self.assign(**{name: value}).expr
        self.__dict__.pop("_opt", None)

    def project(self, exprs, labels=None) -> "DataFrame":
        """A frame of the columns ``exprs`` ((arrow name, ColExpr) pairs), the index carried along."""
        exprs = list(exprs) + [(c, Col(c)) for c in index_columns(self.schema)]
        fields = [pa.field(n, output_type(e, self.schema)) for n, e in exprs]
        old = dict(zip(self.arrow_names(), column_labels(self.schema)))
        keep = {n: old[n] for n, e in exprs if n in old and isinstance(e, Col) and e.name == n}
        schema = with_labels(pa.schema(fields), index=index_names(self.schema), labels={**keep, **(labels or {})})
        schema = carry_categories(self.schema, schema, {n: e.name for n, e in exprs if isinstance(e, Col)})
        return DataFrame(Blockwise(Project(exprs), (self.expr,), schema))

    def column_formula(self, value) -> ColExpr:
        """``value`` (a Series of this frame, a lazy scalar, a constant or ``f(df)``) as a formula over this
        frame's columns; a Series of another frame raises ValueError."""
        if callable(value) and not isinstance(value, Series):
            value = value(self)
        if isinstance(value, Series):
            return value.column_expr_on(self.expr)
        if isinstance(value, Scalar):
            return value.column_arg()  # a lazy value, broadcast to every row (assign(share=df.x.sum()))
        return Lit(value)

    # -- the index
    @property
    def index(self):
        """The index as a lazy Series (named as the index); a frame without a stored index has per-partition
        positions, as Dask's default index."""
        df = with_positions(self)
        names = index_names(df.schema)
        col = index_column(0)
        return Index(df.expr, Col(col), names[0], df.schema.field(col).type)

    def reset_index(self, drop: bool = False) -> "DataFrame":
        """The index back as columns (first, named as pandas names them: the index names, else ``index`` /
        ``level_i``) and no stored index; ``drop=True`` discards it.  Without a stored index the new column
        counts rows within each partition, as in Dask."""
        return reset_index(self, drop)

    # -- column operations
    def assign(self, **columns) -> "DataFrame":
        """New or replaced columns from Series, scalars or callables ``f(df)``; existing order kept."""
        base, exprs = self, {n: Col(n) for n in self.arrow_names()}
        for name, value in columns.items():
            if callable(value) and not isinstance(value, Series):
                value = value(self)
            if isinstance(value, Series) and not value.aligns_with(base.expr) and \
                    common_source(base.expr, value.source) is not None:
                base, column = attach(base, value)  # made by a pandas function from this frame: side by side
                exprs[name] = Col(column)
            else:
                exprs[name] = base.column_formula(value)
        return base.project(list(exprs.items()))

    def rename(self, columns: dict | None = None, **kwargs) -> "DataFrame":
        """Rename columns: ``rename(columns={"old": "new"})`` (a callable mapping works too)."""
        columns = kwargs.pop("mapper", columns) if columns is None else columns
        names, labels = self.arrow_names(), list(self.columns)  # labels differ after agg([...]): x_sum -> sum
        if callable(columns):
            columns = {lab: columns(lab) for lab in labels}
        missing = [c for c in columns if c not in labels]
        if missing and kwargs.get("errors", "ignore") == "raise":
            raise KeyError(f"{missing} not found in axis")  # pandas' words
        columns = {c: new for c, new in columns.items() if c in labels}  # pandas ignores absent labels
        # a renamed column takes its new label as its Arrow name when that is a string no other column
        # has; else it keeps its Arrow name and carries the new label
        out = [columns[lab] if lab in columns and isinstance(columns[lab], str) else n
               for n, lab in zip(names, labels)]
        if len(set(out) | set(index_columns(self.schema))) < len(out) + len(index_columns(self.schema)):
            out = names
        relabel = {o: columns[lab] for o, lab in zip(out, labels) if lab in columns and o != columns[lab]}
        return self.project([(o, Col(n)) for o, n in zip(out, names)], labels=relabel)

    def drop(self, labels=None, axis=0, columns=None, errors: str = "raise") -> "DataFrame":
        """Drop columns: ``drop(columns=[...])`` or ``drop([...], axis=1)`` (rows cannot be dropped by label
        lazily, as in Dask: filter with a boolean Series instead)."""
        if labels is not None and columns is None:
            if axis not in (1, "columns"):
                raise NotImplementedError("drop(labels, axis=0): dropping rows by label is not supported lazily "
                                          "(as in Dask); filter with df[~df.index.isin(labels)] or pass axis=1")
            columns = labels
        columns = [columns] if isinstance(columns, str) or not hasattr(columns, "__iter__") else list(columns)
        present = list(self.columns)
        missing = [c for c in columns if c not in present]
        if missing and errors != "ignore":
            raise KeyError(f"{missing} not found in axis")  # pandas' words
        columns = [c for c in columns if c in present]
        names = [self.arrow_name(c) for c in columns]
        return self[[lab for n, lab in zip(self.arrow_names(), list(self.columns)) if n not in names]]

    def astype(self, dtype) -> "DataFrame":
        """Cast columns: one type for all, or ``{column: type}``; types are pyarrow types, numpy/pandas dtypes
        or their names."""
        names = self.arrow_names()
        if is_category_dtype(dtype) or (isinstance(dtype, dict) and any(map(is_category_dtype, dtype.values()))):
            return self._astype_categories(dtype) if isinstance(dtype, dict) else self._astype_category(dtype)
        mapping = dtype if isinstance(dtype, dict) else {n: dtype for n in names}
        check_columns(list(mapping), self.schema)
        text = {n: t for n, t in mapping.items() if needs_pandas_text(self.schema.field(n).type, t)}
        out = self.project([(n, _cast(Col(n), mapping[n]) if n in mapping and n not in text else Col(n))
                            for n in names])
        return out.assign(**{n: out[n].astype(t) for n, t in text.items()}) if text else out

    def fillna(self, value) -> "DataFrame":
        """Replace nulls with a scalar, or per column with ``{column: value}``."""
        mapping = value if isinstance(value, dict) else {n: value for n in self.arrow_names()}
        check_columns(list(mapping), self.schema)
        exprs = []
        for n in self.arrow_names():
            e = Col(n)
            if n in mapping:
                e = Call("coalesce", [_widened(e, self.schema.field(n).type, mapping[n]),
                                      Lit(_fill_scalar(mapping[n], self.schema.field(n).type))])
            exprs.append((n, e))
        return self.project(exprs)

    def dropna(self, subset=None, how: str = "any") -> "DataFrame":
        """Drop rows with a null (``how="any"``) or all nulls (``"all"``) in ``subset``."""
        subset = self.arrow_names() if subset is None else ([subset] if isinstance(subset, str) else list(subset))
        check_columns(subset, self.schema)
        valid = [Call("is_valid", [Col(n)]) for n in subset]
        pred = valid[0]
        for v in valid[1:]:
            pred = Call("and" if how == "any" else "or", [pred, v])
        return DataFrame(Blockwise(Filter(pred), (self.expr,), self.schema))

    def where(self, cond, other=None) -> "DataFrame":
        """Keep values where ``cond`` (a boolean Series) is true, else ``other`` (null by default)."""
        c = self.column_formula(cond)
        exprs = []
        for f in self.schema:
            if f.name not in self.arrow_names():
                continue
            alt = Lit(pa.scalar(other, type=f.type) if other is not None else pa.scalar(None, type=f.type))
            exprs.append((f.name, Call("if_else", [c, Col(f.name), alt])))
        return self.project(exprs)

    def map_partitions(self, func, *args, meta=None, **kwargs):
        """``func(partition, *args, **kwargs)`` on every partition, given as a ``pandas.DataFrame``.

        What it returns (a DataFrame, a Series, or a scalar per partition) makes a
        DataFrame or a Series.  Its columns and dtypes come from ``meta`` (as in
        Dask: an empty pandas object, a ``{column: dtype}`` dict, a ``(name,
        dtype)`` tuple), else from calling ``func`` on a made-up two-row frame.

            >>> import graphflow.dataframe as gd
            >>> df = gd.from_dict({"a": [1, 2, 3]}, npartitions=2)
            >>> df.map_partitions(lambda pdf: pdf.assign(b=pdf.a * 2)).compute(scheduler="sync").b.tolist()
            [2, 4, 6]
        """
        return map_partitions(func, self, *args, meta=meta, **kwargs)

    def to_arrow(self, **kwargs) -> pa.Table:
        """Compute to one ``pyarrow.Table`` (no pandas: the Arrow path), index in ``__index_level_i__``."""
        view = DataFrame(self.expr)
        view.__dict__["_as_arrow"] = True
        return view.compute(**kwargs)

    # -- size and peeking
    def __len__(self):
        return OPERATIONS.row_count(self).compute()

    def head(self, n: int = 5, npartitions=None, compute: bool = True):
        """The first ``n`` rows, reading partitions from the front only until there are enough.

        ``npartitions=k`` looks at the first ``k`` partitions only (Dask's meaning; Dask's default is 1),
        ``-1`` at all of them; the default reads as many as it takes (all, for ``compute=False``)."""
        df = _edge_partitions(self, npartitions, front=True)
        return _edge_pandas(df, n, front=True) if compute else _lazy_edge(df, n, True)

    def tail(self, n: int = 5, npartitions=None, compute: bool = True):
        """The last ``n`` rows, reading partitions from the back only until there are enough
        (``npartitions`` as in `head`, counted from the back)."""
        df = _edge_partitions(self, npartitions, front=False)
        return _edge_pandas(df, n, front=False) if compute else _lazy_edge(df, n, False)

    @property
    def partitions(self):
        """``df.partitions[i]`` / ``[i:j]``: a DataFrame of some partitions."""
        return _PartitionIndexer(self)

    def get_partition(self, i: int) -> "DataFrame":
        return self.partitions[i]

    def to_pandas(self, **kwargs):
        """Compute to a pandas DataFrame (what ``compute()`` gives)."""
        return self.compute(**kwargs)

    # -- the rest of the API lives in its own modules (reached through OPERATIONS)
    def groupby(self, by=None, group_keys=True, sort=None, observed=None, dropna=None, **kwargs):
        """Group rows by columns, Series or index levels (``level=``); see `graphflow.dataframe.groupby`."""
        return OPERATIONS.GroupBy(self, by, group_keys=group_keys, sort=sort, observed=observed, dropna=dropna,
                                  **kwargs)

    def merge(self, right, **kwargs) -> "DataFrame":
        """Join with another DataFrame; see `graphflow.dataframe.join.merge`."""
        return OPERATIONS.merge(self, right, **kwargs)

    def sort_values(self, by, ascending=True, npartitions=None) -> "DataFrame":
        """Sort by one or more columns; see `graphflow.dataframe.sort.sort_values`."""
        return OPERATIONS.sort_values(self, by, ascending=ascending, npartitions=npartitions)

    def repartition(self, divisions=None, npartitions=None, partition_size=None, force: bool = False):
        """New partitions: at ``divisions`` (known divisions needed), ``npartitions`` of them (no shuffle:
        order kept), or of about ``partition_size`` bytes each; see `graphflow.dataframe.repartitioning`."""
        return OPERATIONS.repartition(self, divisions=divisions, npartitions=npartitions,
                                      partition_size=partition_size, force=force)

    def to_parquet(self, path, **kwargs):
        """Write one Parquet file per partition; see `graphflow.dataframe.io.parquet_write.to_parquet`."""
        return OPERATIONS.to_parquet(self, path, **kwargs)

    def to_csv(self, path, **kwargs):
        """Write CSV, one file per partition or one in all; see `graphflow.dataframe.io.csv_write.to_csv`."""
        return OPERATIONS.to_csv(self, path, **kwargs)

    def to_json(self, url_path, **kwargs):
        """Write one JSON-lines file per partition; see `graphflow.dataframe.io.json.to_json`."""
        return OPERATIONS.to_json(self, url_path, **kwargs)

    def to_orc(self, path, **kwargs):
        """Write one ORC file per partition; see `graphflow.dataframe.io.orc.to_orc`."""
        return OPERATIONS.to_orc(self, path, **kwargs)

    def to_hdf(self, path, key, **kwargs):
        """Dask's ``to_hdf``: needs PyTables; see `graphflow.dataframe.io.extras`."""
        return OPERATIONS.to_hdf(self, path, key, **kwargs)

    def to_sql(self, name, uri, **kwargs):
        """Dask's ``to_sql``: needs SQLAlchemy; see `graphflow.dataframe.io.extras`."""
        return OPERATIONS.to_sql(self, name, uri, **kwargs)


def _fill_scalar(value, t: pa.DataType) -> pa.Scalar:
    """``value`` in the column's type, or as a float where an integer column (a float column to pandas, once
    it has missing values) is filled with a fraction."""
    try:
        return pa.scalar(value).cast(t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        if pa.types.is_integer(t) and isinstance(value, float):
            return pa.scalar(value, pa.float64())
        raise TypeError(f"cannot fill a column of type {t} with {value!r}") from None


def _widened(expr, t: pa.DataType, value):
    if _fill_scalar(value, t).type != t:
        return Call("cast", [expr], pc.CastOptions.safe(pa.float64()))
    return expr


def _index_labels(names) -> list:
    if len(names) == 1:
        return ["index" if names[0] is None else names[0]]
    return [f"level_{i}" if n is None else n for i, n in enumerate(names)]


def with_positions(df: "DataFrame") -> "DataFrame":
    """``df`` whose index is each row's position in its partition (what a frame without an index has)."""
    if index_names(df.schema):
        return df
    schema = with_labels(df.schema.append(pa.field(index_column(0), pa.int64())), index=(None,))
    return DataFrame(Blockwise(RowPositions(), (df.expr,), schema, label="positions"))


def reset_index(df: "DataFrame", drop: bool = False) -> "DataFrame":
    """See `DataFrame.reset_index`."""
    if drop and not index_names(df.schema):
        # no stored index: nothing to drop (positions would be made only to be discarded, and their
        # op would hide the columns read below it from projection pushdown: every merge does this)
        return DataFrame(df.expr)
    df = with_positions(df)
    names, cols = index_names(df.schema), index_columns(df.schema)
    data = [(n, Col(n)) for n in df.arrow_names()]
    labels = dict(zip(df.arrow_names(), column_labels(df.schema)))
    if not drop:
        new = [_free_name(str(lab), df.arrow_names()) for lab in _index_labels(names)]
        data = [(n, Col(c)) for n, c in zip(new, cols)] + data
        labels.update({n: lab for n, lab in zip(new, _index_labels(names))})
    fields = [pa.field(n, output_type(e, df.schema)) for n, e in data]
    schema = with_labels(pa.schema(fields), labels=labels)
    return DataFrame(Blockwise(Project(data), (df.expr,), schema, label="reset-index"))


def _free_name(name, taken):
    if name not in taken:
        return name
    raise ValueError(f"cannot insert {name}, already exists")


def _cast(expr, dtype):
    return Call("cast", [expr], pc.CastOptions.safe(to_arrow_type(dtype)))


def to_arrow_type(dtype) -> pa.DataType:
    """An Arrow type from a pyarrow type, an Arrow alias (``"int64"``, ``"string"``) or a pandas/numpy dtype."""
    from .pandas_edge import arrow_type

    if isinstance(dtype, pa.DataType):
        return dtype
    if isinstance(dtype, str):
        try:
            return pa.type_for_alias(dtype)
        except ValueError:
            pass
    return arrow_type(dtype)


def map_partitions(func, *frames, meta=None, **kwargs):
    """``func`` on partition i of each of ``frames`` (pandas DataFrames/Series), i = 0, 1, ...; a DataFrame or
    a Series as ``func`` returns (see `DataFrame.map_partitions`).  Other positional arguments that are
    not collections are passed to ``func`` after the partitions."""
    colls = [f for f in frames if isinstance(f, (DataFrame, Series))]
    args = tuple(f for f in frames[len(colls):])
    if len(colls) != len([f for f in frames if isinstance(f, (DataFrame, Series))]) or not colls:
        raise TypeError("map_partitions(func, *collections, *args): the collections come first")
    series = tuple(isinstance(c, Series) for c in colls)
    plans = [c.expr for c in colls]
    in_schemas = [p.schema for p in plans]
    if meta is None:
        sample = sample_meta(infer_output(func, in_schemas, args, kwargs, series))
        out_schema, is_series = meta_schema(sample, keep_index=bool(index_names(in_schemas[0])))
    else:
        out_schema, is_series = meta_schema(meta, index_like=in_schemas[0])
    op = PandasFunc(func, in_schemas, out_schema, args, kwargs, series)
    plan = Blockwise(op, plans, out_schema, label="map-partitions")
    if is_series:
        name = data_names(out_schema)[0]
        return Series(plan, Col(name), column_labels(out_schema)[0], out_schema.field(name).type)
    return DataFrame(plan)


class _PartitionIndexer:
    def __init__(self, df):
        self._df = df

    def __getitem__(self, item):
        idx = list(range(self._df.npartitions))[item]
        idx = idx if isinstance(idx, list) else [idx]
        return DataFrame(Partitions(self._df.expr, idx))


def _edge_partitions(df, npartitions, front):
    """``df`` cut to its first (last) ``npartitions`` partitions; None and -1 keep them all."""
    if npartitions is None or npartitions == -1:
        return df
    if not isinstance(npartitions, int) or npartitions < 1:
        raise ValueError(f"npartitions must be a positive number of partitions or -1 (all), not {npartitions!r}")
    total = df.npartitions
    if npartitions >= total:
        return df
    keep = list(range(npartitions)) if front else list(range(total - npartitions, total))
    return DataFrame(Partitions(df.expr, keep))


def _lazy_edge(df, n, front):
    """A one-partition frame with the first/last ``n`` rows of every partition concatenated and cut."""
    cut = Func(_slice_rows, n, front)
    per = Blockwise(cut, (df.expr,), df.schema)
    return DataFrame(Reduce(per, _concat_list, _Slicer(n, front), df.schema))


def _edge(df, n, front):
    """Compute head/tail: partition 0 (or -1) first, then twice as many each time until n rows."""
    total, got, want = df.npartitions, [], 1
    order = list(range(total)) if front else list(range(total - 1, -1, -1))
    pos, rows = 0, 0
    while pos < total and rows < n:
        idx = order[pos:pos + want]
        part = _lazy_edge(DataFrame(Partitions(df.expr, idx if front else idx[::-1])), n, front).to_arrow()
        got.append(part)
        rows += part.num_rows
        pos, want = pos + len(idx), want * 2
    tables = got if front else got[::-1]
    out = concat_tables(tables, df.schema)
    return out.slice(0, n) if front else out.slice(max(out.num_rows - n, 0))


def _edge_pandas(df, n, front):
    return to_pandas_frame(_edge(df, n, front), df.schema)


def _slice_rows(table, n, front):
    return table.slice(0, n) if front else table.slice(max(table.num_rows - n, 0))


def _concat_list(parts):
    return pa.concat_tables(parts, promote_options="permissive")


class _Slicer:
    def __init__(self, n, front):
        self.n, self.front = n, front

    def __call__(self, table):
        return _slice_rows(table, self.n, self.front)

    def __graphflow_tokenize__(self):
        return ("slicer", self.n, self.front)
