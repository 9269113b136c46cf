"""Byte sizes as people write them: ``"4GiB"``, ``"500 MB"``, ``2**30``.

    >>> parse_bytes("4GiB")
    4294967296
    >>> parse_bytes("1.5 kB")
    1500
    >>> format_bytes(3 * 2**20)
    '3.00 MiB'
    >>> parse_duration("1h"), parse_duration("2.5s"), parse_duration("5m"), parse_duration(30)
    (3600.0, 2.5, 300.0, 30.0)
"""

from __future__ import annotations

import re

from .errors import ConfigError

__all__ = ["parse_bytes", "format_bytes", "parse_duration"]

_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_bytes(value) -> int:
    """Bytes in ``value``: an int, or a string with an optional unit (kB, MB, GiB, ...)."""
    if isinstance(value, bool):
        raise ConfigError(f"a byte size must be a number or a string like '4GiB', not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"a byte size cannot be negative: {value}")
        return value
    if isinstance(value, float) and value >= 0:
        return int(value)
    match = _PATTERN.match(value) if isinstance(value, str) else None
    if match is None or match.group(2).lower() not in _UNITS:
        raise ConfigError(f"cannot read {value!r} as a byte size; write it like 4GiB, 500MB or 1000000")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_bytes(n: int) -> str:
    """``n`` bytes in binary units, for messages."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


_SECONDS = {"": 1.0, "ms": 1e-3, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0,
            "d": 86400.0, "day": 86400.0, "days": 86400.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_duration(value) -> float:
    """Seconds in ``value``: a number, or a string like ``"30s"``, ``"5m"``, ``"1h"``, ``"2.5s"``, ``"250ms"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or match.group(2).lower() not in _SECONDS:
        raise ConfigError(f"cannot read {value!r} as a duration; write it like 30s, 5m, 1h or 2.5s")
    return float(match.group(1)) * _SECONDS[match.group(2).lower()]
