"""Statistics beyond the basic reductions: higher moments, exact quantiles, arg-extremes, mode, correlation,
and the n largest rows.

Each is a tree reduction (`plan.Reduce`) over a small per-partition state:

    skew, kurtosis, sem   (n, mean, M2, M3, M4) merged with Pébay's pairwise formulas (no raw power sums,
                          so values far from zero keep their precision)
    median, quantile      the column's non-null values, gathered into one task: exact, as pandas (Dask
                          offers only approximate ones; ``median_approximate`` is the sampled kind)
    idxmax, idxmin        (extreme value, its index label) per partition; ties go to the first label
    mode                  value counts, merged
    corr, cov             per pair of columns: (n, mean_i, mean_j, M2_i, M2_j, C_ij) over the rows where
                          both are present (pandas' pairwise-complete rule), merged as Chan's formula
    nlargest, nsmallest   each partition's n best rows, then the n best of those

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_pandas(pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0, None]}), npartitions=2)
    >>> round(float(df.x.skew().compute(scheduler="sync")), 6)
    1.137624
    >>> float(df.x.median().compute(scheduler="sync"))
    3.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .collection import Scalar
from .frame import DataFrame, with_positions
from .labels import data_names, index_columns, label_of
from .pandas_edge import frame_to_arrow, to_pandas_frame
from .plan import Blockwise, FromKeys, Func, Reduce
from .reductions import column_series
from .series import Series
from ..utils.traverse import identity

__all__ = ["moment", "quantile", "arg_extreme", "mode", "correlation", "series_correlation", "largest"]

_NUMERIC = ("i", "u", "f", "b")


def _values(arr) -> np.ndarray:
    """The non-null values of an Arrow column as float64."""
    return arr.drop_null().cast(pa.float64()).to_numpy(zero_copy_only=False)


def _numeric_names(coll) -> list:
    names = data_names(coll.schema)
    return [n for n in names if _is_numeric(coll.schema.field(n).type)]


def _is_numeric(t) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _per_column(coll, state_of, merge, final, name):
    """A reduction of each numeric column: a Scalar for a Series, a Series by column label for a frame."""
    if isinstance(coll, Series):
        if not _is_numeric(coll.arrow_type):
            raise TypeError(f"cannot take the {name} of Series {coll.name!r} of type {coll.dtype}")
        cols = [coll.arrow_column]
        plan = coll.expr
    else:
        cols = _numeric_names(coll)
        plan = coll[cols].expr
    chunk = Blockwise(Func(_states, cols, state_of), (plan,), schema=pa.schema([]), label=f"{name}-chunk")
    if isinstance(coll, Series):
        return Scalar(Reduce(chunk, _Merge(merge), _Final(final, None), None))
    schema = pa.schema([pa.field(c, pa.float64()) for c in cols])
    row = Reduce(chunk, _Merge(merge), _Final(final, schema), schema)
    return column_series(row, [label_of(coll.schema, c) for c in cols])


def _states(table, cols, state_of):
    return [state_of(table.column(c)) for c in cols]


class _Merge:
    def __init__(self, merge):
        self.merge = merge

    def __call__(self, parts):
        return [self.merge([p[i] for p in parts]) for i in range(len(parts[0]))]

    def __graphflow_tokenize__(self):
        return ("stats-merge", self.merge.__name__)


class _Final:
    def __init__(self, final, schema):
        self.final, self.schema = final, schema

    def __call__(self, states):
        values = [self.final(s) for s in states]
        if self.schema is None:
            return values[0]
        return pa.table({f.name: pa.array([v], pa.float64()) for v, f in zip(values, self.schema)})

    def __graphflow_tokenize__(self):
        return ("stats-final", repr(self.final), None if self.schema is None else str(self.schema))


# ------------------------------------------------------------------ moments


def _moment_state(arr):
    v = _values(arr)
    n = len(v)
    if n == 0:
        return (0, 0.0, 0.0, 0.0, 0.0)
    d = v - v.mean()
    return (n, float(v.mean()), float((d ** 2).sum()), float((d ** 3).sum()), float((d ** 4).sum()))


def _merge_moments(states):
    n, mean, m2, m3, m4 = 0, 0.0, 0.0, 0.0, 0.0
    for nb, mb, m2b, m3b, m4b in states:
        if nb == 0:
            continue
        if n == 0:
            n, mean, m2, m3, m4 = nb, mb, m2b, m3b, m4b
            continue
        na, tot = n, n + nb
        d = mb - mean
        m4 = (m4 + m4b + d ** 4 * na * nb * (na * na - na * nb + nb * nb) / tot ** 3
              + 6 * d * d * (na * na * m2b + nb * nb * m2) / tot ** 2 + 4 * d * (na * m3b - nb * m3) / tot)
        m3 = m3 + m3b + d ** 3 * na * nb * (na - nb) / tot ** 2 + 3 * d * (na * m2b - nb * m2) / tot
        m2 = m2 + m2b + d * d * na * nb / tot
        mean = mean + d * nb / tot
        n = tot
    return (n, mean, m2, m3, m4)


class _MomentFinal:
    """skew and kurtosis as pandas computes them (bias-corrected; NaN below 3 or 4 values and for a constant)."""

    def __init__(self, how, ddof=1):
        self.how, self.ddof = how, ddof

    def __call__(self, state):
        n, _, m2, m3, m4 = state
        if self.how == "sem":
            return float(np.sqrt(m2 / (n - self.ddof) / n)) if n - self.ddof > 0 else np.nan
        if self.how == "skew":
            if n < 3:
                return np.nan
            if m2 == 0:
                return np.nan  # a constant column, as pandas 3
            return float(np.sqrt(n * (n - 1)) / (n - 2) * (m3 / n) / (m2 / n) ** 1.5)
        if n < 4:
            return np.nan
        if m2 == 0:
            return np.nan
        adj = 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
        return float(n * (n + 1) * (n - 1) * m4 / ((n - 2) * (n - 3) * m2 * m2) - adj)

    def __repr__(self):
        return f"moment-{self.how}-{self.ddof}"


def moment(coll, how: str, ddof: int = 1):
    """``skew``, ``kurtosis`` or ``sem`` of a Series (a Scalar) or of each numeric column (a Series)."""
    return _per_column(coll, _moment_state, _merge_moments, _MomentFinal(how, ddof), how)


# ------------------------------------------------------------------ exact quantiles


def _gather(arr):
    return _values(arr)


def _concat_values(states):
    return np.concatenate(states) if states else np.array([])


class _QuantileFinal:
    def __init__(self, q, interpolation="linear"):
        self.q, self.interpolation = q, interpolation

    def __call__(self, values):
        if len(values) == 0:
            return np.nan
        return float(np.quantile(values, self.q, method=self.interpolation))

    def __repr__(self):
        return f"quantile-{self.q}-{self.interpolation}"


def quantile(coll, q=0.5, interpolation: str = "linear"):
    """The exact ``q`` quantile(s), as pandas: a Scalar (Series, one q), a Series (a frame with one q, or a
    Series with a list of q, indexed by q), or a frame (a list of q over a frame, one row per q)."""
    if isinstance(q, (list, tuple, np.ndarray)):
        parts = {float(x): quantile(coll, float(x), interpolation) for x in q}
        return _stack(coll, parts)
    return _per_column(coll, _gather, _concat_values, _QuantileFinal(q, interpolation), "quantile")


def _stack(coll, parts: dict):
    """One Series (from a Series) or one frame (from a frame) of the per-q results, indexed by q."""
    keys = list(parts)
    lazies = list(parts.values())
    from ..base import collections_to_graph

    graph = dict(collections_to_graph(lazies))
    out_keys = [lz.__graphflow_keys__()[0] for lz in lazies]
    if isinstance(coll, Series):
        pdf = pd.Series([0.0] * 0, name=coll.name, dtype="float64", index=pd.Index([], dtype="float64"))
        table, schema = frame_to_arrow(pdf.to_frame(), keep_index=True)
        node = FromKeys(graph, out_keys, None)
        plan = Reduce(node, _Scalars(keys, coll.name, schema, False), identity, schema)
        return Series(plan, _col(schema), coll.name, pa.float64())
    cols = _numeric_names(coll)
    labels = [label_of(coll.schema, c) for c in cols]
    pdf = pd.DataFrame({lab: pd.Series([], dtype="float64") for lab in labels}, index=pd.Index([], dtype="float64"))
    table, schema = frame_to_arrow(pdf, keep_index=True)
    node = FromKeys(graph, out_keys, None)
    return DataFrame(Reduce(node, _Scalars(keys, labels, schema, True), identity, schema))


def _col(schema):
    from .colexpr import Col

    return Col(data_names(schema)[0])


class _Scalars:
    """Combine: per-q results (scalars, or Series by column) into one table indexed by q."""

    def __init__(self, qs, labels, schema, frame):
        self.qs, self.labels, self.schema, self.frame = qs, labels, schema, frame

    def __call__(self, parts):
        values = []
        for p in parts:
            if isinstance(p, pa.Table):
                values.append(p.column(0).to_pylist())
            else:
                values.append(p)
        if self.frame:
            pdf = pd.DataFrame([list(v) for v in values], columns=self.labels, index=pd.Index(self.qs))
        else:
            pdf = pd.DataFrame({self.labels: values}, index=pd.Index(self.qs))
        return frame_to_arrow(pdf.astype("float64"), schema=self.schema)[0]

    def __graphflow_tokenize__(self):
        return ("quantiles", tuple(self.qs), str(self.schema))


# ------------------------------------------------------------------ idxmax / idxmin


def arg_extreme(coll, how: str, skipna: bool = True):
    """``idxmax``/``idxmin``: the index label of the first extreme value (a Scalar for a Series, a Series by
    column for a frame)."""
    frame = with_positions(coll.to_frame() if isinstance(coll, Series) else coll)
    idx = index_columns(frame.schema)[0]
    cols = [coll.arrow_column] if isinstance(coll, Series) else _numeric_names(coll)
    chunk = Blockwise(Func(_extreme_states, cols, idx, how), (frame.expr,), schema=pa.schema([]),
                      label=f"idx{how}-chunk")
    merge = _Merge(_ExtremeMerge(how))
    if isinstance(coll, Series):
        return Scalar(Reduce(chunk, merge, _Final(_label, None), None))
    labels = [label_of(coll.schema, c) for c in cols]
    return _label_series(Reduce(chunk, merge, _LabelRow(cols), None), labels, frame.schema.field(idx).type)


def _extreme_states(table, cols, idx, how):
    labels = table.column(idx)
    out = []
    for c in cols:
        arr = table.column(c)
        valid = arr.drop_null()
        if len(valid) == 0:
            out.append(None)
            continue
        np_arr = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        pos = int(np.nanargmax(np_arr) if how == "max" else np.nanargmin(np_arr))
        out.append((np_arr[pos], labels[pos].as_py()))
    return out


class _ExtremeMerge:
    def __init__(self, how):
        self.how = how

    def __call__(self, states):
        best = None
        for s in states:  # partitions in order: a tie keeps the earlier label, as pandas
            if s is None:
                continue
            if best is None or (s[0] > best[0] if self.how == "max" else s[0] < best[0]):
                best = s
        return best

    @property
    def __name__(self):
        return f"extreme-{self.how}"


def _label(state):
    if state is None:
        raise ValueError("attempt to get argmax of an empty sequence")
    return state[1]


class _LabelRow:
    def __init__(self, cols):
        self.cols = cols

    def __call__(self, states):
        return [_label(s) for s in states]

    def __graphflow_tokenize__(self):
        return ("label-row", tuple(self.cols))


def _label_series(row_plan, labels, label_type):
    from .colexpr import Col
    from .labels import index_column, with_labels

    schema = with_labels(pa.schema([pa.field("__series__", label_type), pa.field(index_column(0), pa.string())]),
                         index=(None,), labels={"__series__": None})
    plan = Blockwise(Func(_labels_table, [str(x) for x in labels], label_type), (row_plan,), schema,
                     label="idx-labels")
    return Series(plan, Col("__series__"), None, label_type)


def _labels_table(values, labels, label_type):
    from .labels import index_column

    return pa.table({"__series__": pa.array(values, label_type), index_column(0): pa.array(labels, pa.string())})


# ------------------------------------------------------------------ mode


def mode(series, dropna: bool = True):
    """The most frequent value(s), sorted, as a Series with a fresh index (as pandas)."""
    counts = series.value_counts(sort=False, dropna=dropna)
    frame = counts.reset_index()
    value_col = data_names(frame.schema)[0]
    schema = pa.schema([pa.field(series.arrow_column, series.arrow_type)])
    plan = Reduce(frame.expr, _Modes(value_col, series.arrow_column), identity, schema)
    return Series(plan, _col(schema), series.name, series.arrow_type)


class _Modes:
    def __init__(self, value_col, out):
        self.value_col, self.out = value_col, out

    def __call__(self, parts):
        table = pa.concat_tables(parts)
        counts = table.column("count").to_numpy(zero_copy_only=False)
        if len(counts) == 0:
            return pa.table({self.out: table.column(self.value_col)})
        keep = table.filter(pa.array(counts == counts.max()))
        return pa.table({self.out: keep.column(self.value_col)}).sort_by(self.out)

    def __graphflow_tokenize__(self):
        return ("modes", self.value_col, self.out)


# ------------------------------------------------------------------ corr / cov


def _pair_state(table, cols):
    x = np.column_stack([table.column(c).cast(pa.float64()).to_numpy(zero_copy_only=False)
                         for c in cols]) if cols else np.empty((table.num_rows, 0))
    k = len(cols)
    n = np.zeros((k, k))
    mi, mj, m2i, m2j, c = (np.zeros((k, k)) for _ in range(5))
    for i in range(k):
        for j in range(i, k):
            both = ~(np.isnan(x[:, i]) | np.isnan(x[:, j]))
            a, b = x[both, i], x[both, j]
            cnt = len(a)
            if cnt == 0:
                continue
            ma, mb = a.mean(), b.mean()
            for (p, q) in ((i, j), (j, i)):
                n[p, q] = cnt
            mi[i, j], mj[i, j] = ma, mb
            mi[j, i], mj[j, i] = mb, ma
            m2i[i, j] = m2j[j, i] = ((a - ma) ** 2).sum()
            m2j[i, j] = m2i[j, i] = ((b - mb) ** 2).sum()
            c[i, j] = c[j, i] = ((a - ma) * (b - mb)).sum()
    return (n, mi, mj, m2i, m2j, c)


def _merge_pairs(states):
    n, mi, mj, m2i, m2j, c = (np.array(s, dtype=float) for s in states[0])
    for nb, mib, mjb, m2ib, m2jb, cb in states[1:]:
        tot = n + nb
        safe = np.where(tot > 0, tot, 1)
        di, dj = mib - mi, mjb - mj
        c = c + cb + di * dj * n * nb / safe
        m2i = m2i + m2ib + di * di * n * nb / safe
        m2j = m2j + m2jb + dj * dj * n * nb / safe
        mi = mi + di * nb / safe
        mj = mj + dj * nb / safe
        n = tot
    return (n, mi, mj, m2i, m2j, c)


class _PairFinal:
    def __init__(self, how, labels, min_periods, ddof):
        self.how, self.labels, self.min_periods, self.ddof = how, labels, min_periods, ddof

    def matrix(self, state):
        n, _, _, m2i, m2j, c = state
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.how == "cov":
                out = c / (n - self.ddof)
            else:
                out = c / np.sqrt(m2i * m2j)
        out = np.where(n >= max(self.min_periods or 1, 1 if self.how == "corr" else self.ddof + 1), out, np.nan)
        if self.how == "corr":
            out = np.clip(out, -1.0, 1.0)
        return out

    def __call__(self, state):
        pdf = pd.DataFrame(self.matrix(state), index=pd.Index(self.labels), columns=self.labels)
        return frame_to_arrow(pdf, keep_index=True)[0]

    def __graphflow_tokenize__(self):
        return ("pairs", self.how, tuple(map(str, self.labels)), self.min_periods, self.ddof)


def correlation(df, how: str = "corr", method: str = "pearson", min_periods=None, ddof: int = 1,
                numeric_only: bool = False):
    """``corr``/``cov`` of every pair of numeric columns: a frame indexed and labelled by the columns."""
    if method != "pearson":
        raise NotImplementedError(f"only method='pearson' is supported, not {method!r} (as in Dask)")
    cols = _numeric_names(df)
    if not numeric_only and len(cols) != len(data_names(df.schema)):
        others = [c for c in data_names(df.schema) if c not in cols]
        raise ValueError(f"could not convert the non-numeric columns {others} to float; pass numeric_only=True")
    labels = [label_of(df.schema, c) for c in cols]
    chunk = Blockwise(Func(_pair_state, cols), (df[cols].expr,), schema=pa.schema([]), label=f"{how}-chunk")
    pdf = pd.DataFrame({lab: pd.Series([], dtype="float64") for lab in labels}, index=pd.Index([], dtype="str"))
    _, schema = frame_to_arrow(pdf, keep_index=True)
    return DataFrame(Reduce(chunk, _ListOf(), _PairFinal(how, labels, min_periods, ddof), schema))


class _ListOf:
    def __call__(self, parts):
        return _merge_pairs(parts)

    def __graphflow_tokenize__(self):
        return "pairs-merge"


def series_correlation(a, b, how: str = "corr", method: str = "pearson", min_periods=None, ddof: int = 1):
    """``a.corr(b)``/``a.cov(b)`` for two Series of one frame: a Scalar."""
    if method != "pearson":
        raise NotImplementedError(f"only method='pearson' is supported, not {method!r} (as in Dask)")
    frame = DataFrame(a.source).project([("__a__", a.column_expr), ("__b__", b.column_expr_on(a.source))])
    chunk = Blockwise(Func(_pair_state, ["__a__", "__b__"]), (frame.expr,), schema=pa.schema([]),
                      label=f"{how}-chunk")
    final = _PairFinal(how, ["a", "b"], min_periods, ddof)
    return Scalar(Reduce(chunk, _ListOf(), _Corner(final), None))


class _Corner:
    def __init__(self, final):
        self.final = final

    def __call__(self, state):
        return float(self.final.matrix(state)[0, 1])

    def __graphflow_tokenize__(self):
        return ("corner",) + self.final.__graphflow_tokenize__()


# ------------------------------------------------------------------ nlargest / nsmallest


def largest(coll, n: int = 5, columns=None, keep: str = "first", smallest: bool = False):
    """The ``n`` rows (values) with the largest (``smallest``) ``columns``, as pandas' ``nlargest``: one
    partition, in order."""
    method = "nsmallest" if smallest else "nlargest"
    frame = coll.to_frame() if isinstance(coll, Series) else coll
    if not isinstance(coll, Series) and columns is None:
        raise TypeError(f"{method}() missing 1 required positional argument: 'columns'")
    by = [coll.name] if isinstance(coll, Series) else ([columns] if not isinstance(columns, list) else columns)
    per = Blockwise(Func(_best, frame.schema, method, n, by, keep), (frame.expr,), frame.schema,
                    label=f"{method}-chunk")
    plan = Reduce(per, _BestOf(frame.schema, method, n, by, keep), identity, frame.schema)
    out = DataFrame(plan)
    return out[out.columns[0]] if isinstance(coll, Series) else out


def _best(table, schema, method, n, by, keep):
    pdf = to_pandas_frame(table, schema)
    return frame_to_arrow(getattr(pdf, method)(n, by, keep=keep), schema=schema)[0]


class _BestOf:
    def __init__(self, schema, method, n, by, keep):
        self.schema, self.method, self.n, self.by, self.keep = schema, method, n, by, keep

    def __call__(self, parts):
        return _best(pa.concat_tables(parts), self.schema, self.method, self.n, self.by, self.keep)

    def __graphflow_tokenize__(self):
        return ("best-of", str(self.schema), self.method, self.n, tuple(map(str, self.by)), self.keep)
