"""Text and HTML summaries of an Array, from metadata only (nothing is computed).

    >>> import graphflow.array as ga
    >>> ga.ones((4000, 4000), chunks=1000)
    graphflow.Array<ones, shape=(4000, 4000), dtype=float64, chunksize=(1000, 1000), blocks=16, tasks=16, 122.07 MiB>
"""

from __future__ import annotations

import html

from ..spec import key_split

__all__ = ["array_repr", "array_html", "format_bytes"]


def format_bytes(n) -> str:
    """``1.50 KiB`` style sizes; ``unknown`` for nan."""
    if n != n:
        return "unknown size"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _task_count(x) -> int:
    # Through the collection protocol (``Array.__graphflow_collect__`` is `core.collect`): core imports this module.
    return len(x.__graphflow_collect__([x]))


def array_repr(x) -> str:
    name = key_split(x.name)
    return (f"graphflow.Array<{name}, shape={x.shape}, dtype={x.dtype}, chunksize={x.chunksize}, "
            f"blocks={x.npartitions}, tasks={_task_count(x)}, {format_bytes(x.nbytes)}>")


def array_html(x) -> str:
    rows = [("Shape", x.shape), ("Dtype", x.dtype), ("Chunk shape", x.chunksize), ("Blocks", x.npartitions),
            ("Tasks", _task_count(x)), ("Bytes", format_bytes(x.nbytes))]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table><caption>graphflow.Array {html.escape(key_split(x.name))}</caption>{body}</table>"
