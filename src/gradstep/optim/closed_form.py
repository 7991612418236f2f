"""The fixed-formula schedules: lr(t) = base_lr · f(t) with f from ``schedules`` (StepLR, ...).

Each class checks its arguments, names the hyperparameters ``state_dict()`` saves, and maps the
step to a multiplier; the formulas themselves are the pure functions in ``schedules.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..validate import integer, real
from .scheduler_base import LRScheduler
from .schedules import (
    constant_factor,
    cosine_annealing,
    exponential_decay,
    linear_factor,
    multistep_decay,
    polynomial_decay,
    step_decay,
    warm_restarts_position,
)

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "PolynomialLR",
    "StepLR",
]


class StepLR(LRScheduler):
    """lr(t) = base_lr · gamma^⌊t / step_size⌋; steps per epoch unless interval="step"."""

    _state_keys = ("step_size", "gamma")

    def __init__(
        self,
        optimizer: Any,
        step_size: int,
        gamma: float = 0.1,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.step_size = integer("step_size", step_size, 1)
        self.gamma = real("gamma", gamma, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = step_decay(t, self.step_size, self.gamma)
        return [base * f for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr(t) = base_lr · gamma^(number of milestones <= t); per epoch unless interval="step"."""

    _state_keys = ("milestones", "gamma")

    def __init__(
        self,
        optimizer: Any,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.milestones = _milestones(milestones)
        self.gamma = real("gamma", gamma, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = multistep_decay(t, self.milestones, self.gamma)
        return [base * f for base in self.base_lrs]

    def _load_fields(self, state_dict: dict[str, Any]) -> None:
        super()._load_fields(state_dict)
        self.milestones = _milestones(self.milestones)


def _milestones(value: Any) -> list[int]:
    """Sorted milestones; a mapping (torch saves a Counter) counts each key that many times."""
    if isinstance(value, dict):
        value = [int(k) for k, n in value.items() for _ in range(n)]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"milestones must be a list of non-negative ints, got {value!r}.")
    return sorted(integer("milestones[i]", m, 0) for m in value)


class ConstantLR(LRScheduler):
    """lr(t) = base_lr · factor for t < total_iters, then base_lr; per epoch unless interval=."""

    _state_keys = ("factor", "total_iters")

    def __init__(
        self,
        optimizer: Any,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.factor = real("factor", factor, 0.0, 1.0)
        self.total_iters = integer("total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = constant_factor(t, self.factor, self.total_iters)
        return [base * f for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr(t) = base_lr · (start + (end − start)·min(t, total_iters)/total_iters), with start and end
    the start_factor and end_factor; per epoch unless interval="step".

    total_iters=0 gives end_factor at once (torch's recurrence would keep start_factor forever, and
    ConstantLR's factor).
    """

    _state_keys = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.start_factor = real("start_factor", start_factor, 0.0, 1.0, low_open=True)
        self.end_factor = real("end_factor", end_factor, 0.0, 1.0)
        self.total_iters = integer("total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = linear_factor(t, self.start_factor, self.end_factor, self.total_iters)
        return [base * f for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr(t) = base_lr · gamma^t; steps per epoch unless interval="step"."""

    _state_keys = ("gamma",)

    def __init__(
        self,
        optimizer: Any,
        gamma: float,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.gamma = real("gamma", gamma, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = exponential_decay(t, self.gamma)
        return [base * f for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr(t) = base_lr · (1 − min(t, total_iters)/total_iters)^power; per epoch unless interval=."""

    _state_keys = ("total_iters", "power")

    def __init__(
        self,
        optimizer: Any,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.total_iters = integer("total_iters", total_iters, 1)
        self.power = real("power", power, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = polynomial_decay(t, self.total_iters, self.power)
        return [base * f for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr(t) = eta_min + (base_lr − eta_min)·½(1 + cos(π·t/T_max)); per epoch unless interval=.

    Past T_max the cosine continues (it rises again after t = T_max), as torch's does.
    """

    _state_keys = ("T_max", "eta_min")

    def __init__(
        self,
        optimizer: Any,
        T_max: int,
        eta_min: float = 0.0,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.T_max = integer("T_max", T_max, 1)
        self.eta_min = real("eta_min", eta_min, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        return [cosine_annealing(t, self.T_max, base, self.eta_min) for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: lr = eta_min + (base_lr − eta_min)·½(1 + cos(π·T_cur/T_i)), restarting to base_lr
    after periods T_0, T_0·T_mult, T_0·T_mult², ...; per epoch, and ``step(epoch)`` takes a
    fractional epoch to update per batch.

    T_cur and T_i follow from the epoch in closed form, so resuming with last_epoch=N is exact for
    any T_mult (torch's constructor wraps T_cur only once).
    """

    _state_keys = ("T_0", "T_mult", "eta_min", "_epoch")

    def __init__(
        self,
        optimizer: Any,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.T_0 = integer("T_0", T_0, 1)
        self.T_mult = integer("T_mult", T_mult, 1)
        self.eta_min = real("eta_min", eta_min, 0.0)
        self._epoch: float | None = None  # a fractional epoch given to step(epoch), else None
        super().__init__(optimizer, last_epoch, interval=interval)

    def _position(self) -> Any:
        return self.last_epoch if self._epoch is None else self._epoch

    def _lr_at(self, t: float) -> list[float]:
        t_cur, t_i = warm_restarts_position(t, self.T_0, self.T_mult)
        return [cosine_annealing(t_cur, t_i, base, self.eta_min) for base in self.base_lrs]

    def _on_apply(self, t: float) -> None:
        self.T_cur, self.T_i = warm_restarts_position(t, self.T_0, self.T_mult)

    def step(self, epoch: float | None = None) -> None:
        """Next epoch, or jump to ``epoch`` (may be fractional: epoch + batch / batches_per_epoch).

        After a fractional epoch, a plain ``step()`` goes to the next whole epoch (torch would add
        1 to the fractional T_cur).
        """
        if epoch is None:
            self._epoch = None
            super().step()
            return
        epoch = real("epoch", epoch, 0.0)
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        self._epoch = epoch
        self._apply()
