"""``resample(rule)`` on a datetime index with known divisions: pandas' bins, also where a bin straddles
partitions.

The output is partitioned by bins, not by the input's partitions: output partition j holds the bins
from the one containing the input's division ``d_j`` up to (not including) the next distinct such bin.
Its rows are the rows of the input partitions that overlap that time span (sliced by binary search on
the sorted index), so every bin is computed whole by pandas in one task; bins without rows are filled
as pandas fills them (0 for ``sum``/``count``/``size``/``nunique``, 1 for ``prod``, else NaN)::

    input   |  P0: 00:10 00:50 01:20 | P1: 01:40 02:30 |        rule "1h"
    bins       [00:00      ][01:00          ][02:00 ]
    output  |  R0: bins 00:00                | R1: bins 01:00, 02:00 (rows 01:20 from P0, 01:40.. P1)

The bin labels (and edges) come from pandas, resampling the tiny series of the divisions at graph
build time, so every rule, ``closed`` and ``label`` behaves as in pandas.

Within a task, pandas runs on zero-copy views: each input piece is resampled alone and only the rows of
a bin that straddles pieces are joined (`_BinAgg.over_pieces`).  The commonest case runs without
pandas: ``sum``/``count``/``mean`` over fixed-width bins (a Tick rule such as ``"1h"``, closed and
labelled left) of float64/int64 columns without nulls take the bin boundaries by binary search on the
sorted index and the sums by ``np.add.reduceat`` (`_summed_bins`): one read of each column.

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> idx = pd.date_range("2024-01-01", periods=6, freq="20min")
    >>> df = gd.from_pandas(pd.DataFrame({"x": range(6)}, index=idx), npartitions=4)
    >>> df.resample("1h").sum().compute(scheduler="sync").x.tolist()
    [3, 12]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Tick

from ..spec import Ref, Task, tokenize
from .collection import OPERATIONS
from .labels import data_names, index_column, index_names
from .overlap import time_index
from .pandas_edge import PandasFunc, conform, meta_schema, sample_meta, to_arrow
from .pending import dense_values
from .plan import PlanNode

__all__ = ["Resampler", "ResampleMethods"]

_FILL = {"sum": 0, "count": 0, "size": 0, "nunique": 0, "prod": 1}


def _fill_for(how, label):
    """What pandas puts in an empty bin for aggregation ``how`` (a name, a list or a dict)."""
    if isinstance(how, str):
        return _FILL.get(how, np.nan)
    if isinstance(how, dict):
        sub = how.get(label[0] if isinstance(label, tuple) else label)
        if isinstance(sub, (list, tuple)) and isinstance(label, tuple):
            return _FILL.get(label[-1], np.nan)
        return _fill_for(sub, label) if sub is not None else np.nan
    if isinstance(how, (list, tuple)) and isinstance(label, tuple):
        return _FILL.get(label[-1], np.nan)
    return np.nan


class _BinAgg:
    """The pandas function of one output partition: resample, aggregate, keep and fill its bins."""

    __slots__ = ("rule", "kw", "how", "args", "kwargs")

    def __init__(self, rule, kw, how, args=(), kwargs=None):
        self.rule, self.kw, self.how, self.args, self.kwargs = rule, dict(kw), how, tuple(args), dict(kwargs or {})

    def __call__(self, obj, labels=None):
        out = self.aggregate(obj.resample(self.rule, **self.kw))
        return out if labels is None else self.fill(out, labels)

    def aggregate(self, r):
        """The aggregation of pandas' resampler ``r``."""
        return getattr(r, self.how)(*self.args, **self.kwargs) if isinstance(self.how, str) and \
            self.how != "agg" else r.agg(*self.args, **self.kwargs)

    def over_pieces(self, objs, labels):
        """What `__call__` gives on ``objs`` (consecutive pieces of the rows, pandas objects) concatenated,
        without concatenating them: each piece is resampled alone, and only the rows of a bin that
        straddles pieces (the last bin of one is the first of the next) are joined and aggregated again."""
        outs, edges = [], []  # per piece: its result; (first label, its end, last label, its start)
        for obj in objs:
            r = obj.resample(self.rule, **self.kw)
            outs.append(self.aggregate(r))
            ends = list(r.groups.items())  # label -> end position of its rows, in bin order
            edges.append((ends[0][0], int(ends[0][1]), ends[-1][0], int(ends[-2][1]) if len(ends) > 1 else 0))
        rows: dict = {}  # a bin's label -> its rows' pieces, when it may straddle pieces
        for k, obj in enumerate(objs):
            first, first_end, last, last_start = edges[k]
            if k > 0:
                rows.setdefault(first, []).append(obj.iloc[:first_end])
            # (a piece inside one bin, k > 0, is listed whole above already)
            if k + 1 < len(objs) and not (k > 0 and last == first):
                rows.setdefault(last, []).append(obj.iloc[last_start:])
        shared = {label: pieces for label, pieces in rows.items() if len(pieces) > 1}
        if shared:
            again = [self.aggregate(pd.concat(pieces).resample(self.rule, **self.kw)) for pieces in shared.values()]
            keep = [out[~out.index.isin(list(shared))] for out in outs]
            out = pd.concat(keep + [a.loc[[label]] for a, label in zip(again, shared)]).sort_index()
        else:
            out = pd.concat(outs)
        return self.fill(out, labels)

    def fill(self, out, labels):
        """``out`` reindexed to ``labels``, its empty bins filled as pandas fills them."""
        if isinstance(out, pd.DataFrame):
            full = out.reindex(labels)
            for col in out.columns:
                fill = _fill_for(self.args[0] if self.how == "agg" else self.how, col)
                if not (isinstance(fill, float) and np.isnan(fill)):
                    full[col] = full[col].fillna(fill).astype(out[col].dtype)
            return full
        fill = _fill_for(self.args[0] if self.how == "agg" else self.how, out.name)
        if isinstance(fill, float) and np.isnan(fill):
            return out.reindex(labels)
        return out.reindex(labels, fill_value=fill)

    def __graphflow_tokenize__(self):
        return ("BinAgg", self.rule, tokenize(self.kw), tokenize(self.how, self.args, self.kwargs))


_SUMMED = ("sum", "count", "mean")


def _sums_and_counts(parts, names, starts_ns):
    """Per column, the sums and the row counts of the bins starting at ``starts_ns`` (the last one ending at
    ``starts_ns[-1]``) over the partitions ``parts``; None when a column is not float64/int64 without
    nulls.  ``np.add.reduceat`` over each bin's rows, as pandas' own resample sum does; a bin that
    straddles partitions adds their partial sums."""
    m = len(starts_ns) - 1
    counts = np.zeros(m, dtype=np.int64)
    sums = {}
    for t in parts:
        idx, per = time_index(t)
        bounds = np.searchsorted(idx, -(-starts_ns // per), side="left")  # t * per >= start: t >= ceil
        sizes = np.diff(bounds)
        counts += sizes
        full = sizes > 0
        first = bounds[:-1][full] - bounds[0]
        for n in names:
            col = t.column(n)
            if col.null_count or not (pa.types.is_float64(col.type) or pa.types.is_int64(col.type)):
                return None
            values = dense_values(col)[bounds[0]:bounds[-1]]
            acc = sums.setdefault(n, np.zeros(m, dtype=values.dtype))
            if len(first):
                acc[full] += np.add.reduceat(values, first)
    return sums, counts


def _summed_bins(op, labels, parts):
    """The Arrow output of ``sum``/``count``/``mean`` over fixed-width bins (a Tick rule, bins closed and
    labelled on the left, pandas' default for them) without pandas: bin boundaries by binary search on
    the sorted index, sums by ``np.add.reduceat``; None for any other case (pandas then runs)."""
    func = op.func
    if func.how not in _SUMMED or func.args or func.kwargs or any(func.kw.get(k) not in (None, "left")
                                                                  for k in ("closed", "label")) or \
            set(func.kw) - {"closed", "label", "origin"} or not isinstance(to_offset(func.rule), Tick) or \
            not len(labels):
        return None
    names, out_names = data_names(op.in_schemas[0]), data_names(op.out_schema)
    if len(names) != len(out_names):
        return None
    lefts = labels.as_unit("ns").asi8
    step = pd.Timedelta(to_offset(func.rule)).value
    if len(lefts) > 1 and not (np.diff(lefts) == step).all():
        return None
    got = _sums_and_counts(parts, names, np.append(lefts, lefts[-1] + step))
    if got is None:
        return None
    sums, counts = got
    if func.how == "count":
        cols = [counts for _ in names]
    elif func.how == "sum":
        cols = [sums[n] for n in names]
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            cols = [sums[n] / counts for n in names]
    arrays = [pa.array(c) for c in cols] + [pa.array(labels.as_unit("ns").to_numpy(), pa.timestamp("ns"))]
    table = pa.Table.from_arrays(arrays, names=out_names + [index_column(0)])
    return conform(table, op.out_schema)


def _bins_task(op, labels, lo, hi, *tables):
    """Output partition: rows of ``tables`` with index in [lo, hi] (ns, None = open), resampled by ``op``."""
    parts = []
    for t in tables:
        idx, per = time_index(t)  # in the index's own unit: bounds in ns rounded inwards, no cast of idx
        a = 0 if lo is None else int(np.searchsorted(idx, -(-lo // per), side="left"))
        b = len(idx) if hi is None else int(np.searchsorted(idx, hi // per, side="right"))
        if b > a:
            parts.append(t.slice(a, b - a))
    fast = _summed_bins(op, labels, parts) if parts else None
    if fast is not None:
        return fast
    if len(parts) > 1:  # each piece as a zero-copy pandas view; only straddling bins' rows are joined
        objs = [op.inputs([p])[0] for p in parts]
        return to_arrow(op.func.over_pieces(objs, labels), op.out_schema)[0]
    obj = op.inputs([parts[0] if parts else tables[0].slice(0, 0)])[0]
    return to_arrow(op.func(obj, labels=labels), op.out_schema)[0]


class ResampleNode(PlanNode):
    """The output partitions of a resample (see the module docstring): one task per group of bins."""

    label = "resample"

    def __init__(self, child, op, plan, schema):
        self.children = (child,)
        self.op, self.plan = op, plan  # plan: [(labels, lo_ns, hi_ns, [input partition numbers])]
        self._schema = schema
        self._npartitions = len(plan)

    def params(self):
        # the labels as int64 arrays: tokenized as bytes (a tuple of numpy scalars took 10 ms per 3000 bins)
        return (tokenize(self.op), tokenize([(lab.as_unit("ns").asi8, lo, hi, tuple(ins)) for lab, lo, hi, ins in
                                             self.plan]))

    @property
    def divisions(self):
        firsts = [lab[0] for lab, _, _, _ in self.plan]
        return tuple(firsts) + (self.plan[-1][0][-1],)

    def with_children(self, children):
        return ResampleNode(children[0], self.op, self.plan, self._schema)

    def tasks(self):
        child = self.children[0]
        return [Task((self.name, j), _bins_task, self.op, labels, lo, hi, *[Ref((child.name, i)) for i in ins])
                for j, (labels, lo, hi, ins) in enumerate(self.plan)]


def fixed_width(rule) -> bool:
    """Whether pandas bins ``rule`` by a fixed width from an origin ("7h", "2D"), not by anchors ("W", "ME")."""
    offset = to_offset(rule)
    return isinstance(offset, (Tick, pd.offsets.Day))


def bin_plan(divisions, rule, kw):
    """``[(labels, lo_ns, hi_ns, input partitions)]`` per output partition, from the input's divisions."""
    divs = pd.DatetimeIndex([pd.Timestamp(d) for d in divisions])
    n = len(divs) - 1
    tiny = pd.Series(np.arange(len(divs)), index=divs)
    binned = tiny.resample(rule, **{**kw, "label": "left"})
    first_pos, last_pos = binned.min(), binned.max()
    lefts = first_pos.index  # each bin's left edge
    labels = tiny.resample(rule, **kw).count().index  # every bin from the first row's to the last row's
    # the bin (by number) of each division: bins are in time order, divisions too
    mn, mx = first_pos.to_numpy(dtype=float), last_pos.to_numpy(dtype=float)
    held = ~np.isnan(mn)  # the bins holding divisions, each a run of consecutive divisions
    bin_of = np.repeat(np.flatnonzero(held), (mx[held] - mn[held] + 1).astype(np.int64))
    starts = sorted(set(bin_of[:n].tolist()))
    # nanoseconds as Python ints, once: boxing a Timestamp per comparison made this loop 20 ms per graph
    div_ns, left_ns = divs.as_unit("ns").asi8.tolist(), lefts.as_unit("ns").asi8.tolist()
    # pandas moves the edges of closed-right bins of anchored rules ("W", "ME", "QE", ...) to the end of
    # their day: a row at 05:00 on Sunday falls in the week ending that Sunday.  Rows are taken a day
    # beyond each edge for any rule that is not a fixed width; those of other partitions' bins are dropped
    # when the result is reindexed to its labels.
    pad = 0 if fixed_width(rule) else pd.Timedelta(days=1).value
    plan = []
    for j, b0 in enumerate(starts):
        b1 = starts[j + 1] if j + 1 < len(starts) else len(labels)
        lo = None if j == 0 else left_ns[b0] - pad
        hi = None if j + 1 == len(starts) else left_ns[b1] + pad if b1 < len(left_ns) else None
        ins = [i for i in range(n) if (hi is None or div_ns[i] <= hi) and (lo is None or div_ns[i + 1] >= lo)]
        plan.append((labels[b0:b1], lo, hi, ins))
    return plan


class Resampler:
    """``obj.resample(rule, closed=, label=)``: pandas' resample aggregations over partitions of bins."""

    def __init__(self, obj, rule, closed=None, label=None, **kwargs):
        divs = obj.expr.divisions
        names = index_names(obj.expr.schema)
        if divs is None or None in divs or len(names) != 1:
            raise ValueError("Can only resample dataframes with known divisions\n"
                             "See https://docs.dask.org/en/latest/dataframe-design.html#partitions\n"
                             "for more information.")
        t = obj.expr.schema.field(index_column(0)).type
        if not pa.types.is_timestamp(t):
            raise TypeError(f"Only valid with DatetimeIndex, TimedeltaIndex or PeriodIndex, but got an index "
                            f"of type {t}")
        self.obj, self.rule = obj, rule
        self.kw = {k: v for k, v in {"closed": closed, "label": label, **kwargs}.items() if v is not None}
        from .windows import pandas_meta

        self._meta = pandas_meta(obj)
        self._meta.resample(rule, **self.kw)  # pandas' checks of the rule and options
        self._plan = bin_plan(divs, rule, self.kw)

    def by_bins(self, how, *args, **kwargs):
        """pandas' ``Resampler.<how>(*args, **kwargs)`` on every output partition of whole bins."""
        from .windows import is_series, pandas_meta

        # every piece is binned from the whole frame's origin (pandas' "start_day": midnight before the first
        # row), not its own first row's day: "2D" or "7h" bins would otherwise shift from partition to partition
        # (pandas takes an origin only for fixed-width rules; anchored ones such as "W" or "ME" need none)
        kw = {**self.kw, "origin": pd.Timestamp(self.obj.expr.divisions[0]).normalize()} \
            if fixed_width(self.rule) else self.kw
        func = _BinAgg(self.rule, kw, how, args, kwargs)
        sample = func(pandas_meta(self.obj, nonempty=True))
        out_schema, out_series = meta_schema(sample_meta(sample))
        schema = self.obj.expr.schema
        op = PandasFunc(func, [schema], out_schema, (), {}, (is_series(self.obj),))
        plan = ResampleNode(self.obj.expr, op, self._plan, out_schema)
        if out_series:
            from .colexpr import Col
            from .labels import column_labels, data_names

            col = data_names(out_schema)[0]
            name = self.obj.name if is_series(self.obj) and how != "size" else column_labels(out_schema)[0]
            return OPERATIONS.Series(plan, Col(col), name, out_schema.field(col).type)
        return OPERATIONS.DataFrame(plan)

    def agg(self, func, *args, **kwargs):
        """pandas' ``Resampler.agg``: a name, a list of names, or a ``{column: name(s)}`` dict."""
        return self.by_bins("agg", func, *args, **kwargs)

    aggregate = agg


def _method(how):
    def method(self, *args, **kwargs):
        return self.by_bins(how, *args, **kwargs)

    method.__name__ = how
    method.__doc__ = f"pandas' ``Resampler.{how}`` per bin, bins straddling partitions computed whole."
    return method


for _how in ("sum", "mean", "count", "min", "max", "first", "last", "size", "median", "prod", "std", "var",
             "nunique", "sem", "ohlc", "quantile"):
    setattr(Resampler, _how, _method(_how))


class ResampleMethods:
    """``resample`` for DataFrame and Series (mixin)."""

    def resample(self, rule, closed=None, label=None):
        """Group rows into time bins of ``rule`` (``"1h"``, ``"1D"``, ``"W"``...) on a datetime index with
        known divisions (``from_pandas``/``set_index`` give them); see `graphflow.dataframe.resample`."""
        return Resampler(self, rule, closed=closed, label=label)
