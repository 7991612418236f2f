"""One-call warm-up: per-batch linear warm-up, then cosine, linear or constant, in closed form.

lr at step s of the warm-up is base·(s+1)/warmup_steps (never 0); afterwards the chosen schedule
runs to ``total_steps`` (which the Trainer fills in when it is left out). lr_scheduler.py
re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..validate import integer
from .scheduler_base import LRScheduler, per_group, start_lrs
from .schedules import cosine_decay, linear_decay, linear_warmup

__all__ = ["WarmupLR", "warmup_constant", "warmup_cosine", "warmup_linear", "with_warmup"]


class WarmupLR(LRScheduler):
    """Linear warm-up then a decay, per batch. For step s (0 = the first optimizer step):
    s < warmup_steps: lr = base_lr·(s + 1)/warmup_steps (never 0); then, with u = s − warmup_steps
    and D = total_steps − warmup_steps:
    "cosine": min_lr + (base_lr − min_lr)·½(1 + cos(π·min(u, D)/D));
    "linear": min_lr + (base_lr − min_lr)·(1 − min(u, D)/D);
    "constant": base_lr;  a function f: base_lr·f(u).

    min_lr is an absolute lr. total_steps may be None at construction and given later by
    ``set_total_steps(n)`` (the Trainer does this from epochs × batches per epoch).
    """

    interval = "step"
    _state_keys = ("warmup_steps", "total_steps", "min_lrs")
    _decays = ("cosine", "linear", "constant")

    def __init__(
        self,
        optimizer: Any,
        warmup_steps: int,
        decay: str | Callable[[int], float] = "constant",
        total_steps: int | None = None,
        min_lr: float | list[float] = 0.0,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        if not callable(decay) and decay not in self._decays:
            raise ValueError(
                f"decay must be 'cosine', 'linear', 'constant' or a function of the step, "
                f"got {decay!r}."
            )
        self.decay = decay
        self.warmup_steps = integer("warmup_steps", warmup_steps, 0)
        self.total_steps: int | None = None
        if total_steps is not None:
            self.total_steps = self._checked_total(total_steps)
        bases = start_lrs(optimizer, integer("last_epoch", last_epoch, -1))
        self.min_lrs = per_group("min_lr", min_lr, len(bases), low=0.0)
        for i, (m, base) in enumerate(zip(self.min_lrs, bases)):
            if m > base:
                raise ValueError(
                    f"min_lr must be <= the base lr {base:g} of param group {i}, got {m:g}."
                )
        super().__init__(optimizer, last_epoch, interval=interval)

    def _checked_total(self, total_steps: Any) -> int:
        total = integer("total_steps", total_steps, 1)
        if total <= self.warmup_steps:
            raise ValueError(
                f"total_steps must be > warmup_steps ({self.warmup_steps}), got {total}."
            )
        return total

    @property
    def needs_total_steps(self) -> bool:
        return self.decay in ("cosine", "linear") and self.total_steps is None

    def set_total_steps(self, total_steps: int) -> None:
        self.total_steps = self._checked_total(total_steps)
        self._apply()

    def _check_ready(self) -> None:
        if self.needs_total_steps:
            raise ValueError(
                f"warmup_{self.decay} has no total_steps; pass total_steps= when you build it, or "
                "call set_total_steps(n) before stepping (the Trainer does this for you)."
            )

    def _lr_at(self, s: int) -> list[float]:
        w = self.warmup_steps
        if s < w:
            f = linear_warmup(s, w)
            return [base * f for base in self.base_lrs]
        u = s - w
        if callable(self.decay):
            f = self.decay(u)
            return [base * f for base in self.base_lrs]
        if self.decay == "constant" or self.total_steps is None:  # u = 0 here: the top of the decay
            return list(self.base_lrs)
        shape = cosine_decay if self.decay == "cosine" else linear_decay
        f = shape(u, self.total_steps - w)
        if f in (0.0, 1.0):  # the ends exactly: base_lr at the top, min_lr from total_steps on
            return list(self.base_lrs) if f else list(self.min_lrs)
        return [m + (base - m) * f for base, m in zip(self.base_lrs, self.min_lrs)]


def warmup_cosine(
    optimizer: Any,
    warmup_steps: int,
    total_steps: int | None = None,
    min_lr: float = 0.0,
    last_epoch: int = -1,
) -> WarmupLR:
    """Per-batch linear warm-up to the optimizer's lr, then cosine decay to min_lr (total_steps)."""
    return WarmupLR(optimizer, warmup_steps, "cosine", total_steps, min_lr, last_epoch)


def warmup_linear(
    optimizer: Any,
    warmup_steps: int,
    total_steps: int | None = None,
    min_lr: float = 0.0,
    last_epoch: int = -1,
) -> WarmupLR:
    """Per-batch linear warm-up to the optimizer's lr, then linear decay to min_lr (total_steps)."""
    return WarmupLR(optimizer, warmup_steps, "linear", total_steps, min_lr, last_epoch)


def warmup_constant(optimizer: Any, warmup_steps: int, last_epoch: int = -1) -> WarmupLR:
    """Per-batch linear warm-up to the optimizer's lr, which then stays."""
    return WarmupLR(optimizer, warmup_steps, "constant", last_epoch=last_epoch)


def with_warmup(
    optimizer: Any, warmup_steps: int, schedule: Callable[[int], float], last_epoch: int = -1
) -> WarmupLR:
    """Per-batch linear warm-up, then base_lr · schedule(s − warmup_steps) for any closed-form
    multiplier ``schedule`` of the post-warm-up step (e.g. ``lambda u: 0.5 ** (u // 1000)``)."""
    if not callable(schedule):
        raise TypeError(f"schedule must be a function of the step count, got {schedule!r}.")
    return WarmupLR(optimizer, warmup_steps, schedule, last_epoch=last_epoch)
