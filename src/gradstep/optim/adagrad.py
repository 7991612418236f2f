"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import get_array_module
from ..validate import boolean, real
from .fused import Layout
from .optimizer import Optimizer, axpy_, effective_grad


def adagrad_update(
    param: Any,
    grad: Any,
    state_sum: Any,
    scratch: Callable[[int], Any],
    *,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
    eps_inside_sqrt: bool,
) -> None:
    """One Adagrad step (``step`` counts from 1) on ``param`` and ``state_sum`` in place:
    ``sum += g²; param −= clr·g/(√sum + eps)`` (``√(sum + eps)`` when ``eps_inside_sqrt``) with
    ``clr = lr/(1 + (step − 1)·lr_decay)``."""
    xp = get_array_module(param)
    g = effective_grad(xp, param, grad, scratch(0), weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    t = xp.multiply(g, g, out=scratch(1))
    xp.add(state_sum, t, out=state_sum)
    if eps_inside_sqrt:
        xp.add(state_sum, eps, out=t)
        xp.sqrt(t, out=t)
    else:
        xp.sqrt(state_sum, out=t)
        xp.add(t, eps, out=t)
    xp.divide(g, t, out=t)
    axpy_(xp, -clr, t, param, t)


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    With ``g = ∇`` (``−∇`` when ``maximize``) plus ``weight_decay·w`` and ``t`` the step count::

        G = G + g²                            (state "sum", from initial_accumulator_value)
        w = w − lr/(1 + (t − 1)·lr_decay) · g / (√G + eps)

    The optimizer texts write α for the learning rate (``lr``) and put ε inside the root,
    ``w = w − α·g/√(G + ε)`` with ε = 1e-7 and G₀ = 0: pass ``eps_inside_sqrt=True, eps=1e-7``
    for that form. Keras also puts ε (1e-7) inside the root, and starts G at 0.1
    (``initial_accumulator_value=0.1``) with lr 1e-3.

    As in torch, the state (step 0 and G) exists from construction. Each parameter group starts G
    at its own ``initial_accumulator_value`` (torch uses the constructor's value for every group).

    Args:
        params: parameters, ``(name, parameter)`` pairs, or parameter-group dicts.
        lr: learning rate α (default 1e-2).
        lr_decay: the learning rate at step t is ``lr/(1 + (t − 1)·lr_decay)``.
        weight_decay: L2 penalty added to the gradient (``g + weight_decay·w``).
        initial_accumulator_value: starting value of every entry of G.
        eps: ε added to the root (default 1e-10), or inside it with ``eps_inside_sqrt``.
        maximize: ascend the objective instead of descending it.
        eps_inside_sqrt: use ``√(G + eps)`` instead of ``√G + eps``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        eps_inside_sqrt: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
            "eps_inside_sqrt": eps_inside_sqrt,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        real("lr", group["lr"], 0.0, finite=False)
        real("lr_decay", group["lr_decay"], 0.0, finite=False)
        real("weight_decay", group["weight_decay"], 0.0, finite=False)
        real("initial_accumulator_value", group["initial_accumulator_value"], 0.0, finite=False)
        real("eps", group["eps"], 0.0, finite=False)
        boolean("maximize", group["maximize"])
        boolean("eps_inside_sqrt", group["eps_inside_sqrt"])

    def _on_group_added(self, group: dict[str, Any]) -> None:
        # torch creates Adagrad's state when the group is added, not at the first step.
        for p in group["params"]:
            self._init_state(p.data, self.state[p], group)

    @staticmethod
    def _init_state(param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        if not state:
            xp = get_array_module(param)
            state["step"] = 0
            init = float(group["initial_accumulator_value"])
            state["sum"] = xp.full(param.shape, init, dtype=param.dtype)

    def _group_hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "lr": float(group["lr"]),
            "lr_decay": float(group["lr_decay"]),
            "weight_decay": float(group["weight_decay"]),
            "eps": float(group["eps"]),
            "maximize": bool(group["maximize"]),
            "eps_inside_sqrt": bool(group["eps_inside_sqrt"]),
            "initial_accumulator_value": float(group["initial_accumulator_value"]),
        }

    def _update(self, param: Any, grad: Any, state: dict[str, Any], hyper: dict[str, Any]) -> None:
        self._init_state(param, state, hyper)
        state["step"] += 1
        kwargs = {k: v for k, v in hyper.items() if k != "initial_accumulator_value"}
        self._run(adagrad_update, param, grad, (state["sum"],), {**kwargs, "step": state["step"]})

    def _fused_layout(self, hyper: dict[str, Any]) -> Layout:
        return Layout(("sum",), (hyper["initial_accumulator_value"],), True)

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
        kwargs = {k: v for k, v in hyper.items() if k != "initial_accumulator_value"}
        if kernels is None:
            adagrad_update(param, grad, states["sum"], scratch, step=step, **kwargs)
        else:
            kernels.adagrad(param, grad, states["sum"], step=step, **kwargs)
