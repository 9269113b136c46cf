"""Objects whose tokens must be the same in every process (used by test_tokenize)."""

import dataclasses
import enum
import functools

import numpy as np
import pyarrow as pa


def module_function(x):
    return x + 1


class Hooked:
    def __init__(self, name):
        self.name = name

    def __graphflow_tokenize__(self):
        return ("Hooked", self.name)


class Plain:
    def __init__(self, a, b):
        self.a = a
        self.b = b


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Color(enum.Enum):
    RED = 1


SCALE = 3


def cases() -> dict:
    """Name -> object; built fresh each call so nothing depends on identity."""
    return {
        "int": 1,
        "big-int": 2**100,
        "float": 1.5,
        "str": "hello",
        "long-str": "x" * 10_000,
        "bytes": b"abc",
        "none": None,
        "tuple": (1, "a", (2.5, None)),
        "list": [1, [2, [3]]],
        "dict": {"b": 2, "a": 1, "nested": {"z": [1, 2]}},
        "set-of-str": {"pear", "apple", "fig", "kiwi", "plum"},
        "frozenset": frozenset({3, 1, 2}),
        "function": module_function,
        "lambda": lambda x: x * SCALE,
        "partial": functools.partial(module_function, 3),
        "builtin": len,
        "method": "abc".upper,
        "class": Plain,
        "hooked": Hooked("n"),
        "plain-object": Plain(1, [2, 3]),
        "dataclass": Point(1, 2.0),
        "enum": Color.RED,
        "range": range(3, 30, 2),
        "slice": slice(1, None, 2),
        "ndarray": np.arange(12, dtype="f8").reshape(3, 4),
        "ndarray-fortran": np.asfortranarray(np.arange(12).reshape(3, 4)),
        "ndarray-datetime": np.array(["2024-01-01"], dtype="M8[s]"),
        "numpy-scalar": np.float32(1.5),
        "dtype": np.dtype("i4"),
        "ufunc": np.sin,
        "pa-table": pa.table({"a": [1, 2, None], "s": ["x", "y", "z"]}),
        "pa-array": pa.array([1.0, None, 3.0]),
        "pa-chunked": pa.chunked_array([[1, 2], [3]]),
        "pa-schema": pa.schema([("a", pa.int64())]),
        "pa-scalar": pa.scalar(3),
    }


if __name__ == "__main__":
    import json
    import sys

    from graphflow.spec import tokenize

    json.dump({name: tokenize(obj) for name, obj in cases().items()}, sys.stdout)
