"""Stochastic gradient descent, optionally with (Nesterov) momentum: torch.optim.SGD's maths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import get_array_module
from ..validate import boolean, real
from .blas import axpy
from .fused import Layout
from .optimizer import Optimizer, axpy_, effective_grad

_FORMS = ("torch", "textbook")
_PLAIN = Layout((), (), False)
_MOMENTUM = Layout(("momentum_buffer",), (None,), False)  # the first step writes it


def sgd_update(
    param: Any,
    grad: Any,
    buf: Any,
    scratch: Callable[[int], Any],
    *,
    first: bool,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    textbook: bool,
) -> None:
    """One SGD step on ``param`` and the momentum buffer ``buf`` in place (``buf`` unused when
    ``momentum`` is 0; ``first`` marks the buffer's first step).

    torch form: ``g = ±grad + weight_decay·param``; ``buf = g`` on the first step, then
    ``buf = momentum·buf + (1 − dampening)·g``; ``d = g + momentum·buf`` (nesterov) or ``buf``;
    ``param −= lr·d``. textbook form: the same with ``v = lr·buf`` kept instead of ``buf``
    (``v = momentum·v + (1 − dampening)·lr·g``; ``param −= v``, or ``momentum·v + lr·g`` with
    nesterov). ``scratch(k)`` gives the k-th private work array shaped like ``param``.
    """
    xp = get_array_module(param)
    g = effective_grad(xp, param, grad, scratch(0), weight_decay, maximize)
    if momentum == 0:
        axpy_(xp, -lr, g, param, scratch(1))
        return
    if textbook:
        if first:
            xp.multiply(g, lr, out=buf)
        else:
            xp.multiply(buf, momentum, out=buf)
            axpy_(xp, (1.0 - dampening) * lr, g, buf, scratch(1))
        if nesterov:
            axpy_(xp, -momentum, buf, param, scratch(1))
            axpy_(xp, -lr, g, param, scratch(1))
        else:
            xp.subtract(param, buf, out=param)
        return
    if first:
        xp.copyto(buf, g)
    else:
        xp.multiply(buf, momentum, out=buf)
        if dampening == 0:
            xp.add(buf, g, out=buf)
        else:
            axpy_(xp, 1.0 - dampening, g, buf, scratch(1))
    if nesterov:
        d = xp.multiply(buf, momentum, out=scratch(1))
        xp.add(g, d, out=d)
        axpy_(xp, -lr, d, param, d)
    else:
        axpy_(xp, -lr, buf, param, scratch(1))


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, as ``torch.optim.SGD``.

    With ``g = ∇`` (``−∇`` when ``maximize``) plus ``weight_decay·w``, each step is::

        b = g                              (first step)
        b = momentum·b + (1 − dampening)·g (later steps; b is state "momentum_buffer")
        d = g + momentum·b if nesterov else b       (d = g when momentum = 0)
        w = w − lr·d

    The optimizer texts write α for the learning rate (``lr``) and η for the momentum coefficient
    (``momentum``), with the velocity form ``v = η·v + α·g; w = w − v``. It equals the form above
    while ``lr`` is constant (``v = lr·b``) and differs when a schedule changes ``lr``: pass
    ``momentum_form="textbook"`` to keep ``v`` (lr inside the velocity) in ``momentum_buffer``.
    Keras writes ``v = momentum·v − lr·g; w = w + v``: the textbook form with the sign of ``v``
    flipped, so it gives the textbook form's numbers.

    Args:
        params: parameters, ``(name, parameter)`` pairs, or parameter-group dicts.
        lr: learning rate α (default 1e-3, as torch 2.x).
        momentum: momentum factor η (default 0: plain gradient descent).
        dampening: scales the new gradient's share in the buffer by ``1 − dampening``.
        weight_decay: L2 penalty added to the gradient (``g + weight_decay·w``).
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).
        maximize: ascend the objective instead of descending it.
        momentum_form: ``"torch"`` (default) or ``"textbook"`` (``v = η·v + α·g; w −= v``).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        momentum_form: str = "torch",
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "momentum_form": momentum_form,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        real("lr", group["lr"], 0.0, finite=False)
        real("momentum", group["momentum"], 0.0, finite=False)
        real("dampening", group["dampening"], finite=False)
        real("weight_decay", group["weight_decay"], 0.0, finite=False)
        boolean("nesterov", group["nesterov"])
        boolean("maximize", group["maximize"])
        if group["momentum_form"] not in _FORMS:
            raise ValueError(
                f"momentum_form must be 'torch' or 'textbook', got {group['momentum_form']!r}; "
                "pass one of those."
            )
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}; "
                "set them or pass nesterov=False."
            )

    def _group_hyper(self, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "lr": float(group["lr"]),
            "momentum": float(group["momentum"]),
            "dampening": float(group["dampening"]),
            "weight_decay": float(group["weight_decay"]),
            "nesterov": bool(group["nesterov"]),
            "maximize": bool(group["maximize"]),
            "textbook": group["momentum_form"] == "textbook",
        }

    def _update(self, param: Any, grad: Any, state: dict[str, Any], hyper: dict[str, Any]) -> None:
        buf = state.get("momentum_buffer")
        first = buf is None
        if first and hyper["momentum"] != 0:
            buf = get_array_module(param).empty(param.shape, dtype=param.dtype)
            state["momentum_buffer"] = buf
        self._run(sgd_update, param, grad, (buf,), {**hyper, "first": first})

    def _fused_layout(self, hyper: dict[str, Any]) -> Layout:
        return _PLAIN if hyper["momentum"] == 0 else _MOMENTUM

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
        plain = hyper["momentum"] == 0 and hyper["weight_decay"] == 0 and not hyper["maximize"]
        if plain and axpy(-hyper["lr"], grad, param):  # plain SGD: one BLAS axpy either way
            return
        buf = states.get("momentum_buffer")
        if kernels is None or plain:
            sgd_update(param, grad, buf, scratch, first=first, **hyper)
        else:
            kernels.sgd(param, grad, buf, first=first, **hyper)
