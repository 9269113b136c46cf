"""Find an engine by name: ``"graphflow"`` itself, or one of the anchors.

    >>> load_engine("graphflow").name
    'graphflow'
"""

from __future__ import annotations

from . import anchors
from .model import Engine

__all__ = ["load_engine", "SUBJECT"]

SUBJECT = "graphflow"  # the engine under test: always the first column


def load_engine(name: str) -> Engine:
    """The `Engine` called ``name`` (imports its library)."""
    if name == SUBJECT:
        import graphflow

        from .catalog import GRAPHFLOW_CASES

        return Engine(SUBJECT, graphflow.__version__, GRAPHFLOW_CASES, "import graphflow")
    if name not in anchors.ANCHORS:
        raise KeyError(f"unknown engine {name!r}; known: {[SUBJECT, *anchors.ANCHORS]}")
    return anchors.load(name)
