"""Metrics on NumPy arrays, whole-array and streaming (accumulated batch by batch).

Classification: accuracy, top-k accuracy, confusion matrix, precision / recall / F1 per class and
macro-averaged (scikit-learn's definitions, zero_division included).
Regression: MSE, MAE, R². No per-sample Python objects: every update is a few vectorised calls.
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
