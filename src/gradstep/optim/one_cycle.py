"""OneCycleLR: the 1cycle policy per batch, lr up then down with momentum moving inversely."""

from __future__ import annotations

from typing import Any

from ..validate import integer, real
from .scheduler_base import LRScheduler, check_interval, check_optimizer, per_group
from .schedules import anneal_cos, anneal_linear, one_cycle_phases, one_cycle_position

__all__ = ["OneCycleLR"]


class OneCycleLR(LRScheduler):
    """1cycle, per batch: lr anneals (cos or linear) from max_lr/div_factor up to max_lr over the
    first pct_start of total_steps, then down to max_lr/(div_factor·final_div_factor); with
    three_phase, back down to max_lr/div_factor first, then to the minimum. Momentum ("momentum", or
    "betas"[0]) runs inversely between max_momentum and base_momentum when cycle_momentum.

    As torch, the lr of step total_steps is still computed and stepping past it raises. total_steps
    may be left out (with epochs and steps_per_epoch) and given later by ``set_total_steps(n)``. A
    phase of zero length (pct_start·total_steps = 1) ends at its end value (torch divides by zero).
    """

    interval = "step"
    _state_keys = (
        "total_steps",
        "pct_start",
        "anneal_strategy",
        "three_phase",
        "div_factor",
        "final_div_factor",
        "max_lrs",
        "min_lrs",
        "cycle_momentum",
        "max_momentums",
        "base_momentums",
        "_momentum_keys",
    )

    def __init__(
        self,
        optimizer: Any,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        groups = check_optimizer(optimizer)
        n = len(groups)
        integer("last_epoch", last_epoch, -1)  # checked before the groups are written
        if interval is not None:
            check_interval(interval)
        if total_steps is not None:
            self.total_steps: int | None = integer("total_steps", total_steps, 1)
        elif epochs is not None or steps_per_epoch is not None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("pass total_steps, or both epochs and steps_per_epoch.")
            e = integer("epochs", epochs, 1)
            self.total_steps = e * integer("steps_per_epoch", steps_per_epoch, 1)
        else:
            self.total_steps = None  # set_total_steps(n) before the first step()
        self.pct_start = real("pct_start", pct_start, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}.")
        self.anneal_strategy = anneal_strategy
        self.three_phase = bool(three_phase)
        self.div_factor = real("div_factor", div_factor, 0.0, low_open=True)
        self.final_div_factor = real("final_div_factor", final_div_factor, 0.0, low_open=True)
        self.max_lrs = per_group("max_lr", max_lr, n, low=0.0)
        self.min_lrs = [m / self.div_factor / self.final_div_factor for m in self.max_lrs]
        self.cycle_momentum = bool(cycle_momentum)
        self.max_momentums = per_group("max_momentum", max_momentum, n, low=0.0, high=1.0)
        self.base_momentums = per_group("base_momentum", base_momentum, n, low=0.0, high=1.0)
        self._momentum_keys: list[str | None] = [None] * n
        if self.cycle_momentum:
            self._momentum_keys = [_momentum_key(g, i) for i, g in enumerate(groups)]
        for i, group in enumerate(groups):  # torch's group keys, always derivable from arguments
            group["initial_lr"] = self.max_lrs[i] / self.div_factor
            group["max_lr"] = self.max_lrs[i]
            group["min_lr"] = self.min_lrs[i]
            if self.cycle_momentum:
                group["max_momentum"] = self.max_momentums[i]
                group["base_momentum"] = self.base_momentums[i]
        super().__init__(optimizer, last_epoch, interval=interval)

    @property
    def needs_total_steps(self) -> bool:
        return self.total_steps is None

    def set_total_steps(self, total_steps: int) -> None:
        self.total_steps = integer("total_steps", total_steps, 1)
        self._apply()

    def _check_ready(self) -> None:
        if self.total_steps is None:
            raise ValueError(
                "OneCycleLR has no total_steps; pass total_steps= (or epochs= and "
                "steps_per_epoch=), or call set_total_steps(n) before stepping."
            )

    def _cycle_at(self, t: int) -> list[tuple[float, float]]:
        """(lr, momentum) per group at step t."""
        if self.total_steps is None:
            if t != 0:
                self._check_ready()
            return list(zip(self.base_lrs, self.max_momentums))
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR was stepped to step {t} but total_steps is {self.total_steps}; "
                "build it with the run's full number of batches."
            )
        phase, pct = one_cycle_position(
            t, one_cycle_phases(self.total_steps, self.pct_start, self.three_phase)
        )
        anneal = anneal_cos if self.anneal_strategy == "cos" else anneal_linear
        out = []
        for i, initial in enumerate(self.base_lrs):
            lrs = {"initial": initial, "max": self.max_lrs[i], "min": self.min_lrs[i]}
            moms = {"max": self.max_momentums[i], "base": self.base_momentums[i]}
            out.append(
                (
                    anneal(lrs[phase[1]], lrs[phase[2]], pct),
                    anneal(moms[phase[3]], moms[phase[4]], pct),
                )
            )
        return out

    def _lr_at(self, t: int) -> list[float]:
        return [lr for lr, _ in self._cycle_at(t)]

    def _on_apply(self, t: int) -> None:
        if not self.cycle_momentum:
            return
        for group, key, (_, m) in zip(
            self.optimizer.param_groups, self._momentum_keys, self._cycle_at(t)
        ):
            if key == "betas":
                betas = (m, *group["betas"][1:])
                group["betas"] = list(betas) if isinstance(group["betas"], list) else betas
            else:
                group["momentum"] = m


def _momentum_key(group: dict, i: int) -> str:
    if "betas" in group:
        return "betas"
    if "momentum" in group:
        return "momentum"
    raise ValueError(
        f"cycle_momentum=True needs param groups with 'momentum' (SGD, RMSprop) or 'betas' (Adam, "
        f"AdamW), and param_groups[{i}] has neither; pass cycle_momentum=False."
    )
