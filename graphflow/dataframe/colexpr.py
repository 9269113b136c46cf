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
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ColExpr", "Col", "Lit", "Call", "output_type", "evaluate_on", "for_filter"]


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

    def __graphflow_tokenize__(self):
        opts = None if self.options is None else (type(self.options).__name__, bytes(self.options.serialize()))
        return ("Call", self.func, tuple(a.__graphflow_tokenize__() for a in self.args), opts)

    def __reduce__(self):
        # pyarrow's FunctionOptions (SliceOptions, MatchSubstringOptions, ...) do not pickle, yet a Call travels
        # to worker processes inside every plan op: ship the options as pyarrow's own serialized bytes.
        if isinstance(self.options, pc.FunctionOptions):
            return _call_with_options, (self.func, self.args, bytes(self.options.serialize()))
        return Call, (self.func, self.args, self.options)


def _call_with_options(func, args, options: bytes) -> Call:
    """A `Call` rebuilt in another process from its options' serialized bytes."""
    return Call(func, args, pc.FunctionOptions.deserialize(pa.py_buffer(options)))


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


def evaluate_on(expr: ColExpr, table: pa.Table):
    """``expr`` on ``table`` as an array with one value per row (constants broadcast)."""
    out = expr.evaluate(table)
    if isinstance(out, pa.Scalar):
        return pa.repeat(out, table.num_rows)
    return out


def output_type(expr: ColExpr, schema: pa.Schema) -> pa.DataType:
    """The type ``expr`` produces over ``schema``; raises TypeError if the kernels refuse the types."""
    try:
        return evaluate_on(expr, schema.empty_table()).type
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise TypeError(f"incompatible types in {expr!r} over columns {_describe(schema)}: {exc}") from None


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name}: {f.type}" for f in schema)
