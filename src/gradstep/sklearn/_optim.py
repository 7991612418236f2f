"""The estimators' optimizers: scikit-learn's "sgd" and "adam", or any gradstep optimizer, each
updating the whole network in one pass over a flat parameter buffer.

scikit-learn's SGD keeps the learning rate inside the velocity (``v = μ·v − lr·g``), which is
gradstep's ``SGD(momentum_form="textbook")``. Its Adam adds ε to the uncorrected √v and folds
both bias corrections into the step, ``w −= lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + ε)``, which differs
from PyTorch's Adam (ε added to the corrected root): :class:`SklearnAdam` is that form.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import optim
from ..nn.flat import flatten_parameters
from ..optim import kernels
from ..optim.fused import KernelUnavailable
from ..optim.optimizer import Optimizer
from ..optim.registry import OPTIMIZERS
from ..validate import real, unit_interval

__all__ = ["STOCHASTIC_SOLVERS", "FlatParameter", "SklearnAdam", "make_optimizer", "trainable"]

STOCHASTIC_SOLVERS = ("sgd", "adam")


def sklearn_adam_update(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    work: Any,
    update: Any,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    """One step of scikit-learn's Adam in place, in its order of operations (``step`` from 1);
    ``work`` and ``update`` are scratch arrays shaped like ``param``."""
    exp_avg *= beta1
    np.multiply(grad, 1 - beta1, out=work)
    exp_avg += work
    exp_avg_sq *= beta2
    np.multiply(grad, grad, out=work)
    work *= 1 - beta2
    exp_avg_sq += work
    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
    np.multiply(exp_avg, -step_size, out=update)
    np.sqrt(exp_avg_sq, out=work)
    work += eps
    update /= work
    param += update


class SklearnAdam(Optimizer):
    r"""Adam as scikit-learn's MLP computes it (state names as torch's Adam)::

        m = β1·m + (1 − β1)·g            (state "exp_avg"; β1, β2 = betas)
        v = β2·v + (1 − β2)·g²           (state "exp_avg_sq")
        w = w − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + eps)

    The textbook's α is ``lr``; ε (``eps``) sits outside the bias correction of v, as in
    scikit-learn and Keras. ``gs.optim.Adam`` is PyTorch's form.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    def _validate_group(self, group: dict[str, Any]) -> None:
        real("lr", group["lr"], 0.0, finite=False)
        real("eps", group["eps"], 0.0, finite=False)
        beta1, beta2 = group["betas"]
        unit_interval("betas[0]", beta1)
        unit_interval("betas[1]", beta2)

    def _update(self, param: Any, grad: Any, state: dict[str, Any], hyper: Any) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = hyper["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        kw = {
            "step": state["step"],
            "lr": float(hyper["lr"]),
            "beta1": float(beta1),
            "beta2": float(beta2),
            "eps": float(hyper["eps"]),
        }
        wanted = (  # the flat parameter: one pass with numba (the NumPy form's numbers)
            kernels.kernel_choice() == "numba"
            and type(param) is np.ndarray
            and param.dtype.char in "fd"
            and param.ndim == 1
            and all(a.flags.c_contiguous for a in (param, grad, m, v))
            and grad.dtype == param.dtype
        )
        compiled = kernels.numba_kernels() if wanted else None
        if compiled is not None:
            try:
                compiled.sklearn_adam(param, grad, m, v, **kw)
                return
            except KernelUnavailable as exc:  # raised before any array changed
                kernels.kernels_failed(exc)
                wanted = False
        work = (self._scratch_like(param, 0), self._scratch_like(param, 1))
        update = functools.partial(sklearn_adam_update, param, grad, m, v, *work, **kw)
        if wanted:  # numba waits to load: its time counts towards the load
            kernels.stand_in(update, param.size)
        else:
            update()


class FlatParameter:
    """All trainable parameters of a network as one parameter for the optimizer: ``data`` and
    ``grad`` are the flat buffers that every parameter (and its gradient) is a view into.

    Setting ``grad`` to None (``optimizer.zero_grad()``) clears every parameter's gradient and
    zeroes the flat gradient, so a parameter that gets no gradient in a step is not updated with
    an old one.
    """

    requires_grad = True

    def __init__(self, params: list[Any]) -> None:
        flat = flatten_parameters(params)  # keeps buffers the parameters already tile
        self.params = params
        self.data, self._grad = flat.params, flat.grads

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            raise ValueError("a FlatParameter's gradient is its flat buffer; only None clears it.")
        for p in self.params:
            p.grad = None
        self._grad.fill(0)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape


def trainable(module: Any) -> list[Any]:
    """The parameters the optimizer updates (those with ``requires_grad``)."""
    return [p for p in module.parameters() if p.requires_grad]


def make_optimizer(
    solver: Any,
    params: list[Any],
    *,
    learning_rate_init: float,
    momentum: float,
    nesterovs_momentum: bool,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    extra: Mapping[str, Any],
) -> Optimizer:
    """The optimizer ``solver`` names, over ``params`` (usually one FlatParameter).

    "sgd" and "adam" are scikit-learn's, from its hyperparameters; another name is a gradstep
    optimizer from its table (``gradstep train --help`` lists them), a class is called as
    ``solver(params, lr=learning_rate_init, **extra)``. ``extra`` holds the estimator's
    ``optimizer__<name>`` parameters.
    """
    lr = learning_rate_init
    if solver == "sgd":
        return optim.SGD(
            params,
            lr=lr,
            momentum=momentum,
            nesterov=bool(nesterovs_momentum) and momentum > 0,
            momentum_form="textbook",
            **extra,
        )
    if solver == "adam":
        return SklearnAdam(params, lr=lr, betas=(beta_1, beta_2), eps=epsilon, **extra)
    if isinstance(solver, str):
        entry = OPTIMIZERS[solver]
        table = {k: d.value for k, d in entry.cli_defaults.items() if k != "lr"}
        return entry.factory(params, lr=lr, **{**table, **extra})
    return solver(params, lr=lr, **extra)
