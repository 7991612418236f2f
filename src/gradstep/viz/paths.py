"""Optimizer paths: the library's own optimizers stepping a 2-element parameter tensor over a
test surface, recorded point by point (the data; ``plot_paths`` and ``animate_paths`` draw it).

>>> path = optimizer_path("rosenbrock", "adam", steps=1500, lr=0.05)
>>> path.points[-1]          # within 0.001 of the minimum (1, 1)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .surfaces import Surface, get_surface

__all__ = [
    "DEFAULT_LR",
    "DEFAULT_STEPS",
    "OPTIMIZERS",
    "OptimizerPath",
    "optimizer_path",
    "optimizer_paths",
    "surface_grid",
]

OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
}
"""The optimizers a path can show: the gs.optim class and its settings beyond the defaults."""

DEFAULT_LR: dict[str, dict[str, float]] = {
    "rosenbrock": {
        "sgd": 1e-3,
        "momentum": 1e-3,
        "nesterov": 1e-3,
        "adagrad": 0.5,
        "rmsprop": 0.01,
        "adam": 0.05,
    },
    "beale": {
        "sgd": 0.01,
        "momentum": 0.005,
        "nesterov": 0.005,
        "adagrad": 0.5,
        "rmsprop": 0.01,
        "adam": 0.05,
    },
    "saddle": {
        "sgd": 0.05,
        "momentum": 0.01,
        "nesterov": 0.01,
        "adagrad": 0.5,
        "rmsprop": 0.01,
        "adam": 0.05,
    },
    "quadratic": {
        "sgd": 0.09,
        "momentum": 0.02,
        "nesterov": 0.02,
        "adagrad": 1.0,
        "rmsprop": 0.05,
        "adam": 0.2,
    },
}
"""Learning rates that show each optimizer's character on each surface (not tuned to win)."""

DEFAULT_STEPS: dict[str, int] = {"rosenbrock": 1000, "beale": 500, "saddle": 200, "quadratic": 100}
"""Steps that show each surface's story: the valley's slow end, the plateau, the escape."""

_ESCAPE = 1e6  # a coordinate beyond this has diverged: the path stops there


@dataclass
class OptimizerPath:
    """The points an optimizer visited (``points[0]`` is the start), f at each of them, and the
    learning rate each step used; ``diverged`` when it left every bound."""

    label: str
    surface: str
    points: np.ndarray
    values: np.ndarray
    lrs: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)
    diverged: bool = False

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    def step_lengths(self) -> np.ndarray:
        """‖p_{t+1} − p_t‖ for every step taken."""
        return np.linalg.norm(np.diff(self.points, axis=0), axis=1)

    def distance_to(self, point: Iterable[float]) -> np.ndarray:
        """Distance of every visited point to ``point`` (e.g. the surface's minimum)."""
        return np.linalg.norm(self.points - np.asarray(list(point), dtype=np.float64), axis=1)


def _build(
    optimizer: str | Callable[[list[Any]], Any], params: list[Any], lr: float, hyper: dict
) -> tuple[Any, dict[str, Any]]:
    from .. import optim

    if callable(optimizer):
        return optimizer(params), dict(hyper)
    name = optimizer.strip().lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; use one of {', '.join(OPTIMIZERS)}.")
    cls_name, preset = OPTIMIZERS[name]
    settings = {**preset, **hyper, "lr": lr}
    return getattr(optim, cls_name)(params, **settings), settings


def optimizer_path(
    surface: str | Surface,
    optimizer: str | Callable[[list[Any]], Any] = "adam",
    steps: int = 200,
    lr: float | None = None,
    start: Iterable[float] | None = None,
    warmup_steps: int = 0,
    label: str | None = None,
    **hyper: Any,
) -> OptimizerPath:
    """Run ``optimizer`` (a name from OPTIMIZERS, or a function from a parameter list to a
    gs.optim optimizer) for ``steps`` steps on ``surface`` from ``start`` and record the path.

    ``hyper`` goes to the optimizer's constructor (momentum=0.95, betas=(0.9, 0.99), ...);
    ``warmup_steps`` > 0 wraps it in ``warmup_constant`` (lr rising linearly over those steps)."""
    from ..autograd import no_grad
    from ..nn.parameter import Parameter
    from ..optim.warmup import warmup_constant
    from ..tensor import tensor

    surf = get_surface(surface)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    name = optimizer if isinstance(optimizer, str) else getattr(optimizer, "__name__", "custom")
    if lr is None:
        lr = DEFAULT_LR.get(surf.name, {}).get(str(name).lower(), 0.01)
    if not (isinstance(lr, int | float) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    xy = list(surf.start if start is None else start)
    if len(xy) != 2:
        raise ValueError(f"start must be two numbers (x, y), got {xy!r}.")
    p = Parameter(tensor(np.asarray(xy, dtype=np.float64), dtype="float64"))
    opt, settings = _build(optimizer, [p], float(lr), hyper)
    sched = warmup_constant(opt, warmup_steps) if warmup_steps else None
    if warmup_steps:
        settings["warmup_steps"] = warmup_steps
    points = [p.data.copy()]
    values: list[float] = []
    lrs: list[float] = []
    diverged = False
    for _ in range(steps):
        opt.zero_grad()
        value = surf.f(p[0], p[1])
        value.backward()
        values.append(float(value.item()))
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if sched is not None:
            sched.step()
        points.append(p.data.copy())
        if not np.all(np.isfinite(p.data)) or np.abs(p.data).max() > _ESCAPE:
            diverged = True
            break
    with no_grad():
        last = surf.f(p[0], p[1])
    values.append(float(last.item()) if np.all(np.isfinite(p.data)) else math.inf)
    text = label or (str(name) + (" + warm-up" if warmup_steps else ""))
    return OptimizerPath(
        text,
        surf.name,
        np.asarray(points, dtype=np.float64),
        np.asarray(values, dtype=np.float64),
        np.asarray(lrs, dtype=np.float64),
        settings,
        diverged,
    )


def optimizer_paths(
    surface: str | Surface,
    optimizers: Iterable[str] = tuple(OPTIMIZERS),
    steps: int = 200,
    lrs: Mapping[str, float] | None = None,
    hyper: Mapping[str, Mapping[str, Any]] | None = None,
    warmup_steps: int = 0,
    both: bool = False,
    start: Iterable[float] | None = None,
) -> list[OptimizerPath]:
    """One path per optimizer name from the same start; ``both`` adds each one's twin with
    ``warmup_steps`` of warm-up (``warmup_steps`` alone gives every optimizer warm-up)."""
    if both and not warmup_steps:
        raise ValueError("both=True compares with and without warm-up; pass warmup_steps > 0.")
    lrs = dict(lrs or {})
    hyper = {k: dict(v) for k, v in (hyper or {}).items()}
    start = None if start is None else list(start)
    out = []
    for name in optimizers:
        variants = [warmup_steps, 0] if both else [warmup_steps]
        for w in variants:
            out.append(
                optimizer_path(
                    surface,
                    name,
                    steps=steps,
                    lr=lrs.get(name),
                    start=start,
                    warmup_steps=w,
                    **hyper.get(name, {}),
                )
            )
    return out


def surface_grid(
    surface: str | Surface, n: int = 200, xlim: tuple | None = None, ylim: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, Y, Z): the surface evaluated on an ``n`` × ``n`` grid over its view, with the same
    gradstep formula that the optimizers step on."""
    from ..autograd import no_grad
    from ..tensor import tensor

    surf = get_surface(surface)
    x0, x1 = xlim or surf.xlim
    y0, y1 = ylim or surf.ylim
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    with no_grad():
        Z = surf.f(tensor(X, dtype="float64"), tensor(Y, dtype="float64")).numpy()
    return X, Y, np.asarray(Z, dtype=np.float64)
