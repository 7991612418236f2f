"""Loss modules with torch.nn's names and constructor arguments; each calls its functional loss.

Class attributes tell the trainer what a loss is for: ``task`` is "classification" or
"regression"; ``target_kind`` is "index" (class indices), "probability", "binary" (0/1 labels or
probabilities per output) or "value" (real numbers); ``prediction`` is how an output becomes a
class for accuracy: "argmax" (the largest score; regression losses keep the default),
"logit" (score > 0) or "probability" (p > 0.5). Class weights are buffers, as in PyTorch, so
they follow ``.to(dtype)`` and appear in ``state_dict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import loss as F
from ..functional.loss_args import _REDUCTIONS, _reduction
from ..tensor import Tensor
from .module import Module


def _check_reduction(cls: str, reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{cls} reduction must be one of 'mean', 'sum' or 'none', got {reduction!r}."
        )
    return reduction


def _check_class_weight(cls: str, weight: Any) -> Any:
    if weight is not None and len(np.shape(weight)) != 1:
        raise ValueError(
            f"{cls} weight must be 1-D with one entry per class, got shape "
            f"{tuple(np.shape(weight))}; pass e.g. gs.tensor([1.0, 2.0, 1.0])."
        )
    return weight


class _Loss(Module):
    """Base of the loss modules: holds ``reduction`` ("mean", "sum" or "none")."""

    task: str = "regression"
    target_kind: str = "value"
    prediction: str = "argmax"

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _reduction(type(self).__name__, reduction, size_average, reduce)
        self.reduction = _check_reduction(type(self).__name__, reduction)


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, registered as a buffer."""

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy on raw scores (logits), softmax and loss fused in one node.

    Per sample l = −Σ_c w_c·q_c·log softmax(x)_c, q the target's one-hot (class indices) or
    probabilities, label-smoothed to (1 − ε)·q + ε/C with ε = ``label_smoothing``. "mean" divides
    by Σ w_target over the samples kept (``ignore_index``) for class indices and by the number of
    samples for probabilities, as PyTorch.
    """

    task = "classification"
    target_kind = "index"
    prediction = "argmax"

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            _check_class_weight("CrossEntropyLoss", weight), size_average, reduce, reduction
        )
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss label_smoothing must be in [0, 1], got {label_smoothing}; "
                "0 means no smoothing (0.1 is common)."
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002 - PyTorch's name
        # the buffer read directly and the arguments by position: this runs every step, and
        # Module.__getattr__ plus keyword passing cost a microsecond at batch 1
        return F.cross_entropy(
            input,
            target,
            self._buffers["weight"],
            None,
            self.ignore_index,
            None,
            self.reduction,
            self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities: l = −w_t·input_t per sample; "mean" divides
    by Σ w_t over the samples kept. Use after LogSoftmax (CrossEntropyLoss fuses the two)."""

    task = "classification"
    target_kind = "index"
    prediction = "argmax"

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(_check_class_weight("NLLLoss", weight), size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class MSELoss(_Loss):
    """Mean squared error: l = (input − target)² per element, averaged ("mean") or summed."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class SSELoss(_Loss):
    """Sum of squared errors, the textbook's E = ½·Σ_k (t_k − o_k)², whose gradient is o − t.

    ``reduction``: "sum" (default) ½·Σ over everything; "mean" that per-sample E averaged over the
    batch (divided by N = the first dim); "none" each sample's E, shape (N,).
    """

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.sse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: l = |input − target| per element, averaged ("mean") or summed."""

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: l = ½d² where |d| < delta, else delta·(|d| − ½·delta); d = input − target."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise ValueError(
                f"HuberLoss delta must be > 0, got {delta}; pass a positive threshold."
            )
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1: l = ½d²/beta where |d| < beta, |d| − ½·beta elsewhere, d = input − target
    (Huber loss divided by beta; beta = 0 gives L1)."""

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(
                f"SmoothL1Loss beta must be >= 0, got {beta}; pass a non-negative beta."
            )
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities p in [0, 1]:
    l = −w·(t·log p + (1 − t)·log(1 − p)), logs clamped at −100; "mean" averages the elements.
    Prefer BCEWithLogitsLoss on raw scores (stabler)."""

    task = "classification"
    target_kind = "binary"
    prediction = "probability"

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on raw scores x, stable for any |x|:
    l = −w·(P·t·log σ(x) + (1 − t)·log(1 − σ(x))), P = ``pos_weight`` (one per class, last dim);
    "mean" averages the elements."""

    task = "classification"
    target_kind = "binary"
    prediction = "logit"

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Any = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )


__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SSELoss",
    "SmoothL1Loss",
]
