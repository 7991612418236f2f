"""The fused affine map y = x Wᵀ + b: one node instead of matmul, transpose and add."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, apply, as_tensor
from .arithmetic import _promote_pair, cast


class Linear(Function):
    """y = x Wᵀ + b for x of shape (..., in), W (out, in), b (out,).

    Backward: dx = g W, dW = gᵀ x, db = Σ g over the batch. Inputs that need no gradient (the data
    going into the first layer) get none computed.
    """

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        out = x @ w.T
        if b is not None:
            out += b
        return out

    def backward(self, g):
        n = self.needs
        x, w = self.x, self.w
        gx = g @ w if n[0] else None
        gw = gb = None
        if x.ndim == 2:
            if n[1]:
                gw = g.T @ x
            if len(n) > 2 and n[2]:
                gb = g.sum(axis=0)
        else:
            g2 = g.reshape(-1, g.shape[-1])
            if n[1]:
                gw = g2.T @ x.reshape(-1, x.shape[-1])
            if len(n) > 2 and n[2]:
                gb = g2.sum(axis=0)
        return (gx, gw, gb) if len(n) > 2 else (gx, gw)


def linear(input: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """x Wᵀ + b with W shaped (out_features, in_features), as ``torch.nn.functional.linear``."""
    w = as_tensor(weight)
    wd = w.data
    if not isinstance(input, Tensor):  # raw data: take the layer's dtype
        input = np.asarray(input)
        if input.dtype != wd.dtype and input.dtype.kind in "biuf":
            input = input.astype(wd.dtype)
    x = as_tensor(input)
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
    b = as_tensor(bias)
    if b.data.shape != (wd.shape[0],):
        raise ValueError(
            f"linear bias must have shape ({wd.shape[0]},), got {tuple(b.data.shape)}."
        )
    if b.data.dtype != x.data.dtype:
        b = cast(b, x.data.dtype)
    return apply(Linear(), x, w, b)


__all__ = ["linear"]
