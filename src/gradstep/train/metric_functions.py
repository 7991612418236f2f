"""Metrics on whole arrays: how predictions become classes, accuracy, top-k accuracy, the
confusion matrix, precision / recall / F1 per class and macro-averaged (scikit-learn's
definitions, zero_division included), MSE, MAE, R² and the largest error. The streaming versions
the Trainer accumulates batch by batch are in ``metrics.py``.

>>> import numpy as np
>>> accuracy(np.array([[0.2, 0.8], [0.9, 0.1]]), np.array([1, 1]))
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

# -- how predictions become classes -------------------------------------------------------------


def predicted_classes(output: np.ndarray, rule: str = "argmax") -> np.ndarray:
    """Class indices from model outputs: ``argmax`` over the last dim (CE/NLL), ``logit``
    (x > 0, BCEWithLogits) or ``probability`` (p > 0.5, BCE)."""
    if rule == "argmax":
        if output.ndim == 1:
            return (output > 0).astype(np.int64)
        return output.argmax(axis=-1)
    if rule == "logit":
        return (output > 0).astype(np.int64)
    if rule == "probability":
        return (output > 0.5).astype(np.int64)
    raise ValueError(f"unknown prediction rule {rule!r}; use 'argmax', 'logit' or 'probability'.")


def _labels(target: np.ndarray) -> np.ndarray:
    """Integer labels from index targets or one-hot/probability targets."""
    if target.dtype.kind == "f" and target.ndim >= 2 and target.shape[-1] > 1:
        return target.argmax(axis=-1)
    return target.reshape(target.shape[0], -1)[:, 0] if target.ndim > 1 else target


# -- whole-array functions ----------------------------------------------------------------------


def accuracy(output: np.ndarray, target: np.ndarray, rule: str = "argmax") -> float:
    """Fraction of samples whose predicted class equals the target."""
    pred = predicted_classes(np.asarray(output), rule)
    tgt = np.asarray(target)
    if rule != "argmax" or tgt.dtype.kind != "f" or tgt.ndim < 2:
        tgt = tgt.reshape(pred.shape) if tgt.size == pred.size else _labels(tgt)
    else:
        tgt = _labels(tgt)
    return float(np.mean(pred == tgt)) if pred.size else float("nan")


def top_k_accuracy(output: np.ndarray, target: np.ndarray, k: int = 5) -> float:
    """Fraction of samples whose target is among the k highest scores."""
    output = np.asarray(output)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    k = min(k, output.shape[-1])
    top = np.argpartition(-output, k - 1, axis=-1)[:, :k]
    return float(np.mean((top == _labels(np.asarray(target))[:, None]).any(axis=1)))


def confusion_matrix(
    target: np.ndarray, predicted: np.ndarray, n_classes: int | None = None
) -> np.ndarray:
    """Counts C[i, j] of samples with true class i predicted as j (scikit-learn's orientation)."""
    t = np.asarray(target, dtype=np.int64).ravel()
    p = np.asarray(predicted, dtype=np.int64).ravel()
    if n_classes is None:
        n_classes = int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def per_class_scores(cm: np.ndarray, zero_division: float = 0.0) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix, as scikit-learn's
    ``precision_recall_fscore_support(average=None)``: a ratio whose denominator is 0 (a class
    never predicted, or with no samples) is ``zero_division`` (0.0, 1.0 or nan).
    ``present`` marks the classes that occur among the true or the predicted labels.

    >>> per_class_scores(np.array([[2, 0], [1, 1]]))["recall"]
    array([1. , 0.5])
    """
    counts = np.asarray(cm, dtype=np.float64)
    tp = np.diag(counts)
    predicted = counts.sum(axis=0)
    true = counts.sum(axis=1)
    both = 2 * tp + (predicted - tp) + (true - tp)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, zero_division)
        recall = np.where(true > 0, tp / true, zero_division)
        f1 = np.where(both > 0, 2 * tp / both, zero_division)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": true,
        "present": (predicted > 0) | (true > 0),
    }


def precision_recall_f1(cm: np.ndarray, zero_division: float = 0.0) -> tuple[float, float, float]:
    """Macro-averaged precision, recall and F1 from a confusion matrix, as scikit-learn's
    ``average="macro"``: the mean over the classes that occur among the true or predicted
    labels (a class absent from both is left out), a 0/0 ratio counting as ``zero_division``
    (nan: left out of that average). Nan when no class occurs.
    """
    scores = per_class_scores(cm, zero_division)
    present = scores["present"]
    if not present.any():
        return float("nan"), float("nan"), float("nan")
    out = []
    for name in ("precision", "recall", "f1"):
        values = scores[name][present]
        values = values[~np.isnan(values)]
        out.append(float(values.mean()) if values.size else float("nan"))
    return out[0], out[1], out[2]


def mse(output: np.ndarray, target: np.ndarray) -> float:
    d = np.asarray(output, dtype=np.float64) - np.asarray(target, dtype=np.float64).reshape(
        np.shape(output)
    )
    return float(np.mean(d * d))


def mae(output: np.ndarray, target: np.ndarray) -> float:
    d = np.asarray(output, dtype=np.float64) - np.asarray(target, dtype=np.float64).reshape(
        np.shape(output)
    )
    return float(np.mean(np.abs(d)))


def r2(output: np.ndarray, target: np.ndarray) -> float:
    """Coefficient of determination, averaged uniformly over outputs (scikit-learn's default)."""
    o = np.asarray(output, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64).reshape(o.shape)
    o2 = o.reshape(o.shape[0], -1)
    t2 = t.reshape(t.shape[0], -1)
    ss_res = ((t2 - o2) ** 2).sum(axis=0)
    ss_tot = ((t2 - t2.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(
            ss_tot > 0,
            1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
            np.where(ss_res == 0, 1.0, 0.0),
        )
    return float(score.mean())


def max_error(output: np.ndarray, target: np.ndarray) -> float:
    """The textbook's stopping measure: the largest |t − o| over all samples and outputs."""
    o = np.asarray(output, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64).reshape(o.shape)
    return float(np.max(np.abs(t - o))) if o.size else 0.0


def on_target_scale(
    output: np.ndarray, target: np.ndarray, target_kind: str | None, rule: str
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and targets on one scale for :func:`max_error`: softmax probabilities against
    one-hot targets for class indices, sigmoid of logits for BCEWithLogits, else as they are."""
    if target_kind == "index":
        e = np.exp(output - output.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
        onehot = np.zeros_like(p)
        onehot[np.arange(len(target)), target.astype(np.int64)] = 1
        return p, onehot
    if rule == "logit":
        return 1 / (1 + np.exp(-output)), target.reshape(output.shape)
    return output, target.reshape(output.shape)


def _per_entry(weight: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Per-sample weights broadcast over a sample's outputs (multi-label predictions)."""
    w = np.asarray(weight, dtype=np.float64)
    return np.broadcast_to(w.reshape((-1,) + (1,) * (len(shape) - 1)), shape)


__all__ = [
    "accuracy",
    "confusion_matrix",
    "mae",
    "max_error",
    "mse",
    "on_target_scale",
    "per_class_scores",
    "precision_recall_f1",
    "predicted_classes",
    "r2",
    "top_k_accuracy",
]
