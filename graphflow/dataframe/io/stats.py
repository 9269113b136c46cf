"""Row-group skipping: can a Parquet row group's min/max statistics rule a predicate out?

Only the conjuncts of the form ``column <op> literal`` (and ``and``s of
them) are checked; anything else counts as "maybe", so a row group is
skipped only when some conjunct is false for every value between the
column's min and max.  Nulls never satisfy a comparison, so they cannot
rescue a row group either.

    >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> from graphflow.dataframe.colexpr import Call, Col, Lit
    >>> path = os.path.join(tempfile.mkdtemp(), "x.parquet")
    >>> pq.write_table(pa.table({"a": list(range(10))}), path, row_group_size=5)
    >>> md = pq.ParquetFile(path).metadata
    >>> [excluded(md.row_group(i), Call("greater", [Col("a"), Lit(6)])) for i in range(2)]
    [True, False]
"""

from __future__ import annotations

from ..colexpr import Call, Col, Lit

__all__ = ["excluded", "conjuncts"]

_FLIP = {"less": "greater", "less_equal": "greater_equal", "greater": "less",
         "greater_equal": "less_equal", "equal": "equal"}


def conjuncts(expr):
    """The ``and``-ed parts of a predicate (the predicate itself when it is no ``and``)."""
    if isinstance(expr, Call) and expr.func in ("and", "and_kleene"):
        for a in expr.args:
            yield from conjuncts(a)
    else:
        yield expr


def _comparison(expr):
    """(column, op, value) for ``col op lit`` or ``lit op col``, else None."""
    if not (isinstance(expr, Call) and expr.func in _FLIP and len(expr.args) == 2):
        return None
    a, b = expr.args
    if isinstance(a, Col) and isinstance(b, Lit):
        return a.name, expr.func, b.value.as_py()
    if isinstance(a, Lit) and isinstance(b, Col):
        return b.name, _FLIP[expr.func], a.value.as_py()
    return None


def _rules_out(lo, hi, op, v):
    return {"less": lo >= v, "less_equal": lo > v, "greater": hi <= v,
            "greater_equal": hi < v, "equal": v < lo or v > hi}[op]


def excluded(row_group_meta, predicate) -> bool:
    """True if no row of the row group can satisfy ``predicate`` (by min/max statistics)."""
    names = {row_group_meta.column(i).path_in_schema: i for i in range(row_group_meta.num_columns)}
    for conj in conjuncts(predicate):
        cmp = _comparison(conj)
        if cmp is None or cmp[0] not in names or cmp[2] is None:
            continue
        stats = row_group_meta.column(names[cmp[0]]).statistics
        if stats is None or not stats.has_min_max:
            continue
        try:
            if _rules_out(stats.min, stats.max, cmp[1], cmp[2]):
                return True
        except TypeError:  # statistics of another type than the literal: no conclusion
            continue
    return False
