"""`Series`: one column of a frame, as a formula (`ColExpr`) over that frame's plan.

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"s": ["Ab", None, "cd"], "x": [1, 2, 3]}), npartitions=2)
    >>> (df.x * 2 + 1).compute(scheduler="sync").to_pylist()
    [3, 5, 7]
    >>> df.s.str.upper().compute(scheduler="sync").to_pylist()
    ['AB', None, 'CD']

Operators build `Call` nodes and check the result type on the empty schema
right away (``df.s + 1`` raises TypeError here, not at compute time).  ``/``
always gives float64, as in pandas; comparisons and arithmetic with nulls give
nulls (pyarrow semantics); a null in a filter mask drops the row.

`frame` imports this module; ``to_frame`` and the reductions reach DataFrame
and `graphflow.dataframe.reductions` through `collection.OPERATIONS`.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .accessors import DatetimeAccessor, StringAccessor
from .collection import OPERATIONS, ColumnReductions, PlanCollection, Scalar, concat_tables
from .colexpr import Call, Col, Lit, output_type
from .plan import Blockwise, Filter, Project, unwrap_scalars

__all__ = ["Series"]

_BINARY = {
    "add": "add", "sub": "subtract", "mul": "multiply", "pow": "power",
    "eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "and": "and_kleene", "or": "or_kleene", "xor": "xor",
}


def _finalize_series(parts, name, dtype):
    table = concat_tables(parts, pa.schema([pa.field(name, dtype)]))
    return table.column(0)


def _float(expr, dtype):
    if pa.types.is_floating(dtype):
        return expr
    return Call("cast", [expr], pc.CastOptions.safe(pa.float64()))


class Series(ColumnReductions, PlanCollection):
    """A lazy column; ``compute()`` returns a ``pyarrow.ChunkedArray``."""

    __array_ufunc__ = None  # np.float64(2) * s: numpy defers to our reflected operators

    def __init__(self, frame, expr, name, dtype=None):
        self._frame = frame
        self.column_expr = expr
        self.name = name
        self.dtype = dtype if dtype is not None else output_type(expr, frame.schema)

    @property
    def expr(self):
        """This column's logical plan: a one-column `Blockwise` projection of its frame (made once)."""
        try:
            return self.__dict__["_plan_cache"]
        except KeyError:
            schema = pa.schema([pa.field(self.name, self.dtype)])
            plan = Blockwise(Project([(self.name, self.column_expr)]), (self._frame,), schema)
            self.__dict__["_plan_cache"] = plan
            return plan

    def __graphflow_finalize__(self):
        return _finalize_series, (self.name, self.dtype)

    def _rebuilt(self, plan):
        return Series(plan, Col(self.name), self.name, self.dtype)

    def __repr__(self):
        return f"graphflow.Series<name={self.name!r}, dtype={self.dtype}, npartitions={self.npartitions}>"

    def _repr_html_(self):
        from ..cards import series_html

        return series_html(self)

    # -- alignment
    def column_expr_on(self, plan):
        """This column's formula evaluated on ``plan``, a frame derived from ours by filters/projections."""
        if plan is self._frame:
            return self.column_expr
        p, used = plan, self.column_expr.columns()
        while p is not self._frame:
            op, scalars = unwrap_scalars(getattr(p, "op", None))  # a filter by a lazy scalar is still a filter
            if isinstance(op, Filter) and len(p.children) - len(scalars) == 1:
                p = p.children[0]
            elif isinstance(op, Project) and all(dict(op.exprs).get(c) == Col(c) for c in used):
                p = p.children[0]
            else:
                raise ValueError(
                    f"cannot align Series {self.name!r} with this frame: it comes from an unrelated frame "
                    f"(graphflow frames have no index; combine columns of one frame, or merge first)")
        return self.column_expr

    def derive(self, expr, name=None) -> "Series":
        """A Series computing the formula ``expr`` (a `ColExpr`) on this column's frame, named ``name`` (ours)."""
        return Series(self._frame, expr, self.name if name is None else name)

    def _operand(self, other):
        if isinstance(other, Series):
            return other.column_expr_on(self._frame)  # other's own formula when it is on our frame
        if isinstance(other, Scalar):
            return other.column_arg()  # its value, broadcast to every partition when computed
        return Lit(other)

    def _binary(self, op, other, reflect=False):
        a, b = self.column_expr, self._operand(other)
        if reflect:
            a, b = b, a
        return self.derive(Call(op, [a, b]))

    def _div(self, other, reflect=False, floor=False):
        b_type = other.dtype if isinstance(other, (Series, Scalar)) else pa.scalar(other).type
        a, b = _float(self.column_expr, self.dtype), _float(self._operand(other), b_type)
        if reflect:
            a, b = b, a
        out = Call("divide", [a, b])
        return self.derive(Call("floor", [out]) if floor else out)

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
        value_set = pa.array(list(values), type=self.dtype)
        return self.derive(Call("is_in", [self.column_expr], pc.SetLookupOptions(value_set)))

    def between(self, left, right, inclusive: str = "both") -> "Series":
        lo = self >= left if inclusive in ("both", "left") else self > left
        hi = self <= right if inclusive in ("both", "right") else self < right
        return lo & hi

    def fillna(self, value) -> "Series":
        if isinstance(value, Scalar):  # a lazy value (s.fillna(s.mean())): the types promote, as in pandas
            return self.derive(Call("coalesce", [self.column_expr, value.column_arg()]))
        return self.derive(Call("coalesce", [self.column_expr, Lit(pa.scalar(value).cast(self.dtype))]))

    def isna(self) -> "Series":
        return self.derive(Call("is_null", [self.column_expr]))

    isnull = isna

    def notna(self) -> "Series":
        return self.derive(Call("is_valid", [self.column_expr]))

    def astype(self, dtype) -> "Series":
        t = dtype if isinstance(dtype, pa.DataType) else pa.type_for_alias(str(dtype))
        return self.derive(Call("cast", [self.column_expr], pc.CastOptions.safe(t)))

    def where(self, cond, other=None) -> "Series":
        alt = self._operand(other) if other is not None else Lit(pa.scalar(None, type=self.dtype))
        return self.derive(Call("if_else", [self._operand(cond), self.column_expr, alt]))

    def rename(self, name) -> "Series":
        return self.derive(self.column_expr, name)

    def dropna(self) -> "Series":
        frame = Blockwise(Filter(Call("is_valid", [self.column_expr])), (self._frame,), self._frame.schema)
        return Series(frame, self.column_expr, self.name, self.dtype)

    def __getitem__(self, mask):
        if not isinstance(mask, Series):
            raise TypeError("a Series can be indexed only by a boolean Series (lazy: no positions)")
        frame = Blockwise(Filter(self._operand(mask)), (self._frame,), self._frame.schema)
        return Series(frame, self.column_expr, self.name, self.dtype)

    def to_frame(self, name=None):
        name = self.name if name is None else name
        schema = pa.schema([pa.field(name, self.dtype)])
        return OPERATIONS.DataFrame(Blockwise(Project([(name, self.column_expr)]), (self._frame,), schema))

    def head(self, n: int = 5):
        return self.to_frame().head(n).column(0)

    def tail(self, n: int = 5):
        return self.to_frame().tail(n).column(0)

    def __len__(self):
        return len(self.to_frame())

    def to_pandas(self, **kwargs):
        return self.compute(**kwargs).to_pandas()

    @property
    def str(self):
        return StringAccessor(self)

    @property
    def dt(self):
        return DatetimeAccessor(self)

    def value_counts(self, sort: bool = True, ascending: bool = False, dropna: bool = True):
        """Counts of each distinct value: a lazy DataFrame with columns (name, "count"), most frequent first."""
        return OPERATIONS.value_counts(self, sort=sort, ascending=ascending, dropna=dropna)

    def unique(self):
        """The distinct values (nulls included once), as a lazy Series."""
        return OPERATIONS.unique(self)


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
