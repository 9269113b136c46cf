"""`wait_for`: poll a condition in a test until it holds, with a deadline and a message that says what.

Tests wait on the state they need (a worker joined, a file appeared, a counter
moved), never for a fixed time: a wait returns as soon as the condition holds,
so its timeout can be generous for a loaded machine at no cost.
`wait_for_async` is the same wait for a coroutine, whose event loop must keep
running between checks for the condition to come true.  To wait until a loop
in this process has gone round (a watcher looked again, so what it would do
is done), count the calls of the method it calls each time with `count_calls`.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["wait_for", "wait_for_async", "count_calls"]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, what="condition", on_timeout=None):
    """Call ``predicate`` every ``interval`` s until it returns something true, and return that.

    Raises AssertionError naming ``what`` after ``timeout`` seconds; ``what``
    may be a function of no arguments, called then, so the message can say
    how far things got.  ``on_timeout`` (no arguments) runs first, e.g. to save
    a screenshot of the page that never got there.

    >>> wait_for(lambda: 42)
    42
    >>> wait_for(lambda: 0, timeout=0.1, what=lambda: "the answer (still 0)")
    Traceback (most recent call last):
    AssertionError: the answer (still 0) not met within 0.1 s
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            _give_up(timeout, what, on_timeout)
        time.sleep(interval)


async def wait_for_async(predicate, timeout: float = 10.0, interval: float = 0.002, what="condition",
                         on_timeout=None):
    """`wait_for` inside a coroutine: sleeps with ``asyncio.sleep``, so the loop runs callbacks meanwhile.

    >>> asyncio.run(wait_for_async(lambda: "ready"))
    'ready'
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            _give_up(timeout, what, on_timeout)
        await asyncio.sleep(interval)


def _give_up(timeout: float, what, on_timeout) -> None:
    if on_timeout is not None:
        on_timeout()
    raise AssertionError(f"{what() if callable(what) else what} not met within {timeout} s")


def count_calls(obj, name: str):
    """Count the calls of method ``name`` of ``obj`` that finish from now on; return a function giving the count.

    The method is wrapped on this instance only, so a loop that looks it up on
    ``self`` each time goes through the wrapper.  A call in progress when
    this runs is not counted: ``wait_for(lambda: passes() >= 1)`` waits for a
    whole call that began afterwards.

    >>> class Loop:
    ...     def tick(self):
    ...         return "ticked"
    >>> loop = Loop()
    >>> ticks = count_calls(loop, "tick")
    >>> loop.tick(), loop.tick(), ticks()
    ('ticked', 'ticked', 2)
    """
    method = getattr(obj, name)
    count = [0]

    def counted(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        finally:
            count[0] += 1

    setattr(obj, name, counted)
    return lambda: count[0]
