"""SequentialLR: step-count schedules one after another, each restarted at its milestone."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ..validate import integer
from .plateau import ReduceLROnPlateau
from .scheduler_base import LRScheduler, check_optimizer

__all__ = ["SequentialLR"]


class SequentialLR(LRScheduler):
    """schedulers[i] runs from milestones[i−1] on, restarted at its own step 0:
    lr(t) = schedulers[i].lr_at(t − milestones[i−1]) with i = number of milestones <= t.

    Steps per batch or per epoch as its schedulers do (they must agree). Differences from torch,
    both from its recurrence: resumed from a state_dict it continues exactly (torch continues from
    the wrong lr unless the optimizer is loaded after it), and a milestone at 0 starts with the
    second schedule (torch up to 2.12 started with the first one's lr and then stepped the second
    one from there, pytorch#185872).
    """

    def __init__(
        self,
        optimizer: Any,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ):
        check_optimizer(optimizer)
        if not isinstance(schedulers, (list, tuple)) or not schedulers:
            raise ValueError("schedulers must be a non-empty list of schedulers.")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    f"schedulers[{i}] is a ReduceLROnPlateau, which needs a metric to step; "
                    "SequentialLR takes step-count schedules only."
                )
            if not isinstance(s, LRScheduler):
                raise TypeError(f"schedulers[{i}] must be an LRScheduler, got {type(s).__name__}.")
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"schedulers[{i}] drives another optimizer; build every scheduler on the "
                    "optimizer given to SequentialLR."
                )
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
            raise TypeError(f"milestones must be a list of non-negative ints, got {milestones!r}.")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones must have one entry fewer than schedulers ({len(schedulers) - 1}), "
                f"got {len(milestones)}."
            )
        ms = [integer(f"milestones[{i}]", m, 0) for i, m in enumerate(milestones)]
        if ms != sorted(ms):
            raise ValueError(f"milestones must be non-decreasing, got {list(milestones)!r}.")
        intervals = {s.interval for s in schedulers}
        if len(intervals) > 1:
            kinds = ", ".join(f"{type(s).__name__}: {s.interval!r}" for s in schedulers)
            raise ValueError(
                f"SequentialLR's schedulers must all step per 'step' or all per 'epoch', got "
                f"{kinds}; pass the same interval= to each of them."
            )
        self._schedulers = list(schedulers)
        self._milestones = ms
        super().__init__(optimizer, last_epoch, interval=intervals.pop())

    def _locate(self, t: int) -> tuple[LRScheduler, int]:
        idx = bisect_right(self._milestones, t)
        return self._schedulers[idx], t - (self._milestones[idx - 1] if idx else 0)

    def _lr_at(self, t: int) -> list[float]:
        child, local = self._locate(t)
        return child._lr_at(local)

    def _on_apply(self, t: int) -> None:
        child, local = self._locate(t)
        child.last_epoch = local
        child._last_lr = list(self._last_lr)
        child._on_apply(local)

    def _check_ready(self) -> None:
        for s in self._schedulers:
            s._check_ready()

    @property
    def needs_total_steps(self) -> bool:
        return any(s.needs_total_steps for s in self._schedulers)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["_milestones"] = list(self._milestones)
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _load_fields(self, state_dict: dict[str, Any]) -> None:
        super()._load_fields(state_dict)
        saved = state_dict.get("_schedulers", [])
        if len(saved) != len(self._schedulers):
            raise ValueError(
                f"the state_dict holds {len(saved)} schedulers but this SequentialLR has "
                f"{len(self._schedulers)}; build it as the saved one was built."
            )
        for s, sd in zip(self._schedulers, saved):
            s._load_fields(sd)
        if "_milestones" in state_dict:
            self._milestones = [int(m) for m in state_dict["_milestones"]]
