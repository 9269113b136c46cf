"""What a peer can make a process read, and how often a process complains about peers.

Size: ``comm.max_message_size`` bounds every message a process accepts
(`max_message_size`).  libzmq enforces its ``MAXMSGSIZE`` option *per frame*,
as the frame's header arrives and before its body is read: a larger frame
makes zmq drop the connection, having buffered nothing of it.  A message of
many frames, each under the limit, is only bounded frame by frame -- libzmq
hands a multipart message over only once all of it has arrived -- so the
transport checks the total after receiving and drops the message.  Senders
check first (`graphflow.comm.protocol.pack`), so a graphflow peer gets a
`MessageTooLargeError` instead of a cut connection.  With ``comm.encrypt``
on, a peer without the token cannot finish the CURVE handshake, so it cannot
send any frame at all.

Complaints: a peer that keeps sending bad messages (a wrong token, a
misconfigured client retrying) must not fill the log.  `RateLimitedLog`
writes one line per source per interval and counts the rest into the next
line:

    >>> import logging
    >>> now = [0.0]
    >>> log = RateLimitedLog(logging.getLogger("doctest"), interval=10, clock=lambda: now[0])
    >>> [log.warning("10.0.0.7", "bad MAC") for _ in range(3)]
    [True, False, False]
    >>> now[0] = 11.0
    >>> log.pending("10.0.0.7")
    2
    >>> log.warning("10.0.0.7", "bad MAC")   # logs "bad MAC (2 more like it suppressed in the last 11 s)"
    True
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict

__all__ = ["max_message_size", "physical_memory", "RateLimitedLog", "REJECTION_LOG_INTERVAL"]

#: Seconds between two log lines about the same misbehaving peer.
REJECTION_LOG_INTERVAL = 10.0

_FALLBACK_MEMORY = 16 * 2**30


def physical_memory() -> int:
    """This host's physical memory in bytes (16 GiB where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not Linux
        return _FALLBACK_MEMORY


def max_message_size() -> int:
    """``comm.max_message_size`` in bytes ("auto": `physical_memory`)."""
    from .. import config
    from ..units import parse_bytes

    value = config.get("comm.max_message_size")
    return physical_memory() if value == "auto" else parse_bytes(value)


class RateLimitedLog:
    """At most one line per source per ``interval`` seconds, and at most ``max_sources`` sources per interval.

    ``warning(source, text)`` logs ``text`` (with the count of lines held back
    since the last one) or counts it; it returns whether it logged.  Sources
    beyond ``max_sources`` in one interval -- a peer rotating its identity --
    share one budget under the name ``"other peers"``.
    """

    def __init__(self, logger, interval: float = REJECTION_LOG_INTERVAL, max_sources: int = 20, clock=time.monotonic):
        self.logger = logger
        self.interval = interval
        self.max_sources = max_sources
        self.clock = clock
        # source -> [time of its last line, lines held back since, the last text held back]; oldest first
        self._sources: OrderedDict = OrderedDict()

    def pending(self, source) -> int:
        """Lines held back for ``source`` since its last line."""
        entry = self._sources.get(source)
        return entry[1] if entry is not None else 0

    def warning(self, source, text: str) -> bool:
        """Log ``text`` about ``source`` at WARNING unless it had a line within the interval."""
        now = self.clock()
        self._forget_quiet(now, keep=source)
        if source not in self._sources and len(self._sources) >= self.max_sources:
            source = "other peers"
        entry = self._sources.get(source)
        if entry is not None and now - entry[0] < self.interval:
            entry[1] += 1
            entry[2] = text
            return False
        if entry is not None and entry[1]:
            text = f"{text} ({entry[1]} more like it from {source} suppressed in the last {now - entry[0]:.0f} s)"
        self._sources.pop(source, None)
        self._sources[source] = [now, 0, text]
        self.logger.warning("%s", text)
        return True

    def _forget_quiet(self, now: float, keep) -> None:
        # Sources whose interval is over are forgotten, after a last line for what they had held back
        # (``keep``'s count goes into its own next line).  Oldest line first: stop at the first recent one.
        for source in list(self._sources):
            last, held, text = self._sources[source]
            if now - last < self.interval:
                return
            if source == keep:
                continue
            del self._sources[source]
            if held:
                self.logger.warning("%s (%d like it from %s in the %.0f s before)", text, held, source, now - last)
