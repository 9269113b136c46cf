"""What an address says about where its peer is: loopback or not, and the URL a client should open.

    >>> is_loopback("127.0.0.1"), is_loopback("10.0.0.5")
    (True, False)
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["is_loopback", "link_for_client"]

_LOOPBACK = ("127.", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (no token needed there)."""
    return host.startswith(_LOOPBACK)


def link_for_client(url: str | None, scheduler_address: str) -> str | None:
    """The dashboard URL as a client should open it: a loopback host becomes the scheduler's host
    when the client reached the scheduler from elsewhere (the dashboard was bound to every interface).

    >>> link_for_client("http://127.0.0.1:8787/status", "tcp://10.0.0.5:8786")
    'http://10.0.0.5:8787/status'
    >>> link_for_client("http://127.0.0.1:8787/status", "tcp://127.0.0.1:8786")
    'http://127.0.0.1:8787/status'
    """
    if not url:
        return None
    parts = urlsplit(url)
    sched_host = urlsplit(scheduler_address.replace("tcp://", "http://", 1)).hostname or ""
    if is_loopback(parts.hostname or "") and sched_host and not is_loopback(sched_host) and sched_host != "0.0.0.0":
        host = f"[{sched_host}]" if ":" in sched_host else sched_host
        return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}"))
    return url
