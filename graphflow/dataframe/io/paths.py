"""Expanding what a user passes as a path: a file, a directory, a glob, or a list of those.

    >>> expand_paths([], ".parquet")
    []
"""

from __future__ import annotations

import glob
import os

__all__ = ["expand_paths"]


def expand_paths(path, suffix: str) -> list:
    """Sorted file paths: directories are walked for files ending in ``suffix``; globs are expanded."""
    items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    out: list = []
    for p in items:
        p = os.fspath(p)
        if os.path.isdir(p):
            found = []
            for root, _, files in os.walk(p):
                found += [os.path.join(root, f) for f in files if f.endswith(suffix)]
            out += sorted(found)
        elif any(ch in p for ch in "*?["):
            out += sorted(glob.glob(p, recursive=True))
        elif os.path.exists(p):
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or directory: {p!r}")
    return out
