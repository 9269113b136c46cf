"""Where and how submitted tasks may run: ``workers=``, ``allow_other_workers=``, ``resources=``, ``retries=``,
``priority=``.

Every way of sending work (``submit``, ``map``, ``compute``, ``persist``,
``get``) takes these options; `task_options` turns them into the per-key
fields of `graphflow.comm.messages.SubmitGraph`.  ``gf.annotate(...)`` sets
defaults for the work *submitted* inside its ``with`` block (explicit
arguments win)::

    >>> import graphflow as gf
    >>> with gf.annotate(resources={"GPU": 1}, retries=2):   # doctest: +SKIP
    ...     total = client.compute(arr.sum())                # every task of it asks for a GPU

Unlike Dask's ``annotate``, which marks the graph layers *built* in the
block, graphflow's applies when the graph is sent, to all its tasks:
graphflow's graph nodes are immutable and carry no annotations.
``workers=`` entries may be addresses, worker names or hosts
(`graphflow.scheduler.restrictions`); ``resources=`` a dict or ``"GPU=1"``
(`graphflow.utils.resources`).
"""

from __future__ import annotations

import contextlib
import contextvars

from ..utils.resources import parse_resources

__all__ = ["annotate", "task_options", "ANNOTATIONS"]

ANNOTATIONS = ("workers", "allow_other_workers", "resources", "retries", "priority")
_current = contextvars.ContextVar("graphflow_annotations", default={})


@contextlib.contextmanager
def annotate(**annotations):
    """Defaults for ``workers``, ``allow_other_workers``, ``resources``, ``retries`` and ``priority`` of
    the work submitted to a `Client` inside the block; blocks nest (the inner one wins per option)."""
    unknown = set(annotations) - set(ANNOTATIONS)
    if unknown:
        raise TypeError(f"gf.annotate got unknown annotations {sorted(unknown)}; it takes {list(ANNOTATIONS)}")
    if "resources" in annotations:
        annotations["resources"] = parse_resources(annotations["resources"])
    token = _current.set({**_current.get(), **annotations})
    try:
        yield
    finally:
        _current.reset(token)


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (str, bytes)):
        return [x]
    return list(x)


def task_options(keys, *, workers=None, allow_other_workers=None, resources=None, retries=None,
                 priority=None) -> dict:
    """``{"retries", "restrictions", "resources", "loose", "user_priority"}`` for `Client`'s ``_send_graph``.

    Arguments left None take the current ``gf.annotate`` defaults.  Each value
    is None when unused, so a plain submission sends nothing extra.
    """
    ann = _current.get()
    if ann:
        workers = ann.get("workers") if workers is None else workers
        allow_other_workers = ann.get("allow_other_workers") if allow_other_workers is None else allow_other_workers
        resources = ann.get("resources") if resources is None else resources
        retries = ann.get("retries") if retries is None else retries
        priority = ann.get("priority") if priority is None else priority
    out = {"retries": None, "restrictions": None, "resources": None, "loose": None, "user_priority": None}
    if priority:
        if isinstance(priority, bool) or not isinstance(priority, (int, float)):
            raise TypeError(f"priority must be a number (higher runs first), not {priority!r}")
        out["user_priority"] = {k: priority for k in keys}
    if retries:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a whole number >= 0, not {retries!r}")
        out["retries"] = {k: retries for k in keys}
    names = _as_list(workers)
    if names:
        allowed = set(names)
        out["restrictions"] = {k: allowed for k in keys}
        if allow_other_workers:
            out["loose"] = frozenset(keys)
    elif allow_other_workers:
        raise ValueError("allow_other_workers=True needs workers= (the workers to prefer)")
    request = parse_resources(resources)
    if request:
        out["resources"] = {k: request for k in keys}
    return out
