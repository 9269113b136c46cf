"""`reachable_strings`: the strings an object still holds, directly or through its containers.

A test of memory kept after a release asks "does this table or log still hold a task's key?", not
"how big is the process?" (a number that other threads and the allocator move).  Walking
`gc.get_referents` from the object answers it: every container, slotted instance and dict reached is
opened, except types, modules and functions (which lead to the whole program, not to what the object
keeps), and the strings found are matched.

    >>> log = [("inc-1", "memory", "released"), {"x": ["inc-2"]}]
    >>> sorted(reachable_strings(log, lambda s: s.startswith("inc-")))
    ['inc-1', 'inc-2']
"""

from __future__ import annotations

import gc
import types

__all__ = ["reachable_strings"]

_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
           types.CodeType, types.FrameType)


def reachable_strings(root, match) -> list:
    """The strings reachable from ``root`` for which ``match(s)`` is true (each object counted once)."""
    seen: set = set()
    stack, found = [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if type(obj) is str:
            if match(obj):
                found.append(obj)
        elif not isinstance(obj, _OPAQUE):
            stack.extend(gc.get_referents(obj))
    return found
