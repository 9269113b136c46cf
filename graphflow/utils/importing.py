"""Objects named by a ``"module:name"`` string, for settings that choose a class (see `graphflow.config`).

    >>> import_object("collections:OrderedDict").__name__
    'OrderedDict'
"""

from __future__ import annotations

import importlib

__all__ = ["import_object"]


def import_object(path: str):
    """The object ``name`` of module ``module`` for ``"module:name"`` (``name`` may be dotted)."""
    module, sep, name = path.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"expected 'module:name', not {path!r}")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj
