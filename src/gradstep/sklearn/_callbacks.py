"""scikit-learn's end-of-epoch rules as Trainer callbacks.

After every epoch scikit-learn's MLP records the loss (``loss_curve_``), counts the samples seen
(``t_``), scores the validation split when ``early_stopping`` is on (keeping the best weights),
counts epochs without improvement by more than ``tol``, updates the "invscaling" learning rate,
and after more than ``n_iter_no_change`` such epochs stops — or, with ``learning_rate="adaptive"``,
divides the learning rate by 5 and goes on while it is above 1e-6. :class:`EpochRules` does that
in that order; :class:`Warmup` ramps the learning rate over the first optimizer steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..train.callbacks import Callback

__all__ = ["EpochRules", "Validation", "Warmup", "set_lr"]


def set_lr(optimizer: Any, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


@dataclass
class Validation:
    """The held-out split of ``early_stopping``: inputs, what ``score`` compares predictions with,
    the packed targets the loss reads, and the sample weights (or None)."""

    x: np.ndarray
    y: Any
    targets: np.ndarray
    weight: np.ndarray | None


class EpochRules(Callback):
    """Everything scikit-learn's MLP does between two epochs (see the module docstring), on the
    estimator's attributes so that ``partial_fit`` and ``warm_start`` carry them on."""

    def __init__(self, est: Any, n_train: int, validation: Validation | None) -> None:
        self.est = est
        self.n_train = n_train
        self.validation = validation
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        est = self.est
        loss = float((logs or {})["loss"])
        est.n_iter_ += 1
        est.loss_ = loss
        est.t_ += self.n_train
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        self._count_no_improvement(loss)
        sgd = est.solver == "sgd"
        if sgd and est.learning_rate == "invscaling":
            est._lr = float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
            set_lr(self.trainer.optimizer, est._lr)
        if est._no_improvement_count > est.n_iter_no_change:
            if sgd and est.learning_rate == "adaptive" and est._lr > 1e-6:
                est._lr /= 5.0
                set_lr(self.trainer.optimizer, est._lr)
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"{self._message()} Setting learning rate to {est._lr:f}")
            else:
                if est.verbose:
                    small = sgd and est.learning_rate == "adaptive"
                    why = " Learning rate too small." if small else ""
                    print(f"{self._message()}{why} Stopping.")
                self.stopped = True
                self.trainer.stop_training = True

    def _count_no_improvement(self, loss: float) -> None:
        est, val = self.est, self.validation
        if val is None:
            if loss > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if loss < est.best_loss_:
                est.best_loss_ = loss
            return
        p = est._network_outputs(val.x)
        score = est._score_outputs(p, val.y, val.weight)
        est.validation_scores_.append(score)
        est.validation_loss_curve_.append(float(est._loss_spec.value(val.targets, p, val.weight)))
        if est.verbose:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_state = {k: np.array(v) for k, v in est.module_.state_dict().items()}

    def _message(self) -> str:
        est = self.est
        what = "Validation score" if self.validation is not None else "Training loss"
        return (
            f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} "
            "consecutive epochs."
        )


class Warmup(Callback):
    """Linear warm-up over the first ``steps`` optimizer steps: step s (from 0) runs at
    ``lr·(s + 1)/steps``, gradstep's warm-up rule, on top of the estimator's learning rate."""

    def __init__(self, est: Any, steps: int) -> None:
        self.est, self.steps = est, steps

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        s = self.trainer.global_step
        factor = (s + 1) / self.steps if s < self.steps else 1.0
        set_lr(self.trainer.optimizer, self.est._lr * factor)
