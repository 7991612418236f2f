"""The Bundle a built-in dataset loads into, and the one routine that splits and scales it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dataset import TensorDataset
from ..split import Standardizer, split_indices

__all__ = ["Bundle", "build_bundle"]

SPLIT = (0.70, 0.15, 0.15)


@dataclass
class Bundle:
    """A ready-to-train dataset: train/val/test TensorDatasets plus what the data means.

    ``x`` is float32; ``y`` is int64 class ids (classification) or float32 ``(n, outputs)``
    (regression). ``scaler`` is the Standardizer fitted on the train part (None if the features
    were left as they are); ``n_classes`` is None for regression.
    """

    name: str
    task: str
    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    n_classes: int | None
    n_features: int
    feature_names: list[str]
    target_names: list[str]
    description: str
    scaler: Standardizer | None = None

    @property
    def n_outputs(self) -> int:
        """Outputs the model's last layer needs: the number of classes, or the regression
        target's width."""
        if self.n_classes is not None:
            return self.n_classes
        y = self.train.arrays[1]
        return int(np.prod(y.shape[1:], dtype=np.int64)) if y.ndim > 1 else 1

    def __repr__(self) -> str:
        classes = f", n_classes={self.n_classes}" if self.n_classes is not None else ""
        return (
            f"Bundle({self.name!r}, task={self.task!r}, train={len(self.train)}, "
            f"val={len(self.val)}, test={len(self.test)}, n_features={self.n_features}{classes})"
        )


def _targets(y: Any, task: str) -> np.ndarray:
    arr = np.asarray(y)
    if task == "classification":
        return arr.astype(np.int64).reshape(-1)
    arr = arr.astype(np.float32)
    return arr.reshape(arr.shape[0], -1)


def build_bundle(
    name: str,
    x: Any,
    y: Any,
    *,
    task: str,
    seed: int,
    standardize: bool,
    feature_names: list[str],
    target_names: list[str],
    description: str,
    test_data: tuple[Any, Any] | None = None,
) -> Bundle:
    """Split (x, y) 70/15/15 (stratified for classification, seeded) and standardise on train.

    With ``test_data`` the data brings its own test set: 15 % of ``x`` becomes val, the rest train.
    """
    x = np.asarray(x, dtype=np.float32)
    y = _targets(y, task)
    stratify = task == "classification"
    if test_data is None:
        tr, va, te = split_indices(len(x), y, SPLIT[1], SPLIT[2], seed, stratify)
        parts = [(x[tr], y[tr]), (x[va], y[va]), (x[te], y[te])]
    else:
        tr, va, _ = split_indices(len(x), y, SPLIT[1], 0.0, seed, stratify)
        x_test = np.asarray(test_data[0], dtype=np.float32)
        parts = [(x[tr], y[tr]), (x[va], y[va]), (x_test, _targets(test_data[1], task))]
    scaler = None
    if standardize:
        scaler = Standardizer().fit(parts[0][0])
        parts = [(scaler.transform(px), py) for px, py in parts]
    train, val, test = (TensorDataset(px, py) for px, py in parts)
    n_classes = int(y.max()) + 1 if stratify else None
    if stratify and len(target_names) > n_classes:
        n_classes = len(target_names)
    return Bundle(
        name=name,
        task=task,
        train=train,
        val=val,
        test=test,
        n_classes=n_classes,
        n_features=int(np.prod(x.shape[1:])),
        feature_names=list(feature_names),
        target_names=list(target_names),
        description=description,
        scaler=scaler,
    )
