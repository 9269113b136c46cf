"""Every numpy ufunc as a function of graphflow.array: ``ga.sin``, ``ga.maximum``, ``ga.frexp``, ...

One table, `UFUNC_NAMES`, is read from numpy itself (every ``np.ufunc`` with no core
dimensions, so not ``matmul``/``vecdot``); each name becomes an `ArrayUfunc`, a thin
wrapper that builds the same blocks ``np.<name>(x)`` would on an Array:

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.array([1.0, 8.0, 0.5]), chunks=2)
    >>> m, e = ga.frexp(x)                      # two outputs, two Arrays
    >>> e.compute(), m.dtype
    (array([1, 4, 0], dtype=int32), dtype('float64'))
    >>> out = ga.zeros(3, chunks=2)
    >>> _ = ga.sqrt(x, out=out, where=x > 1)    # out's recipe is replaced, as in Dask
    >>> out.compute()
    array([0.        , 2.82842712, 0.        ])

Keywords follow numpy: ``dtype=``, ``casting=``, ``order=``, ``where=`` and ``out=`` (a
graphflow Array, or a tuple of them for several outputs).  Casting errors and
shape mismatches are numpy's own exceptions, raised when the graph is built:
every call is first tried on one-element arrays of the inputs' dtypes.

``out=`` cannot write in place (Arrays are recipes), so, as in Dask, the result
replaces ``out``'s recipe (`Array.become`); positions ``where=`` leaves out keep
``out``'s values.  Without ``out=`` numpy leaves them uninitialized; here they are
zeros, so results are reproducible.

Without a graphflow Array among the arguments the call is numpy's own.
"""

from __future__ import annotations

import operator

import numpy as np

from ..spec import Ref, Task
from .core import OPERATIONS, Array, new_name
from .elementwise import elemwise

# Every elementwise numpy ufunc (one with core dimensions, such as matmul, is not elementwise).
UFUNC_NAMES = tuple(sorted(n for n in dir(np) if isinstance(getattr(np, n), np.ufunc)
                           and getattr(np, n).signature is None))

__all__ = ["ArrayUfunc", "frompyfunc", "UFUNC_NAMES", *UFUNC_NAMES]

_UFUNC_KEYWORDS = ("dtype", "casting", "order", "subok", "signature")


class _UfuncCall:
    """``ufunc(*blocks, **kwargs)`` on one block; ``masked`` calls get ``(where, *outs, *inputs)``.

    A masked call writes into a copy of each ``out`` block (zeros when the caller
    gave no ``out``) under ``where``, so numpy applies its own casting rules.
    """

    __slots__ = ("ufunc", "kwargs", "masked", "dtypes")

    def __init__(self, ufunc, kwargs, masked=False, dtypes=None):
        self.ufunc, self.kwargs, self.masked, self.dtypes = ufunc, dict(kwargs), masked, dtypes

    def __call__(self, *blocks):
        if not self.masked:
            return self.ufunc(*blocks, **self.kwargs)
        nout = self.ufunc.nout
        where = blocks[0]
        if self.dtypes is None:  # the caller's out blocks, copied: the task must not change its input
            outs, inputs = tuple(np.array(o, copy=True) for o in blocks[1:1 + nout]), blocks[1 + nout:]
        else:
            inputs = blocks[1:]
            shape = np.broadcast_shapes(np.shape(where), *[np.shape(b) for b in inputs])
            outs = tuple(np.zeros(shape, d) for d in self.dtypes)
        result = self.ufunc(*inputs, out=outs, where=where, **self.kwargs)
        return result

    def __reduce__(self):
        return (_UfuncCall, (self.ufunc, self.kwargs, self.masked, self.dtypes))

    def __graphflow_tokenize__(self):
        return ("ufunc-call", self.ufunc.__name__, sorted((k, str(v)) for k, v in self.kwargs.items()),
                self.masked, None if self.dtypes is None else [str(d) for d in self.dtypes])

    @property
    def __name__(self):
        return self.ufunc.__name__


def _sample(value):
    """A one-element stand-in for ``value`` (an Array) with its dtype and dimensions, for build-time checks."""
    if isinstance(value, Array):
        return np.ones((1,) * value.ndim, dtype=value.dtype)
    return value


class ArrayUfunc:
    """A numpy ufunc that builds graphflow Arrays; see the module docstring.

    Attributes (``nin``, ``nout``, ``identity``, ``types``, ...) are the numpy ufunc's.
    """

    def __init__(self, ufunc: np.ufunc):
        self.ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.__doc__ = (f"``numpy.{ufunc.__name__}`` on graphflow Arrays, block by block "
                        f"(keywords as numpy's; see graphflow.array.ufuncs).\n\n{ufunc.__doc__ or ''}")

    nin = property(lambda self: self.ufunc.nin)
    nout = property(lambda self: self.ufunc.nout)
    nargs = property(lambda self: self.ufunc.nargs)
    ntypes = property(lambda self: self.ufunc.ntypes)
    types = property(lambda self: self.ufunc.types)
    identity = property(lambda self: self.ufunc.identity)
    signature = property(lambda self: self.ufunc.signature)

    def __repr__(self):
        return f"<graphflow.array ufunc {self.__name__!r}>"

    def __reduce__(self):
        return (ArrayUfunc, (self.ufunc,))

    def __graphflow_tokenize__(self):
        return ("graphflow.array.ufunc", self.ufunc)

    def __call__(self, *args, out=None, where=True, **kwargs):
        return apply_ufunc(self.ufunc, args, out=out, where=where, **kwargs)

    def outer(self, a, b, **kwargs):
        """``ufunc.outer``: every element of ``a`` against every element of ``b``."""
        if not any(isinstance(v, Array) for v in (a, b)):
            return self.ufunc.outer(a, b, **kwargs)
        a, b = (v if isinstance(v, Array) else np.asarray(v) for v in (a, b))
        return self(a[(Ellipsis,) + (None,) * b.ndim], b, **kwargs)

    def reduce(self, a, axis=0, **kwargs):
        """``ufunc.reduce`` where graphflow has the reduction (add, multiply, minimum, maximum, logical and/or)."""
        return self._method("reduce", a, axis, kwargs)

    def accumulate(self, a, axis=0, **kwargs):
        """``ufunc.accumulate`` where graphflow has it (add, multiply)."""
        return self._method("accumulate", a, axis, kwargs)

    def _method(self, method, a, axis, kwargs):
        if not isinstance(a, Array):
            return getattr(self.ufunc, method)(a, axis=axis, **kwargs)
        result = OPERATIONS.array_ufunc(self.ufunc, method, (a,), dict(kwargs, axis=axis))
        if result is NotImplemented:
            raise NotImplementedError(f"numpy.{self.__name__}.{method} is not implemented for graphflow arrays; "
                                      f"call .compute() first, or use map_blocks")
        return result


def frompyfunc(func, nin: int, nout: int, **kwargs) -> ArrayUfunc:
    """``numpy.frompyfunc`` as an `ArrayUfunc`: a Python function applied elementwise (object dtype)."""
    return ArrayUfunc(np.frompyfunc(func, nin, nout, **kwargs))


def _split_outputs(ufunc, args, out):
    """Inputs and the ``out`` tuple (or None): numpy also takes outputs positionally after the inputs."""
    if len(args) > ufunc.nargs or len(args) < ufunc.nin:
        raise TypeError(f"{ufunc.__name__}() takes from {ufunc.nin} to {ufunc.nargs} positional arguments "
                        f"but {len(args)} were given")
    if len(args) > ufunc.nin:
        if out is not None:
            raise TypeError(f"{ufunc.__name__}() got out= both positionally and as a keyword")
        args, out = args[:ufunc.nin], args[ufunc.nin:]
    if out is None:
        return args, None
    out = tuple(out) if isinstance(out, tuple) else (out,)
    if len(out) != ufunc.nout:
        raise ValueError(f"{ufunc.__name__}() has {ufunc.nout} outputs; out= gave {len(out)}")
    if all(o is None for o in out):
        return args, None
    if not all(isinstance(o, Array) for o in out):
        raise TypeError(f"out= of {ufunc.__name__}() on graphflow arrays must be graphflow Arrays (the result "
                        f"replaces their recipe); got {[type(o).__name__ for o in out]}")
    return args, out


def apply_ufunc(ufunc: np.ufunc, args, out=None, where=True, **kwargs):
    """``ufunc(*args, out=out, where=where, **kwargs)`` on graphflow Arrays; see the module docstring."""
    args, out = _split_outputs(ufunc, tuple(args), out)
    if not any(isinstance(v, Array) for v in (*args, where, *(out or ()))):
        return ufunc(*args, where=where, **kwargs)
    unknown = set(kwargs) - set(_UFUNC_KEYWORDS)
    if unknown:
        raise TypeError(f"{ufunc.__name__}() got unexpected keyword arguments {sorted(unknown)}")
    masked = out is not None or not (where is True)
    # numpy's own checks on one-element samples: casting errors, bad keywords, impossible dtypes.
    samples = [_sample(a) for a in args]
    with np.errstate(all="ignore"):
        if out is not None:
            probe = ufunc(*samples, out=tuple(np.zeros((1,) * o.ndim, o.dtype) for o in out),
                          where=_sample(where), **kwargs)
        else:
            probe = ufunc(*samples, **kwargs)
    probes = probe if ufunc.nout > 1 else (probe,)
    dtypes = tuple(np.asarray(p).dtype for p in probes)
    if out is not None:
        _check_out_shapes(ufunc, args, where, out)
    if not masked and not kwargs and ufunc.nout == 1:
        return elemwise(ufunc, *args)  # the plain path: the same keys (and streaming) as x + y
    if not masked:
        call, inputs = _UfuncCall(ufunc, kwargs), args
    elif out is not None:
        call, inputs = _UfuncCall(ufunc, kwargs, masked=True), (where, *out, *args)
    else:
        call, inputs = _UfuncCall(ufunc, kwargs, masked=True, dtypes=dtypes), (where, *args)
    if ufunc.nout == 1:
        results = (elemwise(call, *inputs, dtype=dtypes[0]),)
    else:
        results = _outputs(elemwise(call, *inputs, dtype=dtypes[0]), dtypes)
    if out is not None:
        results = tuple(o.become(r) for o, r in zip(out, results))
    return results if ufunc.nout > 1 else results[0]


def _check_out_shapes(ufunc, args, where, out) -> None:
    """numpy's ValueError when the inputs (and ``where``) do not broadcast to each ``out``'s shape."""
    shapes = [np.shape(a) if not isinstance(a, Array) else a.shape for a in (*args, where)]
    for o in out:
        try:
            full = np.broadcast_shapes(*shapes, o.shape)
        except ValueError:
            full = None
        if full != o.shape:
            raise ValueError(f"non-broadcastable output operand with shape {o.shape} doesn't match the "
                             f"broadcast shape of the inputs of {ufunc.__name__}()")


def _outputs(tuples: Array, dtypes) -> tuple:
    """One Array per output of a ufunc whose blocks are tuples (``frexp``, ``divmod``, ``modf``)."""
    results = []
    for i, dtype in enumerate(dtypes):
        name = new_name(f"output{i}", tuples)
        nodes = {}
        for key in tuples.graph_nodes:
            mine = (name,) + key[1:]
            nodes[mine] = Task(mine, operator.getitem, Ref(key), i)
        results.append(Array(name, tuples.chunks, dtype, nodes, [tuples]))
    return tuple(results)


def _export():
    """Module names for every ufunc in `UFUNC_NAMES` (the one table)."""
    names = {}
    for n in UFUNC_NAMES:
        names[n] = ArrayUfunc(getattr(np, n))
    return names


globals().update(_export())
