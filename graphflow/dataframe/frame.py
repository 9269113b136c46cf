"""`DataFrame`: a lazy, partitioned table whose partitions are ``pyarrow.Table`` s.

The API is the pandas/Dask one; each method adds a node to the plan and
returns a new DataFrame, checking names and types against the schema at once
(a missing column is a KeyError that lists the schema, before anything runs):

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"k": [1, 1, 2], "x": [1.0, 2.0, 4.0]}), npartitions=2)
    >>> df.npartitions, df.columns
    (2, ['k', 'x'])
    >>> df2 = df[df.x > 1].assign(y=df.x * 2)
    >>> df2.compute(scheduler="sync").to_pydict()
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

from .collection import OPERATIONS, ColumnReductions, PlanCollection, Scalar, concat_tables
from .colexpr import Call, Col, ColExpr, Lit, output_type
from .plan import Blockwise, Filter, Func, Partitions, Project, Reduce
from .series import Series

__all__ = ["DataFrame", "check_columns"]


def check_columns(names, schema: pa.Schema, what: str = "column"):
    """Raise KeyError naming the first of ``names`` not in ``schema`` and listing the schema."""
    have = set(schema.names)
    for n in names:
        if n not in have:
            listing = ", ".join(f"{f.name}: {f.type}" for f in schema)
            raise KeyError(f"{what} {n!r} not found; the columns are: {listing}")


def _finalize_frame(parts, schema):
    return concat_tables(parts, schema)


class DataFrame(ColumnReductions, PlanCollection):
    """A lazy partitioned table; ``compute()`` returns a ``pyarrow.Table``."""

    def __graphflow_finalize__(self):
        return _finalize_frame, (self.expr.schema,)

    # -- schema, without computing
    @property
    def schema(self) -> pa.Schema:
        return self.expr.schema

    @property
    def columns(self) -> list:
        return list(self.expr.schema.names)

    @property
    def dtypes(self) -> dict:
        return {f.name: f.type for f in self.expr.schema}

    def __repr__(self):
        cols = "\n".join(f"  {f.name}: {f.type}" for f in self.schema)
        return f"graphflow.DataFrame<npartitions={self.npartitions}>\n{cols}"

    def _repr_html_(self):
        from ..cards import dataframe_html

        return dataframe_html(self)

    def __dir__(self):
        return list(super().__dir__()) + [c for c in self.columns if isinstance(c, str) and c.isidentifier()]

    # -- selection
    def __getattr__(self, name):
        # "expr" itself is only missing before __init__ (copy/unpickle): it must not recurse into self.expr
        if not name.startswith("_") and name != "expr" and name in self.expr.schema.names:
            return self[name]
        raise AttributeError(f"'DataFrame' has no attribute or column {name!r}")

    def __getitem__(self, key):
        if isinstance(key, Series):
            return DataFrame(Blockwise(Filter(key.column_expr_on(self.expr)), (self.expr,), self.schema))
        if isinstance(key, (list, tuple)):
            check_columns(key, self.schema)
            return self._project([(n, Col(n)) for n in key])
        check_columns([key], self.schema)
        return Series(self.expr, Col(key), key, self.schema.field(key).type)

    def __setitem__(self, name, value):
        self.expr = self.assign(**{name: value}).expr
        self.__dict__.pop("_opt", None)

    def _project(self, exprs) -> "DataFrame":
        fields = [pa.field(n, output_type(e, self.schema)) for n, e in exprs]
        return DataFrame(Blockwise(Project(exprs), (self.expr,), pa.schema(fields)))

    def _as_expr(self, value) -> ColExpr:
        if callable(value) and not isinstance(value, Series):
            value = value(self)
        if isinstance(value, Series):
            return value.column_expr_on(self.expr)
        if isinstance(value, Scalar):
            return value.column_arg()  # a lazy value, broadcast to every row (assign(share=df.x.sum()))
        return Lit(value)

    # -- column operations
    def assign(self, **columns) -> "DataFrame":
        """New or replaced columns from Series, scalars or callables ``f(df)``; existing order kept."""
        exprs = {n: Col(n) for n in self.columns}
        for name, value in columns.items():
            exprs[name] = self._as_expr(value)
        return self._project(list(exprs.items()))

    def rename(self, columns: dict | None = None, **kwargs) -> "DataFrame":
        """Rename columns: ``rename(columns={"old": "new"})`` (a callable mapping works too)."""
        columns = kwargs.pop("mapper", columns) if columns is None else columns
        if callable(columns):
            columns = {n: columns(n) for n in self.columns}
        check_columns(list(columns), self.schema)
        return self._project([(columns.get(n, n), Col(n)) for n in self.columns])

    def drop(self, columns=None, **kwargs) -> "DataFrame":
        """Drop columns (``drop(columns=[...])`` or ``drop([...])``)."""
        columns = kwargs.pop("labels", columns)
        columns = [columns] if isinstance(columns, str) else list(columns)
        check_columns(columns, self.schema)
        return self[[n for n in self.columns if n not in columns]]

    def astype(self, dtype) -> "DataFrame":
        """Cast columns: one type for all, or ``{column: type}``; types are pyarrow types or names."""
        mapping = dtype if isinstance(dtype, dict) else {n: dtype for n in self.columns}
        check_columns(list(mapping), self.schema)
        return self._project([(n, _cast(Col(n), mapping[n]) if n in mapping else Col(n)) for n in self.columns])

    def fillna(self, value) -> "DataFrame":
        """Replace nulls with a scalar, or per column with ``{column: value}``."""
        mapping = value if isinstance(value, dict) else {n: value for n in self.columns}
        check_columns(list(mapping), self.schema)
        exprs = []
        for n in self.columns:
            e = Col(n)
            if n in mapping:
                e = Call("coalesce", [e, Lit(pa.scalar(mapping[n]).cast(self.schema.field(n).type))])
            exprs.append((n, e))
        return self._project(exprs)

    def dropna(self, subset=None, how: str = "any") -> "DataFrame":
        """Drop rows with a null (``how="any"``) or all nulls (``"all"``) in ``subset``."""
        subset = self.columns if subset is None else ([subset] if isinstance(subset, str) else list(subset))
        check_columns(subset, self.schema)
        valid = [Call("is_valid", [Col(n)]) for n in subset]
        pred = valid[0]
        for v in valid[1:]:
            pred = Call("and" if how == "any" else "or", [pred, v])
        return DataFrame(Blockwise(Filter(pred), (self.expr,), self.schema))

    def where(self, cond, other=None) -> "DataFrame":
        """Keep values where ``cond`` (a boolean Series) is true, else ``other`` (null by default)."""
        c = self._as_expr(cond)
        exprs = []
        for f in self.schema:
            alt = Lit(pa.scalar(other, type=f.type) if other is not None else pa.scalar(None, type=f.type))
            exprs.append((f.name, Call("if_else", [c, Col(f.name), alt])))
        return self._project(exprs)

    def map_partitions(self, func, *args, meta=None, **kwargs) -> "DataFrame":
        """``func(table, *args, **kwargs) -> table`` on every partition.

        The output schema comes from ``meta`` (a schema or an empty table), else
        from calling ``func`` on an empty table of this schema.
        """
        schema = meta.schema if isinstance(meta, pa.Table) else meta
        return DataFrame(Blockwise(Func(func, *args, **kwargs), (self.expr,), schema))

    # -- size and peeking
    def __len__(self):
        return OPERATIONS.row_count(self).compute()

    def head(self, n: int = 5, compute: bool = True):
        """The first ``n`` rows, reading partitions from the front only until there are enough."""
        return _edge(self, n, front=True) if compute else _lazy_edge(self, n, True)

    def tail(self, n: int = 5, compute: bool = True):
        """The last ``n`` rows, reading partitions from the back only until there are enough."""
        return _edge(self, n, front=False) if compute else _lazy_edge(self, n, False)

    @property
    def partitions(self):
        """``df.partitions[i]`` / ``[i:j]``: a DataFrame of some partitions."""
        return _PartitionIndexer(self)

    def get_partition(self, i: int) -> "DataFrame":
        return self.partitions[i]

    def to_pandas(self, **kwargs):
        """Compute, then convert to a pandas DataFrame (needs pandas)."""
        return self.compute(**kwargs).to_pandas()

    # -- the rest of the API lives in its own modules (reached through OPERATIONS)
    def groupby(self, by, dropna: bool = True):
        """Group rows by one or more columns; see `graphflow.dataframe.groupby`."""
        return OPERATIONS.GroupBy(self, by, dropna=dropna)

    def merge(self, right, **kwargs) -> "DataFrame":
        """Join with another DataFrame; see `graphflow.dataframe.join.merge`."""
        return OPERATIONS.merge(self, right, **kwargs)

    def sort_values(self, by, ascending=True, npartitions=None) -> "DataFrame":
        """Sort by one or more columns; see `graphflow.dataframe.sort.sort_values`."""
        return OPERATIONS.sort_values(self, by, ascending=ascending, npartitions=npartitions)

    def drop_duplicates(self, subset=None, split_out=None) -> "DataFrame":
        """Distinct rows (over ``subset`` columns, keeping the first row of each)."""
        return OPERATIONS.drop_duplicates(self, subset, split_out)

    def repartition(self, npartitions: int) -> "DataFrame":
        """Split or merge partitions into ``npartitions`` (no shuffle: order kept)."""
        return OPERATIONS.repartition(self, npartitions)

    def to_parquet(self, path, **kwargs):
        """Write one Parquet file per partition; see `graphflow.dataframe.io.parquet.to_parquet`."""
        return OPERATIONS.to_parquet(self, path, **kwargs)

    def to_csv(self, path, **kwargs):
        """Write one CSV file per partition; see `graphflow.dataframe.io.csv.to_csv`."""
        return OPERATIONS.to_csv(self, path, **kwargs)


def _cast(expr, dtype):
    t = dtype if isinstance(dtype, pa.DataType) else pa.type_for_alias(str(dtype))
    return Call("cast", [expr], pc.CastOptions.safe(t))


class _PartitionIndexer:
    def __init__(self, df):
        self._df = df

    def __getitem__(self, item):
        idx = list(range(self._df.npartitions))[item]
        idx = idx if isinstance(idx, list) else [idx]
        return DataFrame(Partitions(self._df.expr, idx))


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
        part = _lazy_edge(DataFrame(Partitions(df.expr, idx if front else idx[::-1])), n, front).compute()
        got.append(part)
        rows += part.num_rows
        pos, want = pos + len(idx), want * 2
    tables = got if front else got[::-1]
    out = concat_tables(tables, df.schema)
    return out.slice(0, n) if front else out.slice(max(out.num_rows - n, 0))


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
