"""HTML cards for Jupyter: what a Client, cluster, Future or lazy collection is, at a glance.

Each public class has a one-line ``_repr_html_`` calling one function here.
The cards show metadata only: nothing is computed, and a Client's card asks
the scheduler one quick question (its workers), with a short timeout.  Every
value goes through `html.escape` (keys and column names are user text).

    >>> import graphflow as gf
    >>> card = delayed_html(gf.delayed(sum)([1, 2]))
    >>> "Tasks" in card and "sum-" in card
    True
"""

from __future__ import annotations

import html
import math
import re

from .units import format_bytes

__all__ = ["client_html", "cluster_html", "future_html", "delayed_html", "array_html", "dataframe_html",
           "series_html", "card", "table"]

_CARD = ("border:1px solid #c8ccd2;border-radius:4px;padding:6px 10px;margin:2px 0;display:inline-block;"
         "font-family:sans-serif;font-size:13px;vertical-align:top")
_TITLE = "font-weight:bold;margin-bottom:4px"
_CELL = "text-align:left;padding:1px 8px 1px 0"
_INDEX_COLUMN = re.compile(r"^__index_level_\d+__$")
INFO_TIMEOUT = 2.0  # seconds a Client card waits for the scheduler before showing what it knows


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def table(rows, header=None) -> str:
    """An HTML table of ``rows`` (sequences of cells), every cell escaped."""
    head = ""
    if header:
        head = "<tr>" + "".join(f'<th style="{_CELL}">{_e(h)}</th>' for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{_e(c)}</td>' for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _facts(pairs) -> str:
    """A two-column table: a name (bold) and its value."""
    body = "".join(f'<tr><th style="{_CELL}">{_e(k)}</th><td style="{_CELL}">{_e(v)}</td></tr>' for k, v in pairs)
    return f"<table>{body}</table>"


def card(title: str, *parts: str, extra: str = "") -> str:
    """A bordered box: an escaped ``title``, then ``parts`` (already HTML) side by side."""
    inner = "".join(f'<div style="display:inline-block;vertical-align:top;margin-right:12px">{p}</div>'
                    for p in parts)
    return f'<div style="{_CARD}"><div style="{_TITLE}">{_e(title)}</div>{inner}{extra}</div>'


def _task_count(collection):
    """Tasks in a collection's graph (built, never run); ``"?"`` if building it fails."""
    try:
        return len(collection.__graphflow_graph__())
    except Exception:
        return "?"


def _size(n) -> str:
    if n is None or (isinstance(n, float) and n != n):
        return "unknown"
    return format_bytes(int(n))


# ------------------------------------------------------------------ cluster


def _link(url) -> str:
    if not url:
        return "none"
    return f'<a href="{_e(url)}" target="_blank">{_e(url)}</a>'


def _workers_table(info: dict) -> str:
    rows = []
    for address, w in sorted(info.get("workers", {}).items()):
        memory = w.get("memory") or {}
        used = memory.get("rss") or memory.get("managed") or w.get("nbytes", 0)
        limit = w.get("memory_limit")
        share = f" ({100 * used / limit:.0f}%)" if limit else ""
        rows.append((f"{w['name']} ({address})" if w.get("name") else address, w.get("nthreads", "?"),
                     f"{_size(used)} / {_size(limit) if limit else 'no limit'}{share}",
                     _size(memory.get("spilled", 0)), w.get("processing", 0)))
    if not rows:
        return "<i>no workers connected</i>"
    return table(rows, header=("worker", "threads", "memory used / limit", "spilled", "tasks"))


def _cluster_card(title: str, address: str, status: str, dashboard, info: dict | None, error: str = "") -> str:
    workers = info.get("workers", {}) if info else {}
    facts = [("Scheduler", address), ("Status", status)]
    if info:
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        limits = [w.get("memory_limit") for w in workers.values()]
        memory = _size(sum(limits)) if limits and all(limits) else "no limit"
        facts += [("Workers", len(workers)), ("Threads", threads), ("Memory", memory),
                  ("Tasks held", info.get("tasks", 0))]
    link = f'<div style="margin:4px 0">Dashboard: {_link(dashboard)}</div>'
    if info:
        detail = _workers_table(info)
    else:
        detail = f"<i>{_e(error or 'no answer from the scheduler')}</i>"
    return card(title, _facts(facts), extra=link + detail)


def _ask_info(client) -> tuple:
    """``(scheduler_info or None, why not)`` within `INFO_TIMEOUT` seconds."""
    if getattr(client, "status", None) != "running":
        return None, f"the client is {getattr(client, 'status', 'closed')}"
    try:
        from .comm.messages import SchedulerInfoRequest

        return client.ask(SchedulerInfoRequest(), timeout=INFO_TIMEOUT), ""
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _dashboard_link(obj, info):
    """``obj.dashboard_link`` if the scheduler answered (the property asks it too), else None."""
    if info is None:
        return None
    try:
        return getattr(obj, "dashboard_link", None)
    except Exception:  # a card shows what it can
        return None


def client_html(client) -> str:
    """A Client's card: scheduler, status, dashboard link, and each worker's threads and memory."""
    info, error = _ask_info(client)
    return _cluster_card("graphflow.Client", client.scheduler_address, client.status,
                         _dashboard_link(client, info), info, error)


def cluster_html(cluster) -> str:
    """A LocalCluster's card, as `client_html` (through the cluster's own admin client)."""
    admin = getattr(cluster, "admin", None)
    info, error = _ask_info(admin) if admin is not None else (None, "the cluster is not running")
    dashboard = _dashboard_link(cluster, info) or _dashboard_link(admin, info)
    return _cluster_card("graphflow.LocalCluster", cluster.scheduler_address, cluster.status, dashboard,
                         info, error)


# ------------------------------------------------------------------ futures and delayed


def future_html(future) -> str:
    """A Future's card: key, status, result type and size once known, error type if it failed."""
    state = future.key_state
    facts = [("Key", future.key), ("Status", state.status)]
    if state.type_name:
        facts.append(("Type", state.type_name))
    if state.status == "finished" and state.nbytes:
        facts.append(("Bytes", _size(state.nbytes)))
    if state.status == "error" and state.exception is not None:
        facts.append(("Error", f"{type(state.exception).__name__}: {state.exception}"))
    return card("graphflow.Future", _facts(facts))


def delayed_html(value) -> str:
    """A Delayed's card: its key and the number of tasks of its graph."""
    return card("graphflow.Delayed", _facts([("Key", value.key), ("Tasks", _task_count(value))]))


# ------------------------------------------------------------------ arrays


def array_html(x) -> str:
    """An Array's card: shape, dtype, chunks, blocks, tasks, bytes, and the chunk grid as an SVG."""
    from .spec import key_split

    chunk_bytes = math.prod(x.chunksize) * x.dtype.itemsize if x.ndim else x.dtype.itemsize
    facts = [("Shape", x.shape), ("Dtype", x.dtype), ("Chunk shape", x.chunksize), ("Blocks", x.npartitions),
             ("Blocks per axis", x.numblocks), ("Tasks", _task_count(x)), ("Bytes", _size(x.nbytes)),
             ("Bytes per chunk", _size(chunk_bytes))]
    return card(f"graphflow.Array {key_split(x.name)}", _facts(facts), chunk_grid_svg(x.chunks))


def chunk_grid_svg(chunks, size: int = 120, max_lines: int = 60) -> str:
    """The block grid of the last two axes (one axis: a strip), drawn to scale; empty for 0-d or unknown sizes."""
    axes = [c for c in chunks[-2:]]
    if not axes or any(b != b for c in axes for b in c) or any(sum(c) == 0 for c in axes):
        return ""
    if len(axes) == 1:
        axes = [(1,), axes[0]]
    rows, cols = axes
    total_r, total_c = sum(rows), sum(cols)
    # Keep the aspect ratio, but never thinner than a few pixels.
    scale = size / max(total_r, total_c)
    height, width = max(12.0, total_r * scale), max(12.0, total_c * scale)
    lines = []
    for edges, total, horizontal in ((rows, total_r, True), (cols, total_c, False)):
        positions = _edges(edges, total, height if horizontal else width, max_lines)
        for p in positions:
            if horizontal:
                lines.append(f'<line x1="0" y1="{p:.1f}" x2="{width:.1f}" y2="{p:.1f}"/>')
            else:
                lines.append(f'<line x1="{p:.1f}" y1="0" x2="{p:.1f}" y2="{height:.1f}"/>')
    return (f'<svg width="{width + 2:.0f}" height="{height + 2:.0f}" xmlns="http://www.w3.org/2000/svg">'
            f'<g transform="translate(1,1)" stroke="#555" stroke-width="0.8">'
            f'<rect width="{width:.1f}" height="{height:.1f}" fill="#cfe2f3"/>{"".join(lines)}</g></svg>')


def _edges(lengths, total, extent: float, max_lines: int) -> list:
    """Pixel positions of block boundaries; at most ``max_lines`` inner ones (a dense grid reads as shaded)."""
    out, acc = [0.0], 0
    inner = len(lengths) - 1
    step = max(1, -(-inner // max_lines)) if inner > max_lines else 1
    for i, n in enumerate(lengths):
        acc += n
        if i == len(lengths) - 1 or (i + 1) % step == 0:
            out.append(acc / total * extent)
    return out


# ------------------------------------------------------------------ dataframes


def dataframe_html(df) -> str:
    """A DataFrame's card: partitions, tasks, each column (by its label) with its pandas dtype (what
    ``compute()`` gives, as Dask's card shows), then the index."""
    facts = [("Partitions", df.npartitions), ("Columns", len(df.columns)), ("Tasks", _task_count(df))]
    # the index is kept in __index_level_i__ columns (graphflow.dataframe.labels): shown as the index, by name
    stored = [f for f in df.schema if _INDEX_COLUMN.match(f.name)]
    names = df.index.name if len(stored) == 1 else None
    meta = df.meta
    rows = list(meta.dtypes.items())
    rows += [(f"index ({names})" if names is not None else "index", meta.index.get_level_values(i).dtype)
             for i in range(len(stored))]
    columns = table(rows, header=("column", "type"))
    return card(f"graphflow.DataFrame ({df.npartitions} partitions)", _facts(facts), columns)


def series_html(s) -> str:
    """A Series's card: name, type, partitions and tasks."""
    facts = [("Name", s.name), ("Type", s.dtype), ("Partitions", s.npartitions), ("Tasks", _task_count(s))]
    return card("graphflow.Series", _facts(facts))
