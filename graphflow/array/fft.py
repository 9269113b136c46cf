"""`graphflow.array.fft`: numpy's discrete Fourier transforms, block by block, along axes held in one chunk.

A transform along an axis needs every element of that axis at once, so each
transformed axis must be a single chunk; the other axes may be chunked freely
and each block is transformed on its own (one task per block, no
communication).  An axis cut into several chunks is refused with a
`ChunkingError` that names the ``rechunk`` to call, rather than rechunking
silently (which may move the whole array through one worker's memory).

    >>> import numpy as np, graphflow.array as ga
    >>> x = ga.from_array(np.arange(8.0).reshape(2, 4), chunks=(1, 4))
    >>> y = ga.fft.rfft(x)                    # along the last axis (one chunk)
    >>> y.chunks, y.dtype
    (((1, 1), (3,)), dtype('complex128'))
    >>> bool(np.allclose(y.compute(), np.fft.rfft(np.arange(8.0).reshape(2, 4))))
    True
    >>> ga.fft.fft(x, axis=0)
    Traceback (most recent call last):
    ...
    graphflow.errors.ChunkingError: an FFT along axis 0 needs that axis in one chunk, ...

Output lengths along the transformed axes follow numpy: ``n`` (or ``s``) if
given, else the input length, except the real transforms: ``rfft``/``ihfft``
give ``n // 2 + 1`` and ``irfft``/``hfft`` default to ``n = 2 * (m - 1)``
(for the n-dimensional ones, on the last of ``axes`` only).  `fft_wrap` makes
the same wrapper around any function with numpy's fft signature (scipy's,
pyFFTW's).  ``fftfreq``/``rfftfreq`` build their (small) result in chunks;
``fftshift``/``ifftshift`` are rolls, which work for any chunking.
"""

from __future__ import annotations

import numpy as np

from ..errors import ChunkingError
from .blockwise import map_blocks
from .core import Array
from .creation import asarray, from_array
from .manipulation import concatenate

__all__ = ["fft_wrap", "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

# The transform kinds, by the name of numpy's function with the "2"/"n" suffix removed.
_KINDS = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")


def _out_length(kind: str, m: int, n) -> int:
    """The output length along the (last) transformed axis: input length ``m``, requested length ``n``."""
    if kind in ("irfft", "hfft"):
        return 2 * (m - 1) if n is None else int(n)
    n = m if n is None else int(n)
    return n // 2 + 1 if kind in ("rfft", "ihfft") else n


def _check_single_chunk(a: Array, axes) -> None:
    for ax in axes:
        if len(a.chunks[ax]) != 1:
            raise ChunkingError(
                f"an FFT along axis {ax} needs that axis in one chunk, but it has {len(a.chunks[ax])} chunks "
                f"{a.chunks[ax]}; rechunk first: x.rechunk({{{ax}: -1}}) (the other axes may stay chunked)",
                axis=ax)


def _normalize_axes(a: Array, axes, s, shape_kind: str):
    """numpy's rules for ``axes``/``s``: the axes transformed (non-negative) and one length (or None) per axis."""
    if shape_kind == "1":
        axes = [axes]
    elif axes is None:
        axes = list(range(a.ndim - len(s), a.ndim)) if s is not None else list(range(a.ndim))
    else:
        axes = list(axes)
    out = []
    for ax in axes:
        if not -a.ndim <= ax < a.ndim:
            raise np.exceptions.AxisError(ax, a.ndim)
        out.append(ax % a.ndim)
    if s is None:
        s = [None] * len(out)
    elif len(s) != len(out):
        raise ValueError(f"shape and axes have different lengths: s={tuple(s)}, axes={tuple(out)}")
    return out, list(s)


def _infer_dtype(func, dtype, ndim, axes, shape_kind, kwargs):
    """The result dtype: ``func`` applied to a tiny array of ``dtype`` (length 4 along the axes)."""
    sample = np.ones([4 if d in axes else 1 for d in range(ndim)], dtype=dtype)
    if shape_kind == "1":
        return func(sample, axis=axes[0], **kwargs).dtype
    return func(sample, axes=axes, **kwargs).dtype


def fft_wrap(fft_func, kind=None, dtype=None):
    """A graphflow version of ``fft_func`` (numpy's signature: ``(a, n, axis, norm)`` or ``(a, s, axes, norm)``).

    ``kind`` is the transform's numpy name ("fft", "rfft2", "irfftn", ...), read
    from ``fft_func.__name__`` when omitted; ``dtype`` fixes the result's dtype
    (inferred from ``fft_func`` on a tiny input otherwise).
    """
    kind = kind or getattr(fft_func, "__name__", "")
    base = kind.rstrip("2n") if kind.endswith(("2", "n")) and kind not in _KINDS else kind
    if base not in _KINDS:
        raise ValueError(f"fft_wrap: unknown transform kind {kind!r}; give kind= one of {_KINDS} "
                         f"(optionally ending in '2' or 'n')")
    shape_kind = "1" if base == kind else kind[-1]

    def build(a, lengths_arg, axes_arg, norm, kwargs):
        a = a if isinstance(a, Array) else asarray(a)
        if shape_kind == "1":
            axes, lengths = _normalize_axes(a, axes_arg, None if lengths_arg is None else [lengths_arg], "1")
        else:
            axes, lengths = _normalize_axes(a, axes_arg, lengths_arg, shape_kind)
        _check_single_chunk(a, axes)
        chunks = list(a.chunks)
        for k, (ax, n) in enumerate(zip(axes, lengths)):
            m = a.shape[ax]
            last = k == len(axes) - 1
            out_len = _out_length(base, m, n) if last else (m if n is None else int(n))
            in_len = m if n is None else int(n)
            if (n is not None and int(n) < 1) or out_len < 1 or (base not in ("irfft", "hfft") and in_len < 1):
                raise ValueError(f"Invalid number of FFT data points ({n if n is not None else out_len}) "
                                 f"along axis {ax}")
            chunks[ax] = (out_len,)
        extra = dict(kwargs, norm=norm)
        out_dtype = dtype or _infer_dtype(fft_func, a.dtype, a.ndim, axes, shape_kind, extra)
        if shape_kind == "1":
            extra.update(n=lengths[0], axis=axes[0])
        else:
            extra.update(s=None if all(n is None for n in lengths) else _full_lengths(a, axes, lengths, base),
                         axes=axes)
        return map_blocks(fft_func, a, dtype=out_dtype, chunks=tuple(chunks), **extra)

    if shape_kind == "1":
        def wrapped(a, n=None, axis=-1, norm=None, **kwargs):
            return build(a, n, axis, norm, kwargs)
    else:
        default_axes = (-2, -1) if shape_kind == "2" else None

        def wrapped(a, s=None, axes=default_axes, norm=None, **kwargs):
            return build(a, s, axes, norm, kwargs)

    wrapped.__name__ = kind
    wrapped.__doc__ = (f"numpy's ``{kind}`` on a graphflow Array, block by block; every transformed axis must be "
                       f"a single chunk (else ChunkingError naming the rechunk).")
    return wrapped


def _full_lengths(a, axes, lengths, base):
    """``s`` with the Nones filled in as numpy would (numpy 2 deprecates None inside ``s``)."""
    out = []
    for k, (ax, n) in enumerate(zip(axes, lengths)):
        if n is not None:
            out.append(int(n))
        elif k == len(axes) - 1 and base in ("irfft", "hfft"):
            out.append(2 * (a.shape[ax] - 1))
        else:
            out.append(a.shape[ax])
    return out


fft = fft_wrap(np.fft.fft)
ifft = fft_wrap(np.fft.ifft)
rfft = fft_wrap(np.fft.rfft)
irfft = fft_wrap(np.fft.irfft)
hfft = fft_wrap(np.fft.hfft)
ihfft = fft_wrap(np.fft.ihfft)
fft2 = fft_wrap(np.fft.fft2)
ifft2 = fft_wrap(np.fft.ifft2)
rfft2 = fft_wrap(np.fft.rfft2)
irfft2 = fft_wrap(np.fft.irfft2)
fftn = fft_wrap(np.fft.fftn)
ifftn = fft_wrap(np.fft.ifftn)
rfftn = fft_wrap(np.fft.rfftn)
irfftn = fft_wrap(np.fft.irfftn)


def fftfreq(n, d=1.0, chunks="auto") -> Array:
    """The sample frequencies of an ``n``-point FFT with sample spacing ``d`` (numpy's ``fftfreq``)."""
    return from_array(np.fft.fftfreq(_points(n), d), chunks=chunks)


def rfftfreq(n, d=1.0, chunks="auto") -> Array:
    """The non-negative sample frequencies of an ``n``-point real FFT (numpy's ``rfftfreq``)."""
    return from_array(np.fft.rfftfreq(_points(n), d), chunks=chunks)


def _points(n) -> int:
    if not isinstance(n, (int, np.integer)):
        raise ValueError(f"n should be an integer, not {n!r}")
    return int(n)


def _roll(x: Array, shifts: dict) -> Array:
    """``x`` rolled by ``shifts[axis]`` along each axis: two slices joined, so any chunking works."""
    for ax, shift in shifts.items():
        m = x.shape[ax]
        if m == 0:
            continue
        k = shift % m
        if k == 0:
            continue
        head = tuple(slice(m - k, None) if d == ax else slice(None) for d in range(x.ndim))
        tail = tuple(slice(None, m - k) if d == ax else slice(None) for d in range(x.ndim))
        x = concatenate([x[head], x[tail]], axis=ax)
    return x


def _shift_axes(x: Array, axes) -> list:
    if x.ndim == 0:
        raise ValueError("cannot shift a 0-d array: it has no axes (numpy.fft.fftshift raises ValueError too)")
    if axes is None:
        return list(range(x.ndim))
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    for ax in axes:
        if not -x.ndim <= ax < x.ndim:
            raise np.exceptions.AxisError(ax, x.ndim)
    return [ax % x.ndim for ax in axes]


def fftshift(x, axes=None) -> Array:
    """The zero-frequency term moved to the centre (numpy's ``fftshift``); any chunking."""
    x = x if isinstance(x, Array) else asarray(x)
    shifts: dict = {}
    for ax in _shift_axes(x, axes):
        shifts[ax] = shifts.get(ax, 0) + x.shape[ax] // 2
    return _roll(x, shifts)


def ifftshift(x, axes=None) -> Array:
    """The inverse of `fftshift` (numpy's ``ifftshift``); any chunking."""
    x = x if isinstance(x, Array) else asarray(x)
    shifts: dict = {}
    for ax in _shift_axes(x, axes):
        shifts[ax] = shifts.get(ax, 0) - (x.shape[ax] // 2)
    return _roll(x, shifts)
