"""The BLAS axpy behind the update functions: in place, correct, and on one thread."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gradstep.optim import blas


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1024,), (30, 40), (20_001,)])
def test_axpy_updates_in_place(dtype, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    y = rng.standard_normal(shape).astype(dtype)
    wide = np.longdouble
    product = wide(dtype(-0.3)) * x.astype(wide)
    want = y.astype(wide) + product  # exact for float32; to 2⁻⁶⁴ relative for float64 (x86)
    held, x_before = y, x.copy()
    assert blas.axpy(-0.3, x, y) is True
    assert y is held and y.dtype == dtype
    assert np.array_equal(x, x_before)
    # one rounding (a fused multiply-add) or two (multiply, then add): within an ulp of each
    bound = np.spacing(np.abs(want).astype(dtype)) + np.spacing(np.abs(product).astype(dtype))
    assert np.all(np.abs(y.astype(wide) - want) <= bound.astype(wide))


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (np.ones(2048), np.zeros((64, 64))[:, ::2]),  # strided destination
        (np.ones(2048, np.float32), np.zeros(2048)),  # dtypes differ
        (np.ones(2048, np.int64), np.zeros(2048, np.int64)),  # not floating
        (np.ones(2048, np.float16), np.zeros(2048, np.float16)),  # no BLAS routine
        (np.ones(1024), np.zeros(2048)),  # sizes differ
        (np.ones(8), np.zeros(8)),  # too small to pay: the caller's two ufuncs
        ([1.0, 2.0], np.zeros(2)),  # not an array
    ],
)
def test_axpy_declines_what_it_cannot_do_in_place(x, y):
    before = np.array(y, copy=True)
    assert blas.axpy(2.0, x, y) is False
    assert np.array_equal(np.asarray(y), before)


def test_axpy_declines_a_read_only_destination():
    y = np.zeros(2048)
    y.flags.writeable = False
    assert blas.axpy(1.0, np.ones(2048), y) is False


def test_middle_sized_calls_run_on_one_thread_and_restore_the_count(monkeypatch):
    """Between OpenBLAS's threading size and ONE_THREAD_UP_TO the call runs with one thread (the
    count is restored); above it, with the thread limit."""
    blas.axpy(1.0, np.ones(2048), np.zeros(2048))  # loads the routines, finds the controls
    if not blas._PINS:
        pytest.skip(reason="scipy's BLAS is not an OpenBLAS threadpoolctl reports: nothing to hold")
    seen = []
    real = blas._ROUTINES["d"]

    def spy(x, y, a):
        seen.append([get() for get, _ in blas._PINS])
        return real(x, y, a=a)

    monkeypatch.setitem(blas._ROUTINES, "d", spy)
    n = blas.OPENBLAS_THREADED_ABOVE + 1
    with threadpool_limits(2, user_api="blas"):
        y = np.zeros(n)
        assert blas.axpy(0.5, np.ones(n), y)
        assert seen == [[1] * len(blas._PINS)]
        assert [get() for get, _ in blas._PINS] == [2] * len(blas._PINS)
        assert blas.axpy(0.5, np.ones(2048), np.zeros(2048))  # below 10,000: left as it is
        assert seen[-1] == [2] * len(blas._PINS)
        calls = len(seen)
        big = blas.ONE_THREAD_UP_TO + 1
        z = np.zeros(big)
        assert blas.axpy(0.25, np.ones(big), z)
        if blas._numpy_routines().get("d"):  # NumPy's own OpenBLAS took it, not scipy's
            assert len(seen) == calls
        else:  # scipy's, held to one thread
            assert seen[-1] == [1] * len(blas._PINS)
    assert np.all(y == 0.5)
    assert np.all(z == 0.25)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_big_calls_through_numpys_openblas_match_numpy(dtype):
    """Above ONE_THREAD_UP_TO the update goes to NumPy's cblas_?axpy (when found): the result is
    y + a·x to the last bit or one rounding of it (a fused multiply-add)."""
    rng = np.random.default_rng(0)
    n = blas.ONE_THREAD_UP_TO + 3  # an odd tail past the vector width
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    expected = y + dtype(-0.3) * x
    bound = 2 * np.finfo(dtype).eps * (np.abs(y) + np.abs(dtype(0.3) * x))  # two roundings
    assert blas.axpy(-0.3, x, y)
    assert np.all(np.abs(y - expected) <= bound)
    if blas._numpy_routines().get("f"):
        assert set(blas._numpy_routines()) == {"f", "d", "max"}


def test_fixed_threads_leave_big_calls_to_scipys_routine_on_one_thread(monkeypatch):
    """GRADSTEP_BLAS_THREADS=fixed: NumPy's OpenBLAS is not looked up, and a big update still
    adds correctly (through scipy's routine)."""
    monkeypatch.setenv("GRADSTEP_BLAS_THREADS", "fixed")
    monkeypatch.setattr(blas, "_BIG", None)
    assert blas._numpy_routines() == {}
    n = blas.ONE_THREAD_UP_TO + 1
    y = np.full(n, 2.0)
    assert blas.axpy(-0.5, np.ones(n), y)
    assert np.all(y == 1.5)
