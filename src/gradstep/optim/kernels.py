"""Which code updates a run of parameters in a fused step: the NumPy update functions beside each
optimizer, or their numba kernels (kernels_numba.py), or none (the per-parameter loop).

numba is imported when a run of at least :data:`NUMBA_MIN_SIZE` elements is first updated, not
before: importing it and loading the compiled kernels adds about 95 MiB to a process, which a
small model does not win back (Adam over 5,000 float32 parameters: 8.5 µs a step with numba
against 18 µs with NumPy; over 200,000: 92 against 257 µs; AMD EPYC). Smaller runs take the
NumPy update functions, which give the same formulas.

Example::

    >>> from gradstep.optim import kernels
    >>> kernels.select_kernels("numpy")
    'numpy'
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from typing import Any

# How step() updates runs: numba kernels when numba imports ("auto"), the NumPy update functions,
# or no fusion at all (the per-parameter loop).
CHOICES = ("auto", "numpy", "numba", "none")
ENV_VAR = "GRADSTEP_KERNELS"

#: Runs with fewer elements take the NumPy update functions even when numba is chosen.
NUMBA_MIN_SIZE = 8192

_choice: str | None = None
_numba_module: Any = None


def select_kernels(name: str | None = None) -> str:
    """Choose how ``step()`` updates a run and return the choice in effect.

    ``"auto"`` (default) uses the numba kernels when numba is installed (``pip install
    gradstep[fast]``) and the NumPy update functions otherwise; ``"numpy"`` and ``"numba"``
    force one (numba only for runs of at least ``NUMBA_MIN_SIZE`` elements); ``"none"``
    turns fusion off (the per-parameter loop). ``None`` reads the environment variable
    GRADSTEP_KERNELS. Asking for numba without numba installed warns and uses NumPy.

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
    if name == "auto":  # numba if installed; imported at the first run big enough for it
        name = "numba" if _numba_installed() else "numpy"
    elif name == "numba" and _load_numba() is None:
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


def numba_kernels(size: int | None = None) -> Any:
    """The numba kernel module when numba kernels are in effect (for a run of ``size``
    elements: from :data:`NUMBA_MIN_SIZE` up), else None. The first call that wants it
    imports numba; if that fails, the NumPy update functions are used from then on."""
    global _choice
    if kernel_choice() != "numba" or (size is not None and size < NUMBA_MIN_SIZE):
        return None
    if _numba_module is None and _load_numba() is None:
        _choice = "numpy"  # "auto" saw numba installed, but it does not import
        return None
    return _numba_module


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
    "NUMBA_MIN_SIZE",
    "kernel_choice",
    "kernels_failed",
    "numba_kernels",
    "select_kernels",
]
