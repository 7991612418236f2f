"""Tensor factories with torch's names: zeros, ones, full, arange, linspace, rand, randn."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from . import random as _random
from .tensor import Tensor


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and not isinstance(size[0], int | np.integer):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _make(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype: Any) -> np.dtype:
    return backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _make(np.zeros(_size(size), dtype=_float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _make(np.ones(_size(size), dtype=_float(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    return _make(np.empty(_size(size), dtype=_float(dtype)), requires_grad)


def full(
    size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    if dtype is None:
        dtype = (
            backend.get_default_dtype()
            if isinstance(fill_value, float)
            else (np.bool_ if isinstance(fill_value, bool) else np.int64)
        )
    return _make(np.full(_size((size,)), fill_value, dtype=backend.as_dtype(dtype)), requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    d = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(
        np.zeros_like(d, dtype=None if dtype is None else backend.as_dtype(dtype)), requires_grad
    )


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    d = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(
        np.ones_like(d, dtype=None if dtype is None else backend.as_dtype(dtype)), requires_grad
    )


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Like ``torch.arange``: int64 for integer arguments, the default float dtype otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if is_int else backend.get_default_dtype()
    d = backend.as_dtype(dtype)
    if d.kind == "f":  # values in float64, then rounded once (as torch: no float32 drift)
        return _make(np.arange(start, end, step, dtype=np.float64).astype(d), requires_grad)
    return _make(np.arange(start, end, step, dtype=d), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    return _make(np.linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    d = _float(dtype)
    return _make(_random.get_generator().random(_size(size)).astype(d), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    d = _float(dtype)
    return _make(_random.get_generator().standard_normal(_size(size)).astype(d), requires_grad)
