"""Gradient clipping with torch.nn.utils' semantics: by the global norm or by value, in place."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backend import get_array_module


def _grads(parameters: Iterable[Any] | Any) -> list[Any]:
    """The gradient arrays of one parameter or an iterable of them (None gradients skipped)."""
    if hasattr(parameters, "grad") and hasattr(parameters, "data"):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not hasattr(p, "grad"):
            raise TypeError(
                f"parameters[{i}] is a {type(p).__name__} without .grad; pass model.parameters()."
            )
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got {value!r}; pass a float.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}; pass a float.") from None


def _vector_norm(x: Any, ord: float) -> float:
    """``torch.linalg.vector_norm(x, ord)`` of all entries of ``x``, as a Python float."""
    xp = get_array_module(x)
    if x.size == 0:
        return 0.0
    if ord == math.inf:
        return float(xp.max(xp.abs(x)))
    if ord == -math.inf:
        return float(xp.min(xp.abs(x)))
    if ord == 0:
        return float(xp.count_nonzero(x))
    if ord == 2:
        flat = x.reshape(-1)
        return math.sqrt(float(xp.dot(flat, flat)))
    if ord == 1:
        return float(xp.sum(xp.abs(x)))
    return float(xp.sum(xp.abs(x) ** ord)) ** (1.0 / ord)


def clip_grad_norm_(
    parameters: Iterable[Any] | Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector (``norm_type`` may be
    ``float("inf")``). Each gradient is multiplied in place by
    ``min(1, max_norm / (total_norm + 1e-6))``, as torch does. Returns the total norm before
    clipping, as a Python float (torch returns a tensor). With ``error_if_nonfinite`` a NaN or
    infinite norm raises RuntimeError instead of scaling.
    """
    max_norm = _real("max_norm", max_norm)
    norm_type = _real("norm_type", norm_type)
    grads = _grads(parameters)
    if not grads:
        return 0.0
    xp = get_array_module(grads[0])
    norms = xp.asarray([_vector_norm(g, norm_type) for g in grads], dtype=xp.float64)
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot be "
            "clipped; look for a NaN or Inf in the loss or gradients, or pass "
            "error_if_nonfinite=False to scale by it anyway."
        )
    coef = min(max_norm / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    with np.errstate(invalid="ignore"):  # inf·0 gives NaN here, silently, as in torch
        for g in grads:
            xp.multiply(g, coef, out=g)
    return total


def clip_grad_value_(parameters: Iterable[Any] | Any, clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place."""
    clip_value = _real("clip_value", clip_value)
    for g in _grads(parameters):
        xp = get_array_module(g)
        xp.clip(g, -clip_value, clip_value, out=g)
