"""Deterministic tokens: the same value gives the same token, in any process, any run.

``tokenize(*args, **kwargs)`` reduces its arguments to a tree of plain data
(`normalize_token`), then hashes the tree's repr with BLAKE2b.  Pure calls and
collection operations are named by tokens, so equal computations share keys.

    >>> tokenize(1, "a", [1.5, None]) == tokenize(1, "a", [1.5, None])
    True
    >>> tokenize({"b": 2, "a": 1}) == tokenize({"a": 1, "b": 2})   # dict order does not matter
    True
    >>> len(tokenize(object))
    32

How each kind of object is normalized (``normalize_token`` is a `Dispatch`):

- primitives (None, bool, int, float, complex, str, bytes) stand for themselves;
  long bytes and strings are hashed first;
- list/tuple/dict/set: element-wise; dicts and sets are sorted by their items'
  normalized repr, so hash seeds and insertion order do not matter;
- functions importable by name (not from ``__main__``) by ``module.qualname``;
  lambdas, local and ``__main__`` functions by value: their bytecode,
  constants, defaults, closure and the globals they read;
- ``functools.partial``, bound methods, classes, enums, dataclasses;
- numpy arrays and scalars, pyarrow arrays/tables/schemas: registered lazily,
  so numpy and pyarrow are imported only by code that already uses them;
- any object with ``__graphflow_tokenize__()``: its return value;
- any other object through its pickle reduction (``__reduce_ex__``).  If that
  fails too the object gets a random token, unless
  ``config.set(tokenize_ensure_deterministic=True)`` asks for `TokenizeError`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import inspect
import sys
import threading
import types
import uuid

from ..utils.dispatch import Dispatch
from ..errors import TokenizeError

__all__ = ["tokenize", "normalize_token"]

normalize_token = Dispatch("normalize_token")

_PRIMITIVES = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))
_LONG = 256  # strings/bytes longer than this are replaced by their digest
_FAST_PRIMITIVES = frozenset([type(None), bool, int, float, str])


def _digest(data) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def tokenize(*args, **kwargs) -> str:
    """A deterministic 32-hex-character token for the arguments.

    >>> tokenize("x") == tokenize("x") != tokenize("y")
    True
    """
    # Fast path: a handful of short primitives needs no normalization pass.
    if not kwargs and len(args) <= 8:
        for a in args:
            if type(a) not in _FAST_PRIMITIVES or (type(a) is str and len(a) > _LONG):
                break
        else:
            return _digest(repr(args).encode())
    with _guard:
        norm = _normalize_seq(args)
        if kwargs:
            norm = (norm, _normalize_dict(kwargs))
    return _digest(repr(norm).encode())


class _Guard(threading.local):
    """Per thread: the containers being normalized right now, to cut self-references."""

    def __init__(self):
        self.active: dict = {}
        self.depth = 0

    def __enter__(self):
        self.depth += 1

    def __exit__(self, *exc):
        self.depth -= 1
        if self.depth == 0:
            self.active.clear()


_guard = _Guard()


def _enter(obj) -> int | None:
    """Mark ``obj`` as in progress; returns its nesting position if it already was."""
    seen = _guard.active
    i = id(obj)
    if i in seen:
        return seen[i]
    seen[i] = len(seen)
    return None


def _leave(obj) -> None:
    _guard.active.pop(id(obj), None)


def _norm(obj):
    t = type(obj)
    if t in _FAST_PRIMITIVES:
        if t is str and len(obj) > _LONG:
            return ("str-digest", _digest(obj.encode("utf-8", "surrogatepass")))
        return obj
    return normalize_token(obj)


@normalize_token.register(_PRIMITIVES)
def _normalize_primitive(obj):
    if type(obj) is bytes and len(obj) > _LONG:
        return ("bytes-digest", _digest(obj))
    if type(obj) is str and len(obj) > _LONG:
        return ("str-digest", _digest(obj.encode("utf-8", "surrogatepass")))
    return obj


def _normalize_seq(seq):
    loop = _enter(seq)
    if loop is not None:
        return ("__cycle__", loop)
    try:
        return tuple([_norm(x) for x in seq])
    finally:
        _leave(seq)


def _normalize_dict(d):
    loop = _enter(d)
    if loop is not None:
        return ("__cycle__", loop)
    try:
        items = [(_norm(k), _norm(v)) for k, v in d.items()]
    finally:
        _leave(d)
    items.sort(key=repr)
    return tuple(items)


@normalize_token.register(list)
def _normalize_list(obj):
    return ("list", _normalize_seq(obj))


@normalize_token.register(tuple)
def _normalize_tuple(obj):
    if type(obj) is not tuple:
        return (_type_name(type(obj)), _normalize_seq(obj))
    return ("tuple", _normalize_seq(obj))


@normalize_token.register(dict)
def _normalize_dictionary(obj):
    return (_type_name(type(obj)), _normalize_dict(obj))


@normalize_token.register((set, frozenset))
def _normalize_set(obj):
    loop = _enter(obj)
    if loop is not None:
        return ("__cycle__", loop)
    try:
        items = sorted((repr(_norm(x)) for x in obj))
    finally:
        _leave(obj)
    return (_type_name(type(obj)), tuple(items))


@normalize_token.register((range, slice))
def _normalize_range(obj):
    return (type(obj).__name__, _norm(obj.start), _norm(obj.stop), _norm(obj.step))


def _type_name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------- callables


def _by_name(obj) -> str | None:
    """``module.qualname`` if importing that name gives back this very object."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    mod = sys.modules.get(module)
    if mod is None:
        return None
    target = mod
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            return None
    return f"{module}.{qualname}" if target is obj else None


@normalize_token.register(type)
def _normalize_type(cls):
    name = _by_name(cls)
    if name is not None:
        return ("type", name)
    # A class defined locally or in __main__: its name and its own attributes.
    attrs = {k: v for k, v in vars(cls).items() if not k.startswith("__")}
    loop = _enter(cls)
    if loop is not None:
        return ("__cycle__", loop)
    try:
        return ("type-local", cls.__module__, cls.__qualname__, _normalize_dict(attrs))
    finally:
        _leave(cls)


@normalize_token.register(types.FunctionType)
def _normalize_function(func):
    name = _by_name(func)
    if name is not None:
        return ("function", name)
    loop = _enter(func)
    if loop is not None:
        return ("__cycle__", loop)
    try:
        code = func.__code__
        closure = tuple(_norm(cell.cell_contents) if _cell_filled(cell) else "<empty>"
                        for cell in (func.__closure__ or ()))
        globals_read = {}
        g = func.__globals__
        for name in _global_names(code):
            if name in g:
                globals_read[name] = g[name]
        return (
            "function-code",
            func.__module__,
            func.__qualname__,
            _normalize_code(code),
            _norm(func.__defaults__),
            _norm(func.__kwdefaults__),
            closure,
            _normalize_dict(globals_read),
        )
    finally:
        _leave(func)


def _cell_filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _global_names(code) -> list:
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.extend(_global_names(const))
    return names


@normalize_token.register(types.CodeType)
def _normalize_code(code):
    consts = tuple(
        _normalize_code(c) if isinstance(c, types.CodeType) else _norm(c) for c in code.co_consts
    )
    return ("code", code.co_code.hex(), consts, code.co_names, code.co_varnames, code.co_argcount)


@normalize_token.register(types.ModuleType)
def _normalize_module(mod):
    return ("module", mod.__name__)


@normalize_token.register((types.BuiltinFunctionType, types.MethodType))
def _normalize_method(meth):
    owner = getattr(meth, "__self__", None)
    if owner is None or isinstance(owner, types.ModuleType):
        return ("builtin", getattr(meth, "__module__", None), meth.__qualname__)
    func = getattr(meth, "__func__", None)
    return ("method", _norm(func) if func is not None else meth.__name__, _norm(owner))


@normalize_token.register(functools.partial)
def _normalize_partial(p):
    return ("partial", _norm(p.func), _normalize_seq(p.args), _normalize_dict(p.keywords or {}))


@normalize_token.register(enum.Enum)
def _normalize_enum(e):
    return ("enum", _norm(type(e)), e.name)


@normalize_token.register(object)
def _normalize_object(obj):
    hook = getattr(type(obj), "__graphflow_tokenize__", None)
    if hook is not None:
        return ("hook", _type_name(type(obj)), _norm(hook(obj)))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
        return ("dataclass", _norm(type(obj)), _normalize_seq(fields))
    if callable(obj) and inspect.isroutine(obj):
        return ("routine", getattr(obj, "__module__", None), getattr(obj, "__qualname__", repr(obj)))
    return _normalize_by_reduce(obj)


def _normalize_by_reduce(obj):
    loop = _enter(obj)
    if loop is not None:
        return ("__cycle__", loop)
    try:
        try:
            reduced = obj.__reduce_ex__(5)
        except Exception as exc:
            return _nondeterministic(obj, exc)
        if isinstance(reduced, str):  # a global singleton, pickled by name
            return ("global", _type_name(type(obj)), reduced)
        # Items 3 and 4 of a reduction are iterators (list items, dict items).
        parts = [tuple(p) if i >= 3 and p is not None else p for i, p in enumerate(reduced)]
        return ("reduce", _type_name(type(obj)), _normalize_seq(parts))
    finally:
        _leave(obj)


def _nondeterministic(obj, exc):
    from .. import config

    if config.get("tokenize_ensure_deterministic", False):
        raise TokenizeError(
            f"cannot tokenize a {type(obj).__name__} deterministically ({exc}); give its class a "
            f"__graphflow_tokenize__ method returning the data that identifies it"
        ) from exc
    return ("random", uuid.uuid4().hex)


# ---------------------------------------------------------------- optional libraries


@normalize_token.register_lazy("numpy")
def _register_numpy():
    import numpy as np

    @normalize_token.register(np.ndarray)
    def _normalize_ndarray(x):
        if x.dtype.hasobject:
            return ("ndarray-object", x.shape, _normalize_seq(x.ravel().tolist()))
        data = np.ascontiguousarray(x)
        try:
            buf = memoryview(data).cast("B")
        except (TypeError, ValueError):  # dtypes the buffer protocol cannot export
            buf = data.tobytes()
        return ("ndarray", x.dtype.str, x.shape, _digest(buf))

    @normalize_token.register(np.generic)
    def _normalize_numpy_scalar(x):
        if x.dtype.hasobject:
            return ("numpy-scalar-object", _norm(x.item()))
        return ("numpy-scalar", x.dtype.str, x.tobytes().hex())

    @normalize_token.register(np.dtype)
    def _normalize_dtype(dt):
        return ("dtype", dt.str, repr(dt))

    @normalize_token.register(np.ufunc)
    def _normalize_ufunc(f):
        return ("ufunc", f.__name__)


@normalize_token.register_lazy("pyarrow")
def _register_pyarrow():
    import pyarrow as pa

    def _buffers(arr):
        out = []
        for buf in arr.buffers():
            out.append(None if buf is None else _digest(memoryview(buf)))
        return tuple(out)

    @normalize_token.register(pa.Array)
    def _normalize_array(arr):
        if arr.offset or arr.get_total_buffer_size() > arr.nbytes:
            # A slice shares its parent's buffers: hash only its own rows (a compact
            # copy, proportional to the slice), and equal slices get equal tokens.
            arr = pa.concat_arrays([arr])
        return ("pa.Array", str(arr.type), len(arr), arr.null_count, _buffers(arr))

    @normalize_token.register(pa.ChunkedArray)
    def _normalize_chunked(arr):
        return ("pa.ChunkedArray", str(arr.type), tuple(_normalize_array(c) for c in arr.chunks))

    @normalize_token.register((pa.Table, pa.RecordBatch))
    def _normalize_table(tbl):
        columns = tuple(normalize_token(c) for c in tbl.columns)
        return (type(tbl).__name__, _normalize_schema(tbl.schema), tbl.num_rows, columns)

    @normalize_token.register(pa.Schema)
    def _normalize_schema(schema):
        return ("pa.Schema", _digest(memoryview(schema.serialize())))

    @normalize_token.register(pa.DataType)
    def _normalize_datatype(t):
        return ("pa.DataType", str(t))

    @normalize_token.register(pa.Scalar)
    def _normalize_scalar(s):
        return ("pa.Scalar", str(s.type), _norm(s.as_py()))
