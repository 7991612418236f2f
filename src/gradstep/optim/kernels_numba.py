"""One-loop optimizer updates compiled by numba (the ``fast`` extra): one pass over memory.

Each function here takes the arguments of the update function beside its optimizer (``sgd_update``,
``adagrad_update``, ``rmsprop_update``, ``adam_update``) except ``scratch``, on 1-D C-contiguous
float32 or float64 arrays, and computes the same formulas in the same order of operations, element
by element. Hyperparameters are rounded to the arrays' dtype first, as the NumPy functions' scalars
are, so float32 runs compute in float32 (as PyTorch does). Options are compile-time constants: each
combination is compiled for its dtype on first use (about half a second) and cached on disk. A
kernel that fails to compile raises ``fused.KernelUnavailable`` before touching any array, and the
step falls back to the NumPy update functions.

Importing this module imports numba; ``kernels.select_kernels`` does it only when numba is wanted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from .fused import KernelUnavailable

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
_compiled: dict[tuple, Callable] = {}


def _kernel(factory: Callable[..., Callable], dtype: Any, nargs: int, *flags: bool) -> Callable:
    """The loop ``factory`` writes for these option flags, compiled for ``nargs`` 1-D contiguous
    arrays of ``dtype`` once per process (or loaded from numba's cache)."""
    key = (factory, dtype.char, flags)
    fn = _compiled.get(key)
    if fn is None:
        try:
            array = numba.types.Array(numba.from_dtype(dtype), 1, "C")
            fn = numba.njit(numba.void(*[array] * nargs), **_JIT)(factory(*flags))
        except Exception as exc:  # numba could not compile or cache it: NumPy takes over
            raise KernelUnavailable(f"numba could not compile {factory.__name__}: {exc}") from exc
        _compiled[key] = fn
    return fn


# -- SGD -------------------------------------------------------------------------------------------


def _make_sgd(
    momentum: bool, first: bool, dampened: bool, nesterov: bool, textbook: bool, maximize: bool,
    decay: bool,
) -> Callable:  # fmt: skip
    def loop(p, g, buf, h):  # pragma: no cover - compiled
        lr, nlr, mom, keep, wd, nmom, lr_keep = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
        for i in range(p.shape[0]):
            gi = -g[i] if maximize else g[i]  # torch's effective gradient, as effective_grad
            if decay:
                gi = p[i] * wd + gi
            if not momentum:
                p[i] = p[i] + gi * nlr
            elif textbook:
                if first:
                    b = gi * lr
                else:
                    b = buf[i] * mom
                    b = b + gi * lr_keep
                buf[i] = b
                if nesterov:
                    q = p[i] + b * nmom
                    p[i] = q + gi * nlr
                else:
                    p[i] = p[i] - b
            else:
                if first:
                    b = gi
                else:
                    b = buf[i] * mom
                    b = b + gi * keep if dampened else b + gi
                buf[i] = b
                d = gi + b * mom if nesterov else b
                p[i] = p[i] + d * nlr

    return loop


def sgd(
    param: Any,
    grad: Any,
    buf: Any,
    *,
    first: bool,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    textbook: bool,
) -> None:
    """``sgd_update`` in one loop (see there for the formulas)."""
    has_momentum = momentum != 0
    h = np.array(
        (lr, -lr, momentum, 1.0 - dampening, weight_decay, -momentum, (1.0 - dampening) * lr),
        dtype=param.dtype,
    )
    loop = _kernel(
        _make_sgd,
        param.dtype,
        4,
        has_momentum,
        bool(first) and has_momentum,
        dampening != 0,
        bool(nesterov),
        bool(textbook),
        bool(maximize),
        weight_decay != 0,
    )
    loop(param, grad, param if buf is None else buf, h)


# -- Adagrad ---------------------------------------------------------------------------------------


def _make_adagrad(inside: bool, maximize: bool, decay: bool) -> Callable:
    def loop(p, g, state_sum, h):  # pragma: no cover - compiled
        nclr, eps, wd = h[0], h[1], h[2]
        for i in range(p.shape[0]):
            gi = -g[i] if maximize else g[i]
            if decay:
                gi = p[i] * wd + gi
            s = state_sum[i] + gi * gi
            state_sum[i] = s
            d = np.sqrt(s + eps) if inside else np.sqrt(s) + eps
            p[i] = p[i] + (gi / d) * nclr

    return loop


def adagrad(
    param: Any,
    grad: Any,
    state_sum: Any,
    *,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
    eps_inside_sqrt: bool,
) -> None:
    """``adagrad_update`` in one loop (see there for the formulas)."""
    clr = lr / (1 + (step - 1) * lr_decay)
    h = np.array((-clr, eps, weight_decay), dtype=param.dtype)
    loop = _kernel(
        _make_adagrad, param.dtype, 4, bool(eps_inside_sqrt), bool(maximize), weight_decay != 0
    )
    loop(param, grad, state_sum, h)


# -- RMSprop ---------------------------------------------------------------------------------------


def _make_rmsprop(
    centered: bool, small: bool, has_momentum: bool, inside: bool, maximize: bool, decay: bool
) -> Callable:
    def loop(p, g, square_avg, grad_avg, buf, h):  # pragma: no cover - compiled
        alpha, w, wc, eps, mom, nlr, wd = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
        for i in range(p.shape[0]):
            gi = -g[i] if maximize else g[i]
            if decay:
                gi = p[i] * wd + gi
            s = square_avg[i] * alpha
            s = s + (gi * gi) * w
            square_avg[i] = s
            if centered:
                a = grad_avg[i]
                a = a + (gi - a) * w if small else gi - (gi - a) * wc
                grad_avg[i] = a
                s = s - a * a
            d = np.sqrt(s + eps) if inside else np.sqrt(s) + eps
            u = gi / d
            if has_momentum:
                b = buf[i] * mom
                b = b + u
                buf[i] = b
                p[i] = p[i] + b * nlr
            else:
                p[i] = p[i] + u * nlr

    return loop


def rmsprop(
    param: Any,
    grad: Any,
    square_avg: Any,
    grad_avg: Any,
    momentum_buffer: Any,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
    eps_inside_sqrt: bool,
) -> None:
    """``rmsprop_update`` in one loop (see there for the formulas)."""
    w = 1.0 - alpha
    h = np.array((alpha, w, 1.0 - w, eps, momentum, -lr, weight_decay), dtype=param.dtype)
    has_momentum = momentum > 0
    loop = _kernel(
        _make_rmsprop,
        param.dtype,
        6,
        bool(centered),
        abs(w) < 0.5,
        has_momentum,
        bool(eps_inside_sqrt),
        bool(maximize),
        weight_decay != 0,
    )
    loop(
        param,
        grad,
        square_avg,
        grad_avg if centered else square_avg,
        momentum_buffer if has_momentum else square_avg,
        h,
    )


# -- Adam ------------------------------------------------------------------------------------------


def _make_adam(
    amsgrad: bool, small: bool, decoupled: bool, maximize: bool, decay: bool
) -> Callable:
    def loop(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, h):  # pragma: no cover - compiled
        w1, w1c, b2, w2, bc2, eps, nss, wd, shrink = (
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8],
        )  # fmt: skip
        for i in range(p.shape[0]):
            pi = p[i]
            gi = -g[i] if maximize else g[i]
            if decoupled:
                if decay:
                    pi = pi * shrink
            elif decay:
                gi = pi * wd + gi
            m = exp_avg[i]
            m = m + (gi - m) * w1 if small else gi - (gi - m) * w1c
            exp_avg[i] = m
            v = exp_avg_sq[i] * b2
            v = v + (gi * gi) * w2
            exp_avg_sq[i] = v
            if amsgrad:
                vmax = max_exp_avg_sq[i]
                if vmax < v or v != v:  # np.maximum: NaN wins
                    vmax = v
                max_exp_avg_sq[i] = vmax
                v = vmax
            d = np.sqrt(v) / bc2
            d = d + eps
            p[i] = pi + (m / d) * nss

    return loop


def adam(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    """``adam_update`` in one loop (see there for the formulas)."""
    w1 = 1.0 - beta1
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    step_size = lr / bias_correction1
    h = np.array(
        (
            w1, 1.0 - w1, beta2, 1.0 - beta2, bias_correction2_sqrt, eps, -step_size,
            weight_decay, 1.0 - lr * weight_decay,
        ),
        dtype=param.dtype,
    )  # fmt: skip
    loop = _kernel(
        _make_adam,
        param.dtype,
        6,
        bool(amsgrad),
        abs(w1) < 0.5,
        bool(decoupled_weight_decay),
        bool(maximize),
        weight_decay != 0,
    )
    loop(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else exp_avg_sq, h)


# -- scikit-learn's Adam (gradstep.sklearn) --------------------------------------------------------


def _make_sklearn_adam() -> Callable:
    def loop(p, g, exp_avg, exp_avg_sq, h):  # pragma: no cover - compiled
        beta1, w1, beta2, w2, nss, eps = h[0], h[1], h[2], h[3], h[4], h[5]
        for i in range(p.shape[0]):
            gi = g[i]
            m = exp_avg[i] * beta1 + gi * w1
            exp_avg[i] = m
            v = exp_avg_sq[i] * beta2 + (gi * gi) * w2
            exp_avg_sq[i] = v
            p[i] = p[i] + (m * nss) / (np.sqrt(v) + eps)

    return loop


def sklearn_adam(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    """``sklearn_adam_update`` (gradstep/sklearn/_optim.py) in one loop, with its operations in
    its order, so both give the same numbers."""
    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
    h = np.array((beta1, 1 - beta1, beta2, 1 - beta2, -step_size, eps), dtype=param.dtype)
    _kernel(_make_sklearn_adam, param.dtype, 5)(param, grad, exp_avg, exp_avg_sq, h)


__all__ = ["adagrad", "adam", "rmsprop", "sgd", "sklearn_adam"]
