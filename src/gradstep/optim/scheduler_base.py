"""The scheduler base: LRScheduler and the argument checks every scheduler shares.

A scheduler writes lr = f(t, base_lrs) into each param group at step t; subclasses give f as
``_lr_at(t)``. Every scheduler module (lr_scheduler's parts, warmup.py) builds on this one, so none
of them imports another's helpers.
"""

from __future__ import annotations

from typing import Any

from ..plain import to_plain
from ..validate import integer, real

__all__ = ["LRScheduler", "check_interval", "check_optimizer", "per_group", "start_lrs"]

_INTERVALS = ("step", "epoch")


# -- argument checks shared by the schedulers ------------------------------------------------------


def per_group(name: str, value: Any, n: int, **bounds: Any) -> list[float]:
    """One checked float per param group from a number or a list of ``n`` numbers."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name} has {len(value)} values but the optimizer has {n} param groups; "
                "pass one number or one per group."
            )
        return [real(f"{name}[{i}]", v, **bounds) for i, v in enumerate(value)]
    return [real(name, value, **bounds)] * n


def check_optimizer(optimizer: Any) -> list[dict]:
    """The optimizer's param groups, or a TypeError if it has none a scheduler can drive."""
    groups = getattr(optimizer, "param_groups", None)
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(g, dict) and "lr" in g for g in groups)
    ):
        raise TypeError(
            f"optimizer must have param_groups (a list of dicts with an 'lr' key), got "
            f"{type(optimizer).__name__}; pass a gradstep.optim optimizer."
        )
    return groups


def check_interval(interval: Any) -> str:
    """``interval`` if it is "step" or "epoch" (when a Trainer steps the scheduler)."""
    if interval not in _INTERVALS:
        raise ValueError(f"interval must be 'step' or 'epoch', got {interval!r}.")
    return interval


def start_lrs(optimizer: Any, last_epoch: int) -> list[float]:
    """The base lrs a scheduler will take, without changing the optimizer yet."""
    groups = check_optimizer(optimizer)
    if last_epoch == -1:
        return [float(g.get("initial_lr", g["lr"])) for g in groups]
    for i, g in enumerate(groups):
        if "initial_lr" not in g:
            raise ValueError(
                f"param_groups[{i}] has no 'initial_lr', which resuming with last_epoch="
                f"{last_epoch} needs; load the optimizer's state_dict first, or pass last_epoch=-1."
            )
    return [float(g["initial_lr"]) for g in groups]


# -- base ------------------------------------------------------------------------------------------


class LRScheduler:
    """Base class: ``step()`` sets every param group's lr to lr_at(t) for the new step t.

    Subclasses implement ``_lr_at(t)``, a pure function of the step count (or, as in torch,
    ``get_lr()`` from ``self.last_epoch``), and list in ``_state_keys`` the hyperparameters that
    ``state_dict()`` saves beside the step count. The lr is written, not scaled: a hand-made change
    of ``group["lr"]`` lasts until the next ``step()``.
    """

    interval: str = "epoch"
    needs_metric = False  # True for a schedule whose step() takes the monitored value
    _state_keys: tuple[str, ...] = ()

    def __init__(self, optimizer: Any, last_epoch: int = -1, *, interval: str | None = None):
        last_epoch = integer("last_epoch", last_epoch, -1)
        self.base_lrs: list[float] = start_lrs(optimizer, last_epoch)
        if interval is not None:
            self.interval = check_interval(interval)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """torch's first-epoch convention: last_epoch -1 -> 0 (or N -> N + 1) and that lr set."""
        self._step_count = 1
        self.last_epoch += 1
        self._apply()

    # -- what a subclass provides

    def _lr_at(self, t: Any) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} must implement _lr_at(t) or get_lr().")

    def _on_apply(self, t: Any) -> None:
        """Hook run after the lrs of step ``t`` were written (OneCycleLR sets momentum here)."""

    def _check_ready(self) -> None:
        """Raise if the schedule cannot step yet (a missing total_steps)."""

    def _position(self) -> Any:
        return self.last_epoch

    # -- public API

    def lr_at(self, step: int) -> list[float]:
        """The lrs of step ``step`` (0-based), one per param group; changes nothing."""
        return [float(lr) for lr in self._lr_at(integer("step", step, 0))]

    def get_lr(self) -> list[float]:
        """The lrs of the current step, ``last_epoch``, in closed form."""
        return self._lr_at(self._position())

    def get_last_lr(self) -> list[float]:
        """The lrs that the last ``step()`` (or the construction) wrote, one float per group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance to the next step (or jump to step ``epoch``) and set its lr in the optimizer."""
        self._check_ready()
        if epoch is not None:
            epoch = integer("epoch", epoch, 0)
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._apply()

    @property
    def needs_total_steps(self) -> bool:
        """True while the schedule waits for ``set_total_steps(n)`` before it can step."""
        return False

    def set_total_steps(self, total_steps: int) -> None:
        """Give the schedule its length in steps (only schedules that take total_steps)."""
        raise TypeError(f"{type(self).__name__} has no total_steps to set.")

    def _apply(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups but this {type(self).__name__} was "
                f"built for {len(self.base_lrs)}; build the scheduler after add_param_group()."
            )
        for group, lr in zip(groups, self.get_lr()):
            group["lr"] = float(lr)
        self._last_lr = [float(g["lr"]) for g in groups]
        self._on_apply(self._position())

    def state_dict(self) -> dict[str, Any]:
        """The step count, base lrs and hyperparameters as a plain JSON-able dict."""
        state = {
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "_step_count": self._step_count,
            "_last_lr": list(self._last_lr),
        }
        for key in self._state_keys:
            state[key] = getattr(self, key)
        return to_plain(state, nonfinite="keep")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` and set the lr of the saved step in the optimizer."""
        self._load_fields(state_dict)
        self._apply()

    def _load_fields(self, state_dict: dict[str, Any]) -> None:
        if not isinstance(state_dict, dict) or "last_epoch" not in state_dict:
            raise TypeError(
                f"{type(self).__name__}.load_state_dict needs a dict from state_dict(), "
                f"got {type(state_dict).__name__}."
            )
        for key in ("last_epoch", "base_lrs", "_step_count", *self._state_keys):
            if key in state_dict:  # keys of other versions (or torch's internals) are ignored
                value = state_dict[key]
                setattr(self, key, list(value) if isinstance(value, (list, tuple)) else value)
