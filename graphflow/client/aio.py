"""The asynchronous face of a `Client`: ``await Client(..., asynchronous=True)``, ``await future``,
``await client.gather(...)``, ``async for future in as_completed(...)``.

A client's I/O always runs on its own loop thread (`graphflow.client.loop`),
so an asynchronous client is the same client with waits that do not block
the caller's event loop (asyncio's or tornado's, a notebook's included):

* waiting for a key to settle hooks a callback on its `KeyState` that wakes
  an asyncio future on the caller's loop (`settled`) -- no thread is held;
* what must still block -- opening the connection, fetching a large value
  from its worker, scattering -- runs in the loop's default executor.

    >>> async def main():                                         # doctest: +SKIP
    ...     async with gf.Client(cluster, asynchronous=True) as client:
    ...         fut = client.submit(pow, 2, 10)
    ...         print(await fut, await client.gather([fut]))
    ...         async for f in gf.as_completed(client.map(abs, [-1, -2])):
    ...             print(await f)
"""

from __future__ import annotations

import asyncio
import functools

__all__ = ["settled", "result", "gather", "in_executor", "next_completed"]


def _wake(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def settled(state) -> None:
    """Wait until a `KeyState` settles, without blocking the running loop."""
    if state.settled:
        return
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    state.on_done(lambda: loop.call_soon_threadsafe(_wake, waiter))
    await waiter


async def result(future):
    """The value of ``future`` (a `graphflow.client.futures.Future`), or its error raised."""
    await settled(future.key_state)
    state = future.key_state
    if state.status == "finished" and state.has_value:
        return state.value
    if state.status in ("error", "cancelled"):
        future.raise_error()
    # Held by a worker (fetch it), or lost and being recomputed: the blocking path knows both.
    return await in_executor(future.result)


async def gather(client, futures, flat: list, errors: str):
    """``client.gather(futures)`` for an event loop: wait for every key here (``flat``: the futures inside
    ``futures``), then fetch what did not ride along."""
    for f in flat:
        await settled(f.key_state)
    return await in_executor(client.gather_sync, futures, errors)


async def in_executor(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the running loop's default executor (for calls that must block)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


async def next_completed(queue, timeout):
    """The next future ``as_completed`` queued (TimeoutError after ``timeout`` s), without blocking the loop."""
    import queue as queue_module

    try:
        return queue.get_nowait()
    except queue_module.Empty:
        pass
    try:
        return await in_executor(queue.get, True, timeout)
    except queue_module.Empty:
        raise TimeoutError(f"no future finished within {timeout} s") from None
