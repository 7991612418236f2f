"""Schedules of user functions: LambdaLR (lr = base_lr · f(t)) and MultiplicativeLR (a product).

A plain function's code is never saved; a callable object's JSON-able attributes are, in
``state_dict()["lr_lambdas"]``, as torch saves them.
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Callable, Sequence
from typing import Any

from .scheduler_base import LRScheduler, check_optimizer

__all__ = ["LambdaLR", "MultiplicativeLR"]


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
        self.lr_lambdas = _lambdas("lr_lambda", lr_lambda, len(check_optimizer(optimizer)))
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
        self.lr_lambdas = _lambdas("lr_lambda", lr_lambda, len(check_optimizer(optimizer)))
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
