"""Column expressions: the inspectable trees behind every `Series`.

A Series is not data but a formula over the columns of one frame: ``df.tip /
df.fare`` is ``Call("divide", [cast(Col("tip")), cast(Col("fare"))])``.  Keeping
the formula (instead of a closure) lets the plan optimizer see which columns
an operation reads (projection pushdown), hand a comparison to the Parquet
reader as a ``filters=`` expression (predicate pushdown), and evaluate a whole
chain of column operations in one pass over a partition (fusion).

Every node evaluates with one ``pyarrow.compute`` kernel, so the work happens
outside the GIL:

    >>> import pyarrow as pa
    >>> t = pa.table({"a": [1, 2, None], "b": [10.0, 20.0, 30.0]})
    >>> e = Call("add", [Col("a"), Lit(1)])
    >>> e.evaluate(t).to_pylist(), sorted(e.columns())
    ([2, 3, None], ['a'])
    >>> str(e.to_arrow())
    'add(a, 1)'

Nulls follow pyarrow: arithmetic with a null gives null, comparisons with a
null give null, ``&``/``|`` use Kleene logic, and a filter drops rows whose
mask is null.  The output type of an expression is found by evaluating it on
an empty table of the input schema (`output_type`), so a type error (adding a
string to a number) is raised when the expression is built, not at compute.

A `ScalarArg` is a lazy single value (a `Scalar`, such as ``df.x.mean()``)
inside a formula: its value exists only when the scalar's task has run.  The
`Blockwise` node of the formula makes the scalar's plan a broadcast input
(`graphflow.dataframe.plan.WithScalars`), and each partition's task `bind` s
the computed value in as a constant before evaluating:

    >>> e = Call("greater", [Col("b"), ScalarArg("mean-1", pa.float64())])
    >>> e.bind({"mean-1": 15.0}).evaluate(t).to_pylist()
    [False, True, True]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UnboundScalarError

__all__ = ["ColExpr", "Col", "Lit", "Call", "ScalarArg", "output_type", "evaluate_on", "for_filter",
           "scalar_args", "scalar_value"]


class ColExpr:
    """Base of the column-expression nodes; immutable."""

    __slots__ = ()

    def columns(self) -> set:
        """Names of the input columns this expression reads."""
        raise NotImplementedError

    def evaluate(self, table):
        raise NotImplementedError

    def to_arrow(self) -> pc.Expression:
        raise NotImplementedError

    def rename(self, mapping: dict) -> "ColExpr":
        """The same formula reading ``mapping[name]`` instead of ``name``."""
        raise NotImplementedError

    def substitute(self, exprs: dict) -> "ColExpr":
        """The formula with each input column replaced by ``exprs[name]`` (composes two projections)."""
        raise NotImplementedError

    def bind(self, values: dict) -> "ColExpr":
        """The formula with each `ScalarArg` replaced by ``values[token]``: a computed value (as a constant of
        the leaf's type) or another expression."""
        return self

    def __repr__(self):
        return str(self.to_arrow())


class Col(ColExpr):
    """An input column, read as is."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def columns(self):
        return {self.name}

    def evaluate(self, table):
        return table.column(self.name)

    def to_arrow(self):
        return pc.field(self.name)

    def rename(self, mapping):
        return Col(mapping.get(self.name, self.name))

    def substitute(self, exprs):
        return exprs[self.name]

    def __graphflow_tokenize__(self):
        return ("Col", self.name)

    def __eq__(self, other):
        return type(other) is Col and other.name == self.name

    def __hash__(self):
        return hash(("Col", self.name))


class Lit(ColExpr):
    """A constant, broadcast over the rows."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value if isinstance(value, pa.Scalar) else pa.scalar(value)

    def columns(self):
        return set()

    def evaluate(self, table):
        return self.value

    def to_arrow(self):
        return pc.scalar(self.value)

    def rename(self, mapping):
        return self

    def substitute(self, exprs):
        return self

    def __graphflow_tokenize__(self):
        return ("Lit", str(self.value.type), repr(self.value.as_py()))


class Call(ColExpr):
    """A ``pyarrow.compute`` function applied to sub-expressions."""

    __slots__ = ("func", "args", "options")

    def __init__(self, func: str, args, options=None):
        self.func = func
        self.args = tuple(args)
        self.options = options

    def columns(self):
        out = set()
        for a in self.args:
            out |= a.columns()
        return out

    def evaluate(self, table):
        return pc.call_function(self.func, [a.evaluate(table) for a in self.args], self.options)

    def to_arrow(self):
        # Expression._call is the only way to build an expression for any kernel by name.
        return pc.Expression._call(self.func, [a.to_arrow() for a in self.args], self.options)

    def rename(self, mapping):
        return Call(self.func, [a.rename(mapping) for a in self.args], self.options)

    def substitute(self, exprs):
        return Call(self.func, [a.substitute(exprs) for a in self.args], self.options)

    def bind(self, values):
        return Call(self.func, [a.bind(values) for a in self.args], self.options)

    def __reduce__(self):
        # some options (CastOptions) do not pickle; every FunctionOptions serializes to bytes
        opts = None if self.options is None else bytes(self.options.serialize())
        return (_call_from_bytes, (self.func, self.args, opts))

    def __graphflow_tokenize__(self):
        opts = None if self.options is None else (type(self.options).__name__, bytes(self.options.serialize()))
        return ("Call", self.func, tuple(a.__graphflow_tokenize__() for a in self.args), opts)


def for_filter(expr: ColExpr) -> ColExpr:
    """``expr`` as a filter sees it: a comparison's pandas fill (``coalesce(cmp, False)``: a missing value
    compares False, as in pandas) is dropped under ``and``/``or``, since a filter drops null rows anyway; the
    bare comparison is what the Parquet reader can push down."""
    if isinstance(expr, Call):
        if expr.func == "coalesce" and len(expr.args) == 2 and isinstance(expr.args[1], Lit) \
                and expr.args[1].value.type == pa.bool_() and expr.args[1].value.as_py() is False:
            return for_filter(expr.args[0])
        if expr.func in ("and_kleene", "or_kleene", "and", "or"):
            return Call(expr.func, [for_filter(a) for a in expr.args], expr.options)
    return expr


def _call_from_bytes(func, args, options):
    return Call(func, args, None if options is None else pc.FunctionOptions.deserialize(pa.py_buffer(options)))


class ScalarArg(ColExpr):
    """A lazy single value broadcast over the rows; its value is `bind` -ed in when the task runs.

    ``token`` names the value (the scalar plan's name when the leaf was made)
    and ``type`` is its Arrow type, so the formula's output type is known
    before anything runs.  ``plan`` is the scalar's plan, kept only while the
    formula is being built (`graphflow.dataframe.plan.Blockwise` lifts it into
    a broadcast input); it is never pickled into a task.
    """

    __slots__ = ("token", "type", "plan")

    def __init__(self, token: str, type: pa.DataType, plan=None):
        self.token, self.type, self.plan = token, type, plan

    def columns(self):
        return set()

    def evaluate(self, table):
        raise UnboundScalarError(
            f"the lazy scalar {self.token} has no value here: this operation cannot take a lazy Scalar "
            f"(column arithmetic, comparisons, filters and assign can); compute it first with .compute()")

    def to_arrow(self):
        # A field no table has: pushed into a reader by mistake it fails loudly, and it prints readably.
        return pc.field(f"<scalar {self.token}>")

    def rename(self, mapping):
        return self

    def substitute(self, exprs):
        return self

    def bind(self, values):
        value = values[self.token]
        return value if isinstance(value, ColExpr) else Lit(scalar_value(value, self.type))

    def __reduce__(self):
        return (ScalarArg, (self.token, self.type))  # without the plan: a task needs only the token

    def __graphflow_tokenize__(self):
        return ("ScalarArg", self.token, str(self.type))

    def __eq__(self, other):
        return type(other) is ScalarArg and other.token == self.token and other.type == self.type

    def __hash__(self):
        return hash(("ScalarArg", self.token))


def scalar_value(value, type: pa.DataType) -> pa.Scalar:
    """``value`` (a computed lazy scalar: a Python or numpy value, None or NaN when missing) as an Arrow
    scalar of ``type``; a missing value of a non-float type becomes null (NaN stays NaN for floats)."""
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    if _missing(value) and not (value is not None and pa.types.is_floating(type)):
        return pa.scalar(None, type=type)
    out = pa.scalar(value)
    # a safe cast: a value that does not fit ``type`` is an error, never a silent truncation
    return out if out.type == type else out.cast(type)


def _missing(value) -> bool:
    """None, NaN or NaT (a value unequal to itself)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def scalar_args(expr: ColExpr) -> dict:
    """``{token: ScalarArg}`` of every lazy scalar in ``expr``."""
    out, stack = {}, [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, ScalarArg):
            out.setdefault(e.token, e)
        stack.extend(getattr(e, "args", ()))
    return out


def evaluate_on(expr: ColExpr, table: pa.Table):
    """``expr`` on ``table`` as an array with one value per row (constants broadcast)."""
    out = expr.evaluate(table)
    if isinstance(out, pa.Scalar):
        return pa.repeat(out, table.num_rows)
    return out


def output_type(expr: ColExpr, schema: pa.Schema) -> pa.DataType:
    """The type ``expr`` produces over ``schema``; raises TypeError if the kernels refuse the types."""
    if isinstance(expr, Col) and schema.get_field_index(expr.name) >= 0:
        return schema.field(expr.name).type
    try:
        # each lazy scalar as a null of its type: the kernels choose the output type from the types alone
        typed = expr.bind(dict.fromkeys(scalar_args(expr)))
        return evaluate_on(typed, _empty_of(schema, expr.columns())).type
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise TypeError(f"incompatible types in {expr!r} over columns {_describe(schema)}: {exc}") from None


def _empty_of(schema: pa.Schema, names) -> pa.Table:
    """An empty table of the columns ``names`` of ``schema`` (all of them if one is missing or repeated, so
    the error stays the one evaluation gives): an empty table of a joined frame's 30 columns costs ~1 ms,
    and a frame's every ``assign`` types each of its columns."""
    if all(schema.get_field_index(n) >= 0 for n in names):
        return pa.schema([schema.field(n) for n in sorted(names)]).empty_table()
    return schema.empty_table()


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name}: {f.type}" for f in schema)
