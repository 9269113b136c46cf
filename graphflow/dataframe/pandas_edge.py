"""Where Arrow partitions meet pandas: results, user functions' inputs and outputs, and ``meta``.

Inside, a partition is a ``pyarrow.Table`` whose index (if any) is kept in
``__index_level_i__`` columns (`graphflow.dataframe.labels`).  pandas appears
only at the edges: a computed result (`to_pandas_frame`, `to_pandas_series`),
the argument of a user's function in ``map_partitions``/``apply``
(`PandasFunc`), and the way back (`frame_to_arrow`).

    >>> import pandas as pd
    >>> pdf = pd.DataFrame({"x": [1, 2]}, index=pd.Index(["a", "b"], name="k"))
    >>> table, schema = frame_to_arrow(pdf)
    >>> table.column_names
    ['x', '__index_level_0__']
    >>> to_pandas_frame(table, schema).equals(pdf)
    True

Strings become pandas' Arrow-backed string dtype (pandas' default from 3.0),
timestamps ``datetime64`` of their unit; integers with nulls become floats, as
pandas makes them.
"""

from __future__ import annotations

import datetime
import decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from ..spec import tokenize
from .assemble import concat_frames, numeric_frame
from .known_ranges import remember
from .labels import (column_labels, columns_axis, data_names, index_column, index_columns, index_names,
                     is_index_column, with_labels)
from .pandas_parts import frame_of
from .sink import ResultSink, is_sunk, placed_columns

__all__ = ["to_pandas_frame", "to_pandas_series", "frame_to_arrow", "series_to_arrow", "to_arrow",
           "schema_from_pandas", "meta_schema", "nonempty_frame", "PandasFunc", "conform", "MetaMismatchError",
           "is_default_index", "arrow_type", "infer_output", "sample_meta", "PandasFuncAtEdge", "concat_pandas",
           "parts_to_pandas_frame", "parts_to_pandas_series", "copy_on_write"]


class MetaMismatchError(ValueError):
    """A function's result on a partition does not have the columns or kind that ``meta`` promised."""


def _labels_index(labels):
    if labels and all(isinstance(x, tuple) for x in labels):
        return pd.MultiIndex.from_tuples(labels)
    if labels and all(isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in labels):
        return pd.Index(labels, dtype="int64")  # pandas' own labels of ``pd.DataFrame(array)``: 0, 1, ...
    return pd.Index(labels, dtype=object if any(not isinstance(x, str) for x in labels) else None)


def to_pandas_frame(table: pa.Table, schema: pa.Schema) -> pd.DataFrame:
    """The pandas DataFrame of a partition (or of the concatenated partitions) described by ``schema``;
    ``table`` may also be partitions with deferred columns (`pending.JoinedParts`)."""
    names = index_names(schema)
    data = [n for n in data_names(schema) if n in table.column_names]
    idx_cols = index_columns(schema) if names else []
    pdf = numeric_frame(table, data, idx_cols, list(names))
    if pdf is None:
        if not isinstance(table, pa.Table):  # partitions with deferred columns (`pending.JoinedParts`)
            table = table.materialize()
        pdf = _general_frame(table, data, idx_cols, names)
    labels = column_labels(schema)
    if labels != data:
        pdf.columns = _labels_index(labels)
    pdf.columns = shaped_columns(pdf.columns, schema)
    return copy_on_write(pdf)


def shaped_columns(columns: pd.Index, schema: pa.Schema) -> pd.Index:
    """``columns`` with the level names and the categorical level `labels.columns_axis` records, where they
    still fit (a column added later, outside the categories, leaves the level plain)."""
    axis = columns_axis(schema)
    if not axis or len(axis["names"]) != columns.nlevels:
        return columns
    if "categories" in axis:
        level = axis["level"]
        values = columns.get_level_values(level)
        if values.isin(axis["categories"]).all():
            dtype = pd.CategoricalDtype(axis["categories"], ordered=axis["ordered"])
            cat = pd.CategoricalIndex(values, dtype=dtype)
            columns = cat if columns.nlevels == 1 else columns.set_levels(
                pd.CategoricalIndex(columns.levels[level], dtype=dtype), level=level)
    return columns.set_names(axis["names"])


def copy_on_write(obj):
    """``obj`` (a pandas object over our buffers) with writes into it allowed, copying first.

    Its columns are often zero-copy views of Arrow buffers, or of a ``from_pandas`` frame's arrays, and
    read-only: ``pdf.loc[0, "a"] = 1`` would raise ``assignment destination is read-only``, where a
    pandas (or Dask) user expects a writable result.  A shallow copy kept on the object tells pandas'
    copy-on-write that its blocks are shared, so the first write into a block copies it, as pandas does
    for any frame that shares data."""
    object.__setattr__(obj, "_gf_shared_blocks", obj.copy(deep=False))
    return obj


def _general_frame(table, data, idx_cols, names):
    """pyarrow's conversion, for any column types; the index columns set as the index."""
    if table.column_names != data + idx_cols:
        table = table.select(data + idx_cols)
    pdf = table.to_pandas(split_blocks=True)
    if len(idx_cols) == 1 and pdf[idx_cols[0]].dtype.kind in "iu" and pdf[idx_cols[0]].dtype != np.int64:
        # pandas' set_index turns ranges of any int type into an int64 RangeIndex; its groupby keeps the
        # keys' own dtype (an int32 key gives an int32 index), and so do we
        index = pd.Index(pdf.pop(idx_cols[0]), copy=False)
        index.name = names[0]
        pdf.index = index
    elif idx_cols:
        pdf = pdf.set_index(idx_cols)
        pdf.index.names = list(names)
    return pdf


def to_pandas_series(table: pa.Table, schema: pa.Schema) -> pd.Series:
    """The pandas Series of a one-data-column partition described by ``schema``."""
    frame = to_pandas_frame(table, schema)
    out = frame.iloc[:, 0]
    out.name = column_labels(schema)[0]
    return copy_on_write(out)


def is_default_index(index: pd.Index) -> bool:
    """A ``RangeIndex`` from 0 by 1 without a name: what pandas gives when there is no index."""
    return (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None)


def _arrow_names(labels) -> list:
    """Unique Arrow (string) names for pandas column labels."""
    out, seen = [], set()
    for label in labels:
        name = label if isinstance(label, str) else "_".join(map(str, label)) if isinstance(label, tuple) \
            else str(label)
        base, k = name, 1
        while name in seen or is_index_column(name):
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        out.append(name)
    return out


def frame_to_arrow(pdf: pd.DataFrame, keep_index: bool | None = None, schema: pa.Schema | None = None):
    """``(table, schema)`` of a pandas DataFrame: the index kept in ``__index_level_i__`` columns (by default
    unless it is a plain ``RangeIndex``); with ``schema`` given, the table conformed to it."""
    if schema is not None:
        keep_index = bool(index_names(schema))
    elif keep_index is None:
        keep_index = not is_default_index(pdf.index)
    labels = list(pdf.columns)
    names = _arrow_names(labels)
    flat = pdf.set_axis(names, axis=1)
    if keep_index:
        flat = flat.set_axis(pdf.index.set_names([index_column(i) for i in range(pdf.index.nlevels)]), axis=0)
    table = _numpy_table(flat, keep_index)
    if table is None:
        table = pa.Table.from_pandas(flat, preserve_index=keep_index, nthreads=1).replace_schema_metadata(None)
    if keep_index and isinstance(pdf.index, pd.RangeIndex) and index_column(0) not in table.column_names:
        table = table.append_column(index_column(0), pa.array(np.asarray(pdf.index), pa.int64()))
    if schema is not None:
        return conform(table, schema), schema
    index = tuple(pdf.index.names) if keep_index else ()
    return table, with_labels(table.schema, index=index, labels=dict(zip(names, labels)))


# numpy kinds whose Arrow array is the numpy buffer itself (bool: packed to bits): signed and unsigned ints,
# bools, 32/64-bit floats (float16 and the rest take pyarrow's general path).
_FAST_KINDS = frozenset("iub")


def _numpy_array(values: np.ndarray) -> pa.Array | None:
    """The Arrow array pyarrow's ``from_pandas`` makes of a plain numpy column (NaN as null), or None when
    ``values`` is not a numpy int/uint/bool/float32/float64 array."""
    if not isinstance(values, np.ndarray) or values.ndim != 1:
        return None
    kind = values.dtype.kind
    if kind == "f" and values.dtype.itemsize in (4, 8):
        # the NaN scan is all from_pandas does besides wrapping the buffer: a mask only when there is one
        # (min propagates NaN: one pass and no temporary array to learn whether there is)
        if len(values) and np.isnan(values.min()):
            return pa.array(values, mask=np.isnan(values))
        return pa.array(values)
    if kind in _FAST_KINDS:
        return pa.array(values)
    return None


def _numpy_table(flat: pd.DataFrame, keep_index: bool) -> pa.Table | None:
    """``pa.Table.from_pandas(flat, preserve_index=keep_index)`` without pandas metadata, built column by
    column from the numpy buffers (zero-copy) when every column and index level is plain numeric or bool;
    None otherwise (the caller then takes pyarrow's general path).  pyarrow's own path scans and converts
    each column through its pandas machinery: ~1.2 ms per float column of 500k rows, most of it avoidable."""
    names, arrays = list(flat.columns), []
    for i in range(flat.shape[1]):
        arr = _numpy_array(flat.iloc[:, i].to_numpy() if _plain(flat.dtypes.iloc[i]) else None)
        if arr is None:
            return None
        arrays.append(arr)
    if keep_index:
        index = flat.index
        for i in range(index.nlevels):
            level = index.get_level_values(i)
            arr = _numpy_array(_range_values(level) if isinstance(level, pd.RangeIndex) else
                               np.asarray(level) if _plain(level.dtype) else None)
            if arr is None:
                return None
            arrays.append(arr)
            names.append(index.names[i])
    return pa.Table.from_arrays(arrays, names=names)


def _range_values(index: pd.RangeIndex) -> np.ndarray:
    """A RangeIndex written out (read-only, our own array: pandas' cached one is writable) and remembered as
    a range (`known_ranges`), so results indexed by it become a RangeIndex again without a scan."""
    values = np.arange(index.start, index.stop, index.step, dtype=np.int64)
    values.flags.writeable = False
    remember(values, index.start, index.step)
    return values


def _plain(dtype) -> bool:
    return isinstance(dtype, np.dtype)


def series_to_arrow(s: pd.Series, keep_index: bool | None = None, schema: pa.Schema | None = None):
    """``(table, schema)`` of a pandas Series: one data column labelled with the Series' name."""
    name = "__series__" if s.name is None else s.name
    if schema is not None and len(data_names(schema)) == 1:
        name = column_labels(schema)[0]  # the one column meta promised, whatever the Series' name (as Dask)
    frame = s.to_frame(name="__series__" if name is None else name)
    table, out = frame_to_arrow(frame, keep_index, schema)
    if schema is None and s.name is None:
        out = with_labels(out, labels={out.names[0]: None})
    return table, out


def to_arrow(obj, schema: pa.Schema | None = None):
    """``(table, schema)`` of a pandas DataFrame or Series, or of a scalar (a one-row table)."""
    if isinstance(obj, pd.DataFrame):
        return frame_to_arrow(obj, schema=schema)
    if isinstance(obj, pd.Series):
        return series_to_arrow(obj, schema=schema)
    if isinstance(obj, pd.Index):
        return series_to_arrow(obj.to_series(index=pd.RangeIndex(len(obj))), schema=schema)
    if isinstance(obj, pa.Table):
        return (conform(obj, schema), schema) if schema is not None else (obj, obj.schema)
    return series_to_arrow(pd.Series([obj]), schema=schema)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema`` 's columns and types (casting where a partition's types differ)."""
    want = [n for n in schema.names]
    missing = [n for n in want if n not in table.column_names]
    if missing:
        raise MetaMismatchError(
            f"a partition's result lacks the columns {missing} that meta promised (it has "
            f"{[n for n in table.column_names if not is_index_column(n)]}); pass meta= matching the function's "
            f"output")
    cols, fields = [], []
    for f in schema:
        col = table.column(f.name)
        if pa.types.is_null(f.type):  # the meta sample could not tell (all missing): this partition's type wins
            f = f.with_type(col.type)
        cols.append(col if col.type == f.type else col.cast(f.type, safe=False))
        fields.append(f)
    return pa.Table.from_arrays(cols, schema=pa.schema(fields, metadata=schema.metadata))


# ------------------------------------------------------------------ meta


def arrow_type(dtype) -> pa.DataType:
    """The Arrow type of a pandas/numpy dtype or a dtype name (``"int64"``, ``"string"``, ``float``...)."""
    if isinstance(dtype, pa.DataType):
        return dtype
    empty = pd.Series([], dtype=dtype)
    return pa.Schema.from_pandas(empty.to_frame("x"), preserve_index=False).field("x").type


def schema_from_pandas(obj) -> pa.Schema:
    """The labelled schema of a pandas DataFrame or Series (its index kept unless plain)."""
    if isinstance(obj, pd.Series):
        return series_to_arrow(obj.iloc[:0])[1]
    return frame_to_arrow(obj.iloc[:0] if len(obj) else obj, keep_index=not is_default_index(obj.index))[1]


def meta_schema(meta, index_like: pa.Schema | None = None, keep_index: bool | None = None):
    """``(schema, is_series)`` from a ``meta=`` as Dask takes it: an empty pandas DataFrame or Series, a
    ``{column: dtype}`` dict or list of pairs, a ``(name, dtype)`` tuple, a dtype, or an Arrow schema/table.
    The index (name and type) of ``index_like`` is used where ``meta`` does not say; ``keep_index=True``
    keeps a pandas meta's index even when it is a RangeIndex (pandas makes one of any run of integers)."""
    if isinstance(meta, pa.Table):
        meta = meta.schema
    if isinstance(meta, pa.Schema):
        return meta, False
    if isinstance(meta, pd.DataFrame):
        schema, series = frame_to_arrow(meta.iloc[:0], keep_index=keep_index or not _is_range(meta.index))[1], False
    elif isinstance(meta, pd.Series):
        schema, series = series_to_arrow(meta.iloc[:0], keep_index=keep_index or not _is_range(meta.index))[1], True
    elif isinstance(meta, dict) or (isinstance(meta, list) and all(isinstance(x, tuple) for x in meta)):
        items = list(meta.items()) if isinstance(meta, dict) else meta
        frame = pd.DataFrame({k: pd.Series([], dtype=v) for k, v in items})
        schema, series = frame_to_arrow(frame, keep_index=False)[1], False
    elif isinstance(meta, tuple) and len(meta) == 2:
        schema, series = series_to_arrow(pd.Series([], dtype=meta[1], name=meta[0]), keep_index=False)[1], True
    else:
        schema, series = series_to_arrow(pd.Series([], dtype=meta), keep_index=False)[1], True
    if index_like is not None:
        schema = _with_index_of(schema, index_like, meta)
    return schema, series


def _is_range(index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.name is None


def _with_index_of(schema, index_like, meta):
    """``schema`` with ``index_like`` 's index columns (replacing a placeholder RangeIndex from meta)."""
    data = pa.schema([f for f in schema if not is_index_column(f.name)], metadata=schema.metadata)
    explicit = isinstance(meta, (pd.DataFrame, pd.Series)) and not isinstance(meta.index, pd.RangeIndex)
    if explicit:
        return schema
    names = index_names(index_like)
    fields = list(data) + [index_like.field(c) for c in index_columns(index_like)]
    return with_labels(pa.schema(fields, metadata=data.metadata), index=names)


_SAMPLES = [
    (pa.types.is_boolean, [True, False]),
    (pa.types.is_integer, [1, 2]),
    (pa.types.is_floating, [1.0, 2.0]),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), ["foo", "bar"]),
    (lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t), [b"foo", b"bar"]),
    (pa.types.is_timestamp, [datetime.datetime(2000, 1, 1), datetime.datetime(2000, 1, 2)]),
    (pa.types.is_date, [datetime.date(2000, 1, 1), datetime.date(2000, 1, 2)]),
    (pa.types.is_duration, [datetime.timedelta(seconds=1), datetime.timedelta(seconds=2)]),
    (pa.types.is_decimal, [decimal.Decimal("1"), decimal.Decimal("2")]),
]


def _sample_array(t: pa.DataType, n: int = 2) -> pa.Array:
    if pa.types.is_dictionary(t):
        return _sample_array(t.value_type, n).dictionary_encode().cast(t)
    for test, values in _SAMPLES:
        if test(t):
            try:
                return pa.array(values[:n], type=t)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                break
    return pa.nulls(n, t)


def nonempty_frame(schema: pa.Schema) -> pd.DataFrame:
    """A two-row pandas frame of made-up values with ``schema`` 's columns, index and dtypes, to learn what
    a user's function returns without computing anything (Dask's ``meta_nonempty``)."""
    table = pa.Table.from_arrays([_sample_array(f.type) for f in schema], schema=schema.remove_metadata())
    return to_pandas_frame(table, schema)


# ------------------------------------------------------------------ user functions on partitions


class PandasFunc:
    """Op: ``func(*frames, *args, **kwargs)`` with each input partition as pandas, its result back in Arrow.

    ``in_schemas`` describe the inputs (index, labels); ``out_schema`` the
    output, to which every partition's result is conformed; ``series`` says
    whether an input is given to ``func`` as a Series.
    """

    __slots__ = ("func", "args", "kwargs", "in_schemas", "out_schema", "series")
    keeps_index = True  # as Dask, map_partitions is taken to keep each row's index (divisions hold)

    def __init__(self, func, in_schemas, out_schema, args=(), kwargs=None, series=None):
        self.func, self.args, self.kwargs = func, tuple(args), dict(kwargs or {})
        self.in_schemas, self.out_schema = tuple(in_schemas), out_schema
        self.series = tuple(series) if series is not None else (False,) * len(self.in_schemas)

    def inputs(self, tables):
        return [to_pandas_series(t, s) if ser else _frame_input(t, s)
                for t, s, ser in zip(tables, self.in_schemas, self.series)]

    def __call__(self, *tables):
        out = self.func(*self.inputs(tables), *self.args, **self.kwargs)
        if self.out_schema is None:
            return out
        return to_arrow(out, self.out_schema)[0]

    def __graphflow_tokenize__(self):
        return ("PandasFunc", tokenize(self.func, self.args, self.kwargs), tuple(map(str, self.in_schemas)),
                str(self.out_schema), self.series)

    def __repr__(self):
        return f"PandasFunc({getattr(self.func, '__name__', type(self.func).__name__)})"

    def at_edge(self):
        """The op for a compute's last step (`plan.Blockwise.edge_form`): `PandasFuncAtEdge`."""
        return PandasFuncAtEdge(self) if self.out_schema is not None else None


def _frame_input(table, schema) -> pd.DataFrame:
    """A partition as a function's pandas argument: the slice of the ``from_pandas`` frame it came from
    when it is one (`pandas_parts`), else its conversion."""
    frame = frame_of(table, schema)
    return frame if frame is not None else to_pandas_frame(table, schema)


class PandasFuncAtEdge:
    """Op: a `PandasFunc` whose partitions feed only a computed pandas result: a result that already has
    the columns, dtypes and index kind ``out_schema`` promises stays pandas (the result's assembly
    concatenates it, `concat_pandas`); any other is conformed to Arrow as `PandasFunc` does."""

    __slots__ = ("op", "expected", "sink")

    def __init__(self, op: PandasFunc, sink=None):
        self.op, self.sink = op, sink
        self.expected = to_pandas_frame(op.out_schema.empty_table(), op.out_schema)

    def sinking(self, parts):
        """This op over the in-memory source partitions ``parts`` (one input): new number columns are
        copied into the result as each partition finishes (`sink.ResultSink`)."""
        return PandasFuncAtEdge(self.op, ResultSink(parts)) if len(self.op.in_schemas) == 1 else self

    def conforms(self, out, dtypes=None) -> bool:
        """Whether ``out`` is what conforming it to ``out_schema`` would give back (same labels, dtypes,
        and an index of the same dtype when the schema keeps one); ``dtypes``: a frame's, if known."""
        want = self.expected
        if isinstance(out, pd.Series):
            ok = len(want.columns) == 1 and out.dtype == want.dtypes.iloc[0]
        else:
            ok = isinstance(out, pd.DataFrame) and out.columns.equals(want.columns) and \
                (dtypes if dtypes is not None else list(out.dtypes)) == list(want.dtypes)
        if ok and index_names(self.op.out_schema):
            ok = out.index.nlevels == want.index.nlevels == 1 and out.index.dtype == want.index.dtype
        return ok

    def __call__(self, *tables):
        op = self.op
        out = op.func(*op.inputs(tables), *op.args, **op.kwargs)
        dtypes = list(out.dtypes) if isinstance(out, pd.DataFrame) else None  # once: a Series built each time
        if not self.conforms(out, dtypes):
            return to_arrow(out, op.out_schema)[0]
        if self.sink is not None and dtypes is not None:
            return self.sink.place(tables[0], out, dtypes)
        return out

    def __graphflow_tokenize__(self):
        return ("PandasFuncAtEdge", tokenize(self.op))

    def __repr__(self):
        return f"{self.op!r} at edge"


def _is_pandas(part) -> bool:
    return isinstance(part, (pd.DataFrame, pd.Series)) or is_sunk(part)


def concat_pandas(parts, schema: pa.Schema):
    """The pandas DataFrame of partitions that are pandas objects conforming to ``schema``
    (`PandasFuncAtEdge`): number columns copied into the result by two threads
    (`assemble.concat_frames`); None when they are of other kinds (the caller converts them to Arrow)."""
    keep = bool(index_names(schema))
    sunk = placed_columns(parts) if is_sunk(parts[0]) else None
    if sunk is not None:  # every new column already in place (`sink`): only the rest is concatenated
        out = concat_frames(sunk[1], list(index_names(schema)) if keep else None, placed=sunk[0])
    else:
        frames = [p.to_frame(name=0) if isinstance(p, pd.Series) else p.to_frame() if is_sunk(p) else p
                  for p in parts]
        out = concat_frames(frames, list(index_names(schema)) if keep else None)
    if out is None:
        return None
    labels = column_labels(schema)
    out.columns = shaped_columns(_labels_index(labels) if labels != data_names(schema) else pd.Index(labels),
                                 schema)
    return out


def parts_to_pandas_frame(parts, schema: pa.Schema, table_of=None) -> pd.DataFrame:
    """The pandas DataFrame of a computed result's partitions: Arrow tables, pending tables, or pandas
    objects from a function at the edge; ``table_of(parts, schema)`` joins the non-pandas ones."""
    parts = [p for p in parts if p is not None]
    if parts and any(_is_pandas(p) for p in parts):
        if all(_is_pandas(p) for p in parts):
            out = concat_pandas(parts, schema)
            if out is not None:
                return copy_on_write(out)
        parts = [to_arrow(p.to_frame() if is_sunk(p) else p, schema)[0] if _is_pandas(p) else p for p in parts]
    return to_pandas_frame(table_of(parts, schema), schema)


def parts_to_pandas_series(parts, schema: pa.Schema, table_of=None) -> pd.Series:
    """`parts_to_pandas_frame` 's one column as a Series named by ``schema``."""
    out = parts_to_pandas_frame(parts, schema, table_of).iloc[:, 0]
    out.name = column_labels(schema)[0]
    return copy_on_write(out)


def sample_meta(sample):
    """A ``meta`` describing ``sample``, what a function returned on made-up data: its empty slice, or for a
    scalar a ``(None, dtype)`` pair."""
    if isinstance(sample, (pd.DataFrame, pd.Series)):
        return sample.iloc[:0]
    if isinstance(sample, pd.Index):
        return sample.to_series(index=pd.RangeIndex(len(sample))).iloc[:0]
    dtype = getattr(sample, "dtype", None)
    if dtype is None:
        dtype = "str" if isinstance(sample, str) else np.asarray(sample).dtype
    return (None, dtype)


def infer_output(func, schemas, args=(), kwargs=None, series=None):
    """What ``func`` returns on made-up two-row inputs of ``schemas`` (never on real data)."""
    inputs = []
    for s, ser in zip(schemas, series or (False,) * len(schemas)):
        frame = nonempty_frame(s)
        inputs.append(frame.iloc[:, 0].rename(column_labels(s)[0]) if ser else frame)
    return func(*inputs, *args, **(kwargs or {}))
