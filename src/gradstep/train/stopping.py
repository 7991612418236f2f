"""Stopping conditions: callbacks that end training when they fire, as Keras's EarlyStopping.

Each condition's ``check`` returns a short reason when it fires (shown to the user and stored in
the History); its ``on_epoch_end`` hook calls ``check`` and stops the trainer. Pass conditions in
``callbacks=`` or, as a shorthand that appends them, in ``stop=``. Their state goes through the
callbacks' ``state_dict()``, so a resumed run stops where the uninterrupted one would.

>>> trainer.fit((x, y), epochs=100, val=(xv, yv), callbacks=[EarlyStopping(patience=5)])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .callbacks import Callback, improvement_sign


class StoppingCondition(Callback):
    """Base: ``check(epoch, logs, trainer)`` returns a reason to stop, or None to go on.

    After every epoch the condition checks the epoch's logs, unless training is already stopping
    for a reason (divergence, or another condition that fired first)."""

    #: set by conditions that need the largest |t − o| over the training set in ``logs``
    needs_max_error = False

    def check(self, epoch: int, logs: dict[str, float], trainer: Any) -> str | None:
        raise NotImplementedError

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        trainer = self.trainer
        if trainer.stop_reason is not None:
            trainer.stop_training = True
            return
        reason = self.check(epoch, logs or {}, trainer)
        if reason:
            trainer.stop_reason = reason
            trainer.stop_training = True

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class MaxEpochs(StoppingCondition):
    """Stop once ``epochs`` epochs have run in total (counting earlier fits of the same trainer)."""

    def __init__(self, epochs: int) -> None:
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
        self.epochs = epochs

    def check(self, epoch: int, logs: dict[str, float], trainer: Any) -> str | None:
        if epoch + 1 >= self.epochs:
            return f"reached {self.epochs} epochs"
        return None


class TargetLoss(StoppingCondition):
    """Stop when the monitored loss (training loss by default) falls to ``target`` or below."""

    def __init__(self, target: float, monitor: str = "loss") -> None:
        if not math.isfinite(target):
            raise ValueError(f"target loss must be a finite number, got {target!r}.")
        self.target = float(target)
        self.monitor = monitor

    def check(self, epoch: int, logs: dict[str, float], trainer: Any) -> str | None:
        value = _get(logs, self.monitor)
        if value <= self.target:
            return f"{self.monitor} {value:.6g} reached the target {self.target:g}"
        return None


class MaxError(StoppingCondition):
    """The textbook's rule: stop when the largest error |t − o| over every training sample and
    output falls under ``tolerance`` (outputs are probabilities for classification losses)."""

    needs_max_error = True

    def __init__(self, tolerance: float) -> None:
        if not tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {tolerance!r}.")
        self.tolerance = float(tolerance)

    def check(self, epoch: int, logs: dict[str, float], trainer: Any) -> str | None:
        value = _get(logs, "max_error")
        if value < self.tolerance:
            return f"largest error {value:.4g} fell under the tolerance {self.tolerance:g}"
        return None


class EarlyStopping(StoppingCondition):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs;
    with ``restore_best_weights`` the model gets back the weights of the best epoch (Keras)."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        baseline: float | None = None,
    ) -> None:
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative int, got {patience!r}.")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}.")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}.")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.baseline = baseline
        self._sign = improvement_sign(monitor, mode)
        self.best: float | None = baseline
        self.best_epoch: int | None = None
        self.wait = 0
        self._best_weights: dict[str, np.ndarray] | None = None

    def check(self, epoch: int, logs: dict[str, float], trainer: Any) -> str | None:
        value = _get(logs, self.monitor)
        improved = self.best is None or self._sign * (value - self.best) < -self.min_delta
        if improved and math.isfinite(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self._best_weights = {k: v.copy() for k, v in trainer.model.state_dict().items()}
            return None
        self.wait += 1
        if self.wait > self.patience:
            if self.restore_best_weights and self._best_weights is not None:
                trainer.model.load_state_dict(self._best_weights)
                return (
                    f"{self.monitor} did not improve for {self.patience} epochs; restored the "
                    f"weights of epoch {self.best_epoch + 1} ({self.monitor} {self.best:.6g})"
                )
            return f"{self.monitor} did not improve for {self.patience} epochs"
        return None

    def state_dict(self) -> dict[str, Any]:
        """Counters, the best value and (with ``restore_best_weights``) the best weights."""
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_weights": dict(self._best_weights) if self._best_weights else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best")
        self.best_epoch = state.get("best_epoch")
        self.wait = int(state.get("wait", 0))
        weights = state.get("best_weights")
        self._best_weights = dict(weights) if weights else None


class TimeBudget(StoppingCondition):
    """Stop after ``seconds`` of training in this fit(); ``clock`` may be injected for tests."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, got {seconds!r}.")
        self.seconds = float(seconds)
        self._clock = clock
        self._start: float | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = self._clock()

    def check(self, epoch: int, logs: dict[str, float], trainer: Any) -> str | None:
        if self._start is None:
            self._start = self._clock()
        elapsed = self._clock() - self._start
        if elapsed >= self.seconds:
            return f"time budget of {self.seconds:g} s used ({elapsed:.1f} s)"
        return None


def _get(logs: dict[str, float], key: str) -> float:
    if key not in logs:
        raise KeyError(
            f"stopping condition monitors {key!r}, which is not in the epoch's logs "
            f"({', '.join(sorted(logs))}); pass validation data for 'val_' keys or monitor "
            "one of these."
        )
    return float(logs[key])


def as_conditions(stop: Any) -> list[StoppingCondition]:
    """Normalise ``stop`` (None, a condition, or a list of them) to a list."""
    if stop is None:
        return []
    if isinstance(stop, StoppingCondition):
        return [stop]
    items = list(stop)
    for s in items:
        if not isinstance(s, StoppingCondition):
            raise TypeError(
                f"stop must hold stopping conditions (gs.train.EarlyStopping, TargetLoss, ...), "
                f"got {type(s).__name__}."
            )
    return items
