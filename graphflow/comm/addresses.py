"""What an address says about where its peer is: loopback or not, and the URL a client should open.

Loopback is decided exactly, never by a prefix: an IP literal is parsed with
`ipaddress` and asked ``is_loopback`` (``127.0.0.0/8``, ``::1`` and the
IPv4-mapped ``::ffff:127.x.y.z``); the only host *name* taken for loopback is
``localhost`` (any case, one optional trailing dot).  A prefix test would
take ``127.attacker.example``, ``127.0.0.1.nip.io`` or ``localhost.example.com``
(names anyone can point at any address, the DNS-rebinding trick) and
``::1234:5678`` (a routable IPv6 address) for this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("LOCALHOST.")
    (True, True, True)
    >>> is_loopback("127.0.0.1.nip.io"), is_loopback("localhost.example.com"), is_loopback("::1234:5678")
    (False, False, False)
    >>> host_header_is_loopback("127.0.0.1:8787"), host_header_is_loopback("127.attacker.example:8787")
    (True, False)
    >>> link_for_client("http://127.0.0.1:8787/status", "tcp://10.0.0.5:8786", token=b"s3cret")
    'http://10.0.0.5:8787/status?token=s3cret'
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

__all__ = ["is_loopback", "is_wildcard", "split_host_port", "host_header_is_loopback", "with_token",
           "link_for_client"]


def _ip(host: str):
    """``host`` as an IP address object, or None if it is not an IP literal (brackets allowed)."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: a loopback IP literal or the name ``localhost``.

    ``host`` is a bare host (``127.0.0.1``, ``::1``, ``[::1]``, ``localhost``), no port.  Any other name,
    even one that resolves to 127.0.0.1 today, is not loopback: its owner can re-point it.
    """
    host = (host or "").strip()
    if host.lower() in ("localhost", "localhost."):
        return True
    ip = _ip(host)
    if ip is None:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def is_wildcard(host: str) -> bool:
    """True for the bind-to-every-interface addresses ``0.0.0.0``, ``::`` and the empty host."""
    host = (host or "").strip()
    if not host:
        return True
    ip = _ip(host)
    return ip is not None and ip.is_unspecified


def split_host_port(netloc: str) -> tuple:
    """``(host, port or None)`` of ``HOST``, ``HOST:PORT``, ``[V6]`` or ``[V6]:PORT``; brackets removed.

    Raises ValueError for anything else (a bad port, an unclosed bracket, a bare IPv6 with a port).

    >>> split_host_port("[::1]:8787"), split_host_port("localhost"), split_host_port("::1")
    (('::1', 8787), ('localhost', None), ('::1', None))
    """
    text = netloc.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"bad host {netloc!r}")
        port_text = rest[1:] if rest else None
    elif text.count(":") > 1:  # a bare IPv6 literal: no port possible
        host, port_text = text, None
    else:
        host, sep, port_text = text.partition(":")
        port_text = port_text if sep else None
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad port in {netloc!r}")
        port = int(port_text)
    return host, port


def host_header_is_loopback(header: str) -> bool:
    """Does an HTTP ``Host`` header (``127.0.0.1:8787``, ``[::1]:8787``, ``localhost``) name this machine?

    A page served from another domain that re-points its name at 127.0.0.1 (DNS rebinding) still sends its
    own name here, so it is refused; a malformed header is refused too.
    """
    try:
        host, _ = split_host_port(header or "")
    except ValueError:
        return False
    return is_loopback(host)


def with_token(url: str, token: bytes | str | None) -> str:
    """``url`` with ``?token=...`` added (URL-quoted), or ``url`` unchanged when ``token`` is None.

    >>> with_token("http://10.0.0.5:8787/status", b"a/b+c")
    'http://10.0.0.5:8787/status?token=a%2Fb%2Bc'
    """
    if token is None:
        return url
    value = token.decode() if isinstance(token, bytes) else token
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"token": value}, quote_via=quote, safe="")) if q)
    return urlunsplit(parts._replace(query=query))


def link_for_client(url: str | None, scheduler_address: str, token: bytes | str | None = None) -> str | None:
    """The dashboard URL as a client should open it.

    A loopback host becomes the scheduler's host when the client reached the scheduler from elsewhere (the
    dashboard was bound to every interface).  ``token``: the cluster token, for a dashboard that asks for it
    (pass None for one that does not); it is added as ``?token=``.

    >>> link_for_client("http://127.0.0.1:8787/status", "tcp://10.0.0.5:8786")
    'http://10.0.0.5:8787/status'
    >>> link_for_client("http://127.0.0.1:8787/status", "tcp://127.0.0.1:8786")
    'http://127.0.0.1:8787/status'
    """
    if not url:
        return None
    parts = urlsplit(url)
    sched_host = urlsplit(scheduler_address.replace("tcp://", "http://", 1)).hostname or ""
    if is_loopback(parts.hostname or "") and not is_loopback(sched_host) and not is_wildcard(sched_host):
        host = f"[{sched_host}]" if ":" in sched_host else sched_host
        url = urlunsplit(parts._replace(netloc=f"{host}:{parts.port}"))
    return with_token(url, token)


def with_scheme(address: str, default: str = "tcp") -> str:
    """``address`` with a scheme: ``"host:8786"`` becomes ``"tcp://host:8786"`` (as dask.distributed assumes);
    one that has a scheme (``tcp://``, ``ipc://``, ``inproc://``) is returned as it is.

    >>> with_scheme("10.0.0.5:8786"), with_scheme("inproc://s")
    ('tcp://10.0.0.5:8786', 'inproc://s')
    """
    return address if "://" in address else f"{default}://{address}"
