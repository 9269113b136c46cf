"""More of pandas'/Dask's method surface for DataFrame and Series (mixins): filling from neighbours
(``ffill``/``bfill``), index alignment (``align``, ``combine``, ``combine_first``), ``dot``, ``mode``,
``to_timestamp``, and the frame methods a Series has in Dask (``partitions``, ``repartition``,
``shuffle``, ``groupby``, the writers...).

``ffill``/``bfill`` carry the nearest present value across partition boundaries (`fill.Fill`), so a
partition that starts (or is entirely) missing takes it from the partitions before it:

    >>> import pandas as pd
    >>> import graphflow.dataframe as gd
    >>> s = gd.from_pandas(pd.Series([1.0, None, None, None, 5.0]), npartitions=3)
    >>> s.ffill().compute(scheduler="sync").tolist()
    [1.0, 1.0, 1.0, 1.0, 5.0]
    >>> s.bfill(limit=1).compute(scheduler="sync").tolist()
    [1.0, nan, nan, 5.0, 5.0]

The work that needs DataFrame itself (aligning on the index, computing divisions) is in
`graphflow.dataframe.aligning`, reached through `collection.OPERATIONS`; this module sits below
frame/series.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import pyarrow as pa

from .collection import OPERATIONS
from .colexpr import Col
from .fill import Fill
from .labels import column_labels, data_names, with_labels
from .pandas_edge import PandasFunc, meta_schema
from .plan import Blockwise, Func, Project
from .windows import overlap_apply, wrap_plan

__all__ = ["MoreMethods", "MoreFrameMethods", "MoreSeriesMethods"]


def _is_collection(x) -> bool:
    return isinstance(x, (OPERATIONS.DataFrame, OPERATIONS.Series))


def _axis(axis) -> int:
    if axis in (0, "index", "rows", None):
        return 0
    if axis in (1, "columns"):
        return 1
    raise ValueError(f"No axis named {axis!r}")


def with_divisions(coll, divisions):
    """``coll`` (rows untouched) with ``divisions`` as its divisions (None: unknown)."""
    if divisions is None:
        return coll.clear_divisions()
    schema = coll.expr.schema
    keep = [(n, Col(n)) for n in schema.names]
    plan = Blockwise(Project(keep), (coll.expr,), schema, label="divisions", divisions=divisions)
    return wrap_plan(coll, plan) if isinstance(coll, OPERATIONS.Series) else OPERATIONS.DataFrame(plan)


class MoreMethods:
    """Methods of both DataFrame and Series."""

    def ffill(self, axis=0, limit=None):
        """Missing values (null or NaN) replaced by the last present value above them, from earlier
        partitions too; at most ``limit`` in a row (pandas' ``ffill``)."""
        return self._fill(True, axis, limit)

    def bfill(self, axis=0, limit=None):
        """Missing values replaced by the next present value below them, from later partitions too."""
        return self._fill(False, axis, limit)

    def _fill(self, forward, axis, limit):
        if limit is not None and (not isinstance(limit, numbers.Integral) or limit <= 0):
            raise ValueError("Limit must be greater than 0")
        if _axis(axis) == 1:
            if isinstance(self, OPERATIONS.Series):
                raise ValueError("No axis named 1 for object type Series")
            return self.partitionwise("ffill" if forward else "bfill", axis=1, limit=limit)
        return wrap_plan(self, Fill(self.expr, forward, limit, self.expr.schema))

    def compute_current_divisions(self, col=None, set_divisions: bool = False):
        """The divisions the data have now (computes; known divisions are returned at once); with
        ``set_divisions`` the collection with them set.  See `graphflow.dataframe.aligning`."""
        return OPERATIONS.current_divisions(self, col=col, set_divisions=set_divisions)

    def divide(self, other, axis="columns", level=None, fill_value=None):
        """Alias of ``div`` (pandas' ``divide``)."""
        return self.div(other, axis=axis, level=level, fill_value=fill_value)

    def align(self, other, join: str = "outer", axis=None, fill_value=None):
        """``(self', other')`` over the union (``join``) of both indexes (and, for frames, of the columns):
        pandas' ``align``; both sides' divisions must be known, as in Dask."""
        return OPERATIONS.align(self, other, join=join, axis=axis, fill_value=fill_value)

    def to_timestamp(self, freq=None, how: str = "start"):
        """A period index as timestamps (pandas' ``to_timestamp``), the divisions converted alike."""
        out = self.partitionwise("to_timestamp", freq=freq, how=how)
        divisions = None
        if self.known_divisions:
            divisions = tuple(pd.PeriodIndex(list(self.divisions)).to_timestamp(freq=freq, how=how))
        return with_divisions(out, divisions)


class MoreFrameMethods(MoreMethods):
    """DataFrame-only methods."""

    def combine(self, other, func, fill_value=None, overwrite: bool = True):
        """pandas' ``DataFrame.combine``: ``func(column, other_column)`` for each column of the union, over
        the two frames aligned on the index (partition by partition)."""
        return OPERATIONS.combine(self, other, func, fill_value, overwrite)

    @property
    def nbytes(self):
        raise NotImplementedError("nbytes is not implemented on DataFrame")

    def dot(self, other, meta=None):
        """The matrix product with ``other``, indexed by this frame's columns: a pandas Series/DataFrame or
        array (given to every partition), or a graphflow Series/DataFrame (made one partition, which every
        partition then reads, as Dask broadcasts a one-partition collection).  Rows are independent, so the
        result keeps this frame's partitions and index."""
        if not _is_collection(other):
            return self.partitionwise("dot", other, meta=meta)
        series = isinstance(other, OPERATIONS.Series)
        one = other if other.npartitions == 1 else other.repartition(npartitions=1)
        if meta is None:
            dtype = np.result_type(*self.dtypes, *([other.meta.dtype] if series else other.dtypes))
            meta = (None, dtype) if series else pd.DataFrame({c: pd.Series([], dtype=dtype) for c in other.columns})
        out_schema, is_series = meta_schema(meta, index_like=self.schema)
        op = PandasFunc(_dot, [self.schema, one.expr.schema], out_schema, series=(False, series))
        plan = Blockwise(op, (self.expr, one.expr), out_schema, broadcast=(False, True), label="dot")
        if is_series:
            col = data_names(out_schema)[0]
            return OPERATIONS.Series(plan, Col(col), column_labels(out_schema)[0], out_schema.field(col).type)
        return OPERATIONS.DataFrame(plan)

    def mode(self, dropna: bool = True, split_every=False, numeric_only: bool = False):
        """The most frequent value(s) of each column, side by side, shorter columns padded with missing
        values (pandas' ``DataFrame.mode``)."""
        labels = [c for c, t in self.dtypes.items()
                  if not numeric_only or pd.api.types.is_numeric_dtype(t)]
        modes = [self[c].mode(dropna=dropna) for c in labels]
        names = [self.arrow_name(c) for c in labels]
        fields = [self.schema.field(n) for n in names]
        schema = with_labels(pa.schema(fields), labels=dict(zip(names, labels)))
        plan = Blockwise(Func(_side_by_side, names, schema), [m.expr for m in modes], schema, label="mode")
        return OPERATIONS.DataFrame(plan)


def _dot(left, right):
    return left.dot(right)


def _side_by_side(*tables_and_args):
    """One table of the first column of each table, the shorter padded with nulls (pandas' mode frame)."""
    *tables, names, schema = tables_and_args
    n = max((t.num_rows for t in tables), default=0)
    cols = []
    for t, name in zip(tables, names):
        col = t.column(0)
        if len(col) < n:
            col = pa.chunked_array(list(col.chunks) + [pa.nulls(n - len(col), col.type)], col.type)
        cols.append(col.cast(schema.field(name).type))
    return pa.Table.from_arrays(cols, schema=schema)


class _SeriesPartitions:
    """``s.partitions[i]`` / ``[i:j]``: a Series of some partitions."""

    def __init__(self, series):
        self._series = series

    def __getitem__(self, item):
        frame = self._series.to_frame().partitions[item]
        return wrap_plan(self._series, frame.expr)


class MoreSeriesMethods(MoreMethods):
    """Series-only methods (many are DataFrame's, as Dask's Series has them)."""

    def combine(self, other, func, fill_value=None):
        """pandas' ``Series.combine``: ``func(a, b)`` for each label of both indexes (``fill_value`` where a
        label is missing on one side); ``other`` a Series or a scalar."""
        return OPERATIONS.combine(self, other, func, fill_value)

    def combine_first(self, other):
        """Our values, ``other`` 's where ours are missing, over the union of both indexes."""
        return OPERATIONS.combine_first(self, other)

    def autocorr(self, lag: int = 1, split_every=False):
        """The correlation of the values with themselves ``lag`` rows later (across partitions)."""
        if not isinstance(lag, numbers.Integral) or isinstance(lag, bool):
            raise TypeError("lag must be an integer")
        if lag == 0:
            return self.corr(self)
        meta = pd.DataFrame({"a": pd.Series([], dtype="f8"), "b": pd.Series([], dtype="f8")})
        pair = overlap_apply(self, _LagPair(int(lag)), max(lag, 0), max(-lag, 0), meta=meta, label="autocorr")
        return pair["a"].corr(pair["b"])

    @property
    def axes(self):
        """``[index]``, as pandas."""
        return [self.index]

    def squeeze(self):
        """The Series itself (a Series has nothing to squeeze), as Dask."""
        return self

    def add_prefix(self, prefix: str):
        """Index labels with ``prefix`` before them (pandas' ``Series.add_prefix``)."""
        return self._relabel_index("add_prefix", prefix, lambda d: f"{prefix}{d}")

    def add_suffix(self, suffix: str):
        """Index labels with ``suffix`` after them."""
        return self._relabel_index("add_suffix", suffix, lambda d: f"{d}{suffix}")

    def _relabel_index(self, method, text, change):
        out = self.partitionwise(method, text)
        divs = self.divisions
        keep = self.known_divisions and all(isinstance(d, str) for d in divs)
        return with_divisions(out, tuple(change(d) for d in divs) if keep else None)

    @classmethod
    def from_dict(cls, data, *, npartitions: int = 1, orient: str = "columns", dtype=None, columns=None):
        """A DataFrame from a dict (as Dask's ``Series.from_dict``, which is ``dd.from_dict``)."""
        pdf = pd.DataFrame.from_dict(data, orient=orient, dtype=dtype, columns=columns)
        return OPERATIONS.from_pandas(pdf, npartitions=npartitions)

    @property
    def partitions(self):
        """``s.partitions[i]`` / ``[i:j]``: a Series of some partitions."""
        return _SeriesPartitions(self)

    def get_partition(self, n: int):
        """Partition ``n``, a Series."""
        return self.partitions[n]

    def repartition(self, divisions=None, npartitions=None, partition_size=None, force: bool = False):
        """New partitions, as `DataFrame.repartition`."""
        frame = self.to_frame().repartition(divisions=divisions, npartitions=npartitions,
                                            partition_size=partition_size, force=force)
        return wrap_plan(self, frame.expr)

    def shuffle(self, on=None, npartitions=None, ignore_index: bool = False, **kwargs):
        """Values hash-partitioned so equal values share a partition (``on``: the index is not supported)."""
        if on is not None and on != self.name:
            raise NotImplementedError("Series.shuffle(on=...) shuffles on the values only; use "
                                      "to_frame().shuffle(on=...)")
        frame = self.to_frame()
        return wrap_plan(self, frame.shuffle(on=list(frame.columns), npartitions=npartitions).expr)

    def groupby(self, by=None, group_keys=True, sort=None, observed=None, dropna=None, **kwargs):
        """Group the values by Series of the same frame (or index levels, ``level=``): a SeriesGroupBy."""
        if by is None and "level" not in kwargs:
            raise TypeError("You have to supply one of 'by' and 'level'")
        keys = by if isinstance(by, list) else [by]
        if by is not None and any(isinstance(k, OPERATIONS.Series) for k in keys):
            if not all(isinstance(k, OPERATIONS.Series) for k in keys):
                raise NotImplementedError("Series.groupby: group by Series of the same frame or by index levels")
            frame = OPERATIONS.DataFrame(self.source)
            if not (isinstance(self.column_expr, Col) and self.column_expr.name == self.arrow_column):
                # a derived Series: its values as the column of its name (the keys must not read that column)
                used = set().union(*[k.column_expr.columns() for k in keys])
                if not isinstance(self.name, str) or self.arrow_column in used:
                    raise NotImplementedError("Series.groupby of a derived Series grouped by its own column: "
                                              "assign it to a new column of the frame and group the frame")
                frame = frame.assign(**{self.arrow_column: self})
            return frame.groupby(by, group_keys=group_keys, sort=sort, observed=observed, dropna=dropna,
                                 **kwargs)[self.name]
        frame = self.to_frame()
        return frame.groupby(by, group_keys=group_keys, sort=sort, observed=observed, dropna=dropna,
                             **kwargs)[self.name]

    def to_csv(self, path, **kwargs):
        """Write CSV as the frame writer does (the Series a one-column frame)."""
        return OPERATIONS.to_csv(self.to_frame(), path, **kwargs)

    def to_json(self, url_path, **kwargs):
        """Write JSON lines as the frame writer does."""
        return OPERATIONS.to_json(self.to_frame(), url_path, **kwargs)

    def to_orc(self, path, **kwargs):
        """Write ORC as the frame writer does."""
        return OPERATIONS.to_orc(self.to_frame(), path, **kwargs)


class _LagPair:
    """``pandas.DataFrame({"a": s, "b": s.shift(lag)})`` (floats): what ``autocorr`` correlates."""

    __slots__ = ("lag",)

    def __init__(self, lag):
        self.lag = lag

    def __call__(self, s):
        s = s.astype("f8")
        return pd.DataFrame({"a": s, "b": s.shift(self.lag)})

    def __graphflow_tokenize__(self):
        return ("lag-pair", self.lag)
