"""The elementwise math functions (exp, log, sqrt, abs, clamp, where, maximum, minimum): forward
and backward together."""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, apply, as_tensor
from .arithmetic import _is_scalar, _promote_pair, cast


# -- unary math ------------------------------------------------------------------------------
class Exp(Function):
    def forward(self, a):
        self.out = get_array_module(a).exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).log(a)

    def backward(self, g):
        return (g / self.a,)


class Sqrt(Function):
    def forward(self, a):
        self.out = get_array_module(a).sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).abs(a)

    def backward(self, g):
        return (g * get_array_module(g).sign(self.a),)


class Clip(Function):
    """clamp(a, min, max); the gradient passes where min <= a <= max (PyTorch's rule)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, a):
        self.a = a
        return get_array_module(a).clip(a, self.lo, self.hi)

    def backward(self, g):
        a = self.a
        mask = get_array_module(a).ones(a.shape, dtype=bool)
        if self.lo is not None:
            mask &= a >= self.lo
        if self.hi is not None:
            mask &= a <= self.hi
        return (g * mask,)


class Where(Function):
    """where(cond, a, b): cond is a constant boolean array."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return get_array_module(a, b).where(self.cond, a, b)

    def backward(self, g):
        n, c = self.needs, self.cond
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        return (xp.where(c, g, zero) if n[0] else None, xp.where(c, zero, g) if n[1] else None)


def _to_float_tensor(a: Any) -> Tensor:
    a = as_tensor(a)
    if a.data.dtype.kind != "f":
        a = cast(a, backend.get_default_dtype())
    return a


def exp(a: Any) -> Tensor:
    return apply(Exp(), _to_float_tensor(a))


def log(a: Any) -> Tensor:
    return apply(Log(), _to_float_tensor(a))


def sqrt(a: Any) -> Tensor:
    return apply(Sqrt(), _to_float_tensor(a))


def abs(a: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    return apply(Abs(), as_tensor(a))


def clamp(a: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Limit values to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min or max.")
    a = as_tensor(a)
    for bound in (min, max):  # an integer tensor with a float bound gives a float result
        if isinstance(bound, float) and a.data.dtype.kind != "f":
            a = cast(a, backend.get_default_dtype())
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = a
        if min is not None:
            out = where(out.data < as_tensor(min).data, min, out)
        if max is not None:
            out = where(out.data > as_tensor(max).data, max, out)
        return out
    return apply(Clip(min, max), a)


clip = clamp


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: a where condition is true, else b (gradients flow to the chosen one)."""
    xp = get_array_module(*(v.data for v in (condition, a, b) if isinstance(v, Tensor)))
    cond = condition.data if isinstance(condition, Tensor) else xp.asarray(condition)
    if cond.dtype != backend.bool_:
        cond = cond.astype(bool)
    if _is_scalar(a) and isinstance(b, Tensor):
        a = Tensor._make(xp.asarray(a, dtype=backend.scalar_result_dtype(b.data.dtype, a)))
    if _is_scalar(b) and isinstance(a, Tensor):
        b = Tensor._make(xp.asarray(b, dtype=backend.scalar_result_dtype(a.data.dtype, b)))
    a, b = as_tensor(a), as_tensor(b)
    a, b = _promote_pair(a, b)
    return apply(Where(cond), a, b)


class Maximum(Function):
    """Elementwise max/min of two tensors; a tie sends half the gradient to each (PyTorch)."""

    def __init__(self, is_max):
        self.is_max = is_max

    def forward(self, a, b):
        self.a, self.b = a, b
        xp = get_array_module(a, b)
        return xp.maximum(a, b) if self.is_max else xp.minimum(a, b)

    def backward(self, g):
        a, b, n = self.a, self.b, self.needs
        win = (a > b) if self.is_max else (a < b)
        tie = (a == b) * 0.5
        ga = g * (win + tie) if n[0] else None
        gb = g * ((~win & (a != b)) + tie) if n[1] else None
        return ga, gb


def maximum(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b, like=a)
    a, b = _promote_pair(a, b)
    return apply(Maximum(True), a, b)


def minimum(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b, like=a)
    a, b = _promote_pair(a, b)
    return apply(Maximum(False), a, b)
