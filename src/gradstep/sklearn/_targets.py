"""Classification and regression targets: encoding, predictions and scores, as scikit-learn's
MLPClassifier and MLPRegressor handle them.

Classes are binarised with ``LabelBinarizer``: two classes give one logistic output, more give a
softmax over one output per class, and a multilabel indicator matrix one logistic output per
label. Regression targets are one column per output; 1-D ``y`` gives 1-D predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ..validate import real
from ._base import BaseNeuralNet
from ._losses import REGRESSOR_LOSSES, LossSpec, loss_spec

__all__ = ["ClassifierNet", "RegressorNet"]


class ClassifierNet(ClassifierMixin, BaseNeuralNet):
    """Classification targets, ``predict``, ``predict_proba`` and ``class_weight``."""

    def _make_loss_spec(self) -> LossSpec:
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        return loss_spec("log_loss", "softmax" if multiclass else "logistic")

    def _encode_targets(self, y: Any, incremental: bool, first: bool) -> tuple[np.ndarray, Any]:
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return self._label_binarizer.transform(y).astype(np.float64), y

    def _with_class_weight(self, w: Any, labels: Any, incremental: bool) -> Any:
        cw = self.class_weight
        if cw is None:
            return w
        if isinstance(cw, str) and incremental:
            raise ValueError(
                "class_weight='balanced' needs the class counts of all the data, which "
                "partial_fit does not see; compute them once "
                "(sklearn.utils.class_weight.compute_class_weight) and pass a dict."
            )
        s = compute_sample_weight(cw, labels)
        return s if w is None else w * s

    def _score_targets(self, Y: np.ndarray) -> Any:
        return self._label_binarizer.inverse_transform(Y)

    def _labels(self, p: np.ndarray) -> Any:
        if self.n_outputs_ == 1:
            p = p.ravel()
        return self._label_binarizer.inverse_transform(p)

    def _score_outputs(self, p: np.ndarray, y: Any, w: Any) -> float:
        if not np.isfinite(p).all():
            return np.nan
        return float(accuracy_score(y, self._labels(p), sample_weight=w))

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each sample (for multilabel targets, an indicator matrix)."""
        return self._labels(self._network_outputs(self._checked_inputs(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` (softmax, or logistic for
        two classes and for each label of multilabel targets)."""
        p = self._network_outputs(self._checked_inputs(X))
        if self.n_outputs_ == 1:
            p = p.ravel()
        return np.vstack([1 - p, p]).T if p.ndim == 1 else p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`."""
        p = self.predict_proba(X)
        return np.log(p, out=p)

    @available_if(lambda est: est._check_solver())
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> ClassifierNet:
        """One epoch over (X, y), keeping the network and the optimizer's state between calls;
        ``classes`` (every class, also those absent from this batch) is needed on the first."""
        if getattr(self, "classes_", None) is None:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if type_of_target(y).startswith("multilabel") else classes)
            self.classes_ = unique_labels(classes)
        elif classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to partial_fit, was: "
                f"{self.classes_!r}"
            )
        return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class RegressorNet(RegressorMixin, BaseNeuralNet):
    """Regression targets, ``predict`` and the regression ``loss``."""

    def _check_loss(self) -> None:
        if self.loss not in REGRESSOR_LOSSES:
            raise ValueError(
                f"loss must be one of {', '.join(map(repr, REGRESSOR_LOSSES))}, got {self.loss!r}."
            )
        real("huber_delta", self.huber_delta, 0.0, low_open=True)

    def _make_loss_spec(self) -> LossSpec:
        return loss_spec(self.loss, "", self.huber_delta)

    def _encode_targets(self, y: Any, incremental: bool, first: bool) -> tuple[np.ndarray, Any]:
        self._check_loss()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("y must be >= 0 for loss='poisson' (counts or rates).")
        return y.reshape(len(y), -1), y

    def _score_targets(self, Y: np.ndarray) -> Any:
        return Y

    def _score_outputs(self, p: np.ndarray, y: Any, w: Any) -> float:
        if not np.isfinite(p).all():
            return np.nan
        return float(r2_score(y, p.ravel() if p.shape[1] == 1 else p, sample_weight=w))

    def predict(self, X: Any) -> np.ndarray:
        """Predictions: 1-D for a single output, (n_samples, n_outputs) otherwise."""
        p = self._network_outputs(self._checked_inputs(X))
        return p.ravel() if p.shape[1] == 1 else p

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> RegressorNet:
        """One epoch over (X, y), keeping the network and the optimizer's state between calls."""
        return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
