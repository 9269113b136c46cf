"""The dashboard's tornado application: a JSON API under ``/api/v1/`` and one static page.

Everything it shows comes from a *source* with two thread-safe methods (the
scheduler's ``diagnostics``): ``snapshot()``, the latest state the scheduler
published (at most every 500 ms), and ``task_stream(since, count)``, finished
task records.  The app never asks the scheduler to compute anything.

    GET /api/v1/snapshot            the whole snapshot
    GET /api/v1/workers             snapshot["workers"]
    GET /api/v1/tasks               {"progress", "graph", "counts"}
    GET /api/v1/memory              {worker address: memory dict}
    GET /api/v1/task_stream?since=T&count=N   task records with stop >= T, oldest first (the last N);
                                    &sample=K: at most K of them, evenly spaced (what the page asks:
                                    at thousands of tasks a second it draws a sample, not every bar)
    GET /api/v1/summary             the snapshot without its graph (what the page polls); with
                                    &stream_after=A (&sample=K): plus "stream", the task records that
                                    ran since counts.stream was A (see `new_records`): one request
                                    where the page made two
    GET /api/v1/graph               snapshot["graph"] (the page asks for it less often: it is the big part)
    GET / and /status               the page (static/index.html); /static/... its scripts

The snapshot endpoints take ``?after=T``: if the latest snapshot is not newer
than ``T`` they answer 204 with no body, so a page polling faster than the
scheduler publishes costs a few microseconds, not a JSON encoding.  With
``&wait=S`` (at most 10 s) the answer waits until a newer snapshot is
published or ``S`` seconds pass (a long poll): the page sees each snapshot
within ~50 ms of its publication and asks no more often than the scheduler
publishes.  Each published snapshot is encoded once (per endpoint) however
many pages ask.

Access: with ``token`` set (the dashboard listens beyond loopback), a request
must carry the cluster token once as ``?token=...`` (the reply sets a cookie
derived from it, never the token itself) or as ``Authorization: Bearer ...``;
otherwise 403.  On loopback (``loopback_only``) no token is asked, but a
request must name a loopback host (``Host: 127.0.0.1:8787``, ``[::1]:8787``,
``localhost``), checked exactly (`graphflow.comm.addresses.host_header_is_loopback`):
a web page that re-points its own domain at 127.0.0.1 (DNS rebinding, e.g.
``127.0.0.1.nip.io``) gets 403, not the cluster's task names.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import os
import time

from tornado import web

from ...comm.addresses import host_header_is_loopback

logger = logging.getLogger("graphflow.dashboard")

__all__ = ["make_app", "STATIC_DIR", "COOKIE"]

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
COOKIE = "graphflow_dashboard"
_MAX_STREAM = 20_000  # records per task_stream answer: a page draws the last ~10 s, never more
_FIRST_STREAM = 2_000  # records a page's first summary?stream_after= gets (the newest)
_MAX_WAIT = 10.0  # seconds a long poll (?wait=) may hold a request
_WAIT_STEP = 0.05  # how often a long poll looks for a newer snapshot once one is due
_DUE_SLACK = 0.005  # seconds after a snapshot is due that a long poll looks for it
_RECENT = 1.0  # a source read this recently is being watched: its snapshot() returns at once
_SLICE = 500  # list items per json.dumps call (see encode)

EMPTY_SNAPSHOT = {
    "time": 0.0, "scheduler": None, "workers": [], "progress": [],
    "graph": {"nodes": [], "edges": [], "truncated": False},
    "counts": {"tasks": 0, "workers": 0, "clients": 0},
}

_PARTS = {
    "snapshot": lambda s: s,
    "workers": lambda s: s.get("workers", []),
    "tasks": lambda s: {k: s.get(k, EMPTY_SNAPSHOT[k]) for k in ("progress", "graph", "counts")},
    "memory": lambda s: {w["address"]: w.get("memory", {}) for w in s.get("workers", [])},
    "summary": lambda s: {k: v for k, v in s.items() if k != "graph"},
    "graph": lambda s: s.get("graph", EMPTY_SNAPSHOT["graph"]),
}


def _cookie_value(token: bytes) -> str:
    return hmac.new(token, b"graphflow-dashboard-cookie", hashlib.sha256).hexdigest()


def encode(obj) -> bytes:
    """JSON bytes for the page: non-finite floats become null (JSON has no NaN), unknown types str().

    Long lists (a graph's nodes and edges, a task stream) are encoded in slices: one ``json.dumps``
    holds the GIL from start to end, and the scheduler's loop shares this process, so a 5,000-node
    graph in one call would stall it for milliseconds; between slices it can run.

    >>> encode({"graph": {"nodes": list(range(5)), "x": float("nan")}})
    b'{"graph":{"nodes":[0,1,2,3,4],"x":null}}'
    """
    try:
        return _dumps(obj).encode()
    except ValueError:
        return _dumps(_finite(obj)).encode()


def _dumps(obj) -> str:
    if isinstance(obj, list) and len(obj) > _SLICE:
        parts = (json.dumps(obj[i:i + _SLICE], separators=(",", ":"), allow_nan=False, default=str)[1:-1]
                 for i in range(0, len(obj), _SLICE))
        return "[" + ",".join(parts) + "]"
    if isinstance(obj, dict) and any(isinstance(v, (list, dict)) for v in obj.values()):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_dumps(v)}" for k, v in obj.items()) + "}"
    return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


class SnapshotCache:
    """The latest snapshot's JSON per endpoint, encoded on first request (used on the app's thread only).

    ``source.snapshot()`` may wait (up to a second, when nobody asked for a
    while and the scheduler builds a fresh one): then it runs on a helper
    thread so the app's loop keeps answering other requests meanwhile.  Asked
    again within a second (a page polling), it returns at once: called
    directly, which spares a thread hop per long-poll step.
    """

    def __init__(self, source):
        from concurrent.futures import ThreadPoolExecutor

        self.source = source
        self._snapshot = None
        self._encoded: dict = {}
        self._graph_json = (None, b"")  # (graph dict, its JSON): snapshots share a graph until it is rebuilt
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="graphflow-dashboard-reader")
        self._asked = float("-inf")  # time.monotonic() of the last snapshot() call

    async def current(self) -> dict:
        from tornado.ioloop import IOLoop

        recently = time.monotonic() - self._asked < _RECENT
        self._asked = time.monotonic()
        if recently:
            snap = self.source.snapshot() or EMPTY_SNAPSHOT
        else:
            snap = await IOLoop.current().run_in_executor(self._reader, self.source.snapshot) or EMPTY_SNAPSHOT
        if snap is not self._snapshot:  # published snapshots are replaced, never mutated
            self._snapshot, self._encoded = snap, {}
        return snap

    def until_next(self, snap: dict) -> float:
        """Seconds a long poll sleeps before looking again: until ``snap``'s successor is due, then steps.

        The scheduler publishes every ``source.interval`` seconds while watched, so a poll that woke every
        ``_WAIT_STEP`` found nothing new nine times in ten -- each wake a GIL hand-off with the busy
        scheduler loop of this process.  A late successor (the loop was busy) is looked for every step.
        """
        interval = getattr(self.source, "interval", None)
        if not interval:
            return _WAIT_STEP
        due = snap.get("time", 0.0) + interval + _DUE_SLACK - time.time()
        return due if _WAIT_STEP < due <= interval + _DUE_SLACK else _WAIT_STEP

    def body(self, snap: dict, part: str) -> bytes:
        """The JSON of ``part`` of ``snap`` (cached while ``snap`` is the latest)."""
        if snap is not self._snapshot:  # a newer one arrived while this request waited
            return encode(_PARTS[part](snap))
        data = self._encoded.get(part)
        if data is None:
            if part == "graph":
                data = self._encoded[part] = self._graph_body(_PARTS[part](snap))
            else:
                data = self._encoded[part] = encode(_PARTS[part](snap))
        return data

    def _graph_body(self, graph) -> bytes:
        if graph is not self._graph_json[0]:
            self._graph_json = (graph, encode(graph))
        return self._graph_json[1]

    def close(self) -> None:
        self._reader.shutdown(wait=False)


def _log_request(handler) -> None:
    # Tornado logs every request at INFO: at the page's 2-4 polls a second that floods the scheduler's log.
    status = handler.get_status()
    if status >= 500:
        logger.warning("dashboard: %d %s", status, handler._request_summary())
    elif status >= 400:
        logger.debug("dashboard: %d %s", status, handler._request_summary())


class _Guarded:
    """Checks the cluster token when the app has one (mixed into every handler)."""

    def prepare(self):
        token = self.settings.get("token")
        if token is None:
            if self.settings.get("loopback_only") and not host_header_is_loopback(self.request.host or ""):
                self.set_status(403)
                self.finish("403: this dashboard answers only requests to a loopback host name "
                            "(127.0.0.1, localhost, ::1).\n")
            return
        expected = _cookie_value(token)
        if hmac.compare_digest(self.get_cookie(COOKIE, "").encode(), expected.encode()):
            return
        given = self.get_query_argument("token", None)
        header = self.request.headers.get("Authorization", "")
        if given is None and header.lower().startswith(("bearer ", "token ")):
            given = header.split(None, 1)[1].strip()
        if given is not None and hmac.compare_digest(given.encode(), token):
            self.set_cookie(COOKIE, expected, httponly=True, samesite="Strict")
            return
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403: this dashboard listens beyond loopback and needs the cluster token. Open it once as "
                    ".../status?token=TOKEN (the token is in GRAPHFLOW_TOKEN or ~/.graphflow/token on the "
                    "scheduler's host), or send 'Authorization: Bearer TOKEN'.\n")


class _Api(_Guarded, web.RequestHandler):
    def set_default_headers(self):
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")

    def _float_arg(self, name: str):
        value = self.get_query_argument(name, None)
        if value in (None, "", "null"):
            return None
        try:
            return float(value)
        except ValueError:
            raise web.HTTPError(400, f"?{name}= must be a number, not {value!r}") from None

    def write_error(self, status_code, **kwargs):
        self.finish(encode({"error": self._reason, "status": status_code}))


class SnapshotHandler(_Api):
    """One part of the latest snapshot (``part`` is set per route)."""

    def initialize(self, part: str, cache: SnapshotCache):
        self.part = part
        self.cache = cache

    async def get(self):
        after = self._float_arg("after")
        wait = min(max(self._float_arg("wait") or 0.0, 0.0), _MAX_WAIT)
        deadline = time.monotonic() + wait
        snap = await self.cache.current()
        while after is not None and snap.get("time", 0.0) <= after and time.monotonic() < deadline:
            if self.request.connection.stream.closed():  # the page went away
                return
            await asyncio.sleep(min(self.cache.until_next(snap), max(deadline - time.monotonic(), 0.0)))
            snap = await self.cache.current()
        self.set_header("X-Snapshot-Time", repr(snap.get("time", 0.0)))
        if after is not None and snap.get("time", 0.0) <= after:
            self.set_status(204)
            return self.finish()
        body = self.cache.body(snap, self.part)
        stream_after = self._float_arg("stream_after") if self.part == "summary" else None
        if stream_after is not None:  # the cached summary, closed with this page's own records
            records = new_records(self.cache.source, snap, stream_after, self._float_arg("sample"))
            body = body[:-1] + b',"stream":' + encode(records) + b"}"
        self.finish(body)


def new_records(source, snap: dict, after: float, sample) -> list:
    """The task records that ran since ``snap["counts"]["stream"]`` was ``after`` (negative: the newest
    ``_FIRST_STREAM``), at most ``sample`` of them evenly spaced; none, without asking ``source``, when none ran.

    The newest N rather than "since T": the scheduler slices its ring instead of searching it.  A quarter
    more than counted, for the runs recorded between the snapshot and this request.
    """
    added = snap.get("counts", {}).get("stream")
    if added is None or after < 0:
        count = _FIRST_STREAM
    elif added <= after:
        return []
    else:
        count = min(_MAX_STREAM, math.ceil(1.25 * (added - after)))
    return source.task_stream(None, count, None if sample is None else max(1, int(sample)))


class TaskStreamHandler(_Api):
    def initialize(self, source):
        self.source = source

    def get(self):
        since = self._float_arg("since")
        count = self._float_arg("count")
        count = _MAX_STREAM if count is None else max(0, min(int(count), _MAX_STREAM))
        sample = self._float_arg("sample")
        sample = None if sample is None else max(1, int(sample))
        # The source samples before it formats records: a busy second costs the scheduler process little.
        records = self.source.task_stream(since, count, sample) if count else []
        self.finish(encode(records))


class PageHandler(_Guarded, web.RequestHandler):
    def get(self):
        self.set_header("Cache-Control", "no-store")
        self.render_page()

    def render_page(self):
        with open(os.path.join(STATIC_DIR, "index.html"), "rb") as f:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(f.read())


class GuardedStatic(_Guarded, web.StaticFileHandler):
    pass


def make_app(source, *, token: bytes | None = None, loopback_only: bool = False) -> web.Application:
    """The tornado application serving ``source``.

    ``token``: required from every request when given; ``loopback_only``: refuse requests that do not
    name a loopback host (for a dashboard bound to 127.0.0.1, against DNS rebinding).
    """
    cache = SnapshotCache(source)
    routes = [(rf"/api/v1/{part}/?", SnapshotHandler, {"part": part, "cache": cache}) for part in _PARTS]
    routes += [
        (r"/api/v1/task_stream/?", TaskStreamHandler, {"source": source}),
        (r"/(?:status/?)?", PageHandler),
        (r"/static/(.*)", GuardedStatic, {"path": STATIC_DIR}),
    ]
    app = web.Application(routes, token=token, loopback_only=loopback_only, compress_response=False,
                          log_function=_log_request)
    app.snapshot_cache = cache
    return app
