"""The graph format: keys, tokens, nodes and the TaskGraph.

This layer knows nothing about optimizing or running graphs.
"""

from .graph import GraphIndex, TaskGraph, toposort
from .keys import is_valid_key, key_split, key_str, unique_suffix, validate_key
from .nodes import DataNode, FusedTask, Node, Ref, Task, funcname
from .tokenize import normalize_token, tokenize

__all__ = [
    "DataNode",
    "FusedTask",
    "GraphIndex",
    "Node",
    "Ref",
    "Task",
    "TaskGraph",
    "funcname",
    "is_valid_key",
    "key_split",
    "key_str",
    "normalize_token",
    "tokenize",
    "toposort",
    "unique_suffix",
    "validate_key",
]
