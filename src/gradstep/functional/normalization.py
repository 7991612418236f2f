"""Batch normalisation with PyTorch's ``batch_norm`` arguments and running-statistics update."""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from ..tensor import Tensor, apply, as_tensor
from .arithmetic import cast


class BatchNorm(Function):
    """y = (x − μ)/√(σ² + eps) · γ + β per channel (dim 1), over the batch and spatial dims.

    In training μ, σ² are the batch's mean and biased variance, and the running statistics (if
    given) move towards them: r ← (1 − momentum)·r + momentum·s, with the unbiased variance
    σ²·m/(m − 1) for the running variance (m values per channel). Otherwise μ, σ² are the running
    statistics. Backward (training), with x̂ the normalised input:
    dx = γ/√(σ² + eps) · (g − mean(g) − x̂·mean(g·x̂)); dγ = Σ g·x̂; dβ = Σ g.
    """

    def __init__(self, training, eps, momentum, running_mean, running_var):
        self.training, self.eps, self.momentum = training, eps, momentum
        self.running_mean, self.running_var = running_mean, running_var

    def forward(self, x, w=None, b=None):
        xp = backend.get_array_module(x)
        c = x.shape[1]
        self.axes = (0, *range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        self.m = x.size // c
        if self.training:
            mean = x.mean(axis=self.axes, keepdims=True)
            xhat = x - mean
            var = (xhat * xhat).mean(axis=self.axes, keepdims=True)
            if self.running_mean is not None:
                mom = self.momentum
                rm, rv = self.running_mean, self.running_var
                rm *= 1 - mom
                rm += mom * mean.reshape(c)
                rv *= 1 - mom
                rv += (mom * self.m / (self.m - 1)) * var.reshape(c)
        else:
            xhat = x - self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        invstd = 1 / xp.sqrt(var + self.eps)
        xhat *= invstd
        self.xhat = xhat
        self.invstd = invstd
        self.w = None if w is None else w.reshape(shape)
        y = xhat if w is None else xhat * self.w
        if b is not None:
            y = y + b.reshape(shape)
        elif y is xhat:
            y = xhat.copy()
        return y

    def backward(self, g):
        needs = self.needs
        xhat, axes = self.xhat, self.axes
        gb = g.sum(axis=axes) if len(needs) > 2 and needs[2] else None
        gw = None
        if (len(needs) > 1 and needs[1]) or (self.training and needs[0]):
            gw = (g * xhat).sum(axis=axes)
        gx = None
        if needs[0]:
            scale = self.invstd if self.w is None else self.w * self.invstd
            if self.training:
                shape = scale.shape
                sg = gb if gb is not None else g.sum(axis=axes)
                gx = g - (sg / self.m).reshape(shape)
                gx -= xhat * (gw / self.m).reshape(shape)
                gx *= scale
            else:
                gx = g * scale
        if len(needs) == 1:
            return (gx,)
        if not needs[1]:
            gw = None
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


def _array_or_none(value: Any, name: str, c: int) -> Any:
    if value is None:
        return None
    arr = value.data if isinstance(value, Tensor) else value
    if tuple(getattr(arr, "shape", ())) != (c,):
        raise ValueError(
            f"batch_norm {name} must have shape ({c},) for an input with {c} channels, got "
            f"{tuple(getattr(arr, 'shape', ()))}; check num_features."
        )
    return arr


def batch_norm(
    input: Any,  # noqa: A002 - PyTorch's argument name
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise x (N, C, *) per channel, as ``torch.nn.functional.batch_norm``.

    With ``training=True`` the batch statistics are used and ``running_mean`` / ``running_var``
    (arrays or tensors of shape (C,), or None) are updated in place with ``momentum``; otherwise
    the running statistics normalise. Example:
    ``batch_norm(x, rm, rv, training=True)`` gives each channel mean 0 and variance 1.
    """
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.data.dtype.kind != "f":
        x = cast(x, backend.get_default_dtype())
    if x.data.ndim < 2:
        raise ValueError(
            f"batch_norm expects an input (N, C, *) with at least 2 dims, got shape "
            f"{tuple(x.data.shape)}."
        )
    c = x.data.shape[1]
    rm = _array_or_none(running_mean, "running_mean", c)
    rv = _array_or_none(running_var, "running_var", c)
    if (rm is None) != (rv is None):
        raise ValueError("batch_norm needs both running_mean and running_var, or neither.")
    if not training and rm is None:
        raise ValueError(
            "batch_norm in evaluation (training=False) needs running_mean and running_var; "
            "pass them or use training=True."
        )
    if training and x.data.size // max(c, 1) <= 1:
        raise ValueError(
            f"batch_norm in training needs more than one value per channel, got input shape "
            f"{tuple(x.data.shape)}; use a batch of 2 or more, or evaluation mode (model.eval())."
        )
    tensors = [x]
    if weight is not None or bias is not None:
        if weight is None:  # bias alone: a constant unit scale keeps one code path
            weight = as_tensor(backend.get_array_module(x.data).ones(c, dtype=x.data.dtype))
        for name, p in (("weight", weight), ("bias", bias)):
            if p is not None:
                t = p if isinstance(p, Tensor) else as_tensor(p)
                _array_or_none(t, name, c)
                tensors.append(t)
        d = x.data.dtype
        for t in tensors[1:]:
            if t.data.dtype.kind == "f" and t.data.dtype != d:
                d = backend.promote(x.data, t.data)
        tensors = [t if t.data.dtype == d else cast(t, d) for t in tensors]
    node = BatchNorm(bool(training), float(eps), float(momentum), rm, rv)
    return apply(node, *tensors)


__all__ = ["batch_norm"]
