"""BLAS ``axpy`` for the update functions: ``y += a·x`` in one pass over memory instead of two.

NumPy has no fused multiply-add, so ``y += a * x`` reads and writes memory twice (a temporary,
then the sum); scipy's BLAS ``saxpy``/``daxpy`` does it in one pass (over 1M float32: 96 µs on one
thread against 205 µs for the two ufuncs). scipy's f2py wrappers update ``y`` in place and return
it; the result is checked anyway, so a copy could never lose an update.

Below 1,024 elements the two ufuncs cost no more than the call's checks and overhead (1.0 against
1.7 µs at 10 floats, equal near 1,000), so ``axpy`` declines them; the update then keeps NumPy's
rounding (BLAS uses a fused multiply-add, which may change an update's last bit).

Calls up to ``ONE_THREAD_UP_TO`` elements run on one BLAS thread. OpenBLAS splits an ``axpy`` of
more than 10,000 elements over its threads, and on a busy machine waiting for the second thread
costs milliseconds, which a small network's step cannot hide. Bigger calls use the thread limit
(``gs.set_num_threads``), as PyTorch does: over 1M float32 two threads took 61 µs against 119 µs
on one (AMD EPYC, idle; 31 against 53 µs at 512k, 14 against 25 µs at 256k). They go to NumPy's
own OpenBLAS (its ``cblas_?axpy`` through ctypes), not scipy's: after a threaded call an OpenBLAS
keeps its threads spinning for a while, and scipy's spinning threads halved the speed of NumPy's
next matrix products (a 512×2048×2048 product: 42 against 23 ms). Where NumPy's OpenBLAS cannot
be reached, big calls stay on one thread of scipy's. Pinning costs about 0.4 µs per call and is
done only in between.

Example::

    >>> import numpy as np
    >>> x, y = np.ones(2048, np.float32), np.zeros(2048, np.float32)
    >>> axpy(2.0, x, y), y[:3].tolist()
    (True, [2.0, 2.0, 2.0])
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ..blas_threads import Controls, on_one_thread, openblas_controls, openblas_libs

# Smaller arrays take the two ufuncs (measured crossover, float32: about 1,000 elements).
MIN_SIZE = 1024
# OpenBLAS runs level-1 calls on the calling thread up to this many elements (interface/axpy.c).
OPENBLAS_THREADED_ABOVE = 10_000
# Above this many elements the call keeps OpenBLAS's thread count (see the module docstring).
ONE_THREAD_UP_TO = 500_000

_ROUTINES: dict[str, Any] | None = None
# {dtype char: NumPy's OpenBLAS cblas_?axpy, "max": the largest size it takes}, for big calls
_BIG: dict[str, Any] | None = None
_PINS: Controls = []  # the thread controls of scipy's OpenBLAS (blas_threads finds them)


def _routines() -> dict[str, Any]:
    """``{dtype char: axpy}``, imported on first use (scipy.linalg takes ~0.2 s to import), and
    the thread controls of the OpenBLAS scipy calls."""
    global _ROUTINES
    if _ROUTINES is None:
        from scipy.linalg import blas

        _PINS[:] = openblas_controls("scipy")
        _ROUTINES = {"f": blas.saxpy, "d": blas.daxpy}
    return _ROUTINES


def _numpy_routines() -> dict[str, Any]:
    """``{dtype char: cblas_?axpy, "max": largest n}`` of NumPy's OpenBLAS
    (``blas_threads.openblas_libs``), found once; empty when there is none (another BLAS) or
    with GRADSTEP_BLAS_THREADS=fixed."""
    global _BIG
    if _BIG is not None:
        return _BIG
    found: dict[str, Any] = {}
    for lib in openblas_libs("numpy", own_only=True)[:1]:  # never a second pool (see above)
        ilp64 = "64" in str(getattr(lib, "_symbol_suffix", ""))
        index = ctypes.c_int64 if ilp64 else ctypes.c_int
        found["max"] = 2**63 - 1 if ilp64 else 2**31 - 1  # the largest n it takes
        for char, name, real in (
            ("f", "cblas_saxpy", ctypes.c_float),
            ("d", "cblas_daxpy", ctypes.c_double),
        ):
            fn = lib._get_symbol(name)
            if fn is not None:
                fn.argtypes = [index, real, ctypes.c_void_p, index, ctypes.c_void_p, index]
                fn.restype = None
                found[char] = fn
    _BIG = found
    return found


def axpy(alpha: float, x: Any, y: Any) -> bool:
    """``y += alpha·x`` in place through BLAS (on one thread unless it is big) when ``x`` and
    ``y`` are C-contiguous NumPy arrays of one dtype (float32 or float64) and one size of at
    least ``MIN_SIZE`` elements; returns False, changing nothing, otherwise."""
    if type(y) is not np.ndarray or type(x) is not np.ndarray or y.size < MIN_SIZE:
        return False
    routine = (_ROUTINES or _routines()).get(y.dtype.char)
    if (
        routine is None
        or x.dtype != y.dtype
        or x.size != y.size
        or not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)
    ):
        return False
    if y.ndim != 1:
        x, y = x.reshape(-1), y.reshape(-1)
    if y.size > ONE_THREAD_UP_TO:
        routines = _BIG if _BIG is not None else _numpy_routines()
        big = routines.get(y.dtype.char)
        if big is not None and y.size <= routines["max"]:  # NumPy's OpenBLAS, on its threads
            big(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
            return True
        out = on_one_thread(_PINS, routine, x, y, a=alpha)
    elif y.size > OPENBLAS_THREADED_ABOVE:
        out = on_one_thread(_PINS, routine, x, y, a=alpha)
    else:
        out = routine(x, y, a=alpha)
    if out is not y:  # f2py made a copy: keep its result all the same
        y[...] = out
    return True


__all__ = ["MIN_SIZE", "ONE_THREAD_UP_TO", "OPENBLAS_THREADED_ABOVE", "axpy"]
