"""A tornado IOLoop running in a daemon thread, and a way to run code on it and wait.

The Client talks to its cluster from such a thread while user threads wait on
events; the in-process test cluster runs a whole scheduler and its workers on
one.  Everything that touches a zmq socket must run on the loop's thread:
`LoopThread.call` gets it there and brings back the value or the exception.

    >>> t = LoopThread("example")
    >>> t.call(lambda: 6 * 7)
    42
    >>> t.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

__all__ = ["LoopThread"]


class LoopThread:
    """A daemon thread running its own IOLoop (``.loop``); `call` runs a function there and waits."""

    def __init__(self, name: str):
        self.loop = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name=name, daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        from tornado.ioloop import IOLoop

        asyncio.set_event_loop(asyncio.new_event_loop())
        self.loop = IOLoop.current()
        ready.set()
        self.loop.start()
        self.loop.close(all_fds=False)  # sockets belong to their owners (zmq would break if closed here)

    def call(self, fn, *args, timeout: float | None = None):
        """``fn(*args)`` on the loop thread; returns its value or raises its exception."""
        result: concurrent.futures.Future = concurrent.futures.Future()

        def run():
            try:
                result.set_result(fn(*args))
            except BaseException as exc:
                result.set_exception(exc)

        self.loop.add_callback(run)
        return result.result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait for the thread (not from the loop's own thread)."""
        if self.thread.is_alive():
            self.loop.add_callback(self.loop.stop)
            if threading.current_thread() is not self.thread:
                self.thread.join(timeout)
