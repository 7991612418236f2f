"""The output layer's loss as scikit-learn's MLP defines it, computed as one engine node.

Each loss pairs an output activation with a data loss. For scikit-learn's losses the activation is
the loss's canonical link, so the gradient at the output layer's pre-activation ``z`` is
``w·(f(z) − y)/Σw``; the node also adds scikit-learn's L2 term ``½·alpha·Σ‖W‖²/Σw`` (weights, not
biases) and its gradient ``alpha·W/Σw``. Values follow scikit-learn's formulas (probabilities
clipped to [eps, 1 − eps], squared error halved and averaged over outputs), so ``loss_curve_``
has its numbers. As in scikit-learn, with several outputs the reported loss averages over them
while the gradient is that of their sum (the same thing for one output).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, xlogy

from ..autograd import Function
from ..functional.loss import _row_reduce
from ..tensor import Tensor, apply, grad_buffer

__all__ = ["REGRESSOR_LOSSES", "LossSpec", "Objective", "OutputLoss", "loss_spec"]


def _softmax(z: np.ndarray) -> np.ndarray:
    p = np.subtract(z, _row_reduce(np.maximum, z))
    np.exp(p, out=p)
    p /= _row_reduce(np.add, p)
    return p


def _mean(per_sample: np.ndarray, w: np.ndarray | None) -> Any:
    """Mean of a per-sample vector, weighted by ``w`` when given (Σ wᵢ·aᵢ / Σ wᵢ), in float64
    as a NumPy value, not a Python float: a captured step records it as array calls (the same
    numbers as Python's floats)."""
    if w is None:
        return np.add.reduce(per_sample).astype(np.float64) / per_sample.shape[0]
    return np.dot(w, per_sample).astype(np.float64) / np.add.reduce(w).astype(np.float64)


def _rows(a: np.ndarray) -> np.ndarray:
    return _row_reduce(np.add, a)[:, 0]


def _clipped_log(p: np.ndarray) -> np.ndarray:
    """log of p clipped to [eps, 1 − eps] (scikit-learn clips before its log)."""
    eps = np.finfo(p.dtype).eps
    q = np.maximum(p, eps)
    np.minimum(q, 1 - eps, out=q)
    return np.log(q, out=q)


def _log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    # xlogy(y, q) is y·log q for the clipped q > 0
    return -_mean(_rows(y * _clipped_log(p)), w)


def _binary_log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    eps = np.finfo(p.dtype).eps
    q = np.maximum(p, eps)
    np.minimum(q, 1 - eps, out=q)
    # y·log q + (1 − y)·log(1 − q) for targets in {0, 1}: the log of whichever applies
    hit = np.where(y > 0.5, q, 1 - q)
    return -_mean(_rows(np.log(hit, out=hit)), w)


def _squared(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    r = p - y
    return 0.5 * _mean(_rows(r * r), w) / y.shape[1]


def _poisson(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    return _mean(_rows(xlogy(y, y / p) - y + p), w)


def _absolute(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    return _mean(_rows(np.abs(p - y)), w) / y.shape[1]


def _huber_value(delta: float) -> Callable[..., float]:
    def value(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
        r = np.abs(p - y)
        rho = np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))
        return _mean(_rows(rho), w) / y.shape[1]

    return value


def _residual(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return p - y


@dataclass(frozen=True)
class LossSpec:
    """One loss: the output activation (``out_activation_``), its function on raw outputs, the
    data loss value ``value(y, p, w)`` and the gradient at ``z`` per sample before weighting."""

    name: str
    out_activation: str
    link: Callable[[np.ndarray], np.ndarray]
    value: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]
    delta: Callable[[np.ndarray, np.ndarray], np.ndarray] = _residual


def _identity(z: np.ndarray) -> np.ndarray:
    return z


REGRESSOR_LOSSES = ("squared_error", "poisson", "absolute_error", "huber")


def loss_spec(name: str, out_activation: str, huber_delta: float = 1.0) -> LossSpec:
    """The loss ``name`` with the output activation scikit-learn pairs it with: "log_loss" (the
    classifiers') with "softmax" or "logistic" as the targets decide, "squared_error",
    "absolute_error" and "huber" with "identity", "poisson" with "exp"."""
    if name == "log_loss":
        if out_activation == "softmax":
            return LossSpec("log_loss", "softmax", _softmax, _log_loss)
        return LossSpec("binary_log_loss", "logistic", expit, _binary_log_loss)
    if name == "squared_error":
        return LossSpec(name, "identity", _identity, _squared)
    if name == "poisson":
        return LossSpec(name, "exp", np.exp, _poisson)
    if name == "absolute_error":
        return LossSpec(name, "identity", _identity, _absolute, lambda p, y: np.sign(p - y))
    if name == "huber":
        d = float(huber_delta)
        return LossSpec(
            name, "identity", _identity, _huber_value(d), lambda p, y: np.clip(p - y, -d, d)
        )
    raise ValueError(f"unknown loss {name!r}.")  # the estimators check names before this


class OutputLoss(Function):
    """Data loss of the outputs ``z`` against targets ``y`` (weights ``w`` or None) plus
    ½·alpha·Σ‖W‖²/Σw over the weight matrices given as the further inputs."""

    def __init__(self, spec: LossSpec, y: np.ndarray, w: np.ndarray | None, alpha: float) -> None:
        self.spec, self.y, self.w, self.alpha = spec, y, w, alpha

    def forward(self, z: np.ndarray, *weights: np.ndarray) -> np.ndarray:
        # float64 NumPy values throughout, as Python floats would compute them, and no float():
        # the estimators' steps are recorded by gs.capture
        p = self.spec.link(z)
        w = self.w
        total = z.shape[0] if w is None else np.add.reduce(w).astype(np.float64)
        self.p, self.total, self.weights = p, total, weights
        self.empty = not total > 0  # all weights zero: no loss and no gradient
        if self.empty:
            return np.zeros((), dtype=z.dtype)
        value = self.spec.value(self.y, p, w)
        if self.alpha:
            squares = 0.0
            for a in weights:
                flat = a.ravel()
                squares = squares + np.dot(flat, flat).astype(np.float64)
            value = value + 0.5 * self.alpha * squares / total
        return np.asanyarray(value.astype(z.dtype))  # (asarray would drop a traced array)

    def backward(self, g: np.ndarray) -> tuple[Any, ...]:
        d = self.spec.delta(self.p, self.y)
        if self.empty:
            scale = np.zeros((), np.float64)
        else:
            scale = g.astype(np.float64) / self.total
        # rounded to the arrays' dtype first, as a Python float scalar would be
        step = scale.astype(d.dtype)
        if self.w is None:
            d *= step
        else:
            d *= (self.w * step)[:, None]
        grads: list[Any] = [d]
        for i, a in enumerate(self.weights, start=1):
            c = (self.alpha * scale).astype(a.dtype)
            grads.append(np.multiply(a, c, out=grad_buffer(self, i)) if self.needs[i] else None)
        return tuple(grads)


class Objective:
    """What the Trainer calls as its loss: ``objective(outputs, targets)``.

    ``targets`` holds the target columns and, when the fit is weighted, the sample weight as one
    more column, so that one shuffled batch carries both. ``penalized`` are the weight tensors
    the L2 term covers.
    """

    target_kind = None
    reduction = "mean"

    def __init__(
        self, spec: LossSpec, n_targets: int, weighted: bool, alpha: float, penalized: Sequence
    ) -> None:
        self.spec, self.n_targets, self.weighted = spec, n_targets, weighted
        self.alpha = float(alpha)
        self.penalized = tuple(penalized) if self.alpha else ()
        classifies = spec.out_activation in ("softmax", "logistic")
        self.task = "classification" if classifies else "regression"
        self.prediction = "argmax"

    def __call__(self, out: Tensor, targets: np.ndarray) -> Tensor:
        k = self.n_targets
        y = targets[:, :k]
        w = targets[:, k] if self.weighted else None
        if out.data.ndim != 2 or out.data.shape[1] != k:
            raise ValueError(
                f"the network outputs shape {tuple(out.data.shape)} but the targets need "
                f"(n_samples, {k}); give the module's last layer {k} outputs."
            )
        return apply(OutputLoss(self.spec, y, w, self.alpha), out, *self.penalized)
