"""Whether a dataframe engine's pandas result is pandas' own answer: the check behind the dataframe workloads.

A benchmark that times a wrong answer measures nothing, and two engines can
only be compared when they compute the same thing.  Each engine's samples run
in a process of their own, so the engines are not compared with each other
but each with pandas on the same input (``expected``, computed once per
process, outside the timed region).  Where the row order is not part of the
answer (a groupby's output order, a merge, a shuffle), both sides are put in a
canonical order first; where the index is not part of it (merge output,
files read back), it is dropped:

    >>> import pandas as pd
    >>> got = pd.DataFrame({"k": [2, 1], "x": [0.5, 1.5]})
    >>> want = pd.DataFrame({"k": [1, 2], "x": [1.5, 0.5]}, index=[7, 8])
    >>> check_answer("demo", "me", got, want, order="rows", index=False)

`once(kind, engine)` tells a case whether this process has checked that kind
yet: the comparison (a sort of 10M rows for some kinds) is then paid once,
by the warm-up, not by every sample.
"""

from __future__ import annotations

__all__ = ["check_answer", "once"]

_CHECKED: set = set()

ORDERS = ("kept", "index", "rows")


def once(kind: str, engine: str) -> bool:
    """True the first time a process asks for ``(kind, engine)``, False after."""
    if (kind, engine) in _CHECKED:
        return False
    _CHECKED.add((kind, engine))
    return True


def _canonical(obj, order: str, index: bool):
    """``obj`` with its rows in the canonical order ``order`` and, unless ``index``, a fresh RangeIndex."""
    import pandas as pd

    if order == "index":
        obj = obj.sort_index(kind="stable")
    elif order == "rows":
        if isinstance(obj, pd.Series):
            obj = obj.sort_values(kind="stable")
        else:
            obj = obj.sort_values(list(obj.columns), kind="stable")
    elif order != "kept":
        raise ValueError(f"order must be one of {ORDERS}, not {order!r}")
    return obj if index else obj.reset_index(drop=True)


def check_answer(kind: str, engine: str, got, expected, order: str = "kept", index: bool = True) -> None:
    """Raise AssertionError naming ``kind`` and ``engine`` unless ``got`` equals ``expected`` (pandas objects):
    the same type, labels, dtypes and values (floats to a relative 1e-9: partial sums add up in another
    order), after both are put in the canonical ``order`` ("kept": as they are; "index": sorted by the index;
    "rows": sorted by every column, or by value for a Series), and without their index unless ``index``."""
    import pandas as pd
    import pandas.testing as pdt

    if type(got) is not type(expected):
        raise AssertionError(f"{kind} on {engine}: a {type(got).__name__}, pandas gives a "
                             f"{type(expected).__name__}")
    got, expected = _canonical(got, order, index), _canonical(expected, order, index)
    compare = pdt.assert_series_equal if isinstance(expected, pd.Series) else pdt.assert_frame_equal
    try:
        compare(got, expected, check_exact=False, rtol=1e-9, check_index_type="equiv")
    except AssertionError as e:
        raise AssertionError(f"{kind} on {engine}: the answer differs from pandas' on the same input: {e}") from e
