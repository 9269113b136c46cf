"""Both JSON loops (the C scanner called directly, and msgspec's decoder) give exactly json.loads's
values, types included, and json.loads's own errors, on random documents, numbers and noise."""

import json
import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphflow.bag.jsonloads import fast_decoder, iter_json_fast, iter_json_scanned, map_json


def _fast(part):
    msgspec_json = pytest.importorskip("msgspec.json")  # the fast-json extra (in the test extra too)
    return iter_json_fast(part, msgspec_json.Decoder().decode)


LOOPS = {"scanned": iter_json_scanned, "msgspec": _fast, "map_json": map_json}


each_loop = pytest.mark.parametrize("name", sorted(LOOPS))


def outcome(func, s):
    """What ``func(s)`` gives, strictly: repr tells 1 from 1.0 from True and -0.0 from 0.0, and keeps key order."""
    try:
        value = func(s)
    except Exception as exc:  # the same type and message, whatever it is
        return (type(exc).__name__, str(exc))
    return ("ok", type(value).__name__, repr(value))


def check(loop, lines):
    for line in lines:
        assert outcome(lambda s: list(loop([s]))[0], line) == outcome(json.loads, line), repr(line)
    good = [s for s in lines if outcome(json.loads, s)[0] == "ok"]
    assert [repr(v) for v in loop(good)] == [repr(json.loads(s)) for s in good]  # one stream of many lines


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)


def containers(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)


documents = st.recursive(scalars, containers, max_leaves=8)
noise = st.sampled_from(["", " ", "\n", " \t\r\n", "x", ",1", "\ufeff", "]", "  {"])
numbers = st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
fuzz = st.text(alphabet='{}[]",:0123456789.eE+- \n\t\\u/ntrlsfaNIy\x01\ud800\u00e9', max_size=24)


@each_loop
@settings(max_examples=40, deadline=None)
@given(parts=st.lists(st.tuples(noise, documents, noise), max_size=10))
def test_documents_with_noise_parse_as_json_loads(name, parts):
    loop = LOOPS[name]
    check(loop, [before + json.dumps(doc, ensure_ascii=False) + after for before, doc, after in parts])


@each_loop
@settings(max_examples=60, deadline=None)
@given(lines=st.lists(numbers, max_size=10))
def test_numbers_parse_as_json_loads(name, lines):
    loop = LOOPS[name]
    """Ints of any size stay ints, floats round the same way (or both give inf for too large)."""
    check(loop, lines + [f"[{s}]" for s in lines])


@each_loop
@settings(max_examples=60, deadline=None)
@given(lines=st.lists(fuzz, max_size=10))
def test_random_text_parses_or_fails_as_json_loads(name, lines):
    loop = LOOPS[name]
    check(loop, lines)


@each_loop
def test_edge_cases(name):
    loop = LOOPS[name]
    rng = random.Random(0)
    floats = [repr(rng.uniform(-1e10, 1e10)) for _ in range(50)] + [
        f"{rng.random()}e{rng.randint(-330, 310)}" for _ in range(50)]
    digits = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    check(loop, floats + [
        # duplicate keys: the last value, at the first key's place
        '{"a": 1, "b": 2, "a": 3}',
        # ints beyond 64 bits stay exact; past the digit limit json.loads raises
        str(2**63), str(2**64), str(2**64 + 1), str(-2**63 - 1), str(10**100), "1" * digits, "1" * (digits + 1),
        # floats: limits, subnormals, rounding, out of range (json.loads gives inf), long mantissas
        "1.7976931348623157e308", "5e-324", "2.4703282292062328e-324", "2.2250738585072011e-308", "1e400",
        "-1e400", "1e-400", "0.30000000000000004", "-0", "-0.0", "1E+2", "1" * 400 + ".5", "0." + "3" * 400,
        # lone surrogates (escaped, raw, in a key), a pair, raw control characters, escapes
        '"\\ud800"', '"\\udc00x"', '{"\\ud800": 1}', '"\ud800"', '"\\ud83d\\ude00"', '"a\x01b"', '"a\tb"',
        '"\\u0000\\/\\b"', '"\u2028\u00e9"',
        # literals json.loads accepts and strict JSON does not, and what neither accepts
        "NaN", "Infinity", "-Infinity", "[NaN]", "nan", "01", "1.", ".5", "+1", "[1,]", '{"a": 1,}',
        # whitespace, BOM, trailing data, bytes, empty
        " 1 ", "\t1\n", "\x0b1", "1\x0b", "\ufeff1", "\u00a01", "1 2", '{"a": 1} junk', "", " ",
        b'{"a": 1}', b"\xef\xbb\xbf[1]", '{"a": 1}'.encode("utf-16"), b"\xff",
        # nesting well inside the recursion limit
        "[" * 200 + "]" * 200, '{"a":' * 200 + "1" + "}" * 200,
    ])


def test_msgspec_is_used_when_installed():
    try:
        import msgspec.json  # noqa: F401
    except ImportError:
        assert fast_decoder() is None
    else:
        assert fast_decoder()('{"a": [1]}') == {"a": [1]}
