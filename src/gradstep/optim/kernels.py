"""Which code updates a run of parameters in a fused step: the NumPy update functions beside each
optimizer, or their numba kernels (kernels_numba.py), or none (the per-parameter loop).

With numba installed ("auto"), numba is not imported at the first step: importing it and loading
the compiled kernels costs 0.3–0.5 s and 95 MiB once per process, more than a short run spends
on all its updates. The fused updates of runs of :data:`NUMBA_MIN_SIZE` elements and more take
the NumPy update functions until they have spent :data:`NUMBA_LOAD_AFTER` seconds in this
process; then numba loads, and every fused update from then on takes its kernel (once loaded, it
is 1.5–4 times faster at every size from 256 elements up). A short run never pays for the load;
a long one pays at most about its price again in slower updates first.

Switching changes no number: while they stand in for numba's kernels, the NumPy update functions
keep to numba's arithmetic (no BLAS ``axpy``, whose fused multiply-add may round differently:
``blas_allowed``), so a run gives the same bits before and after the load, and in a process that
loaded numba earlier.

Example::

    >>> from gradstep.optim import kernels
    >>> kernels.select_kernels("numpy")
    'numpy'
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

# How step() updates runs: numba kernels when numba imports ("auto"), the NumPy update functions,
# or no fusion at all (the per-parameter loop).
CHOICES = ("auto", "numpy", "numba", "none")
ENV_VAR = "GRADSTEP_KERNELS"

#: Seconds of NumPy updates ("auto" with numba installed) after which numba loads. Loading takes
#: 0.3–0.5 s and the kernels save about two thirds of a NumPy update's time, so by then the
#: updates have forgone about the load's price: a long run pays at most about twice what it had
#: to (the rent-or-buy rule), a short one nothing.
NUMBA_LOAD_AFTER = 0.5
#: Runs with fewer elements count no time towards loading numba: their NumPy updates cost a few
#: microseconds, of which numba would save one or two (a 17-parameter SGD step: 3 against 2 µs).
#: Once numba is loaded, every run takes it.
NUMBA_MIN_SIZE = 1024

_choice: str | None = None
_spent = 0.0  # seconds of NumPy updates while numba was wanted but not loaded
_local = threading.local()  # .standing_in: this thread's NumPy update replaces a numba kernel
_numba_module: Any = None
clock = time.perf_counter  # what the NumPy updates are timed with (tests inject their own)


def select_kernels(name: str | None = None) -> str:
    """Choose how ``step()`` updates a run and return the choice in effect.

    ``"auto"`` (default) uses the numba kernels when numba is installed (``pip install
    gradstep[fast]``), loading them once the NumPy updates have taken :data:`NUMBA_LOAD_AFTER`
    seconds, and the NumPy update functions otherwise; ``"numpy"`` forces the NumPy functions,
    ``"numba"`` the numba kernels from the first update; ``"none"`` turns fusion off (the
    per-parameter loop). ``None`` reads the environment variable GRADSTEP_KERNELS. Asking for
    numba without numba installed warns and uses NumPy.

    Example: ``gs.optim.kernels.select_kernels("numpy")``.
    """
    global _choice
    if name is None:
        name = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if name not in CHOICES:
        raise ValueError(
            f"kernels must be one of {', '.join(CHOICES)}, got {name!r}; set {ENV_VAR} or pass "
            "one of those."
        )
    if name == "auto":  # numba if installed; imported once the NumPy updates have cost its load
        name = "numba" if _numba_installed() else "numpy"
    elif name == "numba" and _load_numba() is None:  # asked for by name: loaded now
        warnings.warn(
            "numba kernels were asked for but numba does not import; using the NumPy update "
            "functions (pip install numba, or gradstep[fast]).",
            RuntimeWarning,
            stacklevel=2,
        )
        name = "numpy"
    _choice = name
    return name


def kernels_failed(exc: Exception) -> None:
    """Use the NumPy update functions from now on, after a numba kernel failed to compile."""
    global _choice
    warnings.warn(
        f"{exc}; using the NumPy update functions from now on (GRADSTEP_KERNELS=numpy "
        "silences this).",
        RuntimeWarning,
        stacklevel=3,
    )
    _choice = "numpy"


def kernel_choice() -> str:
    """The choice in effect: "numpy", "numba" or "none" (read from the environment once)."""
    return _choice if _choice is not None else select_kernels()


def blas_allowed() -> bool:
    """Whether the NumPy update functions may use BLAS ``axpy``: not while they stand in for a
    numba kernel that has yet to load (:func:`stand_in`), since its fused multiply-add may
    round an update differently from the kernel."""
    return not getattr(_local, "standing_in", False)


def stand_in(update: Callable[[], None], size: int) -> None:
    """Run ``update()``, a NumPy update of ``size`` elements, in place of a numba kernel that
    has yet to load: with numba's arithmetic (``blas_allowed`` is False in this thread
    meanwhile), its time counted towards the load (:func:`spent`)."""
    if size < NUMBA_MIN_SIZE:  # counts nothing, and BLAS declines it anyway
        update()
        return
    _local.standing_in = True
    start = clock()
    try:
        update()
    finally:
        _local.standing_in = False
    spent(clock() - start, size)


def numba_kernels() -> Any:
    """The numba kernel module when the next fused update should take it, else None (NumPy):
    with "auto", once the NumPy updates have spent :data:`NUMBA_LOAD_AFTER` seconds (see
    :func:`spent`). The call that loads it imports numba; if that fails, the NumPy update
    functions are used from then on."""
    global _choice
    if _numba_module is not None:
        return _numba_module if kernel_choice() == "numba" else None
    if kernel_choice() != "numba" or _spent < NUMBA_LOAD_AFTER:
        return None
    if _load_numba() is None:
        _choice = "numpy"  # "auto" saw numba installed, but it does not import
        return None
    return _numba_module


def spent(seconds: float, size: int) -> None:
    """Count ``seconds`` a NumPy update of ``size`` elements took while numba was wanted but not
    loaded yet (runs under :data:`NUMBA_MIN_SIZE` elements count nothing)."""
    global _spent
    if size >= NUMBA_MIN_SIZE:
        _spent += seconds


def preload() -> bool:
    """Load the numba kernels now instead of after :data:`NUMBA_LOAD_AFTER` seconds of NumPy
    updates (for timing steady steps, or a run known to be long); True when they loaded.

    Example: ``gs.optim.kernels.preload()``.
    """
    return kernel_choice() == "numba" and _load_numba() is not None


def _numba_installed() -> bool:
    """Whether numba can be found, without importing it."""
    return importlib.util.find_spec("numba") is not None


def _load_numba() -> Any:
    global _numba_module
    if _numba_module is None:
        try:
            from . import kernels_numba
        except ImportError:
            return None
        _numba_module = kernels_numba
    return _numba_module


__all__ = [
    "CHOICES",
    "ENV_VAR",
    "NUMBA_LOAD_AFTER",
    "NUMBA_MIN_SIZE",
    "blas_allowed",
    "kernel_choice",
    "kernels_failed",
    "numba_kernels",
    "preload",
    "select_kernels",
    "spent",
    "stand_in",
]
