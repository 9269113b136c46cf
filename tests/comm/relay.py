"""A TCP relay for tests: sits between two real endpoints, records what passes and can change it.

    relay = Relay(("127.0.0.1", port))                  # listens on relay.address (tcp://127.0.0.1:N)
    relay = Relay(target, tamper=FlipInRun(b"\\xab"))   # flips one byte inside the first long run of 0xAB
    relay.sent("up") / relay.sent("down")               # every byte that went client->server / server->client
    relay.close()

``up`` is from whoever connects to the relay to the target; ``down`` the other
way.  One thread per direction per connection; plain blocking sockets.
"""

from __future__ import annotations

import socket
import threading


class FlipInRun:
    """Flips one byte in the middle of the first run of ``run`` x ``byte`` seen in ``direction``, once."""

    def __init__(self, byte: bytes, direction: str = "up", run: int = 256):
        self.pattern = byte * run
        self.direction = direction
        self.flipped = 0
        self._lock = threading.Lock()

    def __call__(self, direction: str, chunk: bytes) -> bytes:
        if direction != self.direction:
            return chunk
        with self._lock:
            if self.flipped:
                return chunk
            i = chunk.find(self.pattern)
            if i < 0:
                return chunk
            self.flipped += 1
        changed = bytearray(chunk)
        changed[i + len(self.pattern) // 2] ^= 0x01
        return bytes(changed)


class Relay:
    """Forward every connection made to ``address`` to ``target``, through ``tamper(direction, chunk)``."""

    def __init__(self, target: tuple, tamper=None):
        self.target = target
        self.tamper = tamper
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self._server.getsockname()[1]}"
        self._records = {"up": bytearray(), "down": bytearray()}
        self._lock = threading.Lock()
        self._sockets: list = []
        self._closed = False
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    def sent(self, direction: str) -> bytes:
        """Every byte relayed in ``direction`` so far (``"up"``: to the target)."""
        with self._lock:
            return bytes(self._records[direction])

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for src, dst, direction in ((client, upstream, "up"), (upstream, client, "down")):
                threading.Thread(target=self._pump, args=(src, dst, direction), daemon=True).start()

    def _pump(self, src, dst, direction: str) -> None:
        try:
            while True:
                chunk = src.recv(1 << 20)
                if not chunk:
                    break
                if self.tamper is not None:
                    chunk = self.tamper(direction, chunk)
                with self._lock:
                    self._records[direction] += chunk
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        """Stop accepting and cut every relayed connection."""
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        self._server.close()
        for s in sockets:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def host_port(address: str) -> tuple:
    """``("127.0.0.1", 8786)`` from ``tcp://127.0.0.1:8786``."""
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    return host.strip("[]"), int(port)
