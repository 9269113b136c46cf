"""`Series`: one column of a frame, as a formula (`ColExpr`) over that frame's plan.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"s": ["Ab", None, "cd"], "x": [1, 2, 3]}), npartitions=2)
    >>> (df.x * 2 + 1).compute(scheduler="sync").tolist()
    [3, 5, 7]
    >>> df.s.str.upper().compute(scheduler="sync").tolist()
    ['AB', nan, 'CD']

Operators build `Call` nodes and check the result type on the empty schema
right away (``df.s + 1`` raises TypeError here, not at compute time).  ``/``
always gives float64, as in pandas; comparisons and arithmetic with nulls give
nulls (pyarrow semantics); a null in a filter mask drops the row.

`frame` imports this module; ``to_frame`` and the reductions reach DataFrame
and `graphflow.dataframe.reductions` through `collection.OPERATIONS`.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .accessors import DatetimeAccessor, StringAccessor
from .categorical import CategoricalMethods, is_category_dtype
from .reshape import SeriesReshapeMethods
from .collection import OPERATIONS, ColumnReductions, PlanCollection, Scalar, concat_tables, result_table
from .colexpr import Call, Col, Lit, for_filter, output_type
from .indexing import IndexMethods
from .labels import carry_categories, index_columns, index_names, with_labels
from .pandas_edge import parts_to_pandas_series, to_pandas_series
from .methods import SeriesMethods
from .more_methods import MoreSeriesMethods
from .plan import Blockwise, Filter, Project, unwrap_scalars
from .resample import ResampleMethods
from .to_array import ArrayMethods
from .to_bag import BagMethods
from .windows import WindowMethods
from .zipped import AttachColumns, attach, common_source, needs_pandas_text

__all__ = ["Series", "Index"]

_BINARY = {
    "add": "add", "sub": "subtract", "mul": "multiply", "pow": "power",
    "eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "and": "and_kleene", "or": "or_kleene", "xor": "xor",
}


def _finalize_series(parts, schema):
    return parts_to_pandas_series(parts, schema, result_table)


def _finalize_column(parts, schema):
    return concat_tables(parts, schema).column(0)


def arrow_name(label) -> str:
    """The Arrow column name a Series labelled ``label`` is kept under."""
    return label if isinstance(label, str) else "__series__"


_COMPARISONS = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"}
_OURS = object()  # derive's default: keep this Series' name


def _float(expr, dtype):
    if pa.types.is_floating(dtype):
        return expr
    return Call("cast", [expr], pc.CastOptions.safe(pa.float64()))


class Series(ArrayMethods, BagMethods, MoreSeriesMethods, WindowMethods, ResampleMethods, IndexMethods,
             CategoricalMethods, SeriesReshapeMethods, SeriesMethods, ColumnReductions, PlanCollection):
    """A lazy column; ``compute()`` returns a ``pandas.Series`` (``to_arrow()`` a ``pyarrow.ChunkedArray``)."""

    __array_ufunc__ = None  # np.float64(2) * s: numpy defers to our reflected operators

    def __init__(self, frame, expr, name, dtype=None):
        self.source = frame
        self.column_expr = expr
        self.name = name
        #: the Arrow type of the values (the partitions hold Arrow); `dtype` is pandas'
        self.arrow_type = dtype if dtype is not None else output_type(expr, frame.schema)

    @property
    def _meta(self):
        """An empty pandas Series with this Series' name, dtype and index (as Dask's ``_meta``)."""
        meta = self.cached_meta(lambda: to_pandas_series(self.expr.schema.empty_table(), self.expr.schema))
        return meta.copy(deep=False)  # the cached one stays as made (`cached_meta`)

    meta = _meta  # the same, for the modules that build on it

    @property
    def dtype(self):
        """The pandas dtype of the computed values (as Dask's ``Series.dtype``); `arrow_type` is the Arrow one."""
        return self._meta.dtype

    @property
    def arrow_column(self) -> str:
        """The Arrow name of this column in its plan's output."""
        return arrow_name(self.name)

    @property
    def expr(self):
        """This column's logical plan: a one-column `Blockwise` projection of its frame, the index carried
        along (made once)."""
        try:
            return self.__dict__["_plan_cache"]
        except KeyError:
            plan = Blockwise(Project(self._projection()), (self.source,), self._plan_schema())
            self.__dict__["_plan_cache"] = plan
            return plan

    def _projection(self, name=None):
        col = self.arrow_column if name is None else arrow_name(name)
        return [(col, self.column_expr)] + [(c, Col(c)) for c in index_columns(self.source.schema)]

    def _plan_schema(self, name=None):
        label = self.name if name is None else name
        idx = index_columns(self.source.schema)
        fields = [pa.field(arrow_name(label), self.arrow_type)] + [self.source.schema.field(c) for c in idx]
        schema = with_labels(pa.schema(fields), index=index_names(self.source.schema),
                             labels={arrow_name(label): label})
        passed = {arrow_name(label): self.column_expr.name} if isinstance(self.column_expr, Col) else {}
        return carry_categories(self.source.schema, schema, passed)

    def __graphflow_finalize__(self):
        if self.__dict__.get("_as_arrow"):
            return _finalize_column, (self.expr.schema,)
        return _finalize_series, (self.expr.schema,)

    def to_arrow(self, **kwargs) -> pa.ChunkedArray:
        """Compute to a ``pyarrow.ChunkedArray`` (no pandas: the Arrow path)."""
        view = Series(self.source, self.column_expr, self.name, self.arrow_type)
        view.__dict__["_as_arrow"] = True
        return view.compute(**kwargs)

    def _rebuilt(self, plan):
        return Series(plan, Col(self.arrow_column), self.name, self.arrow_type)

    def __repr__(self):
        return f"graphflow.Series<name={self.name!r}, dtype={self.dtype}, npartitions={self.npartitions}>"

    def _repr_html_(self):
        from ..cards import series_html

        return series_html(self)

    # -- alignment
    def column_expr_on(self, plan):
        """This column's formula evaluated on ``plan``, a frame derived from ours by filters/projections."""
        if plan is self.source:
            return self.column_expr
        p, used = plan, self.column_expr.columns()
        while p is not self.source:
            op, scalars = unwrap_scalars(getattr(p, "op", None))  # a filter by a lazy scalar is still a filter
            if isinstance(op, Filter) and len(p.children) - len(scalars) == 1:
                p = p.children[0]
            elif isinstance(op, Project) and all(dict(op.exprs).get(c) == Col(c) for c in used):
                p = p.children[0]
            elif isinstance(op, AttachColumns):  # our frame's rows and columns, one column added
                p = p.children[0]
            else:
                raise ValueError(
                    f"cannot align Series {self.name!r} with this frame: it comes from an unrelated frame; "
                    f"combine columns of one frame, merge first, or give both known divisions (set_index)")
        return self.column_expr

    def aligns_with(self, plan) -> bool:
        """Whether this Series is a formula over ``plan`` 's columns (`column_expr_on` succeeds)."""
        try:
            self.column_expr_on(plan)
        except ValueError:
            return False
        return True

    def derive(self, expr, name=_OURS) -> "Series":
        """A Series computing the formula ``expr`` (a `ColExpr`) on this column's frame, named ``name`` (ours)."""
        return Series(self.source, expr, self.name if name is _OURS else name)

    def _name_with(self, other):
        """The name of ``self <op> other`` as pandas gives it: ours, unless other is a Series named otherwise."""
        if isinstance(other, Series) and other.name != self.name:
            return None
        return self.name

    def _operand(self, other):
        if isinstance(other, Series):
            return other.column_expr_on(self.source)  # other's own formula when it is on our frame
        if isinstance(other, Scalar):
            return other.column_arg()  # its value, broadcast to every partition when computed
        return Lit(other)

    def _same_origin(self, other) -> bool:
        return other.aligns_with(self.source)

    def _aligned(self, other, combine):
        """``combine(x, y)`` of this Series and ``other`` of another origin, aligned on the index as pandas
        aligns: side by side per partition when both come from one frame by partition-wise steps, else by
        an outer join on the index (which needs known divisions)."""
        if common_source(self.source, other.source) is None:
            return OPERATIONS.align_series(self, other, combine)
        base, name = attach(self.to_frame("__gf_self__"), other, how="outer")
        x = Series(base.expr, Col("__gf_self__"), self.name, self.arrow_type)
        y = Series(base.expr, Col(name), other.name, base.schema.field(name).type)
        return combine(x, y).rename(self.name if self.name == other.name else None)

    def _binary(self, op, other, reflect=False):
        if isinstance(other, Series) and not self._same_origin(other):  # align on the index, as pandas
            return self._aligned(other, lambda x, y: Series._binary(x, op, y, reflect))
        a, b = self.column_expr, self._operand(other)
        if reflect:
            a, b = b, a
        out = Call(op, [a, b])
        if op in _COMPARISONS:  # a missing value compares False (True for !=), as in pandas
            out = Call("coalesce", [out, Lit(op == "not_equal")])
        return self.derive(out, self._name_with(other))

    def _div(self, other, reflect=False, floor=False):
        if isinstance(other, Series) and not self._same_origin(other):  # align on the index, as pandas
            return self._aligned(other, lambda x, y: Series._div(x, y, reflect, floor))
        b_type = other.arrow_type if isinstance(other, (Series, Scalar)) else pa.scalar(other).type
        a, b = _float(self.column_expr, self.arrow_type), _float(self._operand(other), b_type)
        if reflect:
            a, b = b, a
        out = Call("divide", [a, b])
        return self.derive(Call("floor", [out]) if floor else out, self._name_with(other))

    # -- operators
    def __truediv__(self, other):
        return self._div(other)

    def __rtruediv__(self, other):
        return self._div(other, reflect=True)

    def __floordiv__(self, other):
        return self._div(other, floor=True)

    def __rfloordiv__(self, other):
        return self._div(other, reflect=True, floor=True)

    def __neg__(self):
        return self.derive(Call("negate", [self.column_expr]))

    def __invert__(self):
        return self.derive(Call("invert", [self.column_expr]))

    def __abs__(self):
        return self.abs()

    def abs(self):
        return self.derive(Call("abs", [self.column_expr]))

    def __bool__(self):
        raise TypeError("the truth value of a lazy Series is unknown: use & | ~ for logic, .compute() for values")

    __hash__ = object.__hash__

    # -- column methods
    def isin(self, values) -> "Series":
        value_set = pa.array(list(values), type=self.arrow_type)
        return self.derive(Call("is_in", [self.column_expr], pc.SetLookupOptions(value_set)))

    def between(self, left, right, inclusive: str = "both") -> "Series":
        lo = self >= left if inclusive in ("both", "left") else self > left
        hi = self <= right if inclusive in ("both", "right") else self < right
        return lo & hi

    def fillna(self, value) -> "Series":
        if isinstance(value, Scalar):  # a lazy value (s.fillna(s.mean())): the types promote, as in pandas
            return self.derive(Call("coalesce", [self.column_expr, value.column_arg()]))
        return self.derive(Call("coalesce", [self.column_expr, Lit(pa.scalar(value).cast(self.arrow_type))]))

    def isna(self) -> "Series":
        return self.derive(Call("is_null", [self.column_expr]))

    isnull = isna

    def notna(self) -> "Series":
        return self.derive(Call("is_valid", [self.column_expr]))

    def astype(self, dtype) -> "Series":
        if is_category_dtype(dtype):
            return self._astype_category(dtype)
        if needs_pandas_text(self.arrow_type, dtype):  # Arrow writes 1.0 as "1", True as "true"; pandas does not
            from .accessors import partitionwise

            return partitionwise(self, "astype", dtype)
        t = dtype if isinstance(dtype, pa.DataType) else pa.type_for_alias("str" if dtype is str else str(dtype))
        return self.derive(Call("cast", [self.column_expr], pc.CastOptions.safe(t)))

    def where(self, cond, other=None) -> "Series":
        alt = self._operand(other) if other is not None else Lit(pa.scalar(None, type=self.arrow_type))
        return self.derive(Call("if_else", [self._operand(cond), self.column_expr, alt]))

    def rename(self, name) -> "Series":
        return Series(self.source, self.column_expr, name, self.arrow_type)  # rename(None) clears the name

    def dropna(self) -> "Series":
        frame = Blockwise(Filter(Call("is_valid", [self.column_expr])), (self.source,), self.source.schema)
        return Series(frame, self.column_expr, self.name, self.arrow_type)

    def __getitem__(self, mask):
        if not isinstance(mask, Series):
            raise TypeError("a Series can be indexed only by a boolean Series (lazy: no positions)")
        if not mask.aligns_with(self.source) and common_source(self.source, mask.source) is not None:
            return self.to_frame("__gf_self__")[mask]["__gf_self__"].rename(self.name)  # mask made by pandas
        frame = Blockwise(Filter(for_filter(self._operand(mask))), (self.source,), self.source.schema)
        return Series(frame, self.column_expr, self.name, self.arrow_type)

    def to_frame(self, name=None):
        """A one-column DataFrame (named ``name``, else this Series' name), with this Series' index."""
        name = self.name if name is None else name
        return OPERATIONS.DataFrame(Blockwise(Project(self._projection(name)), (self.source,),
                                              self._plan_schema(name)))

    @property
    def index(self):
        """The index, a lazy `Index`."""
        return self.to_frame().index

    def reset_index(self, drop: bool = False):
        """The index as a column (a DataFrame), or dropped (``drop=True``: a Series without a stored index)."""
        frame = self.to_frame().reset_index(drop=drop)
        return _as_series(frame, self.name) if drop else frame

    def map_partitions(self, func, *args, meta=None, **kwargs):
        """``func(series, *args, **kwargs)`` on every partition, given as a ``pandas.Series``; see
        `DataFrame.map_partitions`."""
        return OPERATIONS.map_partitions(func, self, *args, meta=meta, **kwargs)

    def head(self, n: int = 5, npartitions=None, compute: bool = True):
        """The first ``n`` values, a pandas Series (``npartitions`` as in `DataFrame.head`)."""
        return _as_series(self.to_frame().head(n, npartitions=npartitions, compute=compute), self.name)

    def tail(self, n: int = 5, npartitions=None, compute: bool = True):
        """The last ``n`` values, a pandas Series (``npartitions`` as in `DataFrame.tail`)."""
        return _as_series(self.to_frame().tail(n, npartitions=npartitions, compute=compute), self.name)

    def __len__(self):
        return len(self.to_frame())

    def to_pandas(self, **kwargs):
        """Compute to a pandas Series (what ``compute()`` gives)."""
        return self.compute(**kwargs)

    @property
    def str(self):
        return StringAccessor(self)

    @property
    def dt(self):
        return DatetimeAccessor(self)

    def value_counts(self, sort: bool = True, ascending: bool = False, dropna: bool = True, normalize: bool = False,
                     split_every=None, split_out=None):
        """Counts of each distinct value: a lazy Series named "count" indexed by the values, most frequent first;
        ``normalize=True``: each count's share of all counted rows, named "proportion" (as pandas)."""
        counts = OPERATIONS.value_counts(self, sort=sort, ascending=ascending, dropna=dropna)
        if not normalize:
            return counts
        return (counts / counts.sum()).rename("proportion")

    def unique(self):
        """The distinct values (nulls included once), as a lazy Series."""
        return OPERATIONS.unique(self)


class Index(Series):
    """A lazy index (``df.index``): a Series of the index values whose ``compute()`` is a ``pandas.Index``."""

    def __graphflow_finalize__(self):
        if self.__dict__.get("_as_arrow"):
            return _finalize_column, (self.expr.schema,)
        return _finalize_index, (self.expr.schema,)

    def _rebuilt(self, plan):
        return Index(plan, Col(self.arrow_column), self.name, self.arrow_type)

    def __repr__(self):
        return f"graphflow.Index<name={self.name!r}, dtype={self.dtype}, npartitions={self.npartitions}>"

    def __getattr__(self, name):
        """A DatetimeIndex's fields (``df.index.hour``, ``.dayofweek``...), each an Index, as pandas and Dask."""
        if name in _DATETIME_FIELDS and pa.types.is_timestamp(self.__dict__.get("arrow_type")):
            field = getattr(self.dt, name)
            return Index(field.source, field.column_expr, field.name, field.arrow_type)
        raise AttributeError(f"'Index' object has no attribute {name!r}")


_DATETIME_FIELDS = frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond", "nanosecond",
                              "dayofweek", "day_of_week", "weekday", "dayofyear", "day_of_year", "quarter",
                              "days_in_month", "daysinmonth", "is_month_start", "is_month_end",
                              "is_quarter_start", "is_quarter_end", "is_year_start", "is_year_end",
                              "is_leap_year", "date", "time"})


def _finalize_index(parts, schema):
    s = parts_to_pandas_series(parts, schema, result_table)
    return pd.Index(s.array, name=s.name)


def _as_series(frame, name):
    if hasattr(frame, "iloc"):
        out = frame.iloc[:, 0]
        out.name = name
        return out
    col = frame.schema.names[0]
    return Series(frame.expr, Col(col), name, frame.schema.field(col).type)


def _make_binary(op):
    def method(self, other):
        return Series._binary(self, op, other)

    def rmethod(self, other):
        return Series._binary(self, op, other, reflect=True)

    return method, rmethod


for _name, _op in _BINARY.items():
    _m, _r = _make_binary(_op)
    setattr(Series, f"__{_name}__", _m)
    if _name not in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(Series, f"__r{_name}__", _r)
