"""Conversions and bookkeeping: ``to_delayed``, ``from_array``, ``from_map``, memory usage, ``info``,
iteration, ``reduction``, and the small DataFrame/Series methods that are compositions of others.

    >>> import numpy as np
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_array(np.arange(6).reshape(3, 2), columns=["a", "b"], chunksize=2)
    >>> df.npartitions, df.b.sum().compute(scheduler="sync")
    (2, np.int64(9))
    >>> parts = df.to_delayed()
    >>> parts[1].compute(scheduler="sync").a.tolist()
    [4]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa

from ..delayed import Delayed
from ..spec import Ref, Task, tokenize
from .collection import Scalar
from .construct import from_pandas
from .frame import DataFrame
from .pandas_edge import PandasFunc, frame_to_arrow, to_pandas_frame, to_pandas_series
from .plan import Blockwise, Func, Reduce
from .series import Series

__all__ = ["to_delayed", "from_array", "from_map", "memory_usage", "memory_usage_per_partition", "info",
           "iterate_rows", "reduction", "is_monotonic", "assert_eq"]


def to_delayed(coll, optimize_graph: bool = True):
    """One `Delayed` per partition, each computing that partition as a pandas object."""
    graph = dict(coll.__graphflow_graph__())  # the optimized plan's tasks (the plan is always optimized)
    plan = coll.optimized_plan()
    schema = plan.schema
    convert = to_pandas_series if isinstance(coll, Series) else to_pandas_frame
    out = []
    for i, key in enumerate(plan.keys()):
        name = ("to-delayed-" + tokenize(key, str(schema)), i)
        nodes = dict(graph)
        nodes[name] = Task(name, convert, Ref(key), schema)
        out.append(Delayed(name, list(nodes.values())))
    return out


def from_array(x, chunksize: int = 50_000, columns=None, meta=None):
    """A DataFrame (2-d or structured array) or Series (1-d) from a NumPy array, ``chunksize`` rows a
    partition, with a RangeIndex (known divisions), as Dask's ``from_array``."""
    arr = np.asarray(x)
    if arr.dtype.names:
        pdf = pd.DataFrame(arr)
        if columns is not None:
            pdf = pdf[list(columns)]
    elif arr.ndim == 1:
        ser = pd.Series(arr, name=columns if not isinstance(columns, (list, tuple)) else None)
        return from_pandas(ser, chunksize=chunksize)
    elif arr.ndim == 2:
        pdf = pd.DataFrame(arr, columns=list(columns) if columns is not None else None)
    else:
        raise ValueError(f"from_array needs a 1-d or 2-d array, not {arr.ndim}-d")
    return from_pandas(pdf, chunksize=chunksize)


def from_map(func, *iterables, args=None, meta=None, divisions=None, label=None, enforce_metadata=False,
             **kwargs):
    """A DataFrame with one partition per element of ``iterables``: partition i is
    ``func(iterables[0][i], ..., *args, **kwargs)``, a pandas DataFrame (as Dask's ``from_map``).  The schema
    is ``meta``, else the first partition's (computed once, as Dask does without meta)."""
    from ..delayed import delayed

    items = list(zip(*iterables))
    if not items:
        raise ValueError("from_map needs at least one element to map over")
    extra = tuple(args or ())
    values = [delayed(_from_map_part, pure=True)(func, item, extra, kwargs) for item in items]
    if meta is None:
        first = values[0].compute(scheduler="sync")
        meta = first.iloc[:0]
    from .construct import from_delayed

    return from_delayed(values, meta=meta)


def _from_map_part(func, item, extra, kwargs):
    return func(*item, *extra, **kwargs)


# ------------------------------------------------------------------ memory and info


def _memory(table, schema, index, deep, series):
    obj = to_pandas_series(table, schema) if series else to_pandas_frame(table, schema)
    usage = obj.memory_usage(index=index, deep=deep)
    return usage if series else usage.to_frame("__usage__").T


def memory_usage(coll, index: bool = True, deep: bool = False):
    """Bytes per column (a Series, the index first as ``Index``), or in all for a Series (a Scalar), as
    pandas' ``memory_usage`` summed over the partitions."""
    if isinstance(coll, Series):
        return memory_usage_per_partition(coll, index, deep).sum()
    return _usage_by_column(coll, index, deep).sum()


def memory_usage_per_partition(coll, index: bool = True, deep: bool = False):
    """Bytes of each partition, a Series with one value per partition."""
    series = isinstance(coll, Series)
    frame = coll.to_frame() if series else coll
    func = PandasFunc(_total_usage, [frame.schema], _usage_schema(), (index, deep), series=[series])
    plan = Blockwise(func, (frame.expr,), _usage_schema(), label="memory-usage")
    return Series(plan, _col("bytes"), None, pa.int64())


def _total_usage(obj, index, deep):
    usage = obj.memory_usage(index=index, deep=deep)
    return pd.DataFrame({"bytes": [int(usage if np.isscalar(usage) else usage.sum())]})


def _usage_by_column(frame, index, deep):
    meta = frame.meta
    labels = (["Index"] if index else []) + list(meta.columns)
    pdf = pd.DataFrame({str(lab): pd.Series([], dtype="int64") for lab in labels})
    _, schema = frame_to_arrow(pdf, keep_index=False)
    func = PandasFunc(_frame_usage, [frame.schema], schema, (index, deep))
    return DataFrame(Blockwise(func, (frame.expr,), schema, label="memory-usage"))


def _usage_schema():
    return pa.schema([pa.field("bytes", pa.int64())])


def _col(name):
    from .colexpr import Col

    return Col(name)


def _frame_usage(pdf, index, deep):
    usage = pdf.memory_usage(index=index, deep=deep)
    row = pd.DataFrame([usage.to_numpy()], columns=[str(c) for c in usage.index])
    return row


def info(df, buf=None, verbose: bool = False, memory_usage: bool = False):
    """Print a summary: class, columns with non-null counts and dtypes (computed), memory if asked."""
    buf = buf if buf is not None else sys.stdout
    counts = df.count().compute()
    rows = len(df)
    lines = [f"<class '{type(df).__module__}.{type(df).__name__}'>",
             f"Index: {rows} entries", f"Data columns (total {len(df.columns)} columns):",
             " #   Column  Non-Null Count  Dtype"]
    for i, (col, dtype) in enumerate(df.dtypes.items()):
        lines.append(f" {i:<3} {col}  {int(counts.get(col, 0))} non-null  {dtype}")
    kinds = df.dtypes.value_counts()
    lines.append("dtypes: " + ", ".join(f"{k}({v})" for k, v in kinds.items()))
    if memory_usage:
        total = int(df.memory_usage(deep=memory_usage == "deep").compute().sum())
        lines.append(f"memory usage: {total} bytes")
    buf.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------ iteration


def iterate_rows(df, how: str, **kwargs):
    """Rows one partition at a time (only one partition is in memory): ``iterrows``, ``itertuples``,
    ``items`` (columns, each computed)."""
    if how == "items":
        for label in df.columns:
            yield label, df[label].compute()
        return
    for i in range(df.npartitions):
        part = df.get_partition(i).compute()
        yield from getattr(part, how)(**kwargs)


# ------------------------------------------------------------------ reduction


def reduction(coll, chunk, aggregate, combine=None, meta=None, token=None, split_every=None,
              chunk_kwargs=None, aggregate_kwargs=None, combine_kwargs=None):
    """Dask's generic ``reduction``: ``chunk(partition)`` on every partition (given as pandas), then
    ``aggregate`` on the chunk results concatenated (``combine`` is accepted for Dask's signature; the
    chunk results are small, so they meet in one step): a lazy value computing to what ``aggregate``
    returns."""
    series = isinstance(coll, Series)
    frame = coll.to_frame() if series else coll
    step = _ReduceStep(frame.schema, series, chunk, chunk_kwargs or {})
    per = Blockwise(Func(step.chunk), (frame.expr,), schema=pa.schema([]), label=token or "reduction-chunk")
    agg = _Aggregate(aggregate, aggregate_kwargs or {})
    return Scalar(Reduce(per, _flatten, agg, None))


class _ReduceStep:
    def __init__(self, schema, series, chunk, kwargs):
        self.schema, self.series, self.func, self.kwargs = schema, series, chunk, kwargs

    def chunk(self, table):
        obj = to_pandas_series(table, self.schema) if self.series else to_pandas_frame(table, self.schema)
        return [self.func(obj, **self.kwargs)]

    def __graphflow_tokenize__(self):
        return ("reduction-chunk", str(self.schema), self.series, tokenize(self.func, self.kwargs))


def _flatten(parts):
    return [x for p in parts for x in p]


class _Aggregate:
    def __init__(self, aggregate, kwargs):
        self.func, self.kwargs = aggregate, kwargs

    def __call__(self, results):
        if all(isinstance(p, (pd.Series, pd.DataFrame)) for p in results):
            joined = pd.concat(results)
        else:
            joined = pd.Series(results)
        return self.func(joined, **self.kwargs)

    def __graphflow_tokenize__(self):
        return ("reduction", tokenize(self.func, self.kwargs))


# ------------------------------------------------------------------ small compositions


def is_monotonic(series, increasing: bool = True):
    """Whether the values never decrease (``increasing``) or never increase, over all partitions: a
    Scalar (each partition's first, last and own answer, then the boundaries checked in order)."""
    frame = series.to_frame()
    step = Blockwise(PandasFunc(_edges, [frame.schema], None, (increasing,)), (frame.expr,),
                     schema=pa.schema([]), label="monotonic-chunk")
    return Scalar(Reduce(step, _MonotonicMerge(increasing), _verdict, None))


def _edges(pdf, increasing):
    s = pdf.iloc[:, 0]
    if len(s) == 0:
        return (None, None, True)
    ok = s.is_monotonic_increasing if increasing else s.is_monotonic_decreasing
    return (s.iloc[0], s.iloc[-1], bool(ok) and not s.isna().any())


class _MonotonicMerge:
    """Combine ``(first, last, ok)`` states of consecutive partitions, in order."""

    def __init__(self, increasing):
        self.increasing = increasing

    def __call__(self, parts):
        first, last, ok = None, None, True
        for lo, hi, good in parts:
            if lo is None:
                continue
            ok = ok and good
            if last is not None:
                ok = ok and bool(lo >= last if self.increasing else lo <= last)
            first = lo if first is None else first
            last = hi
        return (first, last, ok)

    def __graphflow_tokenize__(self):
        return ("monotonic", self.increasing)


def _verdict(state):
    return bool(state[2])


def assert_eq(a, b, check_names: bool = True, check_dtype: bool = True, check_index: bool = True, **kwargs):
    """Compute graphflow collections (either side may be pandas) and assert they are equal, as
    ``dask.dataframe.assert_eq``; ``check_index=False`` compares values in order, ignoring the index."""
    a = a.compute(scheduler="sync") if hasattr(a, "__graphflow_graph__") else a
    b = b.compute(scheduler="sync") if hasattr(b, "__graphflow_graph__") else b
    if not check_index and hasattr(a, "reset_index"):
        a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_names=check_names, check_dtype=check_dtype, **kwargs)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_names=check_names, check_dtype=check_dtype, **kwargs)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, check_names=check_names, **kwargs)
    else:
        assert a == b or (a != a and b != b), f"{a!r} != {b!r}"
    return True
