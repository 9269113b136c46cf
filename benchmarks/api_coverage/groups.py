"""What is compared: the groups, their sub-groups, and reading the names off both libraries.

A `SubGroup` pairs Dask objects with graphflow's counterparts: ``dask()``
returns the Dask classes or modules whose public names are counted, and
``graphflow()`` the objects, one per Dask object, that must have them.
GroupBy is one sub-group over two pairs, (Dask's DataFrameGroupBy,
graphflow's ``df.groupby(k)``) and (SeriesGroupBy, ``df.groupby(k)[col]``):
its names are the union of both classes' (``nunique`` is SeriesGroupBy's
only), each counted once, and graphflow has a name when every graphflow
object paired with a Dask class that has it has it too.  If ``graphflow()``
raises (ImportError: ``graphflow.bag`` before it exists) the sub-group is
reported with nothing present and the reason as a note; if ``dask()``
raises ImportError the whole run stops with `DaskMissing`.

    >>> sorted(GROUPS)
    ['array', 'bag', 'dataframe', 'distributed']
    >>> [s.prefix for s in GROUPS["dataframe"].subgroups]
    ['DataFrame', 'Series', 'GroupBy', 'dd']

`inventory` reads the names.  On the Dask side: ``dir()`` of each class or
module, without ``_`` names and without what `excluded` leaves out.  On
graphflow's: `inspect.getattr_static`, which sees properties and instance
attributes but never calls ``__getattr__`` (graphflow's frames answer
``df.sum`` with a column called ``sum`` if there is one); a graphflow
submodule does not stand for a Dask function of the same name
(``graphflow.dataframe.repartition`` is a module, ``dd.repartition`` a function).
"""

from __future__ import annotations

import importlib
import inspect
import types
from dataclasses import dataclass, field
from typing import Callable

from . import excluded

__all__ = ["SubGroup", "Group", "Inventory", "GROUPS", "DaskMissing", "inventory", "dask_version"]


class DaskMissing(RuntimeError):
    """Dask (or pandas, which dask.dataframe needs) is not installed: there is nothing to compare with."""


@dataclass(frozen=True)
class SubGroup:
    """One table row: Dask objects whose names count, and graphflow's counterparts, pairwise."""

    title: str                        # shown in the table: "DataFrame", "module (dd.)"
    prefix: str                       # the marker prefix, unique across groups: "DataFrame", "dd"
    dask: Callable[[], list]          # the Dask classes / modules whose public names are counted
    graphflow: Callable[[], list]     # graphflow's objects, one per Dask object (ImportError: none yet)


@dataclass(frozen=True)
class Group:
    """A part of the API (``dataframe``): its sub-groups and where its marked tests live."""

    name: str
    subgroups: tuple
    tests: tuple                      # test paths, relative to the repository root
    target: float = 0.9               # the share of each sub-group's names to have (issue 18: 90%)


@dataclass
class Inventory:
    """The names of one sub-group as read from both libraries."""

    names: list                                     # the counted Dask names, qualified ("Series.isin")
    present: set                                    # those graphflow has (statically)
    excluded: dict = field(default_factory=dict)    # qualified name -> why it is not counted
    note: str | None = None                         # e.g. why graphflow has nothing for this sub-group


def _public(obj) -> list:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def _static(obj, name):
    try:
        return inspect.getattr_static(obj, name)
    except AttributeError:
        return _ABSENT


_ABSENT = object()


def _has(gf_obj, name: str, dask_attr) -> bool:
    attr = _static(gf_obj, name)
    if attr is _ABSENT:
        return False
    return not isinstance(attr, types.ModuleType) or isinstance(dask_attr, types.ModuleType)


def inventory(sub: SubGroup) -> Inventory:
    """Read ``sub``'s counted Dask names and which of them graphflow has."""
    try:
        dask_objs = sub.dask()
    except ImportError as e:
        raise DaskMissing(f"cannot import what {sub.title} is compared with ({e}); "
                          f"install the bench extra: pip install -e '.[bench]'") from e
    note = None
    try:
        gf_objs = sub.graphflow()
    except ImportError as e:
        gf_objs, note = [None] * len(dask_objs), f"graphflow has nothing to compare yet: {e}"
    except Exception as e:  # a report, not a test: a broken constructor is shown, not raised
        gf_objs, note = [None] * len(dask_objs), f"building graphflow's objects failed: {type(e).__name__}: {e}"
    if len(gf_objs) != len(dask_objs):
        raise ValueError(f"sub-group {sub.title}: {len(dask_objs)} Dask objects but {len(gf_objs)} graphflow ones; "
                         f"they are compared pairwise")
    present: dict = {}
    out = Inventory(names=[], present=set(), note=note)
    for dask_obj, gf_obj in zip(dask_objs, gf_objs):
        for name in _public(dask_obj):
            qualified = f"{sub.prefix}.{name}"
            attr = _static(dask_obj, name)
            why = excluded.reason(qualified, attr, name)
            if why is not None:
                out.excluded[qualified] = why
                continue
            has = gf_obj is not None and _has(gf_obj, name, attr)
            present[qualified] = present.get(qualified, True) and has
    out.names = sorted(present)
    out.present = {n for n, has in present.items() if has}
    return out


def dask_version() -> str | None:
    """The installed Dask's version, or None."""
    try:
        return importlib.import_module("dask").__version__
    except ImportError:
        return None


# ------------------------------------------------------------------ the groups


def _mod(name: str):
    return importlib.import_module(name)


def _dask_frames():
    pd, dd = _mod("pandas"), _mod("dask.dataframe")
    return dd.from_pandas(pd.DataFrame({"k": [1, 2], "x": [1.0, 2.0]}), npartitions=1)


def _gf_frames():
    return _mod("graphflow.dataframe").from_dict({"k": [1, 2], "x": [1.0, 2.0]}, npartitions=1)


def _dask_groupbys():
    df = _dask_frames()
    return [type(df.groupby("k")), type(df.groupby("k")["x"])]


def _gf_groupbys():
    df = _gf_frames()
    return [df.groupby("k"), df.groupby("k")["x"]]


DATAFRAME = Group("dataframe", tests=("tests/dataframe",), subgroups=(
    SubGroup("DataFrame", "DataFrame", lambda: [_mod("dask.dataframe").DataFrame], lambda: [_gf_frames()]),
    SubGroup("Series", "Series", lambda: [_mod("dask.dataframe").Series], lambda: [_gf_frames()["x"]]),
    SubGroup("GroupBy", "GroupBy", _dask_groupbys, _gf_groupbys),
    SubGroup("module (dd.)", "dd", lambda: [_mod("dask.dataframe")], lambda: [_mod("graphflow.dataframe")]),
))


def _dask_linalg():
    """dask.array.linalg's own functions: the module also holds names it imports to build them (``Array``,
    ``blockwise``, ``delayed``, ``np``, ``toolz``), which are not linear algebra and are not counted."""
    module = _mod("dask.array.linalg")
    own = {name: obj for name, obj in vars(module).items()
           if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__}
    return [types.SimpleNamespace(**own)]


# fft and random are sub-groups of their own (issue 20 part 5 asks for both): the module group leaves
# submodules out, so without them their functions would not be counted anywhere.
ARRAY = Group("array", tests=("tests/array",), target=0.85, subgroups=(
    SubGroup("Array", "Array", lambda: [_mod("dask.array").Array], lambda: [_mod("graphflow.array").Array]),
    SubGroup("module (da.)", "da", lambda: [_mod("dask.array")], lambda: [_mod("graphflow.array")]),
    SubGroup("da.linalg", "linalg", _dask_linalg, lambda: [_mod("graphflow.array.linalg")]),
    SubGroup("da.fft.", "fft", lambda: [_mod("dask.array.fft")], lambda: [_mod("graphflow.array.fft")]),
    SubGroup("da.random.", "random", lambda: [_mod("dask.array.random")],
             lambda: [_mod("graphflow.array.random")]),
    SubGroup("Generator", "Generator", lambda: [_mod("dask.array.random").Generator],
             lambda: [_mod("graphflow.array.random").Generator]),
))

BAG = Group("bag", tests=("tests/bag",), subgroups=(
    SubGroup("Bag", "Bag", lambda: [_mod("dask.bag").Bag], lambda: [_mod("graphflow.bag").Bag]),
    SubGroup("module (db.)", "db", lambda: [_mod("dask.bag")], lambda: [_mod("graphflow.bag")]),
))


def _gf_top_level():
    """graphflow's top-level names as plain attributes: most load lazily (module ``__getattr__``), which
    `inspect.getattr_static` does not see."""
    gf = _mod("graphflow")
    return types.SimpleNamespace(**{name: getattr(gf, name) for name in gf.__all__})


# dask.distributed: the Client's and Future's public methods, and the top-level names of the package (its
# submodules are left out by the module rule, as for the other groups).
DISTRIBUTED = Group("distributed", tests=("tests/client",), target=0.8, subgroups=(
    SubGroup("Client", "Client", lambda: [_mod("distributed").Client], lambda: [_mod("graphflow.client").Client]),
    SubGroup("Future", "Future", lambda: [_mod("distributed").Future], lambda: [_mod("graphflow.client").Future]),
    SubGroup("module (distributed.)", "distributed", lambda: [_mod("distributed")], lambda: [_gf_top_level()]),
))

GROUPS = {g.name: g for g in (DATAFRAME, ARRAY, BAG, DISTRIBUTED)}
