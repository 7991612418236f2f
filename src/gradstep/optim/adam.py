"""Adam and AdamW: bias-corrected running averages of the gradient and of its square."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import get_array_module
from ..validate import boolean, real, unit_interval
from .fused import Layout
from .optimizer import Optimizer, axpy_, effective_grad, lerp_

_LAYOUT = Layout(("exp_avg", "exp_avg_sq"), (0.0, 0.0), True)
_AMSGRAD_LAYOUT = Layout(("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), (0.0, 0.0, 0.0), True)


def adam_update(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    scratch: Callable[[int], Any],
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    """One Adam step (``step`` counts from 1) on ``param`` and its state arrays in place, in
    torch's order of operations (``max_exp_avg_sq`` is used only when ``amsgrad``)."""
    xp = get_array_module(param)
    if decoupled_weight_decay:
        if weight_decay != 0:
            xp.multiply(param, 1.0 - lr * weight_decay, out=param)
        g = effective_grad(xp, param, grad, scratch(0), 0.0, maximize)
    else:
        g = effective_grad(xp, param, grad, scratch(0), weight_decay, maximize)
    t = scratch(1)
    lerp_(xp, exp_avg, g, 1.0 - beta1, t)
    xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    xp.multiply(g, g, out=t)
    axpy_(xp, 1.0 - beta2, t, exp_avg_sq, t)

    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    step_size = lr / bias_correction1
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        xp.sqrt(max_exp_avg_sq, out=t)
    else:
        xp.sqrt(exp_avg_sq, out=t)
    xp.divide(t, bias_correction2_sqrt, out=t)
    xp.add(t, eps, out=t)
    xp.divide(exp_avg, t, out=t)
    axpy_(xp, -step_size, t, param, t)


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``.

    With ``g = ∇`` (``−∇`` when ``maximize``) plus ``weight_decay·w`` (or, with
    ``decoupled_weight_decay``, ``w = w·(1 − lr·weight_decay)`` first, as AdamW) and ``t`` the
    step count::

        m = β1·m + (1 − β1)·g                 (state "exp_avg", β1, β2 = betas)
        v = β2·v + (1 − β2)·g²                (state "exp_avg_sq")
        v̂ = max(v̂, v) if amsgrad else v       (state "max_exp_avg_sq")
        w = w − lr/(1 − β1ᵗ) · m / (√v̂/√(1 − β2ᵗ) + eps)

    This is the textbook's ``w = w − α·m̂/(√v̂ + ε)`` with bias-corrected ``m̂ = m/(1 − β1ᵗ)``,
    ``v̂ = v/(1 − β2ᵗ)`` and α the learning rate (``lr``), ε (``eps``) added to the corrected
    root. Keras adds ε (1e-7 by default) to the uncorrected ``√v`` instead, which weighs ε about
    31 times more at the first step with β2 = 0.999.

    Args:
        params: parameters, ``(name, parameter)`` pairs, or parameter-group dicts.
        lr: learning rate α (default 1e-3).
        betas: (β1, β2), decays of the two running averages, each in [0, 1).
        eps: ε added to the root for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: divide by the running maximum of the second moment (AMSGrad).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: shrink the weights directly instead (AdamW's form).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, list) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        real("lr", group["lr"], 0.0, finite=False)
        real("eps", group["eps"], 0.0, finite=False)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(
                f"betas must be a pair (beta1, beta2), got {betas!r}; pass (0.9, 0.999)."
            )
        unit_interval("betas[0]", betas[0])
        unit_interval("betas[1]", betas[1])
        real("weight_decay", group["weight_decay"], 0.0, finite=False)
        boolean("amsgrad", group["amsgrad"])
        boolean("maximize", group["maximize"])
        boolean("decoupled_weight_decay", group["decoupled_weight_decay"])

    def _group_hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        beta1, beta2 = group["betas"]
        return {
            "lr": float(group["lr"]),
            "beta1": float(beta1),
            "beta2": float(beta2),
            "eps": float(group["eps"]),
            "weight_decay": float(group["weight_decay"]),
            "amsgrad": bool(group["amsgrad"]),
            "maximize": bool(group["maximize"]),
            "decoupled_weight_decay": bool(group["decoupled_weight_decay"]),
        }

    def _update(self, param: Any, grad: Any, state: dict[str, Any], hyper: dict[str, Any]) -> None:
        xp = get_array_module(param)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros(param.shape, dtype=param.dtype)
            state["exp_avg_sq"] = xp.zeros(param.shape, dtype=param.dtype)
        if hyper["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros(param.shape, dtype=param.dtype)
        state["step"] += 1
        states = (state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"))
        self._run(adam_update, param, grad, states, {**hyper, "step": state["step"]})

    def _fused_layout(self, hyper: dict[str, Any]) -> Layout:
        return _AMSGRAD_LAYOUT if hyper["amsgrad"] else _LAYOUT

    def _fused_update(
        self,
        param: Any,
        grad: Any,
        states: dict[str, Any],
        scratch: Callable[[int], Any],
        step: int,
        first: bool,
        hyper: dict[str, Any],
        kernels: Any,
    ) -> None:
        arrays = (states["exp_avg"], states["exp_avg_sq"], states.get("max_exp_avg_sq"))
        if kernels is None:
            adam_update(param, grad, *arrays, scratch, step=step, **hyper)
        else:
            kernels.adam(param, grad, *arrays, step=step, **hyper)


class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    Each step first shrinks the weights, ``w = w·(1 − lr·weight_decay)``, then takes the plain Adam
    step (see :class:`Adam`; the decay never enters m or v). Keras's AdamW applies the same update
    (``w −= lr·wd·w``) with a default decay of 0.004; here the default is torch's 1e-2.

    Args:
        params: parameters, ``(name, parameter)`` pairs, or parameter-group dicts.
        lr: learning rate α (default 1e-3).
        betas: (β1, β2), decays of the two running averages, each in [0, 1).
        eps: ε added to the root for numerical stability (default 1e-8).
        weight_decay: decoupled decay rate (default 1e-2).
        amsgrad: divide by the running maximum of the second moment (AMSGrad).
        maximize: ascend the objective instead of descending it.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def _group_hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        hyper = super()._group_hyper(group)
        hyper["decoupled_weight_decay"] = True
        return hyper
