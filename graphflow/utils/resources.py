"""Parsing resource requests and offers: ``"GPU=2,MEM=8e9"`` or ``{"GPU": 2}`` -> ``{"GPU": 2.0, "MEM": 8e9}``.

Shared by the client (``submit(..., resources=)``), the worker command line
(``graphflow worker --resources``) and `LocalCluster(resources=)`; what the
scheduler does with the result is in `graphflow.scheduler.resources`.

    >>> parse_resources("GPU=2, MEM=8e9")
    {'GPU': 2.0, 'MEM': 8000000000.0}
    >>> parse_resources(None) is None
    True
"""

from __future__ import annotations

__all__ = ["parse_resources"]


def parse_resources(spec) -> dict | None:
    """``{"GPU": 2.0, "MEM": 8e9}`` from ``"GPU=2,MEM=8e9"`` or a dict; None for nothing.

    Raises ValueError naming the bad item: amounts must be numbers >= 0.
    """
    if spec is None or spec == "" or spec == {}:
        return None
    if isinstance(spec, str):
        items = {}
        for part in spec.split(","):
            name, sep, amount = part.strip().partition("=")
            if not sep or not name.strip():
                raise ValueError(f"resources {spec!r}: {part!r} is not NAME=AMOUNT (e.g. 'GPU=2,MEM=8e9')")
            items[name.strip()] = amount.strip()
        spec = items
    if not isinstance(spec, dict):
        raise TypeError(f"resources must be a dict like {{'GPU': 1}} or a string 'GPU=1', not {spec!r}")
    out = {}
    for name, amount in spec.items():
        try:
            value = float(amount)
        except (TypeError, ValueError):
            raise ValueError(f"resources: amount of {name!r} must be a number, not {amount!r}") from None
        if not value >= 0:
            raise ValueError(f"resources: amount of {name!r} must be >= 0, not {amount!r}")
        out[str(name)] = value
    return out or None
