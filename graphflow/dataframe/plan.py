"""The logical plan: a tree of `PlanNode` s that a DataFrame is a handle on.

Building a DataFrame operation makes a plan node, never a task.  A node knows
its output ``schema`` and ``npartitions`` (so ``df.columns`` costs nothing), its
children, and its parameters.  At compute time the plan is optimized
(`graphflow.dataframe.optimize`: pushdown and fusion rewrite the tree) and
only then *lowered* to tasks: each node emits the tasks for its partitions,
keyed ``(name, i)`` where ``name`` is a `tokenize` of the node's kind,
parameters and children, so equal plans share keys.

    >>> import pyarrow as pa
    >>> src = FromTables((pa.table({"a": [1, 2]}), pa.table({"a": [3]})))
    >>> m = Blockwise(Func(lambda t: t.append_column("b", t["a"])), (src,))
    >>> m.npartitions, m.schema.names
    (2, ['a', 'b'])
    >>> graph = lower(m)
    >>> len(graph)                           # two data nodes, two tasks
    4

Partition-wise work is a `Blockwise` node holding an *op*: a small picklable
callable ``op(*tables) -> table`` (`Project`, `Filter`, `Func`, or a `Chain` of
them after fusion).  Everything else (reductions, shuffles, joins, sorts) is a
node with its own `tasks` method.

A formula may hold a lazy scalar (a `ScalarArg`: ``df[df.x > df.x.mean()]``).
`Blockwise` lifts it when the node is made: the scalar's plan becomes a
broadcast child (every partition's task depends on its one value) and the op
is wrapped in `WithScalars`, which binds the computed values into the formula
in each task.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..spec import DataNode, Ref, Task, tokenize
from ..spec.keys import unique_suffix
from .colexpr import Col, ScalarArg, evaluate_on, scalar_args
from .labels import index_columns, index_names
from ..utils.traverse import identity

__all__ = [
    "PlanNode", "FromTables", "FromKeys", "Blockwise", "Project", "Filter", "Func", "Chain", "WithScalars",
    "Reduce", "Concat", "Partitions", "lower", "walk", "source_total", "filter_table",
]


class PlanNode:
    """Base of plan nodes.  Subclasses set ``children`` and implement `tasks` and `params`."""

    label = "node"
    children: tuple = ()

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def npartitions(self) -> int:
        return self._npartitions

    @property
    def divisions(self):
        """The index's divisions when known (Dask's convention: ``npartitions + 1`` values, partition i
        holding the index values ``divisions[i] <= x < divisions[i + 1]``, the last one inclusive), else
        None (the default: most operations lose them)."""
        return None

    @property
    def sort_bounds(self):
        """After ``sort_values``: the sort-key boundaries of the partitions (see
        `graphflow.dataframe.sort`), else None.  Not the index's divisions."""
        return None

    def params(self) -> tuple:
        """What besides the children makes this node distinct (tokenized into its name)."""
        return ()

    @property
    def name(self) -> str:
        try:
            return self._name
        except AttributeError:
            kids = tuple(c.name for c in self.children)
            self._name = f"{self.label}-{tokenize(type(self).__name__, self.params(), kids)}"
            return self._name

    def keys(self) -> list:
        return [(self.name, i) for i in range(self.npartitions)]

    def with_children(self, children) -> "PlanNode":
        """A copy of this node over other children (used by the optimizer rules)."""
        raise NotImplementedError(type(self).__name__)

    def tasks(self) -> list:
        """The graph nodes computing this node's partitions from its children's keys."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for `explain`."""
        return f"{type(self).__name__}[{self.npartitions}]"

    def edge_form(self) -> "PlanNode | None":
        """This node as the last step of a ``compute()``, when it has a cheaper form there: its partitions
        may then be `pending.PendingTable` s whose columns the result's assembly computes in place.
        None (the default) when it has none.  Only the pandas result may read such partitions, so only
        ``compute()`` asks (see `collection.PlanCollection.for_compute`)."""
        return None

    # -- pushdown: the optimizer's rules ask a source whether it can read less (ReadParquet can)
    def with_columns(self, columns) -> "PlanNode | None":
        """This source (a node without children) reading only ``columns`` (some of its own, in order);
        None if it cannot."""
        return None

    def with_predicate(self, predicate) -> "PlanNode | None":
        """This source keeping only the rows where ``predicate`` (a `ColExpr`) holds as it reads; None if it
        cannot."""
        return None


class FromTables(PlanNode):
    """In-memory partitions (`from_arrow`, `from_pandas`, ...).

    Named by a unique token rather than a hash of the data: hashing gigabytes
    to name them would cost more than most queries on them (and `tokenize`
    of a slice digests the whole parent buffer).  So two `from_arrow` calls on
    equal data make different keys; one DataFrame always has the same keys.
    """

    label = "from-arrow"

    def __init__(self, parts, divisions=None):
        self.parts = tuple(parts)
        self._schema = self.parts[0].schema
        self._npartitions = len(self.parts)
        self._token = unique_suffix()
        self._divisions = tuple(divisions) if divisions is not None else None

    @property
    def divisions(self):
        return self._divisions

    def params(self):
        return (self._token, str(self._schema), tuple(p.num_rows for p in self.parts))

    def tasks(self):
        return [DataNode((self.name, i), p) for i, p in enumerate(self.parts)]


class FromKeys(PlanNode):
    """Partitions that are the values of keys in an existing graph (persist, `from_delayed`)."""

    label = "from-keys"

    def __init__(self, nodes: dict, keys, schema: pa.Schema, name: str | None = None):
        self.nodes = nodes
        self.source_keys = list(keys)
        self._schema = schema
        self._npartitions = len(self.source_keys)
        if name is not None:
            self._name = name

    def params(self):
        return tuple(self.source_keys)

    def keys(self):
        if self.source_keys and all(isinstance(k, tuple) and k[0] == self.name for k in self.source_keys):
            return list(self.source_keys)
        return super().keys()

    def tasks(self):
        out = list(self.nodes.values())
        if self.keys() != self.source_keys:
            out += [Task(k, identity, Ref(s)) for k, s in zip(self.keys(), self.source_keys)]
        return out


# ------------------------------------------------------------------ partition-wise ops


def filter_table(table, mask):
    """``table.filter(mask)``, without the copy when every row is kept."""
    if mask.null_count == 0 and pc.all(mask).as_py() is not False:
        return table
    return table.filter(mask)


class Project:
    """Op: a table whose columns are ``exprs`` ((name, ColExpr) pairs) evaluated on the input."""

    __slots__ = ("exprs",)

    def __init__(self, exprs):
        self.exprs = tuple(exprs)

    def __call__(self, table):
        names = [n for n, _ in self.exprs]
        return pa.Table.from_arrays([evaluate_on(e, table) for _, e in self.exprs], names=names)

    def bind(self, values):
        return Project([(n, e.bind(values)) for n, e in self.exprs])

    def __graphflow_tokenize__(self):
        return ("Project", tuple((n, e.__graphflow_tokenize__()) for n, e in self.exprs))

    def __repr__(self):
        return "Project(" + ", ".join(f"{n}={e!r}" for n, e in self.exprs) + ")"


class Filter:
    """Op: the rows where ``predicate`` is true (null counts as false)."""

    __slots__ = ("predicate",)

    def __init__(self, predicate):
        self.predicate = predicate

    def __call__(self, table):
        return filter_table(table, evaluate_on(self.predicate, table))

    def bind(self, values):
        return Filter(self.predicate.bind(values))

    def __graphflow_tokenize__(self):
        return ("Filter", self.predicate.__graphflow_tokenize__())

    def __repr__(self):
        return f"Filter({self.predicate!r})"


class FilterProject:
    """Op: `Filter` then a `Project` of plain columns, projecting first so dropped columns are never filtered."""

    __slots__ = ("predicate", "project")

    def __init__(self, predicate, project):
        self.predicate, self.project = predicate, project

    def __call__(self, table):
        mask = evaluate_on(self.predicate, table)
        return filter_table(self.project(table), mask)

    def bind(self, values):
        return FilterProject(self.predicate.bind(values), self.project.bind(values))

    def __graphflow_tokenize__(self):
        return ("FilterProject", self.predicate.__graphflow_tokenize__(), self.project.__graphflow_tokenize__())

    def __repr__(self):
        return f"Filter({self.predicate!r}) -> {self.project!r}"


class Func:
    """Op: a user or library function ``func(*tables, *args, **kwargs) -> table``."""

    __slots__ = ("func", "args", "kwargs")

    def __init__(self, func, *args, **kwargs):
        self.func, self.args, self.kwargs = func, args, kwargs

    def __call__(self, *tables):
        return self.func(*tables, *self.args, **self.kwargs)

    def __graphflow_tokenize__(self):
        return ("Func", tokenize(self.func, self.args, self.kwargs))

    def __repr__(self):
        return f"Func({getattr(self.func, '__name__', self.func)})"


class Chain:
    """Op: several ops run one after another in one task (what fusion makes)."""

    __slots__ = ("ops",)

    def __init__(self, ops):
        flat = []
        for op in ops:
            for o in op.ops if isinstance(op, Chain) else (op,):
                if flat and isinstance(flat[-1], Project) and isinstance(o, Project):
                    inner = dict(flat[-1].exprs)  # one pass: each expression reads the input directly
                    flat[-1] = Project([(n, e.substitute(inner)) for n, e in o.exprs])
                    o = flat.pop()
                if flat and isinstance(flat[-1], Filter) and _selects_columns(o):
                    flat[-1] = FilterProject(flat[-1].predicate, o)
                else:
                    flat.append(o)
        self.ops = tuple(flat)

    def __call__(self, *tables):
        out = self.ops[0](*tables)
        for op in self.ops[1:]:
            out = op(out)
        return out

    def bind(self, values):
        return Chain([bind_op(op, values) for op in self.ops])

    def __graphflow_tokenize__(self):
        return ("Chain", tuple(tokenize(op) for op in self.ops))

    def __repr__(self):
        return " -> ".join(repr(op) for op in self.ops)


def keeps_index(op) -> bool:
    """Whether partition-wise ``op`` leaves the index of each row as it was (so divisions still hold):
    filters, projections carrying the index columns unchanged, and ops that say so (``keeps_index``, as
    user functions in ``map_partitions``, which Dask too assumes keep the index)."""
    if isinstance(op, Filter):
        return True
    if isinstance(op, FilterProject):
        return keeps_index(op.project)
    if isinstance(op, Project):
        exprs = dict(op.exprs)
        return all(k.startswith("__index_level_") and isinstance(e, Col) and e.name == k
                   for k, e in exprs.items() if k.startswith("__index_level_"))
    if isinstance(op, Chain):
        return all(keeps_index(o) for o in op.ops)
    return bool(getattr(op, "keeps_index", False))


class SelectPending:
    """Op: some columns of a partition that may be pending (`pending.PendingTable`), in ``names`` order."""

    __slots__ = ("names",)

    def __init__(self, names):
        self.names = tuple(names)

    def __call__(self, part):
        return part.select(list(self.names))

    def __graphflow_tokenize__(self):
        return ("SelectPending", self.names)

    def __repr__(self):
        return f"Select{list(self.names)}"


class WithScalars:
    """Op: ``op`` over partitions plus the values of lazy scalars, which it binds into ``op``'s formulas.

    Called as ``(*tables, *values)``: one computed value per token of ``tokens``
    (the `ScalarArg` s in ``op``), after the tables; each task binds them
    (`bind_op`) and runs the bound op on the tables.
    """

    __slots__ = ("op", "tokens")

    def __init__(self, op, tokens):
        self.op, self.tokens = op, tuple(tokens)

    def __call__(self, *args):
        split = len(args) - len(self.tokens)
        return bind_op(self.op, dict(zip(self.tokens, args[split:])))(*args[:split])

    def __graphflow_tokenize__(self):
        return ("WithScalars", self.tokens, tokenize(self.op))

    def __repr__(self):
        return repr(self.op)  # its formulas print each scalar as <scalar token>


def bind_op(op, values):
    """``op`` with the lazy scalars in its formulas replaced by ``values[token]`` (an op without formulas: as is)."""
    bind = getattr(op, "bind", None)
    return op if bind is None else bind(values)


def unwrap_scalars(op):
    """``(inner op, tokens)``: a `WithScalars` opened, any other op with no tokens."""
    return (op.op, op.tokens) if isinstance(op, WithScalars) else (op, ())


def _formulas(op):
    """The column formulas of one of our ops (none for a function or an op already lifted)."""
    if isinstance(op, Project):
        return [e for _, e in op.exprs]
    if isinstance(op, Filter):
        return [op.predicate]
    if isinstance(op, FilterProject):
        return [op.predicate] + _formulas(op.project)
    if isinstance(op, Chain):
        return [e for o in op.ops for e in _formulas(o)]
    return []


def _lift_scalars(op, children, broadcast):
    """``op``, ``children``, ``broadcast`` with the lazy scalars of ``op``'s formulas lifted into broadcast
    children (see the module note); unchanged when it has none."""
    found: dict = {}
    for e in _formulas(op):
        found.update(scalar_args(e))
    if not found:
        return op, children, broadcast
    missing = [t for t, a in found.items() if a.plan is None]
    if missing:
        raise ValueError(f"the lazy scalars {missing} in {op!r} have no plan to compute them from")
    # the tasks' copy of the op holds tokens only, never the scalars' plans
    bare = bind_op(op, {t: ScalarArg(t, a.type) for t, a in found.items()})
    return (WithScalars(bare, found), children + tuple(a.plan for a in found.values()),
            broadcast + (True,) * len(found))


def _selects_columns(op) -> bool:
    return isinstance(op, Project) and all(isinstance(e, Col) for _, e in op.exprs)


def _keeps_values(op, child) -> bool:
    """A projection that leaves every input column it outputs under the same name unchanged (so row
    boundaries such as a sort's divisions still hold)."""
    if not isinstance(op, Project):
        return False
    names = set(child.schema.names)
    return all(isinstance(e, Col) and e.name == n for n, e in op.exprs if n in names)


class Blockwise(PlanNode):
    """``op`` applied to partition i of each child (a child with ``broadcast`` set gives partition 0)."""

    label = "blockwise"

    def __init__(self, op, children, schema: pa.Schema | None = None, broadcast=None, label=None,
                 divisions=None):
        children = tuple(children)
        broadcast = tuple(broadcast) if broadcast is not None else (False,) * len(children)
        self.op, self.children, self.broadcast = _lift_scalars(op, children, broadcast)
        self._divisions = tuple(divisions) if divisions is not None else None
        sizes = {c.npartitions for c, b in zip(self.children, self.broadcast) if not b}
        if len(sizes) > 1:
            raise ValueError(f"partition-wise operation over frames with different npartitions {sorted(sizes)}")
        self._npartitions = sizes.pop() if sizes else 1
        if schema is None:
            n = len(unwrap_scalars(self.op)[1])  # lazy scalars: typed nulls stand in for their values
            tables = [c.schema.empty_table() for c in self.children[:len(self.children) - n]]
            schema = self.op(*tables, *[None] * n).schema
        self._schema = schema
        if label is not None:
            self.label = label

    def params(self):
        return (tokenize(self.op), self.broadcast)

    @property
    def divisions(self):
        if self._divisions is not None:
            return self._divisions
        if not self.children or self.broadcast[0]:
            return None
        child = self.children[0]
        if not index_names(self._schema) or index_columns(self._schema) != index_columns(child.schema):
            return None
        return child.divisions if keeps_index(unwrap_scalars(self.op)[0]) else None

    @property
    def sort_bounds(self):
        op, tokens = unwrap_scalars(self.op)
        if len(self.children) - len(tokens) == 1 and (isinstance(op, Filter) or _keeps_values(op, self.children[0])):
            return self.children[0].sort_bounds
        known = getattr(self.op, "bounds_of", None)  # an op that orders rows (sort) knows its boundaries
        return known(self.children) if known is not None else None

    def with_children(self, children):
        return Blockwise(self.op, children, self._schema, self.broadcast, self.label, self._divisions)

    def edge_form(self):
        """An op's own edge form (``op.at_edge()``: `pandas_edge.PandasFuncAtEdge`), or, for a selection
        of plain columns (a Series' projection of its frame) over a node that has an edge form, that
        node's edge form with the selection applied to its pending partitions."""
        op = self.op
        at_edge = getattr(op, "at_edge", None)  # an op with its own form there (a pandas function)
        if at_edge is not None:
            edge_op = at_edge()
            parts = getattr(self.children[0], "parts", None)  # in-memory source partitions (FromTables)
            if edge_op is not None and parts is not None and len(self.children) == 1 and \
                    hasattr(edge_op, "sinking"):
                edge_op = edge_op.sinking(parts)  # rows known: new columns go straight into the result
            return None if edge_op is None else Blockwise(edge_op, self.children, self._schema, self.broadcast,
                                                          self.label, self._divisions)
        if len(self.children) != 1 or not _selects_columns(op) or any(e.name != n for n, e in op.exprs):
            return None
        edge = self.children[0].edge_form()
        if edge is None:
            return None
        names = [n for n, _ in op.exprs]
        if names == edge.schema.names:
            return edge
        return Blockwise(SelectPending(names), (edge,), self._schema, label="select")

    def tasks(self):
        out = []
        for i in range(self.npartitions):
            refs = [Ref((c.name, 0 if b else i)) for c, b in zip(self.children, self.broadcast)]
            out.append(Task((self.name, i), self.op, *refs))
        return out

    def describe(self):
        return f"Blockwise[{self.npartitions}] {self.op!r}"


# ------------------------------------------------------------------ whole-frame nodes


class Reduce(PlanNode):
    """A tree reduction to one partition: ``combine(list)`` fan-in ``split_every``, then ``finalize``.

    ``schema`` is None when the result is not a table (a scalar reduction).
    """

    label = "reduce"

    def __init__(self, child, combine, finalize, schema=None, split_every: int = 8):
        self.children = (child,)
        self.combine, self.finalize = combine, finalize
        self._schema = schema
        self._npartitions = 1
        self.split_every = split_every

    def params(self):
        return (tokenize(self.combine), tokenize(self.finalize), self.split_every)

    def with_children(self, children):
        return Reduce(children[0], self.combine, self.finalize, self._schema, self.split_every)

    def tasks(self):
        child = self.children[0]
        level = [(child.name, i) for i in range(child.npartitions)]
        out, depth = [], 0
        while len(level) > self.split_every:
            nxt = []
            for j in range(0, len(level), self.split_every):
                key = (self.name + "-combine", depth, j // self.split_every)
                out.append(Task(key, self.combine, [Ref(k) for k in level[j:j + self.split_every]]))
                nxt.append(key)
            level, depth = nxt, depth + 1
        out.append(Task((self.name, 0), _combine_finalize, self.combine, self.finalize, [Ref(k) for k in level]))
        return out

    def describe(self):
        f = self.combine if getattr(self.finalize, "__name__", "") == "identity" else self.finalize
        step = getattr(f, "__name__", None) or type(f).__name__.lstrip("_")
        return f"Reduce[{self.children[0].npartitions} -> 1] {step}"


def _combine_finalize(combine, finalize, parts):
    return finalize(combine(parts))


class Concat(PlanNode):
    """The partitions of several frames one after another (same column names)."""

    label = "concat"

    def __init__(self, children, schema):
        self.children = tuple(children)
        self._schema = schema
        self._npartitions = sum(c.npartitions for c in self.children)

    def with_children(self, children):
        return Concat(children, self._schema)

    def tasks(self):
        out, j = [], 0
        for c in self.children:
            for i in range(c.npartitions):
                out.append(Task((self.name, j), _conform, Ref((c.name, i)), self._schema))
                j += 1
        return out


def _conform(table, schema):
    """``table`` with ``schema``'s columns in its order, missing ones as nulls, types unified."""
    cols = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


class Partitions(PlanNode):
    """Some partitions of a frame, by position (used by ``head``/``tail`` and ``partitions[...]``)."""

    label = "partitions"

    def __init__(self, child, indices):
        self.children = (child,)
        self.indices = tuple(indices)
        self._schema = child.schema
        self._npartitions = len(self.indices)

    def params(self):
        return self.indices

    @property
    def divisions(self):
        """The child's divisions of the kept partitions, when they are consecutive and in order."""
        d = self.children[0].divisions
        idx = self.indices
        if d is None or not idx or list(idx) != list(range(idx[0], idx[0] + len(idx))):
            return None
        return tuple(d[idx[0]:idx[-1] + 1]) + (d[idx[-1] + 1],)

    def with_children(self, children):
        return Partitions(children[0], self.indices)

    def tasks(self):
        c = self.children[0]
        return [Task((self.name, j), identity, Ref((c.name, i))) for j, i in enumerate(self.indices)]


# ------------------------------------------------------------------ lowering


def walk(plan: PlanNode):
    """Every node of the plan once, children before parents (iterative)."""
    seen, order, stack = set(), [], [(plan, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(node.children) if id(c) not in seen)
    return order


def source_total(plan: PlanNode, measure) -> float:
    """The sum of ``measure(source)`` over the plan's sources (nodes without children): an upper bound of
    what the plan can produce when ``measure`` bounds a source (its bytes, its rows); inf as soon as one
    source's ``measure`` is None (it cannot say)."""
    total = 0
    for node in walk(plan):
        if node.children:
            continue
        size = measure(node)
        if size is None:
            return float("inf")
        total += size
    return total


def lower(*plans: PlanNode) -> dict:
    """The task nodes of whole plans: ``{key: node}``.

    A node several plans share is lowered once: by name, which is the same
    computation, so no two task nodes for one key are ever compared (comparing
    in-memory partitions would hash all their data).
    """
    nodes: dict = {}
    lowered: set = set()
    for plan in plans:
        for node in walk(plan):
            if node.name in lowered:
                continue
            lowered.add(node.name)
            for t in node.tasks():
                nodes.setdefault(t.key, t)
    return nodes
