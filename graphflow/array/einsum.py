"""``einsum`` and ``vdot``.

``einsum`` is one `blockwise` call: every index letter of the subscripts is a
blockwise index, so inputs are aligned letter by letter (a letter repeated in
one operand, as ``"ii->i"``, reads the diagonal blocks).  Letters summed away
stay in each task's output as length-1 axes -- one partial result per block
combination -- and a tree `sum` over those axes finishes the contraction, so
no task ever holds a whole contracted axis.

    >>> import numpy as np, graphflow.array as ga
    >>> a = ga.from_array(np.arange(6.0).reshape(2, 3), chunks=(1, 2))
    >>> einsum("ij,j->i", a, ga.ones(3, chunks=2)).compute()
    array([ 3., 12.])
"""

from __future__ import annotations

import string

import numpy as np

from .blockwise import blockwise
from .core import Array
from .creation import asarray
from .elementwise import elemwise
from .manipulation import ravel
from .reductions import sum as _sum

__all__ = ["einsum", "vdot"]


def _parse(subscripts, operands):
    """Explicit ``(input letters per operand, output letters)``, ``...`` expanded to spare letters."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(operands)} operands")
    used = set(subscripts) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    nell = max([op.ndim - len(t.replace("...", "")) for t, op in zip(terms, operands) if "..." in t] or [0])
    ell = "".join(spare[:nell])
    out_terms = []
    for t, op in zip(terms, operands):
        if "..." in t:
            k = op.ndim - len(t.replace("...", ""))
            t = t.replace("...", ell[nell - k:] if k else "")
        if len(t) != op.ndim:
            raise ValueError(f"einsum: subscripts {t!r} do not match an operand of {op.ndim} dimensions")
        out_terms.append(t)
    if arrow:
        out = output.replace("...", ell)
    else:
        letters = "".join(out_terms)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    for c in out:
        if not any(c in t for t in out_terms):
            raise ValueError(f"einsum: output subscript {c!r} does not appear in the inputs")
    return out_terms, out


def _one(_):
    return 1


def _partial(*blocks, spec, ncontract, kwargs):
    out = np.einsum(spec, *blocks, **kwargs)
    return out.reshape(out.shape + (1,) * ncontract)


def einsum(subscripts, *operands, dtype=None, optimize=False, split_every=None, **kwargs) -> Array:
    """``numpy.einsum`` over graphflow arrays; see the module docstring."""
    ops = [asarray(o) for o in operands]
    terms, out = _parse(subscripts, ops)
    contract = "".join(sorted({c for t in terms for c in t} - set(out)))
    samples = [np.ones((1,) * o.ndim, dtype=o.dtype) for o in ops]
    out_dtype = np.einsum(",".join(terms) + "->" + out, *samples, dtype=dtype, **kwargs).dtype
    inner = {"dtype": dtype, **kwargs} if dtype is not None else dict(kwargs)
    pairs = [x for o, t in zip(ops, terms) for x in (o, t)]
    part = blockwise(_partial, out + contract, *pairs, dtype=out_dtype, spec=",".join(terms) + "->" + out,
                     ncontract=len(contract), kwargs=inner, adjust_chunks={c: _one for c in contract})
    if not contract:
        return part
    return _sum(part, axis=tuple(range(len(out), len(out) + len(contract))), dtype=out_dtype,
                split_every=split_every)


def vdot(a, b) -> Array:
    """``numpy.vdot``: the dot product of the flattened arrays, the first conjugated."""
    a, b = ravel(asarray(a)), ravel(asarray(b))
    if a.shape != b.shape:
        raise ValueError("cannot reshape array of size {} into shape ({},)".format(b.size, a.size))
    return _sum(elemwise(np.multiply, elemwise(np.conjugate, a), b))
