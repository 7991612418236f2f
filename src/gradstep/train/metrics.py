"""Streaming metrics, accumulated batch by batch (Accuracy, TopKAccuracy, ConfusionMatrix,
Precision, Recall, F1, MSE, MAE, R2, MaxError), and the table that names them for the Trainer
and the command line. No per-sample Python objects: every update is a few vectorised calls.
The whole-array functions they build on are in ``metric_functions.py`` (also importable from
here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .metric_functions import (
    _labels,
    _per_entry,
    accuracy,
    confusion_matrix,
    mae,
    max_error,
    mse,
    on_target_scale,
    per_class_scores,
    precision_recall_f1,
    predicted_classes,
    r2,
    top_k_accuracy,
)

# -- streaming metrics ----------------------------------------------------------------------------


class Metric:
    """A metric accumulated over batches: ``reset()``, ``update(output, target)``, ``result()``.

    The built-in metrics also take ``update(..., weight=w)``, one weight per sample (the Trainer
    passes the sample and class weights); a metric whose ``update`` has no ``weight`` argument is
    computed unweighted."""

    name = "metric"

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, output: np.ndarray, target: np.ndarray, weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Accuracy(Metric):
    name = "accuracy"

    def __init__(self, rule: str = "argmax") -> None:
        predicted_classes(np.zeros((1, 2)), rule)
        self.rule = rule
        self.reset()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, output: np.ndarray, target: np.ndarray, weight: Any = None) -> None:
        pred = predicted_classes(output, self.rule)
        tgt = np.asarray(target)
        if tgt.dtype.kind == "f" and self.rule == "argmax" and tgt.ndim >= 2:
            tgt = _labels(tgt)
        else:
            tgt = tgt.reshape(pred.shape)
        if weight is None:
            self.correct += int(np.count_nonzero(pred == tgt))
            self.total += pred.size
        else:
            w = _per_entry(weight, pred.shape)
            self.correct += float(w[pred == tgt].sum())
            self.total += float(w.sum())

    def result(self) -> float:
        return self.correct / self.total if self.total else float("nan")


class TopKAccuracy(Metric):
    def __init__(self, k: int = 5) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}.")
        self.k = k
        self.name = f"top{k}_accuracy"
        self.reset()

    def reset(self) -> None:
        self.correct = 0.0
        self.total = 0

    def update(self, output: np.ndarray, target: np.ndarray, weight: Any = None) -> None:
        k = min(self.k, output.shape[-1])
        top = np.argpartition(-output, k - 1, axis=-1)[:, :k]
        hit = (top == _labels(np.asarray(target))[:, None]).any(axis=1)
        w = np.ones(len(hit)) if weight is None else np.asarray(weight, dtype=np.float64)
        self.correct += float(w[hit].sum())
        self.total += float(w.sum())

    def result(self) -> float:
        return self.correct / self.total if self.total else float("nan")


class _ConfusionBased(Metric):
    def __init__(self, n_classes: int | None = None, rule: str = "argmax") -> None:
        self.n_classes = n_classes
        self.rule = rule
        self.reset()

    def reset(self) -> None:
        self.cm: np.ndarray | None = None

    def update(self, output: np.ndarray, target: np.ndarray, weight: Any = None) -> None:
        pred = predicted_classes(output, self.rule)
        tgt = _labels(np.asarray(target)).reshape(pred.shape)
        n = self.n_classes or (output.shape[-1] if output.ndim > 1 and self.rule == "argmax" else 2)
        n = max(n, int(max(tgt.max(initial=0), pred.max(initial=0))) + 1)
        if weight is None:
            cm = confusion_matrix(tgt, pred, n)
        else:
            idx = tgt.astype(np.int64).ravel() * n + pred.astype(np.int64).ravel()
            w = _per_entry(weight, pred.shape).ravel()
            cm = np.bincount(idx, weights=w, minlength=n * n).reshape(n, n)
            if self.cm is not None and self.cm.dtype.kind != "f":
                self.cm = self.cm.astype(np.float64)
        if self.cm is None:
            self.cm = cm
        else:
            if cm.shape[0] > self.cm.shape[0]:
                grown = np.zeros_like(cm)
                k = self.cm.shape[0]
                grown[:k, :k] = self.cm
                self.cm = grown
            k = cm.shape[0]
            self.cm[:k, :k] += cm


class ConfusionMatrix(_ConfusionBased):
    name = "confusion_matrix"

    def result(self) -> np.ndarray:  # type: ignore[override]
        return self.cm if self.cm is not None else np.zeros((0, 0), dtype=np.int64)


class Precision(_ConfusionBased):
    name = "precision"

    def result(self) -> float:
        return precision_recall_f1(self.cm)[0] if self.cm is not None else float("nan")


class Recall(_ConfusionBased):
    name = "recall"

    def result(self) -> float:
        return precision_recall_f1(self.cm)[1] if self.cm is not None else float("nan")


class F1(_ConfusionBased):
    name = "f1"

    def result(self) -> float:
        return precision_recall_f1(self.cm)[2] if self.cm is not None else float("nan")


class _Moments(Metric):
    """Running sums (in float64) from which MSE, MAE and R² follow exactly."""

    def reset(self) -> None:
        self.n = 0
        self.sse = None
        self.sae = None
        self.st = None
        self.st2 = None

    def update(self, output: np.ndarray, target: np.ndarray, weight: Any = None) -> None:
        o = np.asarray(output, dtype=np.float64)
        o = o.reshape(o.shape[0], -1)
        t = np.asarray(target, dtype=np.float64).reshape(o.shape)
        d = t - o
        if weight is None:
            sums = ((d * d).sum(0), np.abs(d).sum(0), t.sum(0), (t * t).sum(0))
            count: float = o.shape[0]
        else:
            w = np.asarray(weight, dtype=np.float64).reshape(-1, 1)
            sums = ((w * d * d).sum(0), (w * np.abs(d)).sum(0), (w * t).sum(0), (w * t * t).sum(0))
            count = float(w.sum())
        if self.sse is None:
            self.sse, self.sae, self.st, self.st2 = sums
        else:
            self.sse = self.sse + sums[0]
            self.sae = self.sae + sums[1]
            self.st = self.st + sums[2]
            self.st2 = self.st2 + sums[3]
        self.n += count


class MSE(_Moments):
    name = "mse"

    def __init__(self) -> None:
        self.reset()

    def result(self) -> float:
        return float(self.sse.mean() / self.n) if self.n else float("nan")


class MAE(_Moments):
    name = "mae"

    def __init__(self) -> None:
        self.reset()

    def result(self) -> float:
        return float(self.sae.mean() / self.n) if self.n else float("nan")


class R2(_Moments):
    name = "r2"

    def __init__(self) -> None:
        self.reset()

    def result(self) -> float:
        if not self.n:
            return float("nan")
        ss_tot = self.st2 - self.st * self.st / self.n
        ok = ss_tot > 1e-12 * np.maximum(self.st2, 1e-300)
        score = np.where(ok, 1 - self.sse / np.where(ok, ss_tot, 1), np.where(self.sse == 0, 1, 0))
        return float(score.mean())


class MaxError(Metric):
    """Largest |t − o| seen (the textbook's convergence measure)."""

    name = "max_error"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.value = 0.0

    def update(self, output: np.ndarray, target: np.ndarray, weight: Any = None) -> None:
        if weight is not None:  # samples of weight 0 do not count
            keep = np.asarray(weight) > 0
            output, target = np.asarray(output)[keep], np.asarray(target)[keep]
        self.value = max(self.value, max_error(output, target))

    def result(self) -> float:
        return self.value


_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "precision": Precision,
    "recall": Recall,
    "f1": F1,
    "mse": MSE,
    "mae": MAE,
    "r2": R2,
    "max_error": MaxError,
}

CLASSIFICATION_METRICS = {"accuracy", "acc", "precision", "recall", "f1"}


def get_metric(spec: Any, rule: str = "argmax") -> Metric:
    """A metric from a name ('accuracy', 'top5_accuracy', 'f1', 'mse', 'mae', 'r2',
    'max_error') or a Metric instance."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key.startswith("top") and key.endswith("_accuracy") and key[3:-9].isdigit():
            return TopKAccuracy(int(key[3:-9]))
        cls = _BY_NAME.get(key)
        if cls is None:
            raise ValueError(
                f"unknown metric {spec!r}; use one of {sorted(_BY_NAME)} or 'topK_accuracy'."
            )
        if key in CLASSIFICATION_METRICS:
            return cls(rule=rule)
        return cls()
    raise TypeError(f"a metric must be a name or a Metric instance, got {type(spec).__name__}.")


def default_metrics(task: str | None) -> list[str]:
    """What a run reports when no metrics are named: accuracy for classification, mse, mae and
    r2 for regression (the Trainer's and the command line's "auto")."""
    if task == "classification":
        return ["accuracy"]
    if task == "regression":
        return ["mse", "mae", "r2"]
    return []


def check_metrics(specs: list[Any], task: str | None, rule: str, loss_name: str) -> list[Any]:
    """``specs`` checked against the loss: known names, and no classification metric with a
    regression loss (``loss_name`` is named in that error)."""
    for spec in specs:
        name = spec if isinstance(spec, str) else getattr(spec, "name", "")
        if task == "regression" and str(name).lower() in CLASSIFICATION_METRICS:
            raise ValueError(
                f"metric {name!r} needs a classification loss, but {loss_name} is a regression "
                "loss; use 'mse', 'mae' or 'r2', or a classification loss."
            )
        get_metric(spec, rule)  # unknown names fail now, not after the first epoch
    return specs


__all__ = [
    "CLASSIFICATION_METRICS",
    "F1",
    "MAE",
    "MSE",
    "R2",
    "Accuracy",
    "ConfusionMatrix",
    "MaxError",
    "Metric",
    "Precision",
    "Recall",
    "TopKAccuracy",
    "accuracy",
    "check_metrics",
    "confusion_matrix",
    "default_metrics",
    "get_metric",
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
