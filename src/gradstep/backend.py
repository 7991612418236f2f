"""The one place that knows the array library: array modules, devices, dtypes and type promotion.

Every primitive asks :func:`get_array_module` for the module of its inputs, so a CuPy backend can be
added here later without touching the ops.
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


def get_array_module(*values: Any) -> Any:
    """The array module (NumPy now; CuPy later) that holds ``values``."""
    return np


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
