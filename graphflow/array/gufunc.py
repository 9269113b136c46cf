"""Generalized ufuncs over blocks: apply_gufunc, as_gufunc/gufunc, apply_along_axis, apply_over_axes.

A gufunc signature such as ``"(i,j),(j)->(i)"`` splits each input's axes into
*loop* axes (the leading ones, broadcast against each other) and *core* axes
(the trailing ones the function consumes).  Loop axes keep their blocks; every
core axis must be one block (``allow_rechunk=True`` makes it so), so each task
calls the function once on whole core extents.  The whole call is one
`blockwise`: loop axes are its shared indices, core letters are contracted
(handed over whole) or kept, and output core axes the inputs lack are new
axes of ``output_sizes``.  Several outputs come from one task per block that
returns a tuple, read by one small task per output block.

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(12.0).reshape(4, 3), chunks=(2, 3))
    >>> apply_gufunc(lambda b: b.mean(axis=-1), "(i)->()", x).compute()
    array([ 1.,  4.,  7., 10.])
"""

from __future__ import annotations

import operator
import re

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..spec import Ref, Task
from .blockwise import blockwise
from .core import Array, new_name
from .creation import asarray
from .manipulation import expand_dims, moveaxis
from .rechunk import rechunk

__all__ = ["apply_gufunc", "as_gufunc", "gufunc", "apply_along_axis", "apply_over_axes"]

_DIMS = re.compile(r"\(([^()]*)\)")


def parse_signature(signature):
    """``"(i,j),(j)->(i),()"`` -> ``([("i", "j"), ("j",)], [("i",), ()], several_outputs)``."""
    sig = signature.replace(" ", "")
    if "->" not in sig:
        raise ValueError(f"not a gufunc signature: {signature!r}")
    ins, outs = sig.split("->")

    def dims(part):
        return [tuple(d for d in m.split(",") if d) for m in _DIMS.findall(part)]

    out_dims = dims(outs)
    return dims(ins), out_dims, len(out_dims) != 1


def _sample_dtypes(func, arrays, core_in, kwargs):
    """The output dtypes of ``func`` on sample inputs with the inputs' dtypes and core lengths: first with
    empty loop axes (no values to trip on), then with ones."""
    error = None
    for fill in (0, 1):
        samples = [np.ones((fill,) * (a.ndim - len(c)) + a.shape[a.ndim - len(c):], dtype=a.dtype)
                   for a, c in zip(arrays, core_in)]
        try:
            with np.errstate(all="ignore"):
                out = func(*samples, **kwargs)
        except Exception as exc:
            error = exc
            continue
        return [np.asarray(o).dtype for o in out] if isinstance(out, tuple) else [np.asarray(out).dtype]
    raise ValueError(f"could not infer the output dtype of {getattr(func, '__name__', func)!r} by calling it "
                     f"on sample blocks ({error}); pass output_dtypes=") from error


def _pick(result, i):
    return result[i]


def _move_in(arrays, core_in, axes):
    out = []
    for a, cd, ax in zip(arrays, core_in, axes):
        if len(ax) != len(cd):
            raise ValueError(f"axes {ax} do not match the core dimensions {cd}")
        out.append(moveaxis(a, ax, tuple(range(a.ndim - len(cd), a.ndim))) if ax else a)
    return out


def _axes_lists(axes, axis, keepdims, core_in, core_out, arrays):
    if axis is not None:
        if axes is not None:
            raise ValueError("only one of axis= or axes= may be given")
        if any(len(c) != 1 for c in core_in):
            raise ValueError("axis= needs a signature where every input has one core dimension")
        axes = [(axis,)] * len(core_in) + [(axis,) if keepdims else ()] * len(core_out)
    if axes is None:
        return None, None
    axes = [tuple(a) if isinstance(a, (tuple, list)) else (a,) for a in axes]
    ins = [tuple(normalize_axis_index(x, arr.ndim) for x in ax) for ax, arr in zip(axes, arrays)]
    outs = axes[len(core_in):] or [c and tuple(range(-len(c), 0)) for c in core_out]
    return ins, outs


def apply_gufunc(func, signature, *args, axes=None, axis=None, keepdims=False, output_dtypes=None,
                 output_sizes=None, vectorize=None, allow_rechunk=False, meta=None, **kwargs):
    """``func`` (a gufunc, or any function honouring ``signature``) over the blocks of ``args``."""
    core_in, core_out, several = parse_signature(signature)
    arrays = [asarray(a) for a in args]
    if len(arrays) != len(core_in):
        raise ValueError(f"signature {signature!r} takes {len(core_in)} inputs, got {len(arrays)}")
    if keepdims and any(core_out):
        raise ValueError("keepdims=True needs outputs without core dimensions")
    in_axes, out_axes = _axes_lists(axes, axis, keepdims, core_in, core_out, arrays)
    if in_axes is not None:
        arrays = _move_in(arrays, core_in, in_axes)
    if output_dtypes is not None:
        output_dtypes = [np.dtype(d) for d in (output_dtypes if isinstance(output_dtypes, (list, tuple))
                                               else [output_dtypes])]
    if vectorize:
        func = np.vectorize(func, signature=signature, otypes=output_dtypes)
    sizes = dict(output_sizes or {})
    for a, cd in zip(arrays, core_in):
        if a.ndim < len(cd):
            raise ValueError(f"an input of {a.ndim} dimensions cannot have the core dimensions {cd}")
        for d, letter in zip(range(a.ndim - len(cd), a.ndim), cd):
            if sizes.setdefault(letter, a.shape[d]) != a.shape[d]:
                raise ValueError(f"core dimension {letter!r} has length {sizes[letter]} in one input and "
                                 f"{a.shape[d]} in another")
    arrays = [_whole_core(a, len(cd), allow_rechunk, cd) for a, cd in zip(arrays, core_in)]
    dtypes = output_dtypes or _sample_dtypes(func, arrays, core_in, kwargs)
    nloop = max([a.ndim - len(cd) for a, cd in zip(arrays, core_in)] or [0])
    loop = tuple(f"loop{k}" for k in range(nloop))
    pairs = []
    for a, cd in zip(arrays, core_in):
        pairs += [a, loop[nloop - (a.ndim - len(cd)):] + tuple("core_" + c for c in cd)]
    known = {c for cd in core_in for c in cd}
    missing = [c for co in core_out for c in co if c not in known and c not in sizes]
    if missing:
        raise ValueError(f"output core dimensions {missing} are not in the inputs: give their output_sizes=")
    if not several:
        out_ind = loop + tuple("core_" + c for c in core_out[0])
        new = {"core_" + c: sizes[c] for c in core_out[0] if c not in known}
        outs = [blockwise(func, out_ind, *pairs, dtype=dtypes[0], concatenate=True, new_axes=new, **kwargs)]
    else:
        tup = blockwise(func, loop, *pairs, dtype=object, concatenate=True, **kwargs)
        outs = [_output(tup, i, co, sizes, dt) for i, (co, dt) in enumerate(zip(core_out, dtypes))]
    if keepdims:
        outs = [expand_dims(o, -1) for o in outs]
    if out_axes is not None:
        outs = [moveaxis(o, tuple(range(o.ndim - len(ax), o.ndim)), ax) if ax else o
                for o, ax in zip(outs, out_axes)]
    return tuple(outs) if several else outs[0]


def _whole_core(a, ncore, allow_rechunk, names):
    if not ncore or all(n == 1 for n in a.numblocks[a.ndim - ncore:]):
        return a
    if not allow_rechunk:
        raise ValueError(f"core dimensions {names} consist of several blocks; rechunk them into one block each "
                         f"(or pass allow_rechunk=True, which may need much more memory per task)")
    return rechunk(a, tuple(c if d < a.ndim - ncore else -1 for d, c in enumerate(a.chunks)))


def _output(tup, i, core, sizes, dtype):
    name = new_name("gufunc-out", tup, i)
    nodes = {}
    for idx in np.ndindex(*tup.numblocks):
        key = (name,) + idx + (0,) * len(core)
        nodes[key] = Task(key, _pick, Ref((tup.name,) + idx), i)
    return Array(name, tup.chunks + tuple((sizes[c],) for c in core), dtype, nodes, [tup])


class gufunc:
    """A function bound to a gufunc signature and `apply_gufunc`'s options; call it on arrays.

    >>> import numpy as np, graphflow.array as ga
    >>> mean = gufunc(lambda b: b.mean(axis=-1), signature="(i)->()", output_dtypes=float)
    >>> mean(ga.ones((4, 3), chunks=2), allow_rechunk=True).compute()
    array([1., 1., 1., 1.])
    """

    def __init__(self, pyfunc, *, signature=None, vectorize=False, axes=None, axis=None, keepdims=False,
                 output_sizes=None, output_dtypes=None, allow_rechunk=False, meta=None):
        if signature is None:
            raise TypeError("gufunc needs signature=")
        self.pyfunc = pyfunc
        self.signature = signature
        self.options = {"vectorize": vectorize, "axes": axes, "axis": axis, "keepdims": keepdims,
                        "output_sizes": output_sizes, "output_dtypes": output_dtypes,
                        "allow_rechunk": allow_rechunk}
        self.__doc__ = getattr(pyfunc, "__doc__", None)
        self.__name__ = getattr(pyfunc, "__name__", "gufunc")

    def __call__(self, *args, allow_rechunk=False, **kwargs):
        options = dict(self.options)
        options["allow_rechunk"] = allow_rechunk or options["allow_rechunk"]
        return apply_gufunc(self.pyfunc, self.signature, *args, **options, **kwargs)

    def __repr__(self):
        return f"gufunc({self.__name__}, signature={self.signature!r})"


def as_gufunc(signature=None, **kwargs):
    """Decorator: ``@as_gufunc("(i)->()")`` turns a function into a `gufunc`."""
    if signature is None:
        raise TypeError("as_gufunc needs a signature")

    def wrap(pyfunc):
        return gufunc(pyfunc, signature=signature, **kwargs)

    return wrap


def _along_axis(block, func1d, axis, args, kwargs):
    return np.apply_along_axis(func1d, axis, block, *args, **kwargs)


def apply_along_axis(func1d, axis, arr, *args, dtype=None, shape=None, **kwargs):
    """``numpy.apply_along_axis``: the axis is made one block, every other axis keeps its blocks.

    ``shape``/``dtype`` of ``func1d``'s result default to those of one call on ones.
    """
    arr = asarray(arr)
    axis = normalize_axis_index(axis, arr.ndim)
    if shape is None or dtype is None:
        test = np.asarray(func1d(np.ones(max(arr.shape[axis], 1), dtype=arr.dtype), *args, **kwargs))
        shape = test.shape if shape is None else shape
        dtype = test.dtype if dtype is None else dtype
    shape = tuple(operator.index(s) for s in shape)
    arr = rechunk(arr, tuple(-1 if d == axis else c for d, c in enumerate(arr.chunks)))
    ind = tuple(f"a{d}" for d in range(arr.ndim))
    new = {f"r{k}": s for k, s in enumerate(shape)}
    out_ind = ind[:axis] + tuple(new) + ind[axis + 1:]
    return blockwise(_along_axis, out_ind, arr, ind, dtype=dtype, concatenate=True, new_axes=new,
                     func1d=func1d, axis=axis, args=args, kwargs=kwargs)


def apply_over_axes(func, a, axes):
    """``numpy.apply_over_axes``: ``func(a, axis)`` for each axis in turn, keeping dimensions."""
    a = asarray(a)
    for ax in ([axes] if np.ndim(axes) == 0 else axes):
        ax = normalize_axis_index(ax, a.ndim)
        res = func(a, ax)
        if res.ndim == a.ndim:
            a = res
        elif res.ndim == a.ndim - 1:
            a = expand_dims(res, ax)
        else:
            raise ValueError("function is not returning an array of the correct shape")
    return a
