"""The dashboard's own thread: a tornado HTTP server on an event loop the scheduler's loop never waits for.

The scheduler process runs its zmq/tornado loop on the main thread; the
dashboard runs on a second thread with a second asyncio loop.  The only
things the dashboard touches in the scheduler are two thread-safe methods of
``scheduler.diagnostics`` (``snapshot()``, ``task_stream(since, count)``),
so a slow browser, a big graph to encode or a stuck socket cannot delay a
scheduling decision.  Python's GIL is still shared: the app keeps its work
small (each published snapshot is encoded to JSON once, whoever asks).

Address: ``":8787"`` means 127.0.0.1:8787, ``"0.0.0.0:8787"`` every
interface.  Only a loopback address (an IP literal that is loopback, or the
name ``localhost``: `graphflow.comm.addresses.is_loopback`) serves without
the cluster token; any other asks for it (see
`graphflow.diagnostics.dashboard.app`), and then `DashboardServer.link`, the
URL printed and handed to clients, carries it.  If the port is taken, a free
one is used and logged, as dask does.

    >>> server = DashboardServer(source, "0.0.0.0:0", token=b"s3cret").start()   # doctest: +SKIP
    >>> server.url, server.link                                                  # doctest: +SKIP
    ('http://127.0.0.1:40123/status', 'http://127.0.0.1:40123/status?token=s3cret')
    >>> server.close()                                                           # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading

from ...comm.addresses import is_loopback, is_wildcard, link_for_client, with_token  # noqa: F401  (re-exported)
from ...errors import ConfigError, GraphflowError

logger = logging.getLogger("graphflow.dashboard")

__all__ = ["DashboardServer", "parse_address", "is_loopback", "link_for_client", "start_for_scheduler"]

DEFAULT_ADDRESS = ":8787"


def parse_address(address: str) -> tuple:
    """``(host, port)`` from ``":8787"``, ``"8787"``, ``"HOST:PORT"``, ``"[::1]:8787"`` or ``"http://HOST:PORT"``.

    >>> parse_address(":8787"), parse_address("0.0.0.0:0"), parse_address("[::1]:9000")
    (('127.0.0.1', 8787), ('0.0.0.0', 0), ('::1', 9000))
    """
    text = str(address).strip()
    for scheme in ("http://", "https://", "tcp://"):
        if text.startswith(scheme):
            text = text[len(scheme):]
    text = text.rstrip("/")
    if text.isdigit():
        host, port = "", text
    elif text.startswith("["):
        host, _, port = text[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise ConfigError(f"bad dashboard address {address!r}: expected HOST:PORT, :PORT or PORT "
                          f"(e.g. ':8787' or '0.0.0.0:8787')") from None
    if not 0 <= number < 65536:
        raise ConfigError(f"bad dashboard address {address!r}: port {number} is out of range")
    return (host or "127.0.0.1"), number


class DashboardServer:
    """Serve the dashboard app for ``source`` (an object with ``snapshot()`` and ``task_stream()``).

    ``token``: the cluster token (bytes); asked for when the host is not a
    loopback address.  `start` returns once the socket is bound (or raises).
    """

    def __init__(self, source, address: str = DEFAULT_ADDRESS, token: bytes | None = None):
        self.source = source
        self.host, self.requested_port = parse_address(address)
        self.token = token
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def require_token(self) -> bool:
        """Does a request need the cluster token?  Yes unless the dashboard listens on loopback only."""
        return not is_loopback(self.host)

    @property
    def url(self) -> str:
        """``http://HOST:PORT/status``, without the token (a wildcard host is shown as this machine's loopback)."""
        host = self.host
        if is_wildcard(host):
            # tornado binds "::" to IPv6 alone (IPV6_V6ONLY), so 127.0.0.1 would not reach it
            host = "::1" if ":" in host else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/status"

    @property
    def link(self) -> str:
        """`url` as a person opens it: with ``?token=`` when the dashboard asks for the token."""
        return with_token(self.url, self.token if self.require_token else None)

    def start(self, timeout: float = 10.0) -> "DashboardServer":
        """Bind and serve on a daemon thread; raise if the socket cannot be bound within ``timeout``."""
        self._thread = threading.Thread(target=self._run, name="graphflow-dashboard", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise GraphflowError(f"the dashboard did not start within {timeout} s on {self.host}")
        if self._error is not None:
            raise self._error
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving and join the thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._stop_in_loop)
            except RuntimeError:  # the loop closed in between
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._serve()
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc if isinstance(exc, GraphflowError) else GraphflowError(
                f"the dashboard could not listen on {self.host}:{self.requested_port}: {exc}")
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _serve(self) -> None:
        from tornado.httpserver import HTTPServer

        from .app import make_app

        sockets = self._bind()
        app = make_app(self.source, token=self.token if self.require_token else None,
                       loopback_only=not self.require_token)
        self._app = app
        self._http = HTTPServer(app)
        self._http.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]

    def _bind(self) -> list:
        from tornado.netutil import bind_sockets

        try:
            return bind_sockets(self.requested_port, address=self.host)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or self.requested_port == 0:
                raise
        sockets = bind_sockets(0, address=self.host)
        logger.warning("port %d is in use (another cluster's dashboard?); the dashboard is on port %d instead",
                       self.requested_port, sockets[0].getsockname()[1])
        return sockets

    def _stop_in_loop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._app.snapshot_cache.close()
        asyncio.get_event_loop().stop()


def start_for_scheduler(scheduler, address: str | None, token: bytes | None) -> DashboardServer | None:
    """Start the dashboard of a scheduler process, or log why not (the scheduler runs on without one)."""
    if address is None:
        return None
    source = getattr(scheduler, "diagnostics", None)
    if source is None:
        logger.error("the scheduler publishes no diagnostics; the dashboard is off")
        return None
    try:
        server = DashboardServer(source, address, token).start()
    except (GraphflowError, ConfigError) as exc:
        logger.error("no dashboard: %s", exc)
        return None
    if server.require_token and token is None:
        logger.warning("the dashboard listens on %s without a cluster token: anyone who can reach it can read it",
                       server.host)
    logger.info("graphflow dashboard at %s", server.link)
    return server
