"""Adaptive average pooling (1-D and 2-D): the output size is given, the windows follow from it.

Output position o along a dim of size n averages inputs ⌊o·n/out⌋ … ⌈(o+1)·n/out⌉ − 1, as in
PyTorch. That is a linear map per dim, so each dim is one matrix product with an (out, n)
averaging matrix (its transpose in backward); global pooling (out = 1) is a plain mean.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from .. import backend
from ..autograd import Function
from ..tensor import Tensor, apply, as_tensor
from .arithmetic import cast


def _averaging_matrix(xp: Any, n: int, out: int, dtype: Any) -> Any:
    """(out, n) matrix whose row o holds 1/len over window o and zeros elsewhere."""
    o = xp.arange(out)
    start = (o * n) // out
    end = -((-(o + 1) * n) // out)
    i = xp.arange(n)
    inside = (i >= start[:, None]) & (i < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _along(a: Any, m: Any, axis: int) -> Any:
    """Apply the (out, n) matrix ``m`` along ``axis`` of ``a`` (one matrix product)."""
    xp = backend.get_array_module(a)
    moved = xp.moveaxis(a, axis, -1)
    y = xp.matmul(moved.reshape(-1, moved.shape[-1]), m.T)
    return xp.moveaxis(y.reshape(*moved.shape[:-1], m.shape[0]), -1, axis)


class AdaptiveAvgPoolNd(Function):
    """Mean over PyTorch's adaptive windows of the last ``len(out)`` dims."""

    def __init__(self, out):
        self.out = out

    def forward(self, x):
        xp = backend.get_array_module(x)
        nsp = len(self.out)
        self.sizes = x.shape[x.ndim - nsp :]
        if all(o == 1 for o in self.out):
            return x.mean(axis=tuple(range(x.ndim - nsp, x.ndim)), keepdims=True)
        self.mats = [
            None if o == n else _averaging_matrix(xp, n, o, x.dtype)
            for n, o in zip(self.sizes, self.out)
        ]
        y = x
        for i, m in enumerate(self.mats):
            if m is not None:
                y = _along(y, m, x.ndim - nsp + i)
        return y

    def backward(self, g):
        xp = backend.get_array_module(g)
        nsp = len(self.out)
        if all(o == 1 for o in self.out):
            shape = (*g.shape[: g.ndim - nsp], *self.sizes)
            return (xp.broadcast_to(g / math.prod(self.sizes), shape).copy(),)
        for i, m in enumerate(self.mats):
            if m is not None:
                g = _along(g, m.T, g.ndim - nsp + i)
        return (g,)


def adaptive_avg_pool(input: Any, output_size: Any, nsp: int) -> Tensor:  # noqa: A002
    """N-d adaptive average pooling behind the 1-D and 2-D forms; ``None`` in ``output_size``
    keeps that dim's input size."""
    op = f"adaptive_avg_pool{nsp}d"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.data.dtype.kind != "f":
        x = cast(x, backend.get_default_dtype())
    shape = tuple(x.data.shape)
    if len(shape) not in (nsp + 1, nsp + 2):
        layout = "(N, C, L)" if nsp == 1 else "(N, C, H, W)"
        raise ValueError(
            f"{op} expects a {nsp + 2}-D input {layout} (or {nsp + 1}-D without the batch dim), "
            f"got shape {shape}; reshape the data, e.g. with nn.Unflatten."
        )
    seq = isinstance(output_size, list | tuple)
    items = tuple(output_size) if seq else (output_size,) * nsp
    sizes = shape[len(shape) - nsp :]
    try:
        if len(items) != nsp or any(isinstance(v, bool) for v in items):
            raise TypeError
        out = tuple(n if v is None else operator.index(v) for v, n in zip(items, sizes))
    except TypeError:
        raise TypeError(
            f"{op} output_size must be an int or a tuple of {nsp} ints (None keeps a dim), got "
            f"{output_size!r}."
        ) from None
    if any(o < 1 for o in out) or any(n < 1 for n in sizes):
        raise ValueError(
            f"{op} needs output sizes >= 1 and a non-empty input, got output_size "
            f"{output_size!r} for input shape {shape}."
        )
    return apply(AdaptiveAvgPoolNd(out), x)


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """Average x (N, C, L) or (C, L) into ``output_size`` windows along L, as PyTorch's:
    ``adaptive_avg_pool1d(x, 1)`` is global average pooling."""
    return adaptive_avg_pool(input, output_size, 1)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """Average x (N, C, H, W) or (C, H, W) into an ``output_size`` grid (int, (h, w), None
    keeps a dim): ``adaptive_avg_pool2d(x, 1)`` is global average pooling."""
    return adaptive_avg_pool(input, output_size, 2)


__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d"]
