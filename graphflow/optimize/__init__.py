"""The optimizer: pure rules over `TaskGraph`, run by a pipeline of named stages."""

from .cull import cull
from .fuse import fuse_linear
from .inline import inline_constants, is_cheap_constant
from .order import compute_priorities, order, peak_live
from .pipeline import STAGE_NAMES, optimize_collections, optimize_graph

__all__ = [
    "optimize_collections",
    "STAGE_NAMES",
    "compute_priorities",
    "cull",
    "fuse_linear",
    "inline_constants",
    "is_cheap_constant",
    "optimize_graph",
    "order",
    "peak_live",
]
