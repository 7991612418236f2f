"""ReduceLROnPlateau: the metric-driven schedule, which lowers the lr when progress stalls."""

from __future__ import annotations

import math
from typing import Any

from ..validate import integer, real, unit_interval
from .scheduler_base import LRScheduler, check_optimizer, per_group

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """lr ← max(lr · factor, min_lr) after more than ``patience`` epochs without improving the
    metric (then ``cooldown`` epochs of rest); per epoch, ``step(metric)``.

    The one stateful schedule: its counters, best value and lrs are in state_dict(), and
    load_state_dict() also puts the saved lrs back in the optimizer (torch leaves them to the
    optimizer's own state_dict). ``needs_metric`` tells a Trainer to pass it the epoch's
    ``monitor`` value (val_loss when logged, else loss, unless ``monitor`` is set).
    """

    needs_metric = True
    monitor: str | None = None

    _state_keys = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lrs",
        "default_min_lr",
        "eps",
        "best",
        "num_bad_epochs",
        "cooldown_counter",
    )

    def __init__(
        self,
        optimizer: Any,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ):
        groups = check_optimizer(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}.")
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.factor = unit_interval("factor", factor)
        self.patience = integer("patience", patience, 0)
        self.threshold = real("threshold", threshold, 0.0)
        self.cooldown = integer("cooldown", cooldown, 0)
        self.min_lrs = per_group("min_lr", min_lr, len(groups), low=0.0)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else float(min_lr)
        self.eps = real("eps", eps, 0.0)
        self.optimizer = optimizer
        self.last_epoch = 0
        self._step_count = 0
        self.base_lrs = [float(g["lr"]) for g in groups]
        self._last_lr = list(self.base_lrs)
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    @property
    def mode_worse(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether ``a`` beats ``best`` by more than the threshold (relative or absolute)."""
        if self.mode == "min":
            bar = (
                best * (1.0 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return a < bar
        bar = (
            best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        )
        return a > bar

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record this epoch's metric (e.g. validation loss) and reduce the lr if it plateaued."""
        current = _metric(metrics)
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else integer("epoch", epoch, 0)
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(
                    f"the optimizer has {len(groups)} param groups but min_lr has "
                    f"{len(self.min_lrs)} values; set scheduler.min_lrs to one per group."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def _lr_at(self, t: Any) -> list[float]:
        raise TypeError("ReduceLROnPlateau's lr depends on the metrics it is given, not on a step.")

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        if math.isinf(state["best"]):
            state["best"] = None  # no best yet; JSON has no infinity
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._load_fields(state_dict)
        if self.best is None:
            self.best = self.mode_worse
        saved = state_dict.get("_last_lr")
        if saved is not None:
            groups = self.optimizer.param_groups
            if len(saved) != len(groups):
                raise ValueError(
                    f"the state_dict holds {len(saved)} lrs but the optimizer has {len(groups)} "
                    "param groups; load it into the optimizer it was saved from."
                )
            for group, lr in zip(groups, saved):
                group["lr"] = float(lr)
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]


def _metric(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        item = getattr(value, "item", None)
        if item is not None:
            return float(item())
        raise TypeError(
            f"ReduceLROnPlateau.step needs the metric as a number, got {type(value).__name__}."
        ) from None
