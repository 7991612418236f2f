"""RMSprop: steps scaled by the root of a running average of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import get_array_module
from ..validate import boolean, real
from .fused import Layout
from .optimizer import Optimizer, axpy_, effective_grad, lerp_

# fused layouts by (centered, momentum > 0); every state array starts at zero
_LAYOUTS = {
    (centered, momentum): Layout(
        ("square_avg",) + ("grad_avg",) * centered + ("momentum_buffer",) * momentum,
        (0.0,) * (1 + centered + momentum),
        True,
    )
    for centered in (False, True)
    for momentum in (False, True)
}


def rmsprop_update(
    param: Any,
    grad: Any,
    square_avg: Any,
    grad_avg: Any,
    momentum_buffer: Any,
    scratch: Callable[[int], Any],
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
    eps_inside_sqrt: bool,
) -> None:
    """One RMSprop step on ``param`` and its state arrays in place (``grad_avg`` is used when
    ``centered``, ``momentum_buffer`` when ``momentum > 0``; pass None otherwise)."""
    xp = get_array_module(param)
    g = effective_grad(xp, param, grad, scratch(0), weight_decay, maximize)
    t = scratch(1)
    xp.multiply(square_avg, alpha, out=square_avg)
    xp.multiply(g, g, out=t)
    axpy_(xp, 1.0 - alpha, t, square_avg, t)
    if centered:
        lerp_(xp, grad_avg, g, 1.0 - alpha, scratch(2))
        xp.multiply(grad_avg, grad_avg, out=t)
        xp.subtract(square_avg, t, out=t)
        radicand = t
    else:
        radicand = square_avg
    if eps_inside_sqrt:
        xp.add(radicand, eps, out=t)
        xp.sqrt(t, out=t)
    else:
        xp.sqrt(radicand, out=t)
        xp.add(t, eps, out=t)
    xp.divide(g, t, out=t)
    if momentum > 0:
        xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
        xp.add(momentum_buffer, t, out=momentum_buffer)
        axpy_(xp, -lr, momentum_buffer, param, t)
    else:
        axpy_(xp, -lr, t, param, t)


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    With ``g = ∇`` (``−∇`` when ``maximize``) plus ``weight_decay·w``::

        S = alpha·S + (1 − alpha)·g²          (state "square_avg")
        c = S − ḡ², ḡ = alpha·ḡ + (1 − alpha)·g  when centered (ḡ is state "grad_avg"), else c = S
        u = g / (√c + eps)
        b = momentum·b + u; w = w − lr·b      when momentum > 0 (b is state "momentum_buffer")
        w = w − lr·u                          otherwise

    The optimizer texts write α for the learning rate (``lr``) and η for the decay (``alpha``
    here): ``S = η·S + (1 − η)·g²; w = w − α·g/√(S + ε)`` with η = 0.9 and ε = 1e-7 inside the
    root. For that form pass ``alpha=0.9, eps=1e-7, eps_inside_sqrt=True``; torch's defaults are
    ``alpha=0.99, eps=1e-8`` with ε outside the root. Keras uses ρ = 0.9 and ε = 1e-7 inside the
    root, with lr 1e-3, and with momentum it keeps lr inside the velocity
    (``v = momentum·v + lr·u; w −= v``), which differs from torch's form when lr changes.

    Args:
        params: parameters, ``(name, parameter)`` pairs, or parameter-group dicts.
        lr: learning rate α (default 1e-2).
        alpha: decay η of the squared-gradient average (default 0.99).
        eps: ε added to the root (default 1e-8), or inside it with ``eps_inside_sqrt``.
        weight_decay: L2 penalty added to the gradient (``g + weight_decay·w``).
        momentum: momentum factor applied to the scaled step (default 0).
        centered: divide by the root of the estimated variance ``S − ḡ²`` instead of ``S``.
        maximize: ascend the objective instead of descending it.
        eps_inside_sqrt: use ``√(c + eps)`` instead of ``√c + eps``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
        eps_inside_sqrt: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "eps_inside_sqrt": eps_inside_sqrt,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        real("lr", group["lr"], 0.0, finite=False)
        real("eps", group["eps"], 0.0, finite=False)
        real("momentum", group["momentum"], 0.0, finite=False)
        real("weight_decay", group["weight_decay"], 0.0, finite=False)
        real("alpha", group["alpha"], 0.0, finite=False)
        boolean("centered", group["centered"])
        boolean("maximize", group["maximize"])
        boolean("eps_inside_sqrt", group["eps_inside_sqrt"])

    def _group_hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "lr": float(group["lr"]),
            "alpha": float(group["alpha"]),
            "eps": float(group["eps"]),
            "weight_decay": float(group["weight_decay"]),
            "momentum": float(group["momentum"]),
            "centered": bool(group["centered"]),
            "maximize": bool(group["maximize"]),
            "eps_inside_sqrt": bool(group["eps_inside_sqrt"]),
        }

    def _update(self, param: Any, grad: Any, state: dict[str, Any], hyper: dict[str, Any]) -> None:
        xp = get_array_module(param)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros(param.shape, dtype=param.dtype)
        if hyper["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros(param.shape, dtype=param.dtype)
        if hyper["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros(param.shape, dtype=param.dtype)
        state["step"] += 1
        states = (state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer"))
        self._run(rmsprop_update, param, grad, states, hyper)

    def _fused_layout(self, hyper: dict[str, Any]) -> Layout:
        return _LAYOUTS[hyper["centered"], hyper["momentum"] > 0]

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
        arrays = (states["square_avg"], states.get("grad_avg"), states.get("momentum_buffer"))
        if kernels is None:
            rmsprop_update(param, grad, *arrays, scratch, **hyper)
        else:
            kernels.rmsprop(param, grad, *arrays, **hyper)
