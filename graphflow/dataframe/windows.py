"""The methods whose answer for a row depends on neighbouring rows: ``shift``, ``diff``, ``cumsum`` and
friends, ``rolling`` and ``map_overlap``, with pandas' answers across partition boundaries.

They are a mixin (`WindowMethods`) of DataFrame and Series.  ``shift``/``diff`` and the cumulative
methods run pyarrow kernels on the Arrow partitions (`overlap.Overlap` brings each partition the rows it
needs from its neighbours; `cumulative.Cumulative` carries totals forward); ``rolling`` and
``map_overlap`` run pandas on each partition with its neighbours' rows attached, then cut them off:

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0]}), npartitions=3)
    >>> df.x.rolling(3).sum().compute(scheduler="sync").tolist()
    [nan, nan, 6.0, 9.0, 12.0]
    >>> df.x.shift(2).compute(scheduler="sync").tolist()
    [nan, nan, 1.0, 2.0, 3.0]
    >>> df.x.cumsum().compute(scheduler="sync").tolist()
    [1.0, 3.0, 6.0, 10.0, 15.0]

Under ``compute()``, a ``diff`` of float64 columns that feeds the result directly is left to the result's
assembly, which computes it straight into the pandas result (`DiffAtEdge`, `graphflow.dataframe.pending`).

This module sits below frame/series: it builds results through `collection.OPERATIONS`.
"""

from __future__ import annotations

import numbers

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..spec import tokenize
from .colexpr import Col
from .collection import OPERATIONS
from .cumulative import Cumulative, cumulative_type
from .labels import column_labels, data_names, label_of
from .overlap import Overlap, OverlapCall, as_overlap_amount
from .pandas_edge import PandasFunc, infer_output, meta_schema, nonempty_frame, sample_meta, to_pandas_frame
from .pending import DiffInto, PendingTable, dense_values

__all__ = ["WindowMethods", "Rolling"]


def is_series(obj) -> bool:
    return isinstance(obj, OPERATIONS.Series)


def wrap_plan(obj, plan, name=None):
    """A DataFrame over ``plan``, or (when ``obj`` is a Series) a Series over its one data column."""
    if is_series(obj):
        col = data_names(plan.schema)[0]
        label = obj.name if name is None else name
        return OPERATIONS.Series(plan, Col(col), label, plan.schema.field(col).type)
    return OPERATIONS.DataFrame(plan)


def pandas_meta(obj, nonempty: bool = False):
    """An empty (or a made-up two-row) pandas DataFrame/Series shaped like ``obj``'s partitions."""
    schema = obj.expr.schema
    frame = nonempty_frame(schema) if nonempty else to_pandas_frame(schema.empty_table(), schema)
    if is_series(obj):
        out = frame.iloc[:, 0]
        out.name = obj.name
        return out
    return frame


def _retyped(schema: pa.Schema, types: dict) -> pa.Schema:
    """``schema`` with some fields' types replaced, keeping its metadata (index and labels)."""
    fields = [pa.field(f.name, types.get(f.name, f.type)) for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def _shift_type(t: pa.DataType) -> pa.DataType:
    return pa.float64() if pa.types.is_integer(t) else t  # a shifted int column holds NaN: float, as pandas


def _diff_type(t: pa.DataType, label) -> pa.DataType:
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return pa.float64() if pa.types.is_integer(t) else t
    if pa.types.is_boolean(t):
        return t
    if pa.types.is_timestamp(t):
        return pa.duration(t.unit)
    if pa.types.is_duration(t):
        return t
    raise TypeError(f"operation 'sub' not supported for column {label!r} of type {t}: diff needs numbers or "
                    f"times")


def _shifted(col_prev, col, col_next, periods, n, out_type):
    """``col`` shifted by ``periods`` with the neighbours' values (and nulls past the ends) moving in."""
    t = col.type
    if periods > 0:
        have = len(col_prev) if col_prev is not None else 0
        chunks = [pa.nulls(max(periods - have, 0), t)] + (col_prev.chunks if have else []) + col.chunks
        out = pa.chunked_array(chunks, t).slice(0, n)
    elif periods < 0:
        q, have = -periods, len(col_next) if col_next is not None else 0
        chunks = col.chunks + (col_next.chunks if have else []) + [pa.nulls(max(q - have, 0), t)]
        out = pa.chunked_array(chunks, t).slice(q, n)
    else:
        out = col
    return out.cast(out_type) if out.type != out_type else out


class ShiftOp:
    """Op for `Overlap`: ``shift(periods)`` (``diff=True``: the value minus the shifted one) of ``names``."""

    __slots__ = ("periods", "names", "schema", "diff")

    def __init__(self, periods, names, schema, diff=False):
        self.periods, self.names, self.schema, self.diff = periods, tuple(names), schema, diff

    def __call__(self, prev, part, nxt):
        n, cols = part.num_rows, []
        for f in self.schema:
            col = part.column(f.name)
            if f.name not in self.names:
                cols.append(col)
                continue
            p = prev.column(f.name) if prev is not None else None
            q = nxt.column(f.name) if nxt is not None else None
            if not self.diff:
                cols.append(_shifted(p, col, q, self.periods, n, f.type))
                continue
            work = pa.float64() if pa.types.is_integer(col.type) else col.type
            old = _shifted(p, col, q, self.periods, n, work)
            new = col.cast(work) if col.type != work else col
            out = pc.xor(new, old) if pa.types.is_boolean(work) else pc.subtract(new, old)
            cols.append(out.cast(f.type) if out.type != f.type else out)
        return pa.Table.from_arrays(cols, schema=self.schema)

    def __graphflow_tokenize__(self):
        return ("ShiftOp", self.periods, self.names, str(self.schema), self.diff)

    def __repr__(self):
        return f"{'Diff' if self.diff else 'Shift'}({self.periods})"

    def at_edge(self):
        """The op for a compute's last step (`Overlap.edge_form`): ``diff`` of float64 columns left to the
        result's assembly (a shift is already a zero-copy slice; it has none)."""
        return DiffAtEdge(self) if self.diff else None


class DiffAtEdge:
    """Op for `Overlap` under a ``compute()``: a `pending.PendingTable` whose float64 columns without
    nulls are diffed by the result's assembly, straight into the result (`pending.DiffInto`); a partition
    with other columns gets `ShiftOp` 's Arrow table."""

    __slots__ = ("op",)

    def __init__(self, op):
        self.op = op

    def __call__(self, prev, part, nxt):
        op = self.op
        near = prev if op.periods > 0 else nxt
        deferred = {}
        for n in op.names:
            values = dense_values(part.column(n)) if pa.types.is_float64(part.schema.field(n).type) else None
            around = dense_values(near.column(n)) if near is not None and near.num_rows else np.empty(0)
            if values is None or around is None or not pa.types.is_float64(op.schema.field(n).type):
                return op(prev, part, nxt)
            deferred[n] = DiffInto(values, around, op.periods)
        rest = [f.name for f in op.schema if f.name not in deferred]
        return PendingTable(part.select(rest), deferred, op.schema.names)

    def __graphflow_tokenize__(self):
        return ("DiffAtEdge", tokenize(self.op))

    def __repr__(self):
        return f"DiffAtEdge({self.op.periods})"


def _float_values(col) -> np.ndarray | None:
    """A null-free column's values as float64 numpy (no copy for a one-chunk float64 column)."""
    if col is None:
        return None
    col = col.cast(pa.float64()) if col.type != pa.float64() else col
    return col.chunk(0).to_numpy() if col.num_chunks == 1 else col.to_numpy()


def _window_sums(values: np.ndarray, window: int) -> np.ndarray:
    """``out[i] = values[i - window + 1] + ... + values[i]`` for i >= window - 1 (earlier: partial sums).
    Small windows add shifted views (exact, in order); large ones difference a running sum."""
    n = len(values)
    if window <= 32:
        out = values.copy()
        for k in range(1, min(window, n)):
            out[k:] += values[:n - k]
        return out
    run = np.cumsum(values)
    out = run.copy()
    if n > window:
        out[window:] -= run[:n - window]
    return out


class WindowSumOp:
    """Op for `Overlap`: rolling ``sum``/``mean`` over ``window`` rows of numeric columns, numpy on the
    Arrow buffers (nulls skipped; fewer than ``min_periods`` values give null, as pandas' NaN)."""

    __slots__ = ("how", "window", "min_periods", "names", "schema")

    def __init__(self, how, window, min_periods, names, schema):
        self.how, self.window, self.min_periods = how, window, min_periods
        self.names, self.schema = tuple(names), schema

    def __call__(self, prev, part, nxt):
        n_prev = prev.num_rows if prev is not None else 0
        cols = []
        for f in self.schema:
            col = part.column(f.name)
            if f.name not in self.names:
                cols.append(col)
                continue
            before = prev.column(f.name) if n_prev else None
            if self.window <= 32 and col.null_count == 0 and (before is None or before.null_count == 0):
                cols.append(self.dense_column(_float_values(before), _float_values(col)))
                continue
            if n_prev:
                col = pa.chunked_array(before.chunks + col.chunks, col.type)
            x = col.cast(pa.float64()).to_numpy()  # nulls as NaN
            cols.append(self.arrow_column(x, col.null_count == 0, n_prev))
        return pa.Table.from_arrays(cols, schema=self.schema)

    def dense_column(self, before, x):
        """The window sums/means of the rows ``x`` (no nulls), ``before`` (or None) the rows preceding them:
        written straight into the one output array, without joining ``before`` and ``x`` first.  Each row
        adds its window's values in the order `_window_sums` adds them, so the result is bit-identical."""
        w, n = self.window, len(x)
        n_prev = 0 if before is None else len(before)
        out = x.copy()
        for k in range(1, w):
            if k < n:
                out[k:] += x[:n - k]
            lo, hi = max(k - n_prev, 0), min(k, n)  # rows whose k-th predecessor is in ``before``
            if lo < hi:
                out[lo:hi] += before[n_prev + lo - k:n_prev + hi - k]
        short = min(max(w - 1 - n_prev, 0), n)  # rows with fewer than ``w`` rows up to them (from the start)
        if self.how == "mean":
            out[short:] /= w
            out[:short] /= np.arange(n_prev + 1, n_prev + 1 + short)
        head = min(max(min(self.min_periods, w) - 1 - n_prev, 0), n)  # rows still short of min_periods
        if head:
            out[:head] = np.nan
            return pa.chunked_array([pa.array(out[:head], from_pandas=True), pa.array(out[head:])])
        return pa.chunked_array([pa.array(out)])

    def arrow_column(self, x, dense, n_prev):
        w, n = self.window, len(x)
        if dense:  # no nulls: the count of row i's window is min(i + 1, w), only the first rows can be short
            res = _window_sums(x, w)
            if self.how == "mean":
                res[w - 1:] /= w
                res[:w - 1] /= np.arange(1, min(w, n + 1))[:n]
            head = max(min(self.min_periods, w) - 1 - n_prev, 0)  # rows still short of min_periods
            res = res[n_prev:]
            if head:
                res[:head] = np.nan
                return pa.chunked_array([pa.array(res[:head], from_pandas=True), pa.array(res[head:])])
            return pa.chunked_array([pa.array(res)])
        valid = ~np.isnan(x)
        sums = _window_sums(np.where(valid, x, 0.0), w)
        counts = _window_sums(valid.astype(np.float64), w)
        with np.errstate(invalid="ignore", divide="ignore"):
            res = sums / counts if self.how == "mean" else sums
        res = np.where(counts >= self.min_periods, res, np.nan)[n_prev:]
        return pa.chunked_array([pa.array(res, pa.float64(), from_pandas=True)])

    def __graphflow_tokenize__(self):
        return ("WindowSumOp", self.how, self.window, self.min_periods, self.names, str(self.schema))

    def __repr__(self):
        return f"RollingWindow({self.how}, {self.window})"


class _PandasMethod:
    """``getattr(obj.<window>(*wargs, **wkw), method)(*args, **kwargs)`` on a pandas object (picklable)."""

    __slots__ = ("window", "wargs", "wkw", "method", "args", "kwargs")

    def __init__(self, window, wargs, wkw, method, args=(), kwargs=None):
        self.window, self.wargs, self.wkw = window, tuple(wargs), dict(wkw)
        self.method, self.args, self.kwargs = method, tuple(args), dict(kwargs or {})

    def __call__(self, obj):
        return getattr(getattr(obj, self.window)(*self.wargs, **self.wkw), self.method)(*self.args, **self.kwargs)

    def __graphflow_tokenize__(self):
        return ("PandasMethod", self.window, tokenize(self.wargs, self.wkw), self.method,
                tokenize(self.args, self.kwargs))

    @property
    def __name__(self):
        return f"{self.window}.{self.method}"


def overlap_apply(obj, func, before, after, args=(), kwargs=None, meta=None, label="map-overlap"):
    """``func`` on each partition of ``obj`` (as pandas) with ``before``/``after`` rows of its neighbours
    attached, the result trimmed back to the partition's rows (see `WindowMethods.map_overlap`)."""
    before, after = as_overlap_amount(before, "before"), as_overlap_amount(after, "after")
    kwargs = dict(kwargs or {})
    schema = obj.expr.schema
    series = is_series(obj)
    if meta is None:
        sample = infer_output(func, [schema], args, kwargs, (series,))
        out_schema, out_series = meta_schema(sample_meta(sample), index_like=schema)
    else:
        out_schema, out_series = meta_schema(meta, index_like=schema)
    inner = PandasFunc(func, [schema], out_schema, args, kwargs, (series,))
    plan = Overlap(obj.expr, before, after, OverlapCall(inner), out_schema, label=label)
    if out_series:
        col = data_names(out_schema)[0]
        return OPERATIONS.Series(plan, Col(col), column_labels(out_schema)[0], out_schema.field(col).type)
    return OPERATIONS.DataFrame(plan)


class WindowMethods:
    """shift, diff, the cumulative methods, rolling and map_overlap for DataFrame and Series."""

    def shift(self, periods: int = 1, freq=None, axis=0):
        """Values moved ``periods`` rows down (up when negative) across partitions, nulls moving in at the
        ends; integer columns become float64, as in pandas."""
        _check_axis(axis, "shift")
        if not isinstance(periods, numbers.Integral) or isinstance(periods, bool):
            raise TypeError("periods must be an integer")
        if freq is not None:
            raise NotImplementedError("shift(freq=...) moves the index, not the values: not supported yet; "
                                      "use map_partitions(lambda p: p.shift(periods, freq=freq))")
        schema = self.expr.schema
        names = data_names(schema)
        out = _retyped(schema, {n: _shift_type(schema.field(n).type) for n in names} if periods else {})
        return self._shift_like(int(periods), names, out, diff=False, label="shift")

    def diff(self, periods: int = 1, axis=0):
        """The value minus the one ``periods`` rows before (after, when negative), across partitions."""
        _check_axis(axis, "diff")
        if not isinstance(periods, numbers.Integral) or isinstance(periods, bool):
            raise ValueError("periods must be an integer")
        schema = self.expr.schema
        names = data_names(schema)
        out = _retyped(schema, {n: _diff_type(schema.field(n).type, label_of(schema, n)) for n in names})
        return self._shift_like(int(periods), names, out, diff=True, label="diff")

    def _shift_like(self, periods, names, out_schema, diff, label):
        before, after = max(periods, 0), max(-periods, 0)
        plan = Overlap(self.expr, before, after, ShiftOp(periods, names, out_schema, diff), out_schema, label=label)
        return wrap_plan(self, plan)

    def _cumulative(self, how, axis, skipna):
        _check_axis(axis, f"cum{how}")
        schema = self.expr.schema
        names = data_names(schema)
        out = _retyped(schema, {n: cumulative_type(how, schema.field(n).type, label_of(schema, n)) for n in names})
        return wrap_plan(self, Cumulative(self.expr, how, skipna, out))

    def cumsum(self, axis=0, skipna: bool = True, **kwargs):
        """The running sum down each column, carried across partitions (nulls as pandas' ``skipna``)."""
        return self._cumulative("sum", axis, skipna)

    def cumprod(self, axis=0, skipna: bool = True, **kwargs):
        """The running product down each column, carried across partitions."""
        return self._cumulative("prod", axis, skipna)

    def cummax(self, axis=0, skipna: bool = True):
        """The running maximum down each column, carried across partitions."""
        return self._cumulative("max", axis, skipna)

    def cummin(self, axis=0, skipna: bool = True):
        """The running minimum down each column, carried across partitions."""
        return self._cumulative("min", axis, skipna)

    def rolling(self, window, **kwargs) -> "Rolling":
        """A rolling window (``window`` rows, or a time span like ``"7D"`` on a datetime index) whose
        aggregations (``mean``, ``sum``, ``std``, ``apply``...) see the rows of earlier partitions."""
        return Rolling(self, window, **kwargs)

    def map_overlap(self, func, before, after, *args, meta=None, enforce_metadata=True, transform_divisions=True,
                    clear_divisions=False, align_dataframes=False, **kwargs):
        """``func(partition, *args, **kwargs)`` on each partition (pandas) with the last ``before`` rows of
        the partitions before it and the first ``after`` rows of those after it attached; those rows are
        cut from the result again, so ``func`` must return one row per input row.  ``before``/``after``
        are row counts, or timedeltas (``"1h"``) on a datetime index.  ``meta`` as in `map_partitions`."""
        return overlap_apply(self, func, before, after, args, kwargs, meta)


def _check_axis(axis, what):
    if axis not in (0, "index", "rows"):
        raise NotImplementedError(f"{what}(axis={axis!r}): only axis=0 is supported lazily; use "
                                  f"map_partitions(lambda p: p.{what}(axis=1)) for the row-wise form")


_ROLLING_KW = ("min_periods", "center", "win_type", "on", "axis", "closed", "step", "method")


class Rolling:
    """``obj.rolling(window, ...)``: pandas' rolling aggregations, computed on each partition with the
    rows of the previous partition(s) that the first windows reach (and, with ``center=True``, of the
    next ones)."""

    def __init__(self, obj, window, min_periods=None, center=False, win_type=None, **kwargs):
        unknown = set(kwargs) - set(_ROLLING_KW)
        if unknown:
            raise TypeError(f"rolling() got unexpected keyword arguments {sorted(unknown)}")
        self.obj, self.window = obj, window
        self.kwargs = {"min_periods": min_periods, "center": center, "win_type": win_type, **kwargs}
        # pandas' own checks and errors, before anything runs
        pandas_meta(obj, nonempty=True).rolling(window, **self.kwargs)
        if isinstance(window, numbers.Integral):
            size = int(window)
            self.before, self.after = (size, size) if center else (max(size - 1, 0), 0)
        else:
            span = as_overlap_amount(window, "window")
            self.before, self.after = (span, span) if center else (span, 0)

    def _fast(self, method):
        """The Arrow/numpy plan for ``mean``/``sum`` over a row window of numeric columns (the hot path), or
        None where pandas must run (other options, other columns)."""
        defaults = all(self.kwargs.get(k) in (None, False) for k in _ROLLING_KW if k != "min_periods")
        schema = self.obj.expr.schema
        names = data_names(schema)
        numeric = all(pa.types.is_integer(schema.field(n).type) or pa.types.is_floating(schema.field(n).type)
                      for n in names)
        if not (defaults and numeric and isinstance(self.window, numbers.Integral) and self.window >= 1):
            return None
        window = int(self.window)
        min_periods = window if self.kwargs.get("min_periods") is None else int(self.kwargs["min_periods"])
        out = _retyped(schema, {n: pa.float64() for n in names})
        op = WindowSumOp(method, window, min_periods, names, out)
        return wrap_plan(self.obj, Overlap(self.obj.expr, window - 1, 0, op, out, label=f"rolling-{method}"))

    def _call(self, method, *args, **kwargs):
        if method in ("mean", "sum") and not args and not kwargs:
            fast = self._fast(method)
            if fast is not None:
                return fast
        func = _PandasMethod("rolling", (self.window,), self.kwargs, method, args, kwargs)
        meta = sample_meta(func(pandas_meta(self.obj, nonempty=True)))
        return overlap_apply(self.obj, func, self.before, self.after, meta=meta, label=f"rolling-{method}")

    def mean(self, *args, **kwargs):
        return self._call("mean", *args, **kwargs)

    def sum(self, *args, **kwargs):
        return self._call("sum", *args, **kwargs)

    def min(self, *args, **kwargs):
        return self._call("min", *args, **kwargs)

    def max(self, *args, **kwargs):
        return self._call("max", *args, **kwargs)

    def std(self, *args, **kwargs):
        return self._call("std", *args, **kwargs)

    def var(self, *args, **kwargs):
        return self._call("var", *args, **kwargs)

    def count(self, *args, **kwargs):
        return self._call("count", *args, **kwargs)

    def median(self, *args, **kwargs):
        return self._call("median", *args, **kwargs)

    def quantile(self, q, *args, **kwargs):
        return self._call("quantile", q, *args, **kwargs)

    def skew(self, *args, **kwargs):
        return self._call("skew", *args, **kwargs)

    def kurt(self, *args, **kwargs):
        return self._call("kurt", *args, **kwargs)

    def apply(self, func, raw: bool = False, engine=None, engine_kwargs=None, args=None, kwargs=None):
        """``func`` on each window (a pandas Series, or an ndarray with ``raw=True``), as pandas."""
        return self._call("apply", func, raw=raw, engine=engine, engine_kwargs=engine_kwargs, args=args,
                          kwargs=kwargs)

    def agg(self, func, *args, **kwargs):
        """pandas' ``Rolling.agg`` (a name, a list of names, or a ``{column: name}`` dict)."""
        return self._call("agg", func, *args, **kwargs)

    aggregate = agg

    def __repr__(self):
        return f"Rolling [window={self.window}, {', '.join(f'{k}={v}' for k, v in self.kwargs.items())}]"
