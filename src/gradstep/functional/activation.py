"""Activations, softmax / log-softmax (numerically stable) and dropout."""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from .. import random as _random
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, apply
from . import constants
from .math_functions import _to_float_tensor
from .reduce import _norm_dims

FULL_ZEROS = 1 << 16
"""ReLU compares with kept zeros of the input's shape up to this many elements (256 KiB of
float32): see ``ReLU.forward``."""


class Sigmoid(Function):
    """σ(a) = 1 / (1 + e^(−a)); σ' = σ(1 − σ)."""

    def forward(self, a):
        self.out = backend.special(get_array_module(a)).expit(a)
        return self.out

    def backward(self, g):
        o = self.out
        r = g * o
        r *= 1 - o  # in place on the fresh product: one temporary fewer, same result
        return (r,)


class Tanh(Function):
    def forward(self, a):
        self.out = get_array_module(a).tanh(a)
        return self.out

    def backward(self, g):
        o = self.out
        return (g * (1 - o * o),)


class ReLU(Function):
    """max(a, 0) with relu'(0) = 0, as PyTorch."""

    def forward(self, a):
        self.mask = a > 0
        # not a * mask: -inf * 0 would give nan. Zeros of a's own shape (kept, read-only), not
        # the scalar 0 or a row: NumPy's same-shape loop is 1.3-2x faster than broadcasting one
        # (100 × 100 float32: 1.5 against 3.0 µs, 9.7 with the scalar); past FULL_ZEROS
        # elements a row of zeros, which costs no memory.
        xp = get_array_module(a)
        if a.size <= FULL_ZEROS:
            return xp.maximum(a, constants.zeros(xp, a.shape, a.dtype))
        return xp.maximum(a, xp.zeros(a.shape[-1:], dtype=a.dtype))

    def backward(self, g):
        return (g * self.mask,)


class LeakyReLU(Function):
    def __init__(self, slope):
        self.slope = slope

    def forward(self, a):
        self.mask = a > 0
        return get_array_module(a).where(self.mask, a, a * self.slope)

    def backward(self, g):
        return (get_array_module(g).where(self.mask, g, g * self.slope),)


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Function):
    """x·Φ(x) with the exact normal CDF (``approximate="none"``) or PyTorch's tanh form."""

    def __init__(self, approximate):
        self.approximate = approximate

    def forward(self, a):
        self.a = a
        xp = get_array_module(a)
        if self.approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (a + 0.044715 * a**3)
            self.th = xp.tanh(inner)
            return 0.5 * a * (1 + self.th)
        self.cdf = 0.5 * (1 + backend.special(xp).erf(a / _SQRT_2))
        return a * self.cdf

    def backward(self, g):
        a = self.a
        if self.approximate == "tanh":
            th = self.th
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return (g * (0.5 * (1 + th) + 0.5 * a * (1 - th * th) * dinner),)
        pdf = _INV_SQRT_2PI * get_array_module(a).exp(-0.5 * a * a)
        return (g * (self.cdf + a * pdf),)


class Softmax(Function):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, a):
        e = get_array_module(a).exp(a - a.max(axis=self.dim, keepdims=True))
        e /= e.sum(axis=self.dim, keepdims=True)
        self.out = e
        return e

    def backward(self, g):
        o = self.out
        return (o * (g - (g * o).sum(axis=self.dim, keepdims=True)),)


class LogSoftmax(Function):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, a):
        xp = get_array_module(a)
        shifted = a - a.max(axis=self.dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        self.out = out
        return out

    def backward(self, g):
        return (g - get_array_module(g).exp(self.out) * g.sum(axis=self.dim, keepdims=True),)


class Softplus(Function):
    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, a):
        self.a = a
        xp = get_array_module(a)
        ba = a * self.beta
        return xp.where(ba > self.threshold, a, xp.logaddexp(0, ba) / self.beta).astype(a.dtype)

    def backward(self, g):
        xp = get_array_module(g)
        ba = self.a * self.beta
        return (xp.where(ba > self.threshold, g, g * backend.special(xp).expit(ba)),)


class Dropout(Function):
    """Zero each element with probability p and scale the rest by 1/(1−p) (inverted dropout)."""

    def __init__(self, p):
        self.p = p

    def forward(self, a):
        u = _random.get_generator().random(a.shape, dtype=backend.float64)  # seeded, on the host
        keep = get_array_module(a).asarray(u) >= self.p
        self.mask = keep.astype(a.dtype) / (1 - self.p)
        return a * self.mask

    def backward(self, g):
        return (g * self.mask,)


def sigmoid(input: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
    return apply(Sigmoid(), _to_float_tensor(input))


def tanh(input: Any) -> Tensor:  # noqa: A002
    return apply(Tanh(), _to_float_tensor(input))


def relu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    return apply(ReLU(), _to_float_tensor(input))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    return apply(LeakyReLU(float(negative_slope)), _to_float_tensor(input))


def gelu(input: Any, approximate: str = "none") -> Tensor:  # noqa: A002
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu approximate must be 'none' or 'tanh', got {approximate!r}.")
    return apply(GELU(approximate), _to_float_tensor(input))


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    return apply(Softplus(beta, threshold), _to_float_tensor(input))


def _softmax_dim(x: Tensor, dim: int | None) -> int:
    if dim is None:
        dim = 0 if x.data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    (d,) = _norm_dims(dim, x.data.ndim)
    return d


def softmax(input: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:  # noqa: A002
    """exp(x) / Σ exp(x) along ``dim``, shifted by the maximum for stability."""
    x = _to_float_tensor(input)
    return apply(Softmax(_softmax_dim(x, axis if axis is not None else dim)), x)


def log_softmax(input: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:  # noqa: A002
    """x − log Σ exp(x) along ``dim``, computed stably."""
    x = _to_float_tensor(input)
    return apply(LogSoftmax(_softmax_dim(x, axis if axis is not None else dim)), x)


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Inverted dropout; the identity when not training or p = 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}.")
    x = _to_float_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        from .arithmetic import mul

        return mul(x, 0.0)
    return apply(Dropout(p), x)
