"""`wait_for`: poll a condition in a test until it holds, with a deadline and a message that says what."""

from __future__ import annotations

import time

__all__ = ["wait_for"]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition", on_timeout=None):
    """Call ``predicate`` every ``interval`` s until it returns something true, and return that.

    Raises AssertionError naming ``what`` after ``timeout`` seconds; ``on_timeout``
    (no arguments) runs first, e.g. to save a screenshot of the page that never
    got there.

    >>> wait_for(lambda: 42)
    42
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            if on_timeout is not None:
                on_timeout()
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(interval)
