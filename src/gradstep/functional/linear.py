"""The fused affine map y = x Wᵀ + b: one node instead of matmul, transpose and add."""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..backend import get_array_module
from ..blas_threads import GEMV_SINGLE, matmul
from ..tensor import Tensor, apply, as_tensor, grad_buffer
from . import constants
from .arithmetic import _promote_pair, cast

NARROW = 16
"""Layers with at most this many outputs multiply a batch of 128 or more rows by a contiguous copy
of Wᵀ: OpenBLAS runs ``x @ W.T`` (W read transposed) up to 2.3× slower there (200 × 100 → 10:
21.6 against 9.5 µs with the copy, float64; 1.3× in float32), and the copy costs about 1 µs."""


class Linear(Function):
    """y = x Wᵀ + b for x of shape (..., in), W (out, in), b (out,).

    Backward: dx = g W, dW = gᵀ x, db = Σ g over the batch. Inputs that need no gradient (the data
    going into the first layer) get none computed.
    """

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        # the three products of a step share m·n·k; above OpenBLAS's own one-thread sizes,
        # blas_threads.matmul picks the thread count (steady on a busy machine)
        self.big = big = x.size * w.shape[0] > GEMV_SINGLE
        xp = get_array_module(x)
        wt = w.T
        if w.shape[0] <= NARROW and x.size >= 128 * x.shape[-1]:
            wt = xp.ascontiguousarray(wt)  # a narrow layer over a big batch: see NARROW
        out = matmul(xp, x, wt) if big else x @ wt
        if b is not None:
            out += b
        return out

    def backward(self, g):
        n = self.needs
        x, w = self.x, self.w
        xp = get_array_module(g)
        big = self.big
        gx = None
        if n[0]:
            if w.shape[0] == 1:  # one output: an outer product, half the time of a BLAS call
                gx = g * w
            else:
                gx = matmul(xp, g, w) if big else g @ w
        if x.ndim != 2:
            g = g.reshape(-1, g.shape[-1])
            x = x.reshape(-1, x.shape[-1])
        # dW and db are whole gradients: write them into the parameters' kept storage if free.
        gw = None
        if n[1]:
            if g.shape[0] == 1:  # one sample: dW is an outer product, much cheaper broadcast
                gw = xp.multiply(g.T, x, out=grad_buffer(self, 1))
            elif big:
                gw = matmul(xp, g.T, x, out=grad_buffer(self, 1))
            else:
                gw = xp.matmul(g.T, x, out=grad_buffer(self, 1))
        if len(n) == 2:
            return gx, gw
        # db = 1ᵀ g as a matrix-vector product: BLAS sums the rows 2.5-4x faster than the ufunc's
        # reduce over axis 0 (100 × 100 float32: 1.3 against 3.2 µs)
        if not n[2]:
            return gx, gw, None
        return gx, gw, matmul(xp, constants.ones(xp, g.shape[0], g.dtype), g, grad_buffer(self, 2))


def linear(input: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """x Wᵀ + b with W shaped (out_features, in_features), as ``torch.nn.functional.linear``."""
    w = weight if isinstance(weight, Tensor) else as_tensor(weight)
    wd = w.data
    if not isinstance(input, Tensor):  # raw data: take the layer's dtype
        input = get_array_module(wd).asarray(input)
        if input.dtype != wd.dtype and input.dtype.kind in "biuf":
            input = input.astype(wd.dtype)
    x = input if isinstance(input, Tensor) else as_tensor(input)
    xd = x.data
    if wd.ndim != 2:
        raise ValueError(f"linear weight must be 2-D (out, in), got shape {tuple(wd.shape)}.")
    if xd.ndim == 0 or xd.shape[-1] != wd.shape[1]:
        raise ValueError(
            f"linear layer expects inputs with {wd.shape[1]} features in the last dim, got shape "
            f"{tuple(xd.shape)}; check the layer's in_features against the data's width."
        )
    if xd.dtype is not wd.dtype:
        if xd.dtype.kind != "f" or xd.dtype != wd.dtype:
            if xd.dtype.kind == "f" and wd.dtype.kind == "f":
                x, w = _promote_pair(x, w)
            else:
                x = cast(x, wd.dtype)
    if bias is None:
        return apply(Linear(), x, w)
    b = bias if isinstance(bias, Tensor) else as_tensor(bias)
    bd = b.data
    if bd.shape != (wd.shape[0],):
        raise ValueError(f"linear bias must have shape ({wd.shape[0]},), got {tuple(bd.shape)}.")
    dt = x.data.dtype
    if bd.dtype is not dt and bd.dtype != dt:
        b = cast(b, dt)
    return apply(Linear(), x, w, b)


__all__ = ["linear"]
