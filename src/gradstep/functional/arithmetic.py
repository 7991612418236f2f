"""Elementwise arithmetic, matmul and the elementwise math functions: forward and backward together.

Binary ops follow PyTorch's type promotion; a Python number never changes a float tensor's dtype.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..blas_threads import matmul as matmul_threads
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


# -- matmul ------------------------------------------------------------------------------------
class Matmul(Function):
    """a @ b for 1-D, 2-D and batched operands (batch dims broadcast, as in NumPy and PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return matmul_threads(get_array_module(a), a, b)

    def backward(self, g):
        a, b, n = self.a, self.b, self.needs
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if n[0] else None, g * a if n[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        xp = get_array_module(g)
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if n[0]:
            ga = matmul_threads(xp, g2, xp.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga.reshape(-1, a.shape[0]).sum(0) if ga.ndim > 2 else ga[0]
        if n[1]:
            gb = matmul_threads(xp, xp.swapaxes(a2, -1, -2), g2)
            if b.ndim == 1:
                gb = gb.reshape(-1, b.shape[0]).sum(0) if gb.ndim > 2 else gb[:, 0]
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's/PyTorch's rules for 1-D and batched operands."""
    a, b = as_tensor(a), as_tensor(b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise ValueError("matmul needs operands with at least one dimension; use * for scalars.")
    ka = a.data.shape[-1]
    kb = b.data.shape[0] if b.data.ndim == 1 else b.data.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul shapes {tuple(a.data.shape)} and {tuple(b.data.shape)} do not match: the "
            f"last dim of the first ({ka}) must equal the "
            f"{'first' if b.data.ndim == 1 else 'second-to-last'} dim of the second ({kb})."
        )
    a, b = _promote_pair(a, b)
    return apply(Matmul(), a, b)


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
