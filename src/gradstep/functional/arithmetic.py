"""Elementwise arithmetic operators (+ − × ÷ **, negation) and dtype casts: forward and backward
together. Binary ops follow PyTorch's type promotion; a Python number never changes a float
tensor's dtype. Matrix products are in matmul.py, the math functions in math_functions.py.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, apply, as_tensor


# -- dtype handling ------------------------------------------------------------------------------
class Cast(Function):
    """Change dtype; the gradient goes back in the input's dtype (the engine casts it)."""

    def __init__(self, dtype: backend.DType) -> None:
        self.dtype = dtype

    def forward(self, a):
        return a.astype(self.dtype)

    def backward(self, g):
        return (g,)


def cast(a: Tensor, dtype: Any) -> Tensor:
    return apply(Cast(backend.as_dtype(dtype)), a)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return (g,)


def clone(a: Tensor) -> Tensor:
    return apply(Clone(), a)


def _is_scalar(x: Any) -> bool:
    return isinstance(x, backend.scalar_types)


def _promote_pair(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    da, db = a.data.dtype, b.data.dtype
    if da is db:
        return a, b
    d = backend.promote(a.data, b.data)
    if da != d:
        a = cast(a, d)
    if db != d:
        b = cast(b, d)
    return a, b


def _scalar_operand(a: Tensor, s: Any) -> tuple[Tensor, Any]:
    """Cast ``a`` if a Python number promotes it (int tensor and float number) and return the
    number as a plain Python value that NumPy treats as weakly typed."""
    if isinstance(s, backend.array_scalar_types):
        s = s.item()
    d = backend.scalar_result_dtype(a.data.dtype, s)
    if d != a.data.dtype:
        a = cast(a, d)
    return a, s


# -- tensor (op) tensor ------------------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs[1] else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        n = self.needs
        return (g * self.b if n[0] else None, g * self.a if n[1] else None)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        n = self.needs
        ga = g / self.b if n[0] else None
        gb = -g * self.a / (self.b * self.b) if n[1] else None
        return ga, gb


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        a, b, n = self.a, self.b, self.needs
        ga = gb = None
        xp = get_array_module(a, b)
        if n[0]:  # d(a**b)/da is 0 where b == 0 (PyTorch), not 0 * 0**-1 = nan
            with backend.errstate(divide="ignore", invalid="ignore"):
                ga = g * xp.where(b == 0, 0.0, b * a ** (b - 1))
        if n[1]:
            with backend.errstate(divide="ignore", invalid="ignore"):
                gb = xp.where((a == 0) & (b >= 0), 0.0, g * self.out * xp.log(a))
        return ga, gb


# -- tensor (op) Python number ---------------------------------------------------------------
class AddScalar(Function):
    def __init__(self, s):
        self.s = s

    def forward(self, a):
        return a + self.s

    def backward(self, g):
        return (g,)


class MulScalar(Function):
    def __init__(self, s):
        self.s = s

    def forward(self, a):
        return a * self.s

    def backward(self, g):
        return (g * self.s,)


class RSubScalar(Function):
    """s - a"""

    def __init__(self, s):
        self.s = s

    def forward(self, a):
        return self.s - a

    def backward(self, g):
        return (-g,)


class RDivScalar(Function):
    """s / a"""

    def __init__(self, s):
        self.s = s

    def forward(self, a):
        self.a = a
        self.out = self.s / a
        return self.out

    def backward(self, g):
        return (-g * self.out / self.a,)


class PowScalar(Function):
    """a ** p for a Python number p."""

    def __init__(self, p):
        self.p = p

    def forward(self, a):
        self.a = a
        p = self.p
        if p == 2:
            return a * a
        return a**p

    def backward(self, g):
        p = self.p
        if p == 0:
            return (get_array_module(g).zeros_like(g),)
        if p == 1:
            return (g,)
        if p == 2:
            return (g * (2 * self.a),)
        return (g * (p * self.a ** (p - 1)),)


class RPowScalar(Function):
    """s ** a for a Python number s."""

    def __init__(self, s):
        self.s = s

    def forward(self, a):
        self.out = get_array_module(a).power(self.s, a)
        return self.out

    def backward(self, g):
        return (g * self.out * get_array_module(g).log(self.s),)


def add(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """a + alpha·b with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    if isinstance(a, Tensor) and _is_scalar(b):
        a, s = _scalar_operand(a, b)
        return apply(AddScalar(s), a)
    if _is_scalar(a) and isinstance(b, Tensor):
        return add(b, a)
    a, b = as_tensor(a), as_tensor(b)
    a, b = _promote_pair(a, b)
    return apply(Add(), a, b)


def sub(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """a − alpha·b with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    if isinstance(a, Tensor) and _is_scalar(b):
        a, s = _scalar_operand(a, b)
        return apply(AddScalar(-s), a)
    if _is_scalar(a) and isinstance(b, Tensor):
        b, s = _scalar_operand(b, a)
        return apply(RSubScalar(s), b)
    a, b = as_tensor(a), as_tensor(b)
    a, b = _promote_pair(a, b)
    return apply(Sub(), a, b)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise product with broadcasting."""
    if isinstance(a, Tensor) and _is_scalar(b):
        a, s = _scalar_operand(a, b)
        return apply(MulScalar(s), a)
    if _is_scalar(a) and isinstance(b, Tensor):
        return mul(b, a)
    a, b = as_tensor(a), as_tensor(b)
    a, b = _promote_pair(a, b)
    return apply(Mul(), a, b)


def div(a: Any, b: Any) -> Tensor:
    """True division with broadcasting; integer tensors divide to the default float dtype."""
    if isinstance(a, Tensor) and _is_scalar(b):
        a, s = _scalar_operand(a, float(b))
        return apply(DivScalar(s), a)
    if _is_scalar(a) and isinstance(b, Tensor):
        b, s = _scalar_operand(b, float(a))
        return apply(RDivScalar(s), b)
    a, b = as_tensor(a), as_tensor(b)
    a, b = _promote_pair(a, b)
    if a.data.dtype.kind != "f":
        a, b = cast(a, backend.get_default_dtype()), cast(b, backend.get_default_dtype())
    return apply(Div(), a, b)


class DivScalar(Function):
    """a / s for a Python number s (true division, as PyTorch: not a multiply by 1/s)."""

    def __init__(self, s):
        self.s = s

    def forward(self, a):
        if self.s == 0:
            with backend.errstate(divide="ignore", invalid="ignore"):
                return a / self.s
        return a / self.s

    def backward(self, g):
        with backend.errstate(divide="ignore", invalid="ignore"):
            return (g / self.s,)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b elementwise."""
    if isinstance(a, Tensor) and _is_scalar(b):
        a, s = _scalar_operand(a, b)
        return apply(PowScalar(s), a)
    if _is_scalar(a) and isinstance(b, Tensor):
        b, s = _scalar_operand(b, a)
        return apply(RPowScalar(s), b)
    a, b = as_tensor(a), as_tensor(b)
    a, b = _promote_pair(a, b)
    return apply(Pow(), a, b)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


def neg(a: Tensor) -> Tensor:
    return apply(Neg(), as_tensor(a))
