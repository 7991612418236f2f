"""Learning-rate schedulers with PyTorch's names, arguments and results, computed in closed form.

Every scheduler (except ReduceLROnPlateau, which reacts to a metric) computes the lr of step t from
t alone: lr = f(t, base_lrs). torch.optim.lr_scheduler instead multiplies the *current* lr at each
step. Both give the same numbers on an ordinary run (tests compare them to 1e-12); they differ where
the recurrence is fragile, and there this module follows the closed form:

* Resuming needs only the step count. ``load_state_dict`` writes the lr of the saved step into the
  optimizer, and a scheduler built with ``last_epoch=N`` sets the lr of step N + 1 whatever the
  optimizer's lr is (torch's StepLR resumed on a decay step decays twice; its SequentialLR resumed
  from a state_dict continues from the wrong lr unless the optimizer is loaded after it).
* A hand-made change of ``group["lr"]`` lasts until the next ``step()``, which writes
  base_lr · f(t) again; torch's chainable schedulers would keep scaling the changed value. To
  change the schedule's level for good, set ``group["initial_lr"]`` and ``scheduler.base_lrs``.
* Two schedulers stepping the same optimizer do not multiply (the last one to step wins); compose
  them with SequentialLR, with_warmup, or one LambdaLR.

Each class has ``interval``: "step" (call ``step()`` after every batch) or "epoch" (after every
epoch), so a Trainer can drive it; the per-epoch classes take ``interval="step"`` to change that.
At construction a scheduler sets ``group["initial_lr"] = group["lr"]`` (if absent) and performs
torch's initial step: ``last_epoch`` becomes 0 and the lr is that of step 0.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import types
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import schedules

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "SequentialLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "WarmupLR",
    "warmup_cosine",
    "warmup_linear",
    "warmup_constant",
    "with_warmup",
]

_INTERVALS = ("step", "epoch")


# -- argument checks: one sentence naming the argument ---------------------------------------------


def _int(name: str, value: Any, low: int) -> int:
    """``value`` as an int >= low, else TypeError (not an int) or ValueError (too small)."""
    desc = {0: "a non-negative int", 1: "a positive int"}.get(low, f"an int >= {low}")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {desc}, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be {desc}, got {value!r}.")
    return int(value)


def _real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the given range, else TypeError or ValueError."""
    if math.isinf(low) and math.isinf(high):
        desc = "a finite number"
    elif math.isinf(high):
        desc = f"a number {'>' if low_open else '>='} {low:g}"
    elif math.isinf(low):
        desc = f"a number {'<' if high_open else '<='} {high:g}"
    else:
        desc = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {desc}, got {value!r}.")
    v = float(value)
    bad_low = v <= low if low_open else v < low
    bad_high = v >= high if high_open else v > high
    if not math.isfinite(v) or bad_low or bad_high:
        raise ValueError(f"{name} must be {desc}, got {value!r}.")
    return v


def _per_group(name: str, value: Any, n: int, **bounds: Any) -> list[float]:
    """One checked float per param group from a number or a list of ``n`` numbers."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name} has {len(value)} values but the optimizer has {n} param groups; "
                "pass one number or one per group."
            )
        return [_real(f"{name}[{i}]", v, **bounds) for i, v in enumerate(value)]
    return [_real(name, value, **bounds)] * n


def _check_optimizer(optimizer: Any) -> list[dict]:
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


def _check_interval(interval: Any) -> str:
    if interval not in _INTERVALS:
        raise ValueError(f"interval must be 'step' or 'epoch', got {interval!r}.")
    return interval


def _start_lrs(optimizer: Any, last_epoch: int) -> list[float]:
    """The base lrs a scheduler will take, without changing the optimizer yet."""
    groups = _check_optimizer(optimizer)
    if last_epoch == -1:
        return [float(g.get("initial_lr", g["lr"])) for g in groups]
    for i, g in enumerate(groups):
        if "initial_lr" not in g:
            raise ValueError(
                f"param_groups[{i}] has no 'initial_lr', which resuming with last_epoch="
                f"{last_epoch} needs; load the optimizer's state_dict first, or pass last_epoch=-1."
            )
    return [float(g["initial_lr"]) for g in groups]


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists and NumPy scalars as Python numbers, for JSON."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


# -- base ------------------------------------------------------------------------------------------


class LRScheduler:
    """Base class: ``step()`` sets every param group's lr to lr_at(t) for the new step t.

    Subclasses implement ``_lr_at(t)``, a pure function of the step count (or, as in torch,
    ``get_lr()`` from ``self.last_epoch``), and list in ``_state_keys`` the hyperparameters that
    ``state_dict()`` saves beside the step count. The lr is written, not scaled: a hand-made change
    of ``group["lr"]`` lasts until the next ``step()``.
    """

    interval: str = "epoch"
    _state_keys: tuple[str, ...] = ()

    def __init__(self, optimizer: Any, last_epoch: int = -1, *, interval: str | None = None):
        last_epoch = _int("last_epoch", last_epoch, -1)
        self.base_lrs: list[float] = _start_lrs(optimizer, last_epoch)
        if interval is not None:
            self.interval = _check_interval(interval)
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
        return [float(lr) for lr in self._lr_at(_int("step", step, 0))]

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
            epoch = _int("epoch", epoch, 0)
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
        return _plain(state)

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


# -- the classic per-epoch schedules ---------------------------------------------------------------


class _LambdaState(LRScheduler):
    """state_dict for schedules of functions: plain functions are not saved (as torch); a callable
    object's attributes are, when they are JSON-able."""

    lr_lambdas: list[Callable[[int], float]]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [_callable_state(f) for f in self.lr_lambdas]
        return state

    def _load_fields(self, state_dict: dict[str, Any]) -> None:
        super()._load_fields(state_dict)
        for f, saved in zip(self.lr_lambdas, state_dict.get("lr_lambdas") or ()):
            if saved is not None:
                f.__dict__.update(saved)


class LambdaLR(_LambdaState):
    """lr(t) = base_lr · lr_lambda(t), one function or one per group; per epoch unless interval=."""

    def __init__(
        self,
        optimizer: Any,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.lr_lambdas = _lambdas("lr_lambda", lr_lambda, len(_check_optimizer(optimizer)))
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        return [base * f(t) for f, base in zip(self.lr_lambdas, self.base_lrs)]


def _lambdas(name: str, value: Any, n: int) -> list[Callable[[int], float]]:
    fns = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(fns) != n:
        raise ValueError(
            f"{name} has {len(fns)} functions but the optimizer has {n} param groups; "
            "pass one function or one per group."
        )
    for f in fns:
        if not callable(f):
            raise TypeError(f"{name} must be a function of the step count, got {f!r}.")
    return fns


_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
)


def _callable_state(f: Any) -> dict | None:
    """A callable object's attributes if JSON-able; None for functions (their code is not saved)."""
    attrs = getattr(f, "__dict__", None)
    if not attrs or isinstance(f, _FUNCTION_TYPES):
        return None
    try:
        json.dumps(attrs)
    except (TypeError, ValueError):
        return None
    return dict(attrs)


class MultiplicativeLR(_LambdaState):
    """lr(t) = base_lr · Π_{e=1..t} lr_lambda(e) (the product torch's recurrence builds); per epoch.

    The product is a function of t alone, cached for the next step and rebuilt after a jump.
    """

    def __init__(
        self,
        optimizer: Any,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
        *,
        interval: str | None = None,
    ):
        self.lr_lambdas = _lambdas("lr_lambda", lr_lambda, len(_check_optimizer(optimizer)))
        self._cache: tuple[int, list[float]] = (0, [1.0] * len(self.lr_lambdas))
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        done, prods = self._cache
        if t < done:
            done, prods = 0, [1.0] * len(self.lr_lambdas)
        prods = list(prods)
        while done < t:
            done += 1
            prods = [p * f(done) for p, f in zip(prods, self.lr_lambdas)]
        self._cache = (done, prods)
        return [base * p for base, p in zip(self.base_lrs, prods)]


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
        self.step_size = _int("step_size", step_size, 1)
        self.gamma = _real("gamma", gamma, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = schedules.step_decay(t, self.step_size, self.gamma)
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
        self.gamma = _real("gamma", gamma, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = schedules.multistep_decay(t, self.milestones, self.gamma)
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
    return sorted(_int("milestones[i]", m, 0) for m in value)


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
        self.factor = _real("factor", factor, 0.0, 1.0)
        self.total_iters = _int("total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = schedules.constant_factor(t, self.factor, self.total_iters)
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
        self.start_factor = _real("start_factor", start_factor, 0.0, 1.0, low_open=True)
        self.end_factor = _real("end_factor", end_factor, 0.0, 1.0)
        self.total_iters = _int("total_iters", total_iters, 0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = schedules.linear_factor(t, self.start_factor, self.end_factor, self.total_iters)
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
        self.gamma = _real("gamma", gamma, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = schedules.exponential_decay(t, self.gamma)
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
        self.total_iters = _int("total_iters", total_iters, 1)
        self.power = _real("power", power, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        f = schedules.polynomial_decay(t, self.total_iters, self.power)
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
        self.T_max = _int("T_max", T_max, 1)
        self.eta_min = _real("eta_min", eta_min, 0.0)
        super().__init__(optimizer, last_epoch, interval=interval)

    def _lr_at(self, t: int) -> list[float]:
        return [
            schedules.cosine_annealing(t, self.T_max, base, self.eta_min) for base in self.base_lrs
        ]


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
        self.T_0 = _int("T_0", T_0, 1)
        self.T_mult = _int("T_mult", T_mult, 1)
        self.eta_min = _real("eta_min", eta_min, 0.0)
        self._epoch: float | None = None  # a fractional epoch given to step(epoch), else None
        super().__init__(optimizer, last_epoch, interval=interval)

    def _position(self) -> Any:
        return self.last_epoch if self._epoch is None else self._epoch

    def _lr_at(self, t: float) -> list[float]:
        t_cur, t_i = schedules.warm_restarts_position(t, self.T_0, self.T_mult)
        return [
            schedules.cosine_annealing(t_cur, t_i, base, self.eta_min) for base in self.base_lrs
        ]

    def _on_apply(self, t: float) -> None:
        self.T_cur, self.T_i = schedules.warm_restarts_position(t, self.T_0, self.T_mult)

    def step(self, epoch: float | None = None) -> None:
        """Next epoch, or jump to ``epoch`` (may be fractional: epoch + batch / batches_per_epoch).

        After a fractional epoch, a plain ``step()`` goes to the next whole epoch (torch would add
        1 to the fractional T_cur).
        """
        if epoch is None:
            self._epoch = None
            super().step()
            return
        epoch = _real("epoch", epoch, 0.0)
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        self._epoch = epoch
        self._apply()


# -- composition -----------------------------------------------------------------------------------


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
        _check_optimizer(optimizer)
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
        ms = [_int(f"milestones[{i}]", m, 0) for i, m in enumerate(milestones)]
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


# -- per-batch schedules ---------------------------------------------------------------------------


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
        groups = _check_optimizer(optimizer)
        n = len(groups)
        _int("last_epoch", last_epoch, -1)  # checked before the groups are written
        if interval is not None:
            _check_interval(interval)
        if total_steps is not None:
            self.total_steps: int | None = _int("total_steps", total_steps, 1)
        elif epochs is not None or steps_per_epoch is not None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("pass total_steps, or both epochs and steps_per_epoch.")
            e = _int("epochs", epochs, 1)
            self.total_steps = e * _int("steps_per_epoch", steps_per_epoch, 1)
        else:
            self.total_steps = None  # set_total_steps(n) before the first step()
        self.pct_start = _real("pct_start", pct_start, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}.")
        self.anneal_strategy = anneal_strategy
        self.three_phase = bool(three_phase)
        self.div_factor = _real("div_factor", div_factor, 0.0, low_open=True)
        self.final_div_factor = _real("final_div_factor", final_div_factor, 0.0, low_open=True)
        self.max_lrs = _per_group("max_lr", max_lr, n, low=0.0)
        self.min_lrs = [m / self.div_factor / self.final_div_factor for m in self.max_lrs]
        self.cycle_momentum = bool(cycle_momentum)
        self.max_momentums = _per_group("max_momentum", max_momentum, n, low=0.0, high=1.0)
        self.base_momentums = _per_group("base_momentum", base_momentum, n, low=0.0, high=1.0)
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
        self.total_steps = _int("total_steps", total_steps, 1)
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
        phase, pct = schedules.one_cycle_position(
            t, schedules.one_cycle_phases(self.total_steps, self.pct_start, self.three_phase)
        )
        anneal = schedules.anneal_cos if self.anneal_strategy == "cos" else schedules.anneal_linear
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


# -- metric-driven ---------------------------------------------------------------------------------


class ReduceLROnPlateau(LRScheduler):
    """lr ← max(lr · factor, min_lr) after more than ``patience`` epochs without improving the
    metric (then ``cooldown`` epochs of rest); per epoch, ``step(metric)``.

    The one stateful schedule: its counters, best value and lrs are in state_dict(), and
    load_state_dict() also puts the saved lrs back in the optimizer (torch leaves them to the
    optimizer's own state_dict).
    """

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
        groups = _check_optimizer(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}.")
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.factor = _real("factor", factor, 0.0, 1.0, high_open=True)
        self.patience = _int("patience", patience, 0)
        self.threshold = _real("threshold", threshold, 0.0)
        self.cooldown = _int("cooldown", cooldown, 0)
        self.min_lrs = _per_group("min_lr", min_lr, len(groups), low=0.0)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else float(min_lr)
        self.eps = _real("eps", eps, 0.0)
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
        self.last_epoch = self.last_epoch + 1 if epoch is None else _int("epoch", epoch, 0)
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


from .warmup import (  # noqa: E402  (re-exported: warm-up lives in its own file)
    WarmupLR,
    warmup_constant,
    warmup_cosine,
    warmup_linear,
    with_warmup,
)
