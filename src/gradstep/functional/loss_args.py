"""What every loss function checks and converts first: the reduction (with PyTorch's legacy
flags), float inputs and targets, matching shapes, and constant weights."""

from __future__ import annotations

import warnings
from typing import Any

from .. import backend
from ..backend import Array, DType, get_array_module
from ..tensor import Tensor, as_tensor
from .arithmetic import cast

_REDUCTIONS = ("mean", "sum", "none")


# -- argument handling ---------------------------------------------------------------------------
def _reduction(name: str, reduction: str, size_average: Any = None, reduce: Any = None) -> str:
    """The reduction mode, with PyTorch's legacy ``size_average`` / ``reduce`` flags folded in
    (with PyTorch's deprecation warning)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        mode = ("mean" if size_average else "sum") if reduce else "none"
        warnings.warn(
            f"{name}: size_average and reduce are deprecated; use reduction={mode!r} instead.",
            UserWarning,
            stacklevel=3,
        )
        return mode
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{name} reduction must be one of 'mean', 'sum' or 'none', got {reduction!r}."
        )
    return reduction


def _float_input(input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.data.dtype.kind != "f":
        x = cast(x, backend.get_default_dtype())
    return x


def _float_target(target: Any, x: Tensor) -> Tensor:
    """The target as a tensor of the input's dtype (a differentiable cast if it needs grad)."""
    t = target if isinstance(target, Tensor) else as_tensor(target)
    if t.data.dtype != x.data.dtype:
        t = cast(t, x.data.dtype)
    return t


def _same_shape(name: str, x: Tensor, t: Tensor) -> None:
    xs, ts = x.data.shape, t.data.shape
    if xs != ts:
        raise ValueError(
            f"{name} target shape {tuple(ts)} does not match input shape {tuple(xs)}; reshape the "
            f"target to {tuple(xs)} (e.g. target.reshape{tuple(xs)}) so no broadcasting happens."
        )


def _constant(value: Any, dtype: DType) -> Array:
    arr = value.data if isinstance(value, Tensor) else get_array_module(value).asarray(value)
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _elementwise_weight(name: str, arg: str, value: Any, shape: tuple, dtype: DType) -> Any:
    """A weight that must broadcast to the input's shape (BCE's ``weight``, ``pos_weight``)."""
    if value is None:
        return None
    w = _constant(value, dtype)
    try:
        ok = get_array_module(w).broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} {arg} of shape {tuple(w.shape)} does not broadcast to the input shape "
            f"{tuple(shape)}; pass a {arg} whose shape broadcasts to it (e.g. one per class)."
        )
    return w


def _same_size_weight(name: str, value: Any, shape: tuple, dtype: DType) -> Any:
    """A regression loss's per-element ``weight`` (PyTorch requires the input's exact shape)."""
    if value is None:
        return None
    w = _constant(value, dtype)
    if w.shape != shape:
        raise ValueError(
            f"{name} weight has shape {tuple(w.shape)} but the input has shape {tuple(shape)}; "
            "pass one weight per element."
        )
    return w


def _class_weight(name: str, weight: Any, c: int, dtype: DType) -> Any:
    if weight is None:
        return None
    w = _constant(weight, dtype)
    if w.shape != (c,):
        raise ValueError(
            f"{name} weight has shape {tuple(w.shape)} but the input has {c} classes; "
            f"pass one weight per class, shape ({c},)."
        )
    return w


def _class_count(name: str, xd: Array) -> int:
    if xd.ndim == 0:
        raise ValueError(
            f"{name} needs an input of shape (N, C) or (N, C, d1, ...) (or (C,) for one sample), "
            "got a 0-d tensor; pass one score per class."
        )
    return xd.shape[1] if xd.ndim >= 2 else xd.shape[0]
