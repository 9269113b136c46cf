"""``json.loads`` over many strings (a partition of JSON lines): the same results and errors, less time.

``map(json.loads)`` is the most common first step over text, and parsing is most of its time
(about 65% of ``read_text(...).map(json.loads).foldby(...)``).  `iter_json` yields exactly what
``json.loads`` gives for each string, or raises exactly what it raises, by one of two loops:

* the standard library's C scanner called directly (`iter_json_scanned`): ``json.loads(s)`` of a
  ``str`` spends a third of its time in two Python-level wrappers around it.  Whatever is not a clean
  document (leading whitespace, trailing data, bytes, a BOM, a parse error) goes to ``json.loads``.
* msgspec's decoder (`iter_json_fast`), when msgspec is installed (the ``fast-json`` extra): about
  half the CPU time of the scanner per line.  It is used for ``str`` lines only, and anything it
  refuses goes to ``json.loads`` itself, so a user sees ``json.loads``'s own value or error.  It
  refuses everything on which the two differ: NaN/Infinity literals, numbers out of a double's
  range (``json`` gives ``inf``), integers longer than ``sys.get_int_max_str_digits()``, lone
  surrogate escapes, raw control characters in strings.  On valid JSON it gives the same values:
  arbitrarily large ints as ints, correctly rounded floats, the last of duplicate keys (tested
  against ``json.loads`` in tests/bag/test_jsonloads.py).  orjson was measured too and is not used:
  it turns integers beyond 64 bits into floats, a silently different answer.

Both loops call their parser from one frame less deep than ``json.loads`` does, so a document nested
within a few levels of the recursion limit may parse here where ``json.loads`` raises RecursionError.

    >>> map_json(['{"a": [1, 2.5, null]}\\n', '"x"', '  7  '])
    [{'a': [1, 2.5, None]}, 'x', 7]
    >>> map_json(['{"a": 1} junk'])
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: Extra data: line 1 column 10 (char 9)
"""

from __future__ import annotations

import json
from json.scanner import make_scanner

__all__ = ["map_json", "iter_json", "iter_json_scanned", "iter_json_fast", "fast_decoder"]

_scan = make_scanner(json.JSONDecoder())  # what json.loads uses for a str with no keywords
_JSON_SPACE = " \t\n\r"
_UNSET = object()
_fast = _UNSET  # msgspec's decode, None without msgspec; looked up on first use (not at import)


def fast_decoder():
    """msgspec's JSON ``decode`` when msgspec is importable, else None (looked up once per process)."""
    global _fast
    if _fast is _UNSET:
        try:
            import msgspec.json
        except ImportError:
            _fast = None
        else:
            _fast = msgspec.json.Decoder().decode
    return _fast


def map_json(part) -> list:
    """``[json.loads(s) for s in part]``, with the same results and errors, faster."""
    return list(iter_json(part))


def iter_json(part):
    """``json.loads(s)`` for each ``s`` of ``part``, one at a time (`map_json` without the list)."""
    decode = fast_decoder()
    if decode is None:
        return iter_json_scanned(part)
    return iter_json_fast(part, decode)


def iter_json_fast(part, decode):
    """``json.loads(s)`` for each ``s`` of ``part``, parsed by ``decode`` (msgspec's) where it accepts ``s``."""
    loads = json.loads
    for s in part:
        if type(s) is str:
            try:
                obj = decode(s)
            except Exception:  # anything msgspec refuses: json.loads gives its own value, or its own error
                obj = loads(s)
        else:  # bytes: json.loads detects UTF-16/32 and BOMs, msgspec reads UTF-8 only
            obj = loads(s)
        yield obj


def iter_json_scanned(part):
    """``json.loads(s)`` for each ``s`` of ``part``, by the standard library's C scanner called directly."""
    loads = json.loads
    scan = _scan
    for s in part:
        if type(s) is not str:
            yield loads(s)
            continue
        try:
            obj, end = scan(s, 0)
        except StopIteration:  # not a document at position 0: json.loads says what is wrong (or skips space)
            yield loads(s)
            continue
        n = len(s)
        # A line read from a file ends in "\n" after its document: test that one character, not a slice.
        if end != n and not (end == n - 1 and s[end] in _JSON_SPACE) and s[end:].strip(_JSON_SPACE):
            obj = loads(s)  # trailing data: raises json.loads's own "Extra data" error
        yield obj
