"""Gradient norms and clipping with torch.nn.utils' semantics: the joint norm of all gradients,
clipping by that norm or by value, in place."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..validate import real


def _grads(parameters: Iterable[Any] | Any, name: str, arrays: bool = False) -> list[Any]:
    """The gradient arrays of one parameter or an iterable of them (None gradients skipped); with
    ``arrays``, gradient arrays themselves are taken as well."""
    if (arrays and _is_array(parameters)) or (
        hasattr(parameters, "grad") and hasattr(parameters, "data")
    ):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if arrays and _is_array(p):
            grads.append(p)
        elif hasattr(p, "grad"):
            if p.grad is not None:
                grads.append(p.grad)
        else:
            what = "model.parameters() or gradient arrays" if arrays else "model.parameters()"
            raise TypeError(f"{name}[{i}] is a {type(p).__name__} without .grad; pass {what}.")
    return grads


def _is_array(x: Any) -> bool:
    """A bare array (a gradient), not a parameter or tensor."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "grad")


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


def get_total_norm(
    tensors: Iterable[Any] | Any, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """The norm of all gradients together, as if concatenated into one vector, as a Python float.

    ``tensors`` holds gradient arrays (as torch's ``get_total_norm([p.grad ...])``) or parameters,
    whose ``.grad`` is taken (None skipped): in gradstep a gradient is an array, not a tensor.
    ``norm_type`` may be ``float("inf")``; with ``error_if_nonfinite`` a NaN or infinite norm
    raises RuntimeError. No gradients give 0.0.

    >>> get_total_norm([np.array([3.0, 4.0])])
    5.0
    """
    norm_type = real("norm_type", norm_type, finite=False, coerce=True)
    return _total_norm(_grads(tensors, "tensors", arrays=True), norm_type, error_if_nonfinite)


def _total_norm(grads: list[Any], norm_type: float, error_if_nonfinite: bool) -> float:
    if not grads:
        return 0.0
    xp = get_array_module(grads[0])
    if norm_type == 2.0:  # the common case, once per training step: one dot per gradient
        total = 0.0
        for g in grads:
            flat = g.reshape(-1)
            total += float(xp.dot(flat, flat))
        total = math.sqrt(total)
    else:
        norms = xp.asarray([_vector_norm(g, norm_type) for g in grads], dtype=xp.float64)
        total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}; look for a NaN or "
            "Inf in the loss or gradients, or pass error_if_nonfinite=False to go on with it."
        )
    return total


def clip_grad_norm_(
    parameters: Iterable[Any] | Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is ``get_total_norm``'s (``norm_type`` may be ``float("inf")``). Each gradient is
    multiplied in place by ``min(1, max_norm / (total_norm + 1e-6))``, as torch does. Returns the
    total norm before clipping, as a Python float (torch returns a tensor). With
    ``error_if_nonfinite`` a NaN or infinite norm raises RuntimeError instead of scaling. As in
    torch, the numbers may be anything ``float()`` takes (``norm_type="inf"``).
    """
    max_norm = real("max_norm", max_norm, finite=False, coerce=True)
    norm_type = real("norm_type", norm_type, finite=False, coerce=True)
    grads = _grads(parameters, "parameters")
    total = _total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    xp = get_array_module(grads[0])
    coef = min(max_norm / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    with np.errstate(invalid="ignore"):  # inf·0 gives NaN here, silently, as in torch
        for g in grads:
            xp.multiply(g, coef, out=g)
    return total


def clip_grad_value_(parameters: Iterable[Any] | Any, clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place."""
    clip_value = real("clip_value", clip_value, finite=False, coerce=True)
    for g in _grads(parameters, "parameters"):
        xp = get_array_module(g)
        xp.clip(g, -clip_value, clip_value, out=g)
