"""Lazy scalars behave like numbers: arithmetic and comparisons on `Scalar` s, without computing them.

A `Scalar` (``df.x.sum()``) is a plan whose one partition is one value.  An
operator on scalars and plain values (``0.2 * df.x.mean()``, ``s1 / s2``,
``-s``, ``s > 0``) is a `ScalarCombine` node over the operands' plans: one small
task applying the operator to their values, no extra pass over the data.  Two
scalars of one frame put their plans under one root, so the optimizer sees
both and they share the read (`graphflow.dataframe.optimize`).

    >>> import pyarrow as pa
    >>> import graphflow.dataframe as gd
    >>> df = gd.from_arrow(pa.table({"x": [1, 2, 3, 4]}), npartitions=2)
    >>> r = df.x.sum() / df.x.count() + 1
    >>> r.dtype, float(r.compute(scheduler="sync"))
    (DataType(double), 3.5)

Values follow numpy's scalar rules, as pandas' reductions return numpy
scalars (what Dask's ``Scalar.compute()`` gives too): ``int * float`` is
float64, ``/`` is float64, ``//`` and ``%`` floor, a missing value (the mean of
nothing) is NaN.  The result type is known without computing: the operator
is tried on a sample value of each operand's type (`result_type`), so an
impossible operation (a string times a string) is a TypeError at once.

A Scalar with a Series (``df.x - df.x.mean()``) is not handled here: the
Scalar's operators return NotImplemented and Python asks the Series, which
broadcasts the value to every partition (`graphflow.dataframe.colexpr.ScalarArg`).
"""

from __future__ import annotations

import datetime
import decimal
import numbers
import operator

import numpy as np
import pyarrow as pa

from ..errors import LazyValueError
from ..spec import Ref, Task, tokenize
from .plan import PlanNode

__all__ = ["ScalarArithmetic", "ScalarCombine", "ScalarKernel", "to_numpy_value", "result_type", "OPERATORS"]

# name -> the Python operator; names (not functions) go into the plan, so they tokenize the same everywhere
OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert, "round": round,
}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
            "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "&", "or": "|",
            "xor": "^"}
# the plain values a Scalar combines with (the rest, Series included, get NotImplemented)
_PLAIN = (numbers.Real, np.bool_, str, bytes, datetime.date, datetime.timedelta, np.datetime64, np.timedelta64,
          decimal.Decimal)


# ------------------------------------------------------------------ values


def to_numpy_value(value, dtype: pa.DataType | None):
    """A computed scalar as pandas' reductions give it: a numpy scalar (``np.int64``, ``np.float64``,
    ``np.bool_``), a ``str``, a ``pandas.Timestamp``; NaN (NaT for times) when missing.

    ``dtype`` None means the value is not a column value (an internal Scalar holding a table): as is.
    """
    if dtype is None or isinstance(value, np.generic):
        return value
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    if pa.types.is_temporal(dtype):
        try:
            return pa.array([value], type=dtype).to_pandas()[0]  # Timestamp / Timedelta / NaT, as pandas
        except ImportError:  # pandas not installed: numpy's datetime64 / timedelta64
            return pa.array([value], type=dtype).to_numpy(zero_copy_only=False)[0]
    if value is None:
        return np.float64("nan")
    return pa.array([value], type=dtype).to_numpy(zero_copy_only=False)[0]


def _sample(dtype: pa.DataType):
    """A non-missing value of ``dtype`` in the form `to_numpy_value` gives, or None when there is none."""
    if pa.types.is_boolean(dtype):
        raw = True
    elif pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        raw = 1
    elif pa.types.is_decimal(dtype):
        raw = decimal.Decimal(1)
    elif pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        raw = "a"
    elif pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        raw = b"a"
    elif pa.types.is_timestamp(dtype):
        raw = datetime.datetime(2000, 1, 1)
    elif pa.types.is_date(dtype):
        raw = datetime.date(2000, 1, 1)
    elif pa.types.is_duration(dtype):
        raw = datetime.timedelta(seconds=1)
    else:
        return None
    return to_numpy_value(raw, dtype)


def _describe(operand) -> str:
    if isinstance(operand, ScalarArithmetic):
        return f"Scalar of {operand.dtype}"
    return type(operand).__name__


def result_type(op: str, operands) -> pa.DataType:
    """The Arrow type of ``op`` over ``operands`` (Scalars and plain values), found on sample values.

    Raises TypeError (naming the operands) when the operator cannot take them, as pandas would at compute.
    """
    samples = []
    for o in operands:
        if isinstance(o, ScalarArithmetic):
            s = None if o.dtype is None else _sample(o.dtype)
            if s is None:
                raise TypeError(f"a Scalar of type {o.dtype} takes no arithmetic")
            samples.append(s)
        else:
            samples.append(o)
    try:
        with np.errstate(all="ignore"):
            out = OPERATORS[op](*samples)
    except TypeError as exc:
        what = " and ".join(repr(_describe(o)) for o in operands)
        raise TypeError(f"unsupported operand type(s) for {_SYMBOLS.get(op, op)}: {what} ({exc})") from None
    if np.ndim(out) != 0:
        raise TypeError(f"{op} of {', '.join(_describe(o) for o in operands)} is not a single value")
    try:
        t = pa.scalar(out).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise TypeError(f"{op} of {', '.join(_describe(o) for o in operands)} gives a {type(out).__name__}, "
                        f"which a Scalar cannot hold") from None
    # a decimal's precision follows the sample's digits, not the value's: the widest, keeping the scale
    return pa.decimal128(38, t.scale) if pa.types.is_decimal(t) else t


# ------------------------------------------------------------------ the plan node


class ScalarKernel:
    """Op of a `ScalarCombine`: ``op`` over operands that are child values (by position) or constants.

    ``layout`` holds, per operand, ``("arg", i, dtype)`` (the value of child
    ``i`` converted with `to_numpy_value`) or ``("const", value)``.
    """

    __slots__ = ("op", "layout")

    def __init__(self, op: str, layout):
        self.op, self.layout = op, tuple(layout)

    def __call__(self, *values):
        operands = [to_numpy_value(values[item[1]], item[2]) if item[0] == "arg" else item[1]
                    for item in self.layout]
        with np.errstate(all="ignore"):  # 1 / 0 is inf, as pandas gives it, without a warning per task
            return OPERATORS[self.op](*operands)

    def __graphflow_tokenize__(self):
        return ("ScalarKernel", self.op, tuple(
            ("arg", item[1], str(item[2])) if item[0] == "arg" else ("const", tokenize(item[1]))
            for item in self.layout))

    def __repr__(self):
        parts = [f"${item[1]}" if item[0] == "arg" else repr(item[1]) for item in self.layout]
        return f"{self.op}({', '.join(parts)})"


class ScalarCombine(PlanNode):
    """One value computed from the one value of each child (Scalar plans): ``kernel(*values)``."""

    label = "scalar"

    def __init__(self, kernel: ScalarKernel, children):
        self.kernel = kernel
        self.children = tuple(children)
        self._schema = None
        self._npartitions = 1

    def params(self):
        return (tokenize(self.kernel),)

    def with_children(self, children):
        return ScalarCombine(self.kernel, children)

    def tasks(self):
        return [Task((self.name, 0), self.kernel, *[Ref((c.name, 0)) for c in self.children])]

    def describe(self):
        return f"ScalarCombine {self.kernel!r}"


def combine(op: str, *operands):
    """``(plan, dtype)`` of ``op`` over ``operands``: Scalars and plain values, in order."""
    dtype = result_type(op, operands)
    children, layout, position = [], [], {}
    for o in operands:
        if isinstance(o, ScalarArithmetic):
            i = position.setdefault(o.expr.name, len(children))  # s + s reads its value once
            if i == len(children):
                children.append(o.expr)
            layout.append(("arg", i, o.dtype))
        else:
            layout.append(("const", o))
    return ScalarCombine(ScalarKernel(op, layout), children), dtype


# ------------------------------------------------------------------ the operators


class ScalarArithmetic:
    """The number protocol of `Scalar` (needs ``expr``, ``dtype`` and a constructor ``type(self)(plan, dtype)``)."""

    __slots__ = ()
    __hash__ = object.__hash__  # the comparison operators build Scalars; identity stays the hash
    __array_ufunc__ = None  # numpy scalars and arrays defer to our reflected operators (np.float64(2) * s)

    def _apply(self, op, *operands):
        plan, dtype = combine(op, *operands)
        return type(self)(plan, dtype)

    def _binary(self, op, other, reflect=False):
        if not isinstance(other, ScalarArithmetic) and not isinstance(other, _PLAIN):
            return NotImplemented  # a Series broadcasts us itself; anything else is Python's TypeError
        return self._apply(op, other, self) if reflect else self._apply(op, self, other)

    def __neg__(self):
        return self._apply("neg", self)

    def __pos__(self):
        return self._apply("pos", self)

    def __abs__(self):
        return self._apply("abs", self)

    def __invert__(self):
        return self._apply("invert", self)

    def __round__(self, ndigits=None):
        return self._apply("round", self) if ndigits is None else self._apply("round", self, ndigits)

    def _refuse(self, what):
        raise LazyValueError(
            f"{what} of a lazy Scalar is unknown until it is computed: use .compute() for its value "
            f"(graphflow.dataframe.compute(a, b) for several at once)")

    def __bool__(self):
        self._refuse("the truth value")

    def __int__(self):
        self._refuse("int()")

    def __float__(self):
        self._refuse("float()")

    def __complex__(self):
        self._refuse("complex()")

    def __index__(self):
        self._refuse("an index")


def _make(op):
    def method(self, other):
        return ScalarArithmetic._binary(self, op, other)

    def rmethod(self, other):
        return ScalarArithmetic._binary(self, op, other, reflect=True)

    return method, rmethod


for _name in _SYMBOLS:
    _m, _r = _make(_name)
    setattr(ScalarArithmetic, f"__{_name}__", _m)
    if _name not in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(ScalarArithmetic, f"__r{_name}__", _r)
