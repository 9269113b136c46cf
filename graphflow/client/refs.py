"""Which keys this client holds, and how many of its `Future` objects point at each.

A `Future` counts itself in (`KeyRefs.acquire`) when made and out
(`KeyRefs.release`) when garbage collected; a key whose count drops to zero is
no longer wanted, and is queued for the scheduler in one batch (`take_released`,
sent every 50 ms by the session's periodic job) rather than one message per
dropped future.  A key wanted again before that batch leaves is taken out of
it: the release would otherwise reach the scheduler after the new submission
and free a result a live future is about to fetch.  Each key has one
`graphflow.client.futures.KeyState` shared by all its futures, which the
client's reports settle.

A release itself is only noted (one append to a deque, no lock) and counted
in bulk by the next reader of the counts: dropping the 100k futures of a
``client.map`` cost 2.5-3.5 us each when each release took the lock.

    >>> refs = KeyRefs()
    >>> state = refs.state("x"); refs.acquire("x"); refs.acquire("x")
    >>> refs.release("x"); refs.take_released()
    []
    >>> refs.release("x"); refs.take_released(), "x" in refs
    (['x'], False)
    >>> refs.acquire("y"); refs.release("y"); refs.acquire("y"); refs.take_released()  # wanted again in time
    []
"""

from __future__ import annotations

import threading
from collections import deque

from .futures import KeyState

__all__ = ["KeyRefs"]


class KeyRefs:
    """Key states and reference counts of one client (thread-safe)."""

    def __init__(self):
        self._states: dict = {}  # key -> KeyState, while some Future points at the key
        self._counts: dict = {}
        self._released: dict = {}  # keys released since the last batch, in order (a dict: O(1) removal)
        self._dropped: deque = deque()  # (key, state) of releases not counted yet (`_count_drops`)
        self._lock = threading.RLock()

    @property
    def states(self) -> dict:
        """key -> `KeyState`, for the keys some Future points at."""
        if self._dropped:
            self._count_drops()
        return self._states

    def __contains__(self, key) -> bool:
        return key in self.states

    def __len__(self) -> int:
        return len(self.states)

    def state(self, key) -> KeyState:
        """The key's state, made on first use."""
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = KeyState(key)
            return state

    def acquire_many(self, keys) -> list:
        """`state` and `acquire` of each of ``keys`` under one hold of the lock (``client.map`` of 100k keys
        took the lock 200k times); returns their states in order."""
        states, counts, released = self._states, self._counts, self._released
        out = []
        with self._lock:
            for key in keys:
                state = states.get(key)
                if state is None:
                    state = states[key] = KeyState(key)
                counts[key] = counts.get(key, 0) + 1
                if released:
                    released.pop(key, None)
                out.append(state)
        return out

    def get(self, key) -> KeyState | None:
        """The key's state if some Future points at it (or did until a moment ago), else None."""
        return self._states.get(key)

    def acquire(self, key) -> None:
        """One more Future points at ``key`` (a release of it still waiting to be sent is called off)."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            if self._released:
                self._released.pop(key, None)

    def release(self, key, state: KeyState | None = None) -> None:
        """One Future fewer points at ``key``; at none, the key is forgotten and queued for the scheduler.

        ``state``: the releasing Future's; a Future made before the scheduler was lost (`fail_all`) holds a
        state no longer listed, and its release does not count against the key's new futures.  Counted at
        the next look at the counts (from any thread): a Future's finalizer only notes it here.
        """
        self._dropped.append((key, state))

    def _count_drops(self) -> None:
        """Count the releases noted since the last call: an acquire made meanwhile was counted first, and
        keeps its key (the count never reached zero)."""
        dropped, states, counts, released = self._dropped, self._states, self._counts, self._released
        with self._lock:
            for _ in range(len(dropped)):  # only what is there now: finalizers may append meanwhile
                key, state = dropped.popleft()
                if state is not None and states.get(key) is not state:
                    continue
                n = counts.get(key, 0) - 1
                if n > 0:
                    counts[key] = n
                    continue
                counts.pop(key, None)
                states.pop(key, None)
                released[key] = None

    def queued(self) -> int:
        """How many released keys wait for the next batch to the scheduler."""
        if self._dropped:
            self._count_drops()
        return len(self._released)

    def take_released(self) -> list:
        """The keys released since the last call (the caller tells the scheduler)."""
        if self._dropped:
            self._count_drops()
        if not self._released:
            return []
        with self._lock:
            keys, self._released = list(self._released), {}
        return keys

    def fail_all(self, error: BaseException) -> None:
        """The scheduler is gone, and every result it held: fail the keys still pending or not yet fetched
        with ``error``, and forget them all (a key submitted again later gets a fresh state)."""
        with self._lock:
            states = list(self._states.values())
            self._states.clear()
            self._counts.clear()
            self._released.clear()
            self._dropped.clear()  # their states are forgotten: they could count against nothing
        for state in states:
            if state.status == "pending" or (state.status == "finished" and not state.has_value):
                state.fail(error, by_task=False)
