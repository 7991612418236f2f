"""Exact metrics over all processes: combine each process's running sums, not its results.

Each built-in streaming metric keeps sums and counts (accuracy: correct and total; precision,
recall, F1: a confusion matrix; MSE, MAE, R²: sums of errors and targets; the largest error: a
maximum). Adding those over the processes and computing the result once gives exactly the value
one process over all the data gives — where a mean of the processes' results would not (unequal
shares, R², F1). A metric of your own can say how its state combines with a class attribute
``state_reductions = {"attribute": "sum" | "max" | "min"}``; one that says nothing is reported
as the mean of the processes' results (close, not exact), with a warning.

>>> results = reduce_metrics(metrics)   # a list of floats, the same on every process
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .world import allgather_object

__all__ = ["reduce_metrics", "state_reductions"]

# gradstep.train.metrics' classes (by name, from this module: distributed never imports train)
_METRICS_MODULE = "gradstep.train.metrics"
_BUILT_IN = {
    "Accuracy": {"correct": "sum", "total": "sum"},
    "TopKAccuracy": {"correct": "sum", "total": "sum"},
    "_ConfusionBased": {"cm": "sum"},
    "_Moments": {"n": "sum", "sse": "sum", "sae": "sum", "st": "sum", "st2": "sum"},
    "MaxError": {"value": "max"},
}


def state_reductions(metric: Any) -> dict[str, str] | None:
    """How ``metric``'s state attributes combine over processes, or None when unknown."""
    own = getattr(metric, "state_reductions", None)
    if own is not None:
        return dict(own)
    for cls in type(metric).__mro__:
        if cls.__module__ == _METRICS_MODULE and cls.__name__ in _BUILT_IN:
            return _BUILT_IN[cls.__name__]
    return None


def _combine(values: list[Any], how: str) -> Any:
    present = [v for v in values if v is not None]
    if not present:
        return None
    if how not in ("sum", "max", "min"):
        raise ValueError(f"unknown state reduction {how!r}; use 'sum', 'max' or 'min'.")
    if not any(isinstance(v, np.ndarray) for v in present):
        if how == "sum":
            return sum(present[1:], present[0])
        return max(present) if how == "max" else min(present)
    arrays = [np.asarray(v) for v in present]
    shape = tuple(np.max([a.shape for a in arrays], axis=0))  # confusion matrices may differ
    out = None
    for a in arrays:
        if a.shape != shape:
            grown = np.zeros(shape, dtype=a.dtype)
            grown[tuple(slice(0, k) for k in a.shape)] = a
            a = grown
        if out is None:
            out = a.copy()
        elif how == "sum":
            out = out + a
        else:
            out = np.maximum(out, a) if how == "max" else np.minimum(out, a)
    return out


def reduce_metrics(metrics: list[Any]) -> list[Any]:
    """Every metric's result over the data of all processes (one exchange for all of them).

    The built-in metrics (and those with ``state_reductions``) get the combined state in place,
    so their ``result()`` afterwards is the whole's; others give the mean of the processes'
    results."""
    rules = [state_reductions(m) for m in metrics]
    mine = [
        {k: getattr(m, k) for k in rule} if rule is not None else {"result": float(m.result())}
        for m, rule in zip(metrics, rules)
    ]
    everyone = allgather_object(mine)
    results: list[Any] = []
    for i, (m, rule) in enumerate(zip(metrics, rules)):
        states = [per_rank[i] for per_rank in everyone]
        if rule is None:
            warnings.warn(
                f"metric {getattr(m, 'name', type(m).__name__)!r} does not say how its state "
                "combines over processes; reporting the mean of their results (set its class "
                "attribute state_reductions for an exact value).",
                stacklevel=2,
            )
            results.append(float(np.mean([s["result"] for s in states])))
            continue
        for attr, how in rule.items():
            setattr(m, attr, _combine([s[attr] for s in states], how))
        results.append(m.result())
    return results
