"""Reductions with PyTorch's names and results: sum, mean, var, max, min, argmax, argmin."""

from __future__ import annotations

import builtins
import math
from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, apply, as_tensor


def _norm_dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """Normalise ``dim`` (int, tuple or None) to a tuple of non-negative axes, or a clear error."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, backend.integer_types) else tuple(dim)
    out = []
    n = builtins.max(ndim, 1)
    for d in dims:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(
                f"dim {d} is out of range for a tensor with {ndim} dimensions; "
                f"use a dim in [{-n}, {n - 1}]."
            )
        out.append(d % n)
    return tuple(out)


def _pick(dim: Any, axis: Any) -> Any:
    return axis if dim is None else dim


class Sum(Function):
    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, a):
        self.shape = a.shape
        if a.ndim == 0:
            return a.copy()
        return a.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, g):
        xp = get_array_module(g)
        if not self.keepdim and self.dims is not None and len(self.shape):
            g = xp.expand_dims(g, self.dims)
        return (xp.broadcast_to(g, self.shape),)


class Mean(Function):
    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, a):
        self.shape = a.shape
        if a.ndim == 0:
            self.count = 1
            return a.copy()
        dims = self.dims if self.dims is not None else tuple(range(a.ndim))
        self.count = math.prod([a.shape[d] for d in dims])
        return a.mean(axis=self.dims, keepdims=self.keepdim)

    def backward(self, g):
        xp = get_array_module(g)
        if not self.keepdim and self.dims is not None and len(self.shape):
            g = xp.expand_dims(g, self.dims)
        return (xp.broadcast_to(g / self.count, self.shape),)


def sum(
    a: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,  # noqa: A001
    keepdims: bool | None = None,
    dtype: Any = None,
) -> Tensor:
    """Sum over ``dim`` (all elements when None); ``axis``/``keepdims`` are NumPy aliases.
    Integer and bool tensors sum to int64, as in PyTorch."""
    a = as_tensor(a)
    if keepdims is not None:
        keepdim = keepdims
    if dtype is not None:
        from .arithmetic import cast

        a = cast(a, dtype)
    elif a.data.dtype.kind in "biu" and a.data.dtype != backend.int64:
        from .arithmetic import cast

        a = cast(a, backend.int64)
    return apply(Sum(_norm_dims(_pick(dim, axis), a.data.ndim), keepdim), a)


def mean(
    a: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
    dtype: Any = None,
) -> Tensor:
    """Mean over ``dim`` (all elements when None); floating tensors only, as in PyTorch."""
    a = as_tensor(a)
    if keepdims is not None:
        keepdim = keepdims
    if dtype is not None:
        from .arithmetic import cast

        a = cast(a, dtype)
    if a.data.dtype.kind != "f":
        raise TypeError(
            f"mean() needs a floating-point tensor, got {a.data.dtype}; call .float() first."
        )
    return apply(Mean(_norm_dims(_pick(dim, axis), a.data.ndim), keepdim), a)


def var(
    a: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    correction: int = 1,
    unbiased: bool | None = None,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Variance with PyTorch's default Bessel correction (``correction=1``)."""
    from .arithmetic import mul, sub

    a = as_tensor(a)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if keepdims is not None:
        keepdim = keepdims
    dims = _norm_dims(_pick(dim, axis), a.data.ndim)
    n = a.data.size if dims is None else math.prod([a.data.shape[d] for d in dims])
    centered = sub(a, mean(a, dims, keepdim=True))
    scale = 1.0 / (n - correction) if n - correction > 0 else float("nan")
    return mul(sum(mul(centered, centered), dims, keepdim), scale)


def std(
    a: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    correction: int = 1,
    unbiased: bool | None = None,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    from .math_functions import sqrt

    return sqrt(
        var(a, dim, keepdim, correction=correction, unbiased=unbiased, axis=axis, keepdims=keepdims)
    )


class MaxAll(Function):
    """max/min over ``dims`` (all elements when None); the gradient is shared evenly among tied
    extremes, a NaN counting as the extreme (PyTorch's rule for max() and amax/amin)."""

    def __init__(self, is_max, dims=None, keepdim=False):
        self.is_max, self.dims, self.keepdim = is_max, dims, keepdim

    def forward(self, a):
        if a.size == 0:
            raise ValueError(
                "max()/min() of an empty tensor has no value; pass a non-empty tensor."
            )
        self.a = a
        red = a.max if self.is_max else a.min
        self.out = out = red(axis=self.dims, keepdims=True)
        if self.keepdim:
            return out
        return out.reshape(()) if self.dims is None else out.squeeze(self.dims)

    def backward(self, g):
        xp = get_array_module(g)
        a, out = self.a, self.out
        mask = (a == out) | (xp.isnan(a) & xp.isnan(out))
        if self.dims is not None and not self.keepdim:
            g = xp.expand_dims(g, self.dims)
        return (mask * (g / mask.sum(axis=self.dims, keepdims=True, dtype=g.dtype)),)


class MaxDim(Function):
    """max/min along one dim; the gradient goes to the selected index."""

    def __init__(self, dim, keepdim, is_max):
        self.dim, self.keepdim, self.is_max = dim, keepdim, is_max

    def forward(self, a):
        if a.shape[self.dim] == 0 if a.ndim else False:
            raise ValueError("max()/min() over an empty dim has no value.")
        self.shape = a.shape
        xp = get_array_module(a)
        if a.ndim == 0:
            self.idx = xp.zeros((), dtype=backend.int64)
            return a.copy()
        idx = a.argmax(axis=self.dim) if self.is_max else a.argmin(axis=self.dim)
        self.idx = xp.expand_dims(idx, self.dim)
        out = xp.take_along_axis(a, self.idx, axis=self.dim)
        return out if self.keepdim else out.squeeze(self.dim)

    def backward(self, g):
        if not self.shape:
            return (g,)
        xp = get_array_module(g)
        gz = xp.zeros(self.shape, dtype=g.dtype)
        if not self.keepdim:
            g = xp.expand_dims(g, self.dim)
        xp.put_along_axis(gz, self.idx, g, axis=self.dim)
        return (gz,)


def _max_min(a: Any, dim: Any, keepdim: bool, axis: Any, keepdims: bool | None, is_max: bool):
    from ..return_types import MaxMin

    a = as_tensor(a)
    if keepdims is not None:
        keepdim = keepdims
    d = _pick(dim, axis)
    if isinstance(d, Tensor):  # torch.max(a, b): elementwise maximum
        from .math_functions import maximum, minimum

        return maximum(a, d) if is_max else minimum(a, d)
    if d is None:
        return apply(MaxAll(is_max), a)
    (d,) = _norm_dims(d, a.data.ndim)
    node = MaxDim(d, keepdim, is_max)
    values = apply(node, a)
    idx = node.idx if keepdim or not a.data.ndim else node.idx.squeeze(d)
    return MaxMin(values, Tensor._make(idx.astype(backend.int64, copy=False)))


def max(
    a: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,  # noqa: A001
    keepdims: bool | None = None,
) -> Any:
    """Largest element; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
    return _max_min(a, dim, keepdim, axis, keepdims, True)


def min(
    a: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    axis: Any = None,  # noqa: A001
    keepdims: bool | None = None,
) -> Any:
    """Smallest element; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
    return _max_min(a, dim, keepdim, axis, keepdims, False)


def amax(a: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Largest values over ``dim`` (an int, a tuple, or all dims when None or ``()``); tied
    maxima share the gradient evenly, as ``torch.amax``."""
    a = as_tensor(a)
    return apply(MaxAll(True, _norm_dims(dim, a.data.ndim) or None, keepdim), a)


def amin(a: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Smallest values over ``dim``; tied minima share the gradient evenly, as ``torch.amin``."""
    a = as_tensor(a)
    return apply(MaxAll(False, _norm_dims(dim, a.data.ndim) or None, keepdim), a)


def argmax(a: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """Index of the largest element (flattened when ``dim`` is None), as int64; no gradient."""
    a = as_tensor(a)
    d = _pick(dim, axis)
    xp = get_array_module(a.data)
    if d is None:
        return Tensor._make(xp.asarray(a.data.argmax(), dtype=backend.int64))
    (d,) = _norm_dims(d, a.data.ndim)
    return Tensor._make(xp.asarray(a.data.argmax(axis=d, keepdims=keepdim), dtype=backend.int64))


def argmin(a: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    a = as_tensor(a)
    d = _pick(dim, axis)
    xp = get_array_module(a.data)
    if d is None:
        return Tensor._make(xp.asarray(a.data.argmin(), dtype=backend.int64))
    (d,) = _norm_dims(d, a.data.ndim)
    return Tensor._make(xp.asarray(a.data.argmin(axis=d, keepdims=keepdim), dtype=backend.int64))


def logsumexp(a: Any, dim: Any, keepdim: bool = False) -> Tensor:
    """log Σ exp(a) along ``dim`` (an int or a tuple), computed stably (shifted by the maximum);
    integer tensors give the default float dtype, as in PyTorch."""
    from .math_functions import _to_float_tensor

    a = _to_float_tensor(a)
    return apply(LogSumExp(_norm_dims(dim, a.data.ndim), keepdim), a)


class LogSumExp(Function):
    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, a):
        xp = get_array_module(a)
        m = a.max(axis=self.dim, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        e = xp.exp(a - m)
        s = e.sum(axis=self.dim, keepdims=True)
        self.p = e / s
        out = xp.log(s) + m
        return out if self.keepdim else out.squeeze(self.dim)

    def backward(self, g):
        if not self.keepdim:
            g = get_array_module(g).expand_dims(g, self.dim)
        return (g * self.p,)


__all__ = [
    "sum",
    "mean",
    "var",
    "std",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "logsumexp",
]
