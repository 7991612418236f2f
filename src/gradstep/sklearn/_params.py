"""Checks of the estimators' parameters at fit time (the constructor only stores them), each
failing with one sentence that names the parameter and what it takes."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..optim.optimizer import Optimizer
from ..optim.registry import OPTIMIZERS
from ..validate import boolean, integer, real

__all__ = ["check_activation", "check_common", "check_dropout", "solver_names"]

LEARNING_RATES = ("constant", "invscaling", "adaptive")


def solver_names() -> list[str]:
    """Every name ``solver`` takes: scikit-learn's three, then gradstep's other optimizers."""
    return ["lbfgs", "sgd", "adam", *[n for n in OPTIMIZERS if n not in ("sgd", "adam")]]


def _check_solver(solver: Any) -> None:
    if isinstance(solver, str):
        if solver not in solver_names():
            raise ValueError(
                f"solver must be one of {', '.join(map(repr, solver_names()))} or a gradstep "
                f"optimizer class, got {solver!r}."
            )
    elif not (isinstance(solver, type) and issubclass(solver, Optimizer)):
        raise TypeError(
            f"solver must be a name such as 'adam' or a gradstep optimizer class "
            f"(gs.optim.RMSprop), got {solver!r}."
        )


def check_activation(name: str, value: Any) -> None:
    from ._network import ACTIVATIONS

    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, ACTIVATIONS))} (or a list with one per "
            f"hidden layer), got {value!r}."
        )


def check_dropout(name: str, value: Any) -> None:
    real(name, value, 0.0, 1.0, high_open=True)


def _check_class_weight(value: Any) -> None:
    if value is None or value == "balanced" or isinstance(value, dict):
        return
    raise ValueError(
        f"class_weight must be None, 'balanced' or a dict {{class: weight}}, got {value!r}."
    )


def check_common(est: Any) -> None:
    """Check the parameters every estimator has (and ``class_weight``, ``warmup``, ``dropout``
    where it has them); raise TypeError / ValueError naming the first bad one."""
    _check_solver(est.solver)
    real("alpha", est.alpha, 0.0)
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        integer("batch_size", est.batch_size, 1)
    if est.learning_rate not in LEARNING_RATES:
        raise ValueError(
            f"learning_rate must be one of {', '.join(map(repr, LEARNING_RATES))}, got "
            f"{est.learning_rate!r}."
        )
    real("learning_rate_init", est.learning_rate_init, 0.0, low_open=True)
    real("power_t", est.power_t, 0.0)
    integer("max_iter", est.max_iter, 1)
    for flag in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
        boolean(flag, getattr(est, flag))
    real("tol", est.tol, 0.0)
    real("momentum", est.momentum, 0.0, 1.0)
    real("validation_fraction", est.validation_fraction, 0.0, 1.0, high_open=True)
    real("beta_1", est.beta_1, 0.0, 1.0, high_open=True)
    real("beta_2", est.beta_2, 0.0, 1.0, high_open=True)
    real("epsilon", est.epsilon, 0.0, low_open=True)
    n = est.n_iter_no_change
    if not (isinstance(n, numbers.Real) and n == math.inf):
        integer("n_iter_no_change", n, 1)
    integer("max_fun", est.max_fun, 1)
    integer("warmup", est.warmup, 0)
    if hasattr(est, "class_weight"):
        _check_class_weight(est.class_weight)
    if est.solver == "lbfgs" and _has_dropout(getattr(est, "dropout", 0.0)):
        raise ValueError(
            "dropout makes the loss random, which L-BFGS cannot minimise; use solver='adam' or "
            "'sgd', or dropout=0."
        )


def _has_dropout(dropout: Any) -> bool:
    values = dropout if isinstance(dropout, list | tuple) else [dropout]
    return any(isinstance(v, numbers.Real) and v > 0 for v in values)
