"""graphflow.array.fft against numpy.fft: every transform, over chunkings of the untransformed axes.

Each test builds the same data in numpy and graphflow, transforms along axes
held in one chunk (the others cut evenly, unevenly, or not at all) and checks
values, dtype and chunks; a transform along a chunked axis must raise
`ChunkingError` naming the rechunk, and follow numpy on bad lengths.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphflow.array as ga
from graphflow.errors import ChunkingError

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"]


def _data(shape, complex_=False, dtype=np.float64):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    return x + 1j * rng.standard_normal(shape) if complex_ else x


def _check(result, expected):
    got = result.compute()
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape == result.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("chunks", [(9, 8), (3, 8), (4, 8), (1, 8)])
@pytest.mark.parametrize("n", [None, 5, 12])
@pytest.mark.api(*[f"fft.{n}" for n in ONE_D])
def test_one_d_transforms_along_the_last_axis(name, chunks, n):
    x = _data((9, 8), complex_=name in ("ifft", "fft", "irfft", "hfft"))
    a = ga.from_array(x, chunks=chunks)
    _check(getattr(ga.fft, name)(a, n=n), getattr(np.fft, name)(x, n=n))


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.api(*[f"fft.{n}" for n in ONE_D])
def test_one_d_transforms_along_axis_0_with_norm(name):
    x = _data((7, 10))
    a = ga.from_array(x, chunks=(7, 3))                      # axis 1 unevenly chunked, axis 0 whole
    for norm in (None, "ortho", "forward"):
        _check(getattr(ga.fft, name)(a, axis=0, norm=norm), getattr(np.fft, name)(x, axis=0, norm=norm))


@pytest.mark.parametrize("name", N_D)
@pytest.mark.parametrize("s", [None, (4, 6)])
@pytest.mark.api(*[f"fft.{n}" for n in N_D])
def test_n_d_transforms_over_the_last_two_axes(name, s):
    x = _data((5, 6, 8))
    a = ga.from_array(x, chunks=(2, 6, 8))                   # the leading, untransformed axis chunked
    axes = (-2, -1)
    _check(getattr(ga.fft, name)(a, s=s, axes=axes), getattr(np.fft, name)(x, s=s, axes=axes))


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn"])
@pytest.mark.api("fft.fftn", "fft.ifftn", "fft.rfftn", "fft.irfftn")
def test_n_d_transforms_over_all_axes_and_chosen_axes(name):
    x = _data((4, 6, 8))
    a = ga.from_array(x, chunks=-1)
    _check(getattr(ga.fft, name)(a), getattr(np.fft, name)(x))
    b = ga.from_array(x, chunks=(4, 2, 8))
    _check(getattr(ga.fft, name)(b, axes=(0, 2)), getattr(np.fft, name)(x, axes=(0, 2)))


@pytest.mark.api("fft.fft", "fft.rfft")
def test_float32_keeps_single_precision_like_numpy():
    x = _data((6, 8), dtype=np.float32)
    a = ga.from_array(x, chunks=(2, 8))
    for name in ("fft", "rfft"):
        got, expected = getattr(ga.fft, name)(a).compute(), getattr(np.fft, name)(x)
        assert got.dtype == expected.dtype == np.complex64
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.api("fft.fft", "fft.rfft")
def test_zero_d_and_empty_inputs_raise_like_numpy():
    with pytest.raises(np.exceptions.AxisError):
        ga.fft.fft(ga.asarray(np.float64(2.0)))
    empty = np.zeros((3, 0))
    with pytest.raises(ValueError):
        np.fft.fft(empty)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        ga.fft.fft(ga.from_array(empty, chunks=(1, 1)))
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        ga.fft.rfft(ga.from_array(np.ones(4), chunks=4), n=0)
    # an empty untransformed axis is fine in numpy and here
    _check(ga.fft.fft(ga.from_array(np.zeros((0, 4)), chunks=(1, 4))), np.fft.fft(np.zeros((0, 4))))


@pytest.mark.parametrize("name,kwargs", [("fft", {"axis": 0}), ("rfft", {}), ("fft2", {}), ("irfftn", {})])
def test_a_chunked_transform_axis_is_refused_naming_the_rechunk(name, kwargs):
    a = ga.from_array(np.ones((6, 6)), chunks=(3, 2))
    with pytest.raises(ChunkingError, match=r"rechunk\(\{\d: -1\}\)") as info:
        getattr(ga.fft, name)(a, **kwargs)
    assert isinstance(info.value, ValueError)
    axis = info.value.axis
    fixed = getattr(ga.fft, name)(a.rechunk({0: -1, 1: -1}), **kwargs)     # the named fix works
    _check(fixed, getattr(np.fft, name)(np.ones((6, 6)), **kwargs))
    assert axis in (0, 1)


@pytest.mark.api("fft.fft_wrap")
def test_fft_wrap_wraps_any_function_with_numpys_signature():
    calls = []

    def my_fft(a, n=None, axis=-1, norm=None):
        calls.append(a.shape)
        return np.fft.fft(a, n=n, axis=axis, norm=norm)

    x = _data((8, 5))
    a = ga.from_array(x, chunks=(3, 5))
    wrapped = ga.fft.fft_wrap(my_fft, kind="fft")
    _check(wrapped(a, n=7), np.fft.fft(x, n=7))
    _check(ga.fft.fft_wrap(np.fft.rfftn)(ga.from_array(x, chunks=-1)), np.fft.rfftn(x))
    assert (8, 5) not in calls[1:] and (3, 5) in calls                 # block by block, not the whole array
    with pytest.raises(ValueError, match="unknown transform kind"):
        ga.fft.fft_wrap(np.sum)


@pytest.mark.parametrize("n,d", [(1, 1.0), (8, 0.1), (9, 2.0)])
@pytest.mark.api("fft.fftfreq", "fft.rfftfreq")
def test_frequencies_match_numpy(n, d):
    _check(ga.fft.fftfreq(n, d, chunks=3), np.fft.fftfreq(n, d))
    _check(ga.fft.rfftfreq(n, d, chunks=2), np.fft.rfftfreq(n, d))


@pytest.mark.parametrize("chunks", [(7, 6), (3, 4), (1, 5), (2, 1)])
@pytest.mark.parametrize("axes", [None, 0, (1,), (0, 1), (1, 1)])
@pytest.mark.api("fft.fftshift", "fft.ifftshift")
def test_shifts_match_numpy_for_any_chunking(chunks, axes):
    x = _data((7, 6))
    a = ga.from_array(x, chunks=chunks)
    _check(ga.fft.fftshift(a, axes=axes), np.fft.fftshift(x, axes=axes))
    _check(ga.fft.ifftshift(a, axes=axes), np.fft.ifftshift(x, axes=axes))
    _check(ga.fft.ifftshift(ga.fft.fftshift(a, axes=axes), axes=axes), x)


@pytest.mark.api("fft.fftshift")
def test_shift_of_0_d_and_empty():
    with pytest.raises(ValueError):
        np.fft.fftshift(np.float64(3.0))
    with pytest.raises(ValueError, match="0-d"):
        ga.fft.fftshift(ga.asarray(np.float64(3.0)))
    _check(ga.fft.fftshift(ga.from_array(np.zeros((0, 3)), chunks=(1, 2))), np.fft.fftshift(np.zeros((0, 3))))


@settings(max_examples=20)
@given(rows=st.integers(0, 9), cols=st.integers(1, 9), row_chunk=st.integers(1, 9), n=st.none() | st.integers(1, 12),
       name=st.sampled_from(ONE_D))
@pytest.mark.api(*[f"fft.{n}" for n in ONE_D])
def test_hypothesis_one_d_over_shapes_and_chunks(rows, cols, row_chunk, n, name):
    x = _data((rows, cols), complex_=True)
    if name in ("irfft", "hfft") and n is None and cols == 1:
        with pytest.raises(ValueError):
            getattr(ga.fft, name)(ga.from_array(x, chunks=(row_chunk, cols)))
        return
    a = ga.from_array(x, chunks=(row_chunk, cols))
    if name in ("rfft", "ihfft"):
        x, a = x.real, a.real if hasattr(a, "real") else ga.from_array(x.real, chunks=(row_chunk, cols))
    _check(getattr(ga.fft, name)(a, n=n), getattr(np.fft, name)(x, n=n))
