"""The row-local part of pandas' method surface, shared by DataFrame and Series (mixins).

Everything here gives, for a row, an answer that depends on that row alone,
so it runs partition by partition: through pyarrow kernels where the work is
arithmetic (the method forms of the operators, ``clip``, ``round``, ``mask``),
and through pandas' own method on each partition elsewhere (``replace``,
``query``, ``eval``, ``apply``, ``map``):

    >>> import graphflow.dataframe as gd
    >>> df = gd.from_dict({"a": [1, None, 3], "b": [10, 20, 30]}, npartitions=2)
    >>> df.a.add(df.b, fill_value=0).compute(scheduler="sync").tolist()
    [11.0, 20.0, 33.0]
    >>> df.query("b > 15").compute(scheduler="sync").b.tolist()
    [20, 30]

The mixins sit under `frame` and `series` (which list them as bases); they
reach the collections through `collection.OPERATIONS`.
"""

from __future__ import annotations

import operator

import pyarrow as pa

from .collection import OPERATIONS, Scalar
from .colexpr import Call, Col, Lit
from .labels import column_labels, data_names
from .plan import Blockwise, Func, Reduce
from ..utils.traverse import identity

__all__ = ["CommonMethods", "FrameMethods", "SeriesMethods"]

_ARITH = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
}
_COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
            "ge": operator.ge}


def _is_collection(x) -> bool:
    return hasattr(x, "expr") and hasattr(x, "npartitions")


class CommonMethods:
    """Methods of both DataFrame and Series."""

    # -- arithmetic and comparison, as methods (``fill_value`` as pandas: a value missing on one side only)
    def _arith(self, name, other, fill_value=None, reflect=False):
        op = _ARITH[name]
        a, b = self, other
        if fill_value is not None:
            a = self.fillna(fill_value)
            b = other.fillna(fill_value) if _is_collection(other) else other
        out = op(b, a) if reflect else op(a, b)
        if fill_value is not None and _is_collection(other) and hasattr(out, "where"):
            both = self.isna() & other.isna()
            out = out.mask(both)
        return out

    def clip(self, lower=None, upper=None, axis=None):
        """Values below ``lower`` become ``lower``, above ``upper`` become ``upper`` (nulls stay)."""
        return self._elementwise(lambda e, t: _clip(e, t, lower, upper))

    def round(self, decimals: int = 0):
        """Values rounded to ``decimals`` places, half to even as pandas (integers unchanged)."""
        return self._elementwise(lambda e, t: e if not pa.types.is_floating(t) else
                                 Call("round", [e], _round_options(decimals)))

    def mask(self, cond, other=None):
        """Values where ``cond`` is false; ``other`` (null by default) where it is true (pandas' ``mask``)."""
        return self.where(~cond if _is_collection(cond) else (not cond), other)

    def replace(self, to_replace=None, value=None, regex=False):
        """pandas' ``replace`` on every partition (values, lists, dicts, regular expressions)."""
        kwargs = {"to_replace": to_replace, "regex": regex}
        if value is not None:
            kwargs["value"] = value
        return self.partitionwise("replace", **kwargs)

    def isnull(self):
        """Alias of ``isna``."""
        return self.isna()

    def notnull(self):
        """Alias of ``notna``."""
        return self.notna()

    def pipe(self, func, *args, **kwargs):
        """``func(self, *args, **kwargs)``; a ``(func, keyword)`` pair passes self as that keyword."""
        if isinstance(func, tuple):
            func, keyword = func
            kwargs[keyword] = self
            return func(*args, **kwargs)
        return func(self, *args, **kwargs)

    def copy(self, deep: bool = False):
        """A new handle on the same lazy data (nothing is copied: collections are immutable)."""
        return self._copied()

    @property
    def empty(self):
        raise NotImplementedError(
            "checking whether a lazy collection is empty needs a pass over the data; use len(df) == 0 "
            "(as in Dask)")

    @property
    def size(self):
        """The number of values (rows times columns), a lazy Scalar."""
        chunk = Blockwise(Func(_num_values, self._width()), (self.expr,), schema=pa.schema([]), label="size-chunk")
        return Scalar(Reduce(chunk, _sum_list, identity, None))

    # -- choosing rows (graphflow/dataframe/rows.py)
    def drop_duplicates(self, subset=None, split_out=None, split_every=None, shuffle_method=None,
                        ignore_index=False, keep="first"):
        """Without duplicated rows (over ``subset``), keeping the ``keep`` one of each, as pandas."""
        return OPERATIONS.rows.drop_duplicates(self, subset, split_out, keep, ignore_index)

    def sample(self, n=None, frac=None, replace=False, random_state=None):
        """About ``frac`` of the rows, drawn at random in every partition."""
        return OPERATIONS.rows.sample(self, n, frac, replace, random_state)

    def random_split(self, frac, random_state=None, shuffle=False):
        """Pieces of the rows in proportions ``frac``; each row in exactly one piece."""
        return OPERATIONS.rows.random_split(self, frac, random_state, shuffle)

    # -- conversions and bookkeeping (graphflow/dataframe/convert.py)
    def to_delayed(self, optimize_graph: bool = True):
        """One Delayed per partition, computing that partition as a pandas object."""
        return OPERATIONS.convert.to_delayed(self, optimize_graph)

    def memory_usage(self, index: bool = True, deep: bool = False):
        """Bytes per column (a Series), or in all (a Scalar, for a Series), summed over partitions."""
        return OPERATIONS.convert.memory_usage(self, index, deep)

    def memory_usage_per_partition(self, index: bool = True, deep: bool = False):
        """Bytes of each partition."""
        return OPERATIONS.convert.memory_usage_per_partition(self, index, deep)

    def reduction(self, chunk, aggregate=None, combine=None, meta=None, token=None, split_every=None,
                  chunk_kwargs=None, aggregate_kwargs=None, combine_kwargs=None):
        """Dask's generic reduction: ``chunk`` per partition (pandas), ``aggregate`` over their results."""
        return OPERATIONS.convert.reduction(self, chunk, aggregate or chunk, combine, meta, token, split_every,
                                            chunk_kwargs, aggregate_kwargs, combine_kwargs)

    def prod(self, axis=None, skipna=True, numeric_only=False, min_count=0, **kwargs):
        """The product of the values (nulls skipped)."""
        return OPERATIONS.reduce(self, "prod")

    product = prod

    def to_string(self, max_rows: int = 5):
        """The structure (columns, dtypes, partitions), not the data, as Dask prints it."""
        return _structure(self).to_string()

    def rename_axis(self, mapper=None, index=None, columns=None, axis=0):
        """Rename the index (``rename_axis("name")`` or ``index=``); ``columns=`` names the column axis."""
        if columns is not None:
            raise NotImplementedError("rename_axis(columns=) is not supported: column axis names are not kept")
        name = index if index is not None else mapper
        return self.partitionwise("rename_axis", name)

    # -- statistics (graphflow/dataframe/stats.py)
    def skew(self, axis=0, skipna=True, numeric_only=False, **kwargs):
        """Sample skewness (bias-corrected, as pandas) of a Series, or of each numeric column."""
        return OPERATIONS.stats.moment(self, "skew")

    def kurtosis(self, axis=0, skipna=True, numeric_only=False, **kwargs):
        """Sample excess kurtosis (Fisher, bias-corrected, as pandas)."""
        return OPERATIONS.stats.moment(self, "kurtosis")

    kurt = kurtosis

    def sem(self, axis=None, skipna=True, ddof=1, numeric_only=False, **kwargs):
        """Standard error of the mean with ``ddof``."""
        return OPERATIONS.stats.moment(self, "sem", ddof=ddof)

    def quantile(self, q=0.5, axis=0, numeric_only=False, method="default", interpolation="linear"):
        """The exact ``q`` quantile(s) with pandas' linear interpolation (``method="tdigest"`` or ``"dask"``:
        the approximate, sampled kind)."""
        if method in ("tdigest", "dask"):
            return OPERATIONS.reduce(self, "quantile", q=q)
        return OPERATIONS.stats.quantile(self, q, interpolation)

    def median(self, axis=None, skipna=True, numeric_only=False, **kwargs):
        """The exact median (Dask offers only ``median_approximate``; here both exist)."""
        return OPERATIONS.stats.quantile(self, 0.5)

    def median_approximate(self, axis=None, method="default"):
        """An approximate median from sampled order statistics (see `graphflow.dataframe.reductions`)."""
        return OPERATIONS.reduce(self, "quantile", q=0.5)

    def idxmax(self, axis=None, skipna=True, numeric_only=False):
        """The index label of the (first) largest value; per column for a frame."""
        return OPERATIONS.stats.arg_extreme(self, "max", skipna)

    def idxmin(self, axis=None, skipna=True, numeric_only=False):
        """The index label of the (first) smallest value; per column for a frame."""
        return OPERATIONS.stats.arg_extreme(self, "min", skipna)

    def nunique_approx(self, split_every=None):
        """The number of distinct values (computed exactly here, so within any approximation's bound)."""
        return self.nunique() if hasattr(self, "dtype") else self.drop_duplicates().shape[0]


class FrameMethods(CommonMethods):
    """DataFrame-only methods."""

    ndim = 2

    def _width(self) -> int:
        return len(data_names(self.schema))

    def _copied(self):
        return OPERATIONS.DataFrame(self.expr)

    @property
    def shape(self):
        """``(rows, columns)``: the rows a lazy Scalar, the columns an int (as Dask)."""
        return (OPERATIONS.row_count(self), self._width())

    def _elementwise(self, formula):
        """A frame with ``formula(expr, type)`` applied to each data column."""
        exprs = [(n, formula(Col(n), self.schema.field(n).type)) for n in data_names(self.schema)]
        return self.project(exprs)

    def _columnwise(self, op, other):
        """``op(column, other)`` for each column: ``other`` a scalar, a Series of this frame, or a frame of
        the same origin (its column of the same name)."""
        frame_other = _is_collection(other) and hasattr(other, "columns") and not hasattr(other, "dtype")
        exprs, labels = [], {}
        for name, label in zip(data_names(self.schema), column_labels(self.schema)):
            rhs = other[label] if frame_other else other
            exprs.append((name, op(self[label], rhs).column_expr_on(self.expr)))
            labels[name] = label
        return self.project(exprs, labels)

    def isna(self):
        """A frame of booleans: True where the value is missing."""
        return self._elementwise(lambda e, t: Call("is_null", [e], _nan_is_null()))

    def notna(self):
        """A frame of booleans: True where the value is present."""
        return self._elementwise(lambda e, t: Call("invert", [Call("is_null", [e], _nan_is_null())]))

    def abs(self):
        """Absolute values of every column."""
        return self._elementwise(lambda e, t: Call("abs", [e]))

    def select_dtypes(self, include=None, exclude=None):
        """The columns whose dtypes match, as pandas' ``select_dtypes``."""
        keep = self._meta.select_dtypes(include=include, exclude=exclude).columns
        return self[list(keep)]

    def add_prefix(self, prefix: str):
        """Columns renamed ``prefix + name``."""
        return self.rename(columns={c: f"{prefix}{c}" for c in self.arrow_names()})

    def add_suffix(self, suffix: str):
        """Columns renamed ``name + suffix``."""
        return self.rename(columns={c: f"{c}{suffix}" for c in self.arrow_names()})

    def pop(self, item):
        """Remove column ``item`` from this frame and return it as a Series."""
        out = self[item]
        self.expr = self.drop(columns=[item]).expr
        self.__dict__.pop("_opt", None)
        return out

    def query(self, expr: str, **kwargs):
        """The rows where ``expr`` holds, with pandas' ``query`` on every partition."""
        return self.partitionwise("query", expr, **kwargs)

    def eval(self, expr: str, **kwargs):
        """pandas' ``eval`` on every partition (a Series, or a frame for assignments ``"c = a + b"``)."""
        if kwargs.get("inplace"):
            raise NotImplementedError("eval(inplace=True) is not supported lazily; assign the result instead")
        return self.partitionwise("eval", expr, **kwargs)

    def apply(self, func, axis=0, args=(), meta=None, result_type=None, **kwargs):
        """``func`` on every row (``axis=1``: as pandas, each row a Series); ``axis=0`` (by column) is not
        supported lazily, as in Dask."""
        if axis not in (1, "columns"):
            raise NotImplementedError("DataFrame.apply only supports axis=1 (rows), as in Dask; for whole "
                                      "columns use map_partitions or a reduction")
        kw = {"axis": 1, "args": tuple(args), **kwargs}
        if result_type is not None:
            kw["result_type"] = result_type
        return self.partitionwise("apply", func, meta=meta, **kw)

    def map(self, func, na_action=None, meta=None, **kwargs):
        """``func`` on every value (pandas' ``DataFrame.map``)."""
        return self.partitionwise("map", func, na_action=na_action, meta=meta, **kwargs)

    applymap = map

    @property
    def axes(self):
        """``[index, columns]``: the lazy index and the column labels."""
        return [self.index, self.columns]

    def squeeze(self, axis=None):
        """A one-column frame as a Series (``axis=1`` or None); rows cannot be squeezed lazily (as Dask)."""
        if axis in (0, "index"):
            raise NotImplementedError("squeeze(axis=0) needs the number of rows; as in Dask, only axis=1")
        if len(self.columns) == 1:
            return self[self.columns[0]]
        if axis in (1, "columns"):
            raise ValueError(f"cannot squeeze {len(self.columns)} columns into a Series")
        return self

    def isin(self, values):
        """A frame of booleans: whether each value is in ``values`` (a list, or a dict by column)."""
        return self.partitionwise("isin", values)

    def combine_first(self, other):
        """Our values, with ``other`` 's where ours are missing (frames partitioned alike), as pandas."""
        return OPERATIONS.map_partitions(_combine_first, self, other)

    def items(self):
        """``(label, Series)`` for each column, each computed in turn."""
        return OPERATIONS.convert.iterate_rows(self, "items")

    def iterrows(self):
        """``(index, row)`` pairs, one partition in memory at a time."""
        return OPERATIONS.convert.iterate_rows(self, "iterrows")

    def itertuples(self, index: bool = True, name: str = "Pandas"):
        """Rows as named tuples, one partition in memory at a time."""
        return OPERATIONS.convert.iterate_rows(self, "itertuples", index=index, name=name)

    def info(self, buf=None, verbose: bool = False, memory_usage: bool = False):
        """Print column names, non-null counts (computed) and dtypes."""
        return OPERATIONS.convert.info(self, buf, verbose, memory_usage)

    def to_html(self, max_rows: int = 5):
        """The structure (columns, dtypes, partitions) as HTML, as Dask renders it."""
        return _structure(self).to_html()

    @classmethod
    def from_dict(cls, data, npartitions: int = 1, orient: str = "columns", dtype=None, columns=None):
        """A frame from a dict of columns (pandas' ``DataFrame.from_dict``), in ``npartitions``."""
        import pandas as pd

        pdf = pd.DataFrame.from_dict(data, orient=orient, dtype=dtype, columns=columns)
        return OPERATIONS.from_pandas(pdf, npartitions=npartitions)

    def shuffle(self, on=None, npartitions=None, ignore_index=False, **kwargs):
        """Rows moved so that equal ``on`` values (columns) share a partition (a hash shuffle)."""
        return OPERATIONS.rows.shuffle_on(self, on, npartitions)

    def nlargest(self, n: int = 5, columns=None, keep: str = "first"):
        """The ``n`` rows with the largest ``columns`` (pandas' ``nlargest``)."""
        return OPERATIONS.stats.largest(self, n, columns, keep)

    def nsmallest(self, n: int = 5, columns=None, keep: str = "first"):
        """The ``n`` rows with the smallest ``columns``."""
        return OPERATIONS.stats.largest(self, n, columns, keep, smallest=True)

    def corr(self, method="pearson", min_periods=None, numeric_only=False, split_every=False):
        """Pairwise Pearson correlation of the numeric columns (pairwise-complete rows, as pandas)."""
        return OPERATIONS.stats.correlation(self, "corr", method, min_periods, numeric_only=numeric_only)

    def cov(self, min_periods=None, ddof=1, numeric_only=False, split_every=False):
        """Pairwise covariance of the numeric columns with ``ddof``."""
        return OPERATIONS.stats.correlation(self, "cov", "pearson", min_periods, ddof, numeric_only)


class SeriesMethods(CommonMethods):
    """Series-only methods."""

    ndim = 1

    def _width(self) -> int:
        return 1

    def _copied(self):
        return self.derive(self.column_expr)

    @property
    def shape(self):
        """``(length,)``, the length a lazy Scalar."""
        return (self.size,)

    def __mod__(self, other):
        return self._modulo(other, reflect=False)

    def __rmod__(self, other):
        return self._modulo(other, reflect=True)

    def _modulo(self, other, reflect):
        """``a % b`` with the divisor's sign, as Python and pandas (pyarrow has no modulo kernel)."""
        a = self.column_expr
        b = other.column_expr_on(self.source) if _is_collection(other) else Lit(other)
        if reflect:
            a, b = b, a
        fa, fb = Call("cast", [a], _float64()), Call("cast", [b], _float64())
        out = Call("subtract", [fa, Call("multiply", [Call("floor", [Call("divide", [fa, fb])]), fb])])
        b_type = other.arrow_type if _is_collection(other) else pa.scalar(other).type
        if pa.types.is_integer(self.arrow_type) and pa.types.is_integer(b_type):
            # an integer remainder stays an integer, except where the divisor is 0 (pandas gives NaN there)
            zero = Call("equal", [b, Lit(0)])
            out = Call("if_else", [zero, Lit(pa.scalar(None, pa.int64())), Call("cast", [out], _int64())])
        return self.derive(out, self._name_with(other))

    def _elementwise(self, formula):
        return self.derive(formula(self.column_expr, self.arrow_type))

    def apply(self, func, convert_dtype=None, args=(), meta=None, by_row="compat", **kwargs):
        """``func`` on every value (pandas' ``Series.apply``)."""
        return self.partitionwise("apply", func, args=tuple(args), meta=meta, **kwargs)

    def map(self, arg, na_action=None, meta=None):
        """Values mapped through a dict, a Series or a function (pandas' ``Series.map``)."""
        return self.partitionwise("map", arg, na_action=na_action, meta=meta)

    def nlargest(self, n: int = 5, keep: str = "first"):
        """The ``n`` largest values, in order."""
        return OPERATIONS.stats.largest(self, n, keep=keep)

    def nsmallest(self, n: int = 5, keep: str = "first"):
        """The ``n`` smallest values, in order."""
        return OPERATIONS.stats.largest(self, n, keep=keep, smallest=True)

    @property
    def nbytes(self):
        """The bytes of the values (not the index), a Scalar."""
        return OPERATIONS.convert.memory_usage(self, False, False)

    @property
    def is_monotonic_increasing(self):
        """Whether the values never decrease, over all partitions (a Scalar)."""
        return OPERATIONS.convert.is_monotonic(self, True)

    @property
    def is_monotonic_decreasing(self):
        """Whether the values never increase (a Scalar)."""
        return OPERATIONS.convert.is_monotonic(self, False)

    def dot(self, other):
        """The sum of the products with ``other`` (a Series of the same frame)."""
        return (self * other).sum()

    def case_when(self, caselist):
        """pandas' ``case_when``: the value of the first ``(condition, replacement)`` that holds, else ours."""
        out = self
        for cond, value in reversed(list(caselist)):
            out = _choose(self, out, cond, value)
        return out

    def to_string(self, max_rows: int = 5):
        """The structure (name, dtype, partitions), not the data, as Dask prints it."""
        return _structure(self).to_string()

    @property
    def dtypes(self):
        """The dtype (pandas), as ``dtype``."""
        return self._meta.dtype

    def mode(self, dropna: bool = True):
        """The most frequent value(s), sorted (pandas' ``mode``)."""
        return OPERATIONS.stats.mode(self, dropna)

    def corr(self, other, method="pearson", min_periods=None, split_every=False):
        """Pearson correlation with ``other`` (a Series of the same frame), over rows where both exist."""
        return OPERATIONS.stats.series_correlation(self, other, "corr", method, min_periods)

    def cov(self, other, min_periods=None, ddof=1, split_every=False):
        """Covariance with ``other`` with ``ddof``."""
        return OPERATIONS.stats.series_correlation(self, other, "cov", "pearson", min_periods, ddof)


def _combine_first(ours, theirs):
    return ours.combine_first(theirs)


def _choose(series, current, cond, value):
    """``current`` with ``value`` where ``cond`` holds (one step of ``case_when``)."""
    cond = cond(series) if callable(cond) else cond
    value = value(series) if callable(value) else value
    return current.where(~cond, value)


def _structure(coll):
    """What Dask shows for a collection instead of its data: the empty meta, and the partition count."""
    import pandas as pd

    meta = coll.meta
    frame = meta.to_frame() if isinstance(meta, pd.Series) else meta
    shown = pd.DataFrame({c: [str(t), "..."] for c, t in frame.dtypes.items()},
                         index=pd.Index([f"npartitions={coll.npartitions}", ""], name=None))
    return shown


def _num_values(table, width):
    return table.num_rows * width


def _sum_list(parts):
    return sum(parts)


def _float64():
    import pyarrow.compute as pc

    return pc.CastOptions.safe(pa.float64())


def _int64():
    import pyarrow.compute as pc

    return pc.CastOptions.unsafe(pa.int64())


def _clip(expr, t, lower, upper):
    out = expr
    if lower is not None:
        out = Call("max_element_wise", [out, Lit(pa.scalar(lower).cast(t) if _numeric(t) else lower)], _keep_nulls())
    if upper is not None:
        out = Call("min_element_wise", [out, Lit(pa.scalar(upper).cast(t) if _numeric(t) else upper)], _keep_nulls())
    return out


def _keep_nulls():
    import pyarrow.compute as pc

    return pc.ElementWiseAggregateOptions(skip_nulls=False)


def _numeric(t) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _round_options(decimals):
    import pyarrow.compute as pc

    return pc.RoundOptions(ndigits=decimals, round_mode="half_to_even")


def _nan_is_null():
    import pyarrow.compute as pc

    return pc.NullOptions(nan_is_null=True)


def _make_arith(name):
    def method(self, other, axis="columns", level=None, fill_value=None):
        return CommonMethods._arith(self, name, other, fill_value)

    def rmethod(self, other, axis="columns", level=None, fill_value=None):
        return CommonMethods._arith(self, name, other, fill_value, reflect=True)

    method.__name__, rmethod.__name__ = name, f"r{name}"
    method.__doc__ = f"``self {name} other`` as pandas' ``{name}`` (``fill_value`` for one-sided missing values)."
    rmethod.__doc__ = f"``other {name} self`` as pandas' ``r{name}``."
    return method, rmethod


def _make_compare(name):
    def method(self, other, axis="columns", level=None):
        return _COMPARE[name](self, other)

    method.__name__ = name
    method.__doc__ = f"Element-wise ``{name}`` with a scalar or a collection of the same origin."
    return method


for _name in _ARITH:
    _m, _r = _make_arith(_name)
    setattr(CommonMethods, _name, _m)
    setattr(CommonMethods, f"r{_name}", _r)
for _name in _COMPARE:
    setattr(CommonMethods, _name, _make_compare(_name))


def _make_frame_operator(op, reflect=False):
    def method(self, other):
        return FrameMethods._columnwise(self, (lambda a, b: op(b, a)) if reflect else op, other)

    return method


for _name, _op in {**_ARITH, **_COMPARE}.items():
    if _name == "div":
        continue
    setattr(FrameMethods, f"__{_name}__", _make_frame_operator(_op))
    if _name not in _COMPARE:
        setattr(FrameMethods, f"__r{_name}__", _make_frame_operator(_op, reflect=True))
