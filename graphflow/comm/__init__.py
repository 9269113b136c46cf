"""Communication: serialization, the authenticated wire format, zmq transport.

Three layers, each usable alone:

- `serialize`: object <-> frames (a small pickle + out-of-band numpy/Arrow buffers).
- `protocol`: frames <-> wire frames with a MAC checked before anything is unpickled.
- `transport`: `Listener` (ROUTER) and `Connection` (DEALER) on a tornado IOLoop.

Around them: `security` (the token, the encryption key derived from it, warnings
about weak tokens), `limits` (``comm.max_message_size``, rate-limited
complaints about bad peers) and `options` (the ``--encrypt`` and
``--max-message-size`` flags).

    >>> from graphflow.comm import pack, unpack
    >>> unpack(pack({"op": "ping"}, b"token"), b"token")
    {'op': 'ping'}

The transport names are imported on first use, so processes that only
serialize (the local process pool) do not import zmq and tornado.
"""

from graphflow.comm.protocol import AUTH_FAILED, MAGIC, pack, unpack, verify
from graphflow.comm.serialize import Serialized, dumps, loads

_TRANSPORT = ("Connection", "Listener", "SocketMonitor", "monitor")

__all__ = ["AUTH_FAILED", "MAGIC", "Serialized", "dumps", "loads", "pack", "unpack", "verify", *_TRANSPORT]


def __getattr__(name):
    if name in _TRANSPORT:
        from graphflow.comm import transport

        return getattr(transport, name)
    raise AttributeError(f"module 'graphflow.comm' has no attribute {name!r}")
