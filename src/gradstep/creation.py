"""Tensor factories with torch's names: zeros, ones, full, arange, linspace, rand, randn,
from_numpy."""

from __future__ import annotations

from typing import Any

from . import backend
from . import random as _random
from .tensor import Tensor


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and not isinstance(size[0], backend.integer_types):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _make(arr: backend.Array, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype: Any) -> backend.DType:
    return backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)


def from_numpy(array: Any) -> Tensor:
    """A Tensor sharing ``array``'s memory and dtype (float64 stays float64), as
    ``torch.from_numpy``: writing to one shows in the other.

    >>> t = gs.from_numpy(np.arange(3.0)); t.dtype
    dtype('float64')
    """
    if not backend.is_array(array):
        raise TypeError(
            f"from_numpy needs a NumPy array, got {type(array).__name__}; use gs.tensor(data) "
            "for lists and scalars."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"from_numpy takes numeric or bool arrays, got dtype {array.dtype}; convert it first "
            "(e.g. array.astype(np.float32))."
        )
    return Tensor._make(array)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    xp = backend.array_module_for(device)
    return _make(xp.zeros(_size(size), dtype=_float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    xp = backend.array_module_for(device)
    return _make(xp.ones(_size(size), dtype=_float(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    xp = backend.array_module_for(device)
    return _make(xp.empty(_size(size), dtype=_float(dtype)), requires_grad)


def full(
    size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    xp = backend.array_module_for(device)
    if dtype is None:
        dtype = (
            backend.get_default_dtype()
            if isinstance(fill_value, float)
            else (backend.bool_ if isinstance(fill_value, bool) else backend.int64)
        )
    return _make(xp.full(_size((size,)), fill_value, dtype=backend.as_dtype(dtype)), requires_grad)


def _like(t: Any) -> backend.Array:
    """The array of a tensor, or array-like data as an array (on the module that holds it)."""
    return t.data if isinstance(t, Tensor) else backend.get_array_module(t).asarray(t)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    d = _like(t)
    xp = backend.get_array_module(d)
    return _make(
        xp.zeros_like(d, dtype=None if dtype is None else backend.as_dtype(dtype)), requires_grad
    )


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    d = _like(t)
    xp = backend.get_array_module(d)
    return _make(
        xp.ones_like(d, dtype=None if dtype is None else backend.as_dtype(dtype)), requires_grad
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
    xp = backend.array_module_for(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, backend.integer_types) for v in (start, end, step))
        dtype = backend.int64 if is_int else backend.get_default_dtype()
    d = backend.as_dtype(dtype)
    if d.kind == "f":  # values in float64, then rounded once (as torch: no float32 drift)
        return _make(xp.arange(start, end, step, dtype=backend.float64).astype(d), requires_grad)
    return _make(xp.arange(start, end, step, dtype=d), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    xp = backend.array_module_for(None)
    return _make(xp.linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uniform [0, 1) samples from the engine's seeded generator, as ``torch.rand``."""
    xp = backend.array_module_for(device)
    d = _float(dtype)
    return _make(xp.asarray(_random.get_generator().random(_size(size)).astype(d)), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Standard normal samples from the engine's seeded generator, as ``torch.randn``."""
    xp = backend.array_module_for(device)
    d = _float(dtype)
    samples = _random.get_generator().standard_normal(_size(size)).astype(d)
    return _make(xp.asarray(samples), requires_grad)
