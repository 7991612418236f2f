"""Sample and class weights: a weighted mean of the per-sample losses.

With weights vᵢ (``sample_weight`` times ``class_weight[yᵢ]``) a batch's loss is
Σ vᵢ·lᵢ / Σ vᵢ for a loss with reduction "mean" (lᵢ averaged over a sample's outputs first), and
Σ vᵢ·lᵢ for reduction "sum". A loss with its own per-class ``weight`` (CrossEntropyLoss(weight=w))
keeps PyTorch's normalisation with vᵢ folded in: Σ vᵢ·w_{yᵢ}·lᵢ / Σ vᵢ·w_{yᵢ}. With all vᵢ = 1 every
formula is the unweighted loss.

>>> v = sample_weights(y, sample_weight=None, class_weight="balanced", n_classes=3)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..data.dataset import TensorDataset, to_numpy
from ..tensor import Tensor

__all__ = ["WeightedDataset", "WeightedLoss", "class_weight_table", "sample_weights"]


class WeightedDataset(TensorDataset):
    """(x, y, v): in-memory data whose third array is each sample's weight vᵢ."""


def class_weight_table(y: np.ndarray, spec: Any, n_classes: int | None = None) -> np.ndarray:
    """One weight per class: ``"balanced"`` gives n_samples / (n_classes · count) as
    scikit-learn (classes that do not occur get 1), a dict gives its values (1 for classes it
    leaves out)."""
    labels = np.asarray(y).reshape(-1).astype(np.int64)
    k = max(int(labels.max(initial=-1)) + 1, n_classes or 0)
    if isinstance(spec, str):
        if spec != "balanced":
            raise ValueError(f"class_weight must be 'balanced' or a dict, got {spec!r}.")
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        present = counts > 0
        table = np.ones(k)
        table[present] = len(labels) / (int(present.sum()) * counts[present])
        return table
    if not isinstance(spec, dict):
        raise TypeError(
            f"class_weight must be 'balanced' or a dict {{class: weight}}, got "
            f"{type(spec).__name__}."
        )
    table = np.ones(k)
    for c, w in spec.items():
        if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 0:
            raise ValueError(f"class_weight keys must be class indices >= 0, got {c!r}.")
        if c >= k:
            table = np.concatenate([table, np.ones(int(c) + 1 - k)])
            k = len(table)
        table[int(c)] = _weight_value(w, f"class_weight[{c}]")
    return table


def _weight_value(w: Any, name: str) -> float:
    w = float(w)
    if not np.isfinite(w) or w < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {w!r}.")
    return w


def sample_weights(
    y: np.ndarray,
    sample_weight: Any = None,
    class_weight: Any = None,
    n_classes: int | None = None,
    what: str = "training",
) -> np.ndarray | None:
    """Per-sample weights vᵢ (float64), or None when neither kind of weight is given."""
    if sample_weight is None and class_weight is None:
        return None
    n = len(y)
    v = np.ones(n)
    if sample_weight is not None:
        sw = to_numpy(sample_weight)
        if sw.dtype.kind not in "biuf" or sw.shape != (n,):
            raise ValueError(
                f"{what} sample_weight must be {n} numbers (one per sample), got dtype "
                f"{sw.dtype} and shape {sw.shape}; pass a 1-D array of length {n}."
            )
        sw = sw.astype(np.float64)
        if not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(
                f"{what} sample_weight must be finite and >= 0; found "
                f"{sw[~np.isfinite(sw) | (sw < 0)][0]!r}."
            )
        v *= sw
    if class_weight is not None:
        labels = np.asarray(y)
        if labels.dtype.kind not in "iu" or labels.ndim != 1:
            raise ValueError(
                f"class_weight needs class-index targets (a 1-D integer y), got dtype "
                f"{labels.dtype} and shape {labels.shape}; use sample_weight for other targets."
            )
        v *= class_weight_table(labels, class_weight, n_classes)[labels]
    if not v.sum() > 0:
        raise ValueError(f"{what} weights sum to 0; give at least one sample a weight > 0.")
    return v


class WeightedLoss:
    """``loss_fn`` as a weighted mean (or sum) over the batch; see the module docstring."""

    def __init__(self, loss_fn: Any) -> None:
        self.loss_fn = loss_fn
        self.summed = getattr(loss_fn, "reduction", "mean") == "sum"
        self.per_sample = copy.copy(loss_fn)
        self.per_sample.reduction = "none"
        self.class_weight = getattr(loss_fn, "weight", None)
        self.ignore = getattr(loss_fn, "ignore_index", None)

    def __call__(self, out: Tensor, y: np.ndarray, v: np.ndarray) -> Tensor:
        per = self.per_sample(out, y)
        n = per.shape[0]
        if per.ndim > 1:
            per = per.reshape(n, -1)
            per = per.sum(dim=1) if self.summed else per.mean(dim=1)
        v = v.astype(out.data.dtype, copy=False)
        total = (per * Tensor._make(v)).sum()
        if self.summed:
            return total
        denom = v
        if self.class_weight is not None and y.ndim == 1 and y.dtype.kind in "iu":
            cw = getattr(self.class_weight, "data", self.class_weight)
            # astype, not np.asarray: a captured step must see the weights being read
            if hasattr(cw, "astype"):
                cw = cw.astype(v.dtype, copy=False)
            else:
                cw = np.asarray(cw, dtype=v.dtype)
            keep = y if self.ignore is None else np.where(y == self.ignore, 0, y)
            denom = v * cw[keep]
        if self.ignore is not None and y.ndim == 1 and y.dtype.kind in "iu":
            denom = np.where(y == self.ignore, 0, denom)
        # the total as an array, not a Python float: a captured step replays this division
        return total / Tensor._make(denom.sum())
