"""The one place that knows the array library: array modules, devices, dtypes and type promotion.

The engine (``functional/``, ``tensor.py``, ``tensor_methods.py``, ``autograd.py``,
``creation.py``) never names NumPy or SciPy, not even through this module: each op asks
:func:`get_array_module` for the module of its arrays (``xp``), creation asks
:func:`array_module_for` for the module of a device, special functions (expit, erf, ...) come from
:func:`special`, and dtypes, promotion and the type checks the engine needs are defined here. A
CuPy backend can then be added here without touching the ops (tests/test_architecture.py checks).
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
uint16 = np.dtype(np.uint16)
uint32 = np.dtype(np.uint32)
uint64 = np.dtype(np.uint64)
bool_ = np.dtype(np.bool_)

_DTYPE_NAMES = {
    "float16": float16,
    "half": float16,
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "int8": int8,
    "int16": int16,
    "int32": int32,
    "int64": int64,
    "long": int64,
    "uint8": uint8,
    "bool": bool_,
}

_default_float = float32


#: Annotation for an array of any backend module (``numpy.ndarray`` now; ``cupy.ndarray`` later).
Array = Any
#: The dtype class (CuPy uses NumPy's dtypes, so this stays when it lands).
DType = np.dtype

#: The exact types of backend arrays (a forward returning anything else is wrapped as an array).
array_types: frozenset[type] = frozenset({np.ndarray})
#: What counts as an integer argument (a dim, a size, an index); CuPy uses NumPy's scalars too.
integer_types = (int, np.integer)
#: NumPy's number scalars (``np.float32(1.5)``): ops turn them into Python numbers.
array_scalar_types = (np.number,)
#: Numbers an op takes as a scalar operand rather than as an array.
scalar_types = (int, float, bool, *array_scalar_types)
#: Context manager for floating-point warnings (``with errstate(divide="ignore"): ...``); it only
#: affects NumPy, which is the one library that warns.
errstate = np.errstate


def get_array_module(*values: Any) -> Any:
    """The array module (NumPy now; CuPy later) that holds ``values``: ``xp = get_array_module(a)``.

    Called in every op, so it stays a plain function with no type checks while NumPy is the only
    backend (with CuPy it becomes one type check, as ``cupy.get_array_module``).
    """
    return np


def array_module_for(device: Any = None) -> Any:
    """The array module that makes arrays on ``device`` (None: the CPU), e.g. NumPy for "cpu";
    an unknown or unavailable device is a ValueError naming it."""
    if device is not None:
        Device(device)
    return np


_special_modules: dict[Any, Any] = {}


def special(xp: Any) -> Any:
    """The special functions (expit, erf, ndtr, ...) for arrays of module ``xp``: scipy.special for
    NumPy (cupyx.scipy.special for CuPy, later), imported on first use.

    Example: ``backend.special(xp).expit(a)``.
    """
    mod = _special_modules.get(xp)
    if mod is None:
        if xp is not np:
            name = getattr(xp, "__name__", repr(xp))
            raise TypeError(f"no special functions for {name} arrays; pass NumPy arrays.")
        from scipy import special as mod

        _special_modules[xp] = mod
    return mod


def is_array(value: Any) -> bool:
    """True for an array of a backend module (not a Tensor, a list or a scalar)."""
    return isinstance(value, np.ndarray)


def to_numpy(array: Any) -> np.ndarray:
    """``array`` as a NumPy array: the same object for NumPy (shared, not copied)."""
    return array


def get_default_dtype() -> np.dtype:
    """The floating dtype that new float tensors get (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (float32 or float64) the dtype of new float tensors and parameters."""
    global _default_float
    d = as_dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(
            f"default dtype must be float32 or float64, got {d}; pass gs.float32 or gs.float64."
        )
    _default_float = d


def as_dtype(dtype: Any) -> np.dtype:
    """Turn a dtype spelling (``gs.float64``, ``"float64"``, ``np.float64``, a torch-style name)
    into a NumPy dtype, with a clear error for anything else."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, str):
        d = _DTYPE_NAMES.get(dtype.removeprefix("torch.").removeprefix("gs."))
        if d is None:
            raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPE_NAMES)}.")
        return d
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"unknown dtype {dtype!r}; pass gs.float32, gs.float64 or gs.int64."
        ) from None


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """Result dtype of a binary op between two arrays, by PyTorch's rules: the higher category
    (bool < int < float) wins; within the winning category, dimensioned operands decide before
    zero-dimensional ones."""
    da, db = a.dtype, b.dtype
    if da is db or da == db:
        return da
    ca, cb = _CATEGORY[da.kind], _CATEGORY[db.kind]
    if ca != cb:
        hi = a if ca > cb else b
        return hi.dtype
    if a.ndim == 0 and b.ndim > 0:
        return db
    if b.ndim == 0 and a.ndim > 0:
        return da
    return np.promote_types(da, db)


def promote_types(da: np.dtype, db: np.dtype) -> np.dtype:
    """Result dtype of a binary op between two arrays of dtypes ``da`` and ``db``, both with at
    least one dimension (PyTorch's rules, as :func:`promote`)."""
    if da == db:
        return da
    ca, cb = _CATEGORY[da.kind], _CATEGORY[db.kind]
    if ca != cb:
        return da if ca > cb else db
    return np.promote_types(da, db)


def scalar_result_dtype(dtype: np.dtype, scalar: Any) -> np.dtype:
    """Result dtype of an op between an array of ``dtype`` and a Python scalar (PyTorch's rules:
    a Python float makes an integer tensor the default float dtype; otherwise the tensor wins)."""
    if isinstance(scalar, bool):
        return dtype
    if isinstance(scalar, float) and dtype.kind in "biu":
        return _default_float
    if isinstance(scalar, int) and dtype.kind == "b":
        return int64
    return dtype


class Device:
    """A device name; only ``"cpu"`` exists until the CuPy backend lands."""

    __slots__ = ("type", "index")

    def __init__(self, spec: Any = "cpu") -> None:
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        text = str(spec)
        kind, _, idx = text.partition(":")
        if kind != "cpu":
            raise ValueError(
                f"device {text!r} is not available; only 'cpu' is supported in this version."
            )
        self.type = kind
        self.index = int(idx) if idx else None

    def __eq__(self, other: object) -> bool:
        try:
            other = Device(other)
        except (ValueError, TypeError):
            return False
        return self.type == other.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


cpu = Device("cpu")


def device_of(array: Any) -> Device:
    return cpu


def to_device(array: Any, device: Any) -> Any:
    Device(device)
    return array


def set_num_threads(n: int) -> None:
    """Limit the BLAS/OpenMP thread pools NumPy uses to ``n`` threads."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of threads must be a positive int, got {n!r}.")
    from threadpoolctl import threadpool_limits

    global _limiter
    _limiter = threadpool_limits(limits=n)


_limiter: Any = None


# -- the C allocator ------------------------------------------------------------------------------

MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed blocks up to 64 MiB in the process (instead of returning
    them to the OS and page-faulting them back in on the next step) and to trim its heap only
    past 256 MiB free. A training step frees and re-allocates the same large arrays every time:
    this halved a LeNet step's time here. Done once at import on Linux with glibc; set the
    environment variable GRADSTEP_MALLOC=system before importing gradstep to leave malloc as it
    is. Returns whether the setting was applied."""
    import ctypes
    import os
    import sys

    if os.environ.get("GRADSTEP_MALLOC", "").lower() == "system" or not sys.platform.startswith(
        "linux"
    ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    ok = mallopt(m_mmap_threshold, MMAP_THRESHOLD) == 1
    return (mallopt(m_trim_threshold, TRIM_THRESHOLD) == 1) and ok


malloc_tuned = keep_freed_memory()
