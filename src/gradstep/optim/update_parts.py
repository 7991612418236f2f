"""Pieces the per-parameter update functions share (in place, on backend arrays), in torch's order
of operations."""

from __future__ import annotations

from typing import Any

from .blas import axpy
from .kernels import blas_allowed


def axpy_(xp: Any, alpha: float, x: Any, y: Any, work: Any) -> None:
    """``y += alpha·x`` in place, as torch's ``y.add_(x, alpha=alpha)``: one BLAS pass for NumPy
    float arrays (see blas.py) unless the update stands in for a numba kernel
    (kernels.blas_allowed), else two ufuncs through ``work`` (an array shaped like ``y``; it may
    be ``x`` itself, which is then overwritten), which round as numba's kernels do."""
    if blas_allowed() and axpy(alpha, x, y):
        return
    xp.multiply(x, alpha, out=work)
    xp.add(y, work, out=y)


def effective_grad(
    xp: Any, param: Any, grad: Any, out: Any, weight_decay: float, maximize: bool
) -> Any:
    """torch's ``g = (maximize ? -grad : grad) + weight_decay·param``, in ``out`` when it differs
    from ``grad`` (``grad`` itself is never written)."""
    if weight_decay == 0:
        if not maximize:
            return grad
        xp.negative(grad, out=out)
        return out
    xp.multiply(param, weight_decay, out=out)
    if maximize:
        xp.subtract(out, grad, out=out)
    else:
        xp.add(out, grad, out=out)
    return out


def lerp_(xp: Any, avg: Any, target: Any, weight: float, work: Any) -> None:
    """``avg += weight·(target − avg)`` in place, with torch's two forms for small and large
    weights (``target − (target − avg)·(1 − weight)`` when ``weight >= 0.5``)."""
    xp.subtract(target, avg, out=work)
    if abs(weight) < 0.5:
        axpy_(xp, weight, work, avg, work)
    else:
        xp.multiply(work, 1.0 - weight, out=work)
        xp.subtract(target, work, out=avg)
