"""The elementwise losses with ``torch.nn.functional``'s names, arguments and results: squared
error (mean and the textbook's ½·Σ), absolute error, Huber and smooth L1, and binary
cross-entropy on probabilities or on logits. Each is one graph node; ``weight`` and
``pos_weight`` are constants."""

from __future__ import annotations

from typing import Any

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, apply
from .loss_args import (
    _elementwise_weight,
    _float_input,
    _float_target,
    _reduction,
    _same_shape,
    _same_size_weight,
)


# -- regression losses ----------------------------------------------------------------------------
class _Elementwise(Function):
    """Shared reduction for elementwise losses: an optional weight multiplies each element;
    "mean" divides by the element count, or by Σ weight when ``weighted_mean`` (PyTorch's rule for
    the regression losses' per-element weight; BCE's weight divides by the count)."""

    def __init__(self, reduction, weight=None, weighted_mean=False):
        self.reduction, self.w, self.weighted_mean = reduction, weight, weighted_mean

    def _reduce(self, loss):
        w = self.w
        if w is not None:
            loss = loss * w
        red = self.reduction
        if red == "none":
            return loss
        xp = get_array_module(loss)
        total = loss.sum()
        if red == "sum":
            return xp.asarray(total)
        self.denom = w.sum() if w is not None and self.weighted_mean else loss.size
        with backend.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(total / self.denom)

    def _scale(self, g):
        k = g / self.denom if self.reduction == "mean" else g
        return k if self.w is None else k * self.w

    def _pair(self, dx):
        """Gradients for (input, target) when the loss depends on input − target only."""
        n = self.needs
        return (dx if n[0] else None, -dx if n[1] else None)


class MSE(_Elementwise):
    """l = (x − t)²;  ∂l/∂x = 2(x − t)."""

    def forward(self, x, t):
        self.d = x - t
        return self._reduce(self.d * self.d)

    def backward(self, g):
        return self._pair(self.d * (2 * self._scale(g)))


class L1(_Elementwise):
    """l = |x − t|;  ∂l/∂x = sign(x − t) (0 at 0, as PyTorch)."""

    def forward(self, x, t):
        xp = get_array_module(x, t)
        d = x - t
        self.sign = xp.sign(d)
        return self._reduce(xp.abs(d))

    def backward(self, g):
        return self._pair(self.sign * self._scale(g))


class Huber(_Elementwise):
    """l = ½d² for |d| < δ, else δ(|d| − ½δ), with d = x − t, times ``factor`` (1/β for smooth-L1);
    ∂l/∂x = clip(d, −δ, δ)·factor."""

    def __init__(self, reduction, delta, factor=1.0, weight=None):
        super().__init__(reduction, weight)
        self.delta, self.factor = delta, factor

    def forward(self, x, t):
        xp = get_array_module(x, t)
        d = x - t
        self.d = d
        a = xp.abs(d)
        delta = self.delta
        loss = xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        if self.factor != 1.0:
            loss *= self.factor
        return self._reduce(loss)

    def backward(self, g):
        k = self._scale(g)
        if self.factor != 1.0:
            k = k * self.factor
        return self._pair(self.d.clip(-self.delta, self.delta) * k)


class SSE(Function):
    """The textbook's E = ½·Σ_k (t_k − o_k)²;  ∂E/∂o = o − t.

    "sum" adds over everything, "mean" divides that by the batch size N (the first dim), "none"
    gives each sample's ½·Σ over its non-batch dims (shape (N,)).
    """

    def __init__(self, reduction):
        self.reduction = reduction

    def forward(self, o, t):
        d = o - t
        self.d = d
        sq = d * d
        red = self.reduction
        if red == "none":
            if d.ndim <= 1:
                return 0.5 * sq
            return 0.5 * sq.reshape(d.shape[0], -1).sum(axis=1)
        total = 0.5 * sq.sum()
        if red == "mean":
            total = total / (d.shape[0] if d.ndim else 1)
        return get_array_module(d).asarray(total)

    def backward(self, g):
        d = self.d
        red = self.reduction
        if red == "none" and d.ndim > 1:
            g = g.reshape(g.shape + (1,) * (d.ndim - 1))
        elif red == "mean":
            g = g / (d.shape[0] if d.ndim else 1)
        dx = d * g
        n = self.needs
        return (dx if n[0] else None, -dx if n[1] else None)


def _regression(name: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    x = _float_input(input)
    t = _float_target(target, x)
    _same_shape(name, x, t)
    return x, t


def mse_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean squared error: l = (input − target)² per element, then the reduction. An optional
    per-element ``weight`` (the input's shape) multiplies l and "mean" divides by Σ weight."""
    red = _reduction("mse_loss", reduction, size_average, reduce)
    x, t = _regression("mse_loss", input, target)
    w = _same_size_weight("mse_loss", weight, x.data.shape, x.data.dtype)
    return apply(MSE(red, w, weighted_mean=True), x, t)


def sse_loss(input: Any, target: Any, reduction: str = "sum") -> Tensor:  # noqa: A002
    """Sum of squared errors, the textbook's E = ½·Σ_k (t_k − o_k)² (gradient o − t).

    ``reduction``: "sum" (default) ½·Σ over all elements; "mean" that sum divided by the batch
    size N = input.shape[0] (the per-sample E averaged over the batch); "none" each sample's
    ½·Σ over its non-batch dims, shape (N,). Equals ½·mse_loss(reduction="sum") for "sum".
    """
    red = _reduction("sse_loss", reduction)
    x, t = _regression("sse_loss", input, target)
    return apply(SSE(red), x, t)


def l1_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean absolute error: l = |input − target| per element (gradient sign(input − target)).
    An optional per-element ``weight`` multiplies l; "mean" then divides by Σ weight."""
    red = _reduction("l1_loss", reduction, size_average, reduce)
    x, t = _regression("l1_loss", input, target)
    w = _same_size_weight("l1_loss", weight, x.data.shape, x.data.dtype)
    return apply(L1(red, w, weighted_mean=True), x, t)


def huber_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Tensor:
    """Huber loss: ½d² where |d| < delta, delta·(|d| − ½·delta) elsewhere (d = input − target).
    An optional per-element ``weight`` multiplies l; "mean" still divides by the element count
    (PyTorch's rule here, unlike mse_loss and l1_loss, which divide by Σ weight)."""
    red = _reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss delta must be > 0, got {delta}; pass a positive threshold.")
    x, t = _regression("huber_loss", input, target)
    w = _same_size_weight("huber_loss", weight, x.data.shape, x.data.dtype)
    return apply(Huber(red, float(delta), weight=w), x, t)


def smooth_l1_loss(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1: ½d²/beta where |d| < beta, |d| − ½·beta elsewhere (= huber_loss(delta=beta)/beta;
    beta = 0 gives l1_loss)."""
    red = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss beta must be >= 0, got {beta}; pass a non-negative beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=red)
    x, t = _regression("smooth_l1_loss", input, target)
    return apply(Huber(red, float(beta), factor=1.0 / beta), x, t)


# -- binary cross-entropy -------------------------------------------------------------------------
# PyTorch's floor for p(1 − p) in the gradient: a float32 1e-12
_BCE_EPS = float(backend.float32.type(1e-12))


class BinaryCrossEntropy(_Elementwise):
    """l = −(t·log p + (1 − t)·log(1 − p)), each log clamped at −100 as PyTorch;
    ∂l/∂p = (p − t) / max(p(1 − p), 1e-12) (the floor keeps p = 0 or 1 finite);
    ∂l/∂t = log(1 − p) − log p."""

    def forward(self, p, t):
        xp = get_array_module(p, t)
        with backend.errstate(divide="ignore"):
            logp = xp.maximum(xp.log(p), -100.0)
            log1mp = xp.maximum(xp.log1p(-p), -100.0)
        self.p, self.t, self.logp, self.log1mp = p, t, logp, log1mp
        return self._reduce(-(t * logp + (1.0 - t) * log1mp))

    def backward(self, g):
        k = self._scale(g)
        p, n = self.p, self.needs
        gp = (
            (p - self.t) / get_array_module(p).maximum(p * (1.0 - p), _BCE_EPS) * k
            if n[0]
            else None
        )
        gt = (self.log1mp - self.logp) * k if n[1] else None
        return gp, gt


class BinaryCrossEntropyWithLogits(_Elementwise):
    """l = (1 − t)·x + (1 + (P − 1)·t)·softplus(−x), with softplus(−x) = log(1 + e^(−|x|)) +
    max(−x, 0) so no exponential overflows (|x| = 1000 is fine); P = pos_weight (1 if absent).
    ∂l/∂x = (1 + (P − 1)·t)·σ(x) − P·t;  ∂l/∂t = −x + (P − 1)·softplus(−x)."""

    def __init__(self, reduction, weight, pos_weight):
        super().__init__(reduction, weight)
        self.pw = pos_weight

    def forward(self, x, t):
        xp = get_array_module(x, t)
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)
        self.x, self.t, self.sp = x, t, sp
        if self.pw is None:
            return self._reduce((1.0 - t) * x + sp)
        self.lw = 1.0 + (self.pw - 1.0) * t
        return self._reduce((1.0 - t) * x + self.lw * sp)

    def backward(self, g):
        k = self._scale(g)
        x, t, pw, n = self.x, self.t, self.pw, self.needs
        gx = gt = None
        if n[0]:
            sig = backend.special(get_array_module(x)).expit(x)
            gx = (sig - t if pw is None else self.lw * sig - pw * t) * k
        if n[1]:
            gt = (-x if pw is None else (pw - 1.0) * self.sp - x) * k
        return gx, gt


def binary_cross_entropy(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against targets in [0, 1]:
    l = −w·(t·log p + (1 − t)·log(1 − p)), logs clamped at −100 as PyTorch; ``weight`` broadcasts
    to the input's shape and "mean" divides by the number of elements."""
    red = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    x, t = _regression("binary_cross_entropy", input, target)
    xd, td = x.data, t.data
    if xd.size and (xd.min() < 0 or xd.max() > 1):
        raise ValueError(
            f"binary_cross_entropy input must hold probabilities in [0, 1], got values in "
            f"[{xd.min():.4g}, {xd.max():.4g}]; apply sigmoid first, or pass the raw scores to "
            "binary_cross_entropy_with_logits (stabler)."
        )
    if td.size and (td.min() < 0 or td.max() > 1):
        raise ValueError(
            f"binary_cross_entropy target must hold values in [0, 1], got values in "
            f"[{td.min():.4g}, {td.max():.4g}]; pass 0/1 labels or probabilities."
        )
    w = _elementwise_weight("binary_cross_entropy", "weight", weight, xd.shape, xd.dtype)
    return apply(BinaryCrossEntropy(red, w), x, t)


def binary_cross_entropy_with_logits(
    input: Any,  # noqa: A002 - PyTorch's argument name
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable node, for raw scores ``input``:
    l = −w·(P·t·log σ(x) + (1 − t)·log(1 − σ(x))) with P = ``pos_weight`` (broadcast along the
    last dim, one per class), computed in log-sum-exp form so large |x| cannot overflow; "mean"
    divides by the number of elements."""
    red = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    name = "binary_cross_entropy_with_logits"
    x, t = _regression(name, input, target)
    shape, dtype = x.data.shape, x.data.dtype
    w = _elementwise_weight(name, "weight", weight, shape, dtype)
    pw = _elementwise_weight(name, "pos_weight", pos_weight, shape, dtype)
    return apply(BinaryCrossEntropyWithLogits(red, w, pw), x, t)


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "smooth_l1_loss",
    "sse_loss",
]
