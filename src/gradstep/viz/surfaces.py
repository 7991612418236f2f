"""Two-dimensional test surfaces for optimizer paths, written with gradstep's own operations so
that ``.backward()`` gives the exact gradient that the optimizers step on.

Each surface's formula takes ``x`` and ``y`` as Tensors of any (equal) shape: 0-d ones for the
point an optimizer moves, a grid for the contour plot.

>>> s = get_surface("rosenbrock")
>>> s.f(gs.tensor(1.0), gs.tensor(1.0)).item()
0.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SURFACES", "Surface", "get_surface"]


@dataclass(frozen=True)
class Surface:
    """A test function f(x, y) with the view and start point that show it well.

    ``minimum`` is the global minimiser (None where there is none to name); ``log_levels`` draws
    the contour levels on a log scale (for surfaces whose values span decades)."""

    name: str
    f: Callable[[Any, Any], Any]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minimum: tuple[float, float] | None = None
    log_levels: bool = True
    formula: str = ""
    description: str = ""


def _rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x: Any, y: Any) -> Any:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _saddle(x: Any, y: Any) -> Any:
    return x**2 - y**2 + 0.25 * y**4


def _quadratic(x: Any, y: Any) -> Any:
    return 0.5 * x**2 + 10 * y**2


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            "rosenbrock",
            _rosenbrock,
            start=(-1.5, 2.0),
            xlim=(-2.0, 2.0),
            ylim=(-1.0, 3.0),
            minimum=(1.0, 1.0),
            formula="(1 − x)² + 100·(y − x²)²",
            description="a long, narrow, curved valley; the minimum (1, 1) lies at its flat end",
        ),
        Surface(
            "beale",
            _beale,
            start=(1.0, 1.5),
            xlim=(-4.5, 4.5),
            ylim=(-4.5, 4.5),
            minimum=(3.0, 0.5),
            formula="(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            description="flat plateaus and steep walls; the minimum is (3, 0.5)",
        ),
        Surface(
            "saddle",
            _saddle,
            start=(-1.5, 1e-3),
            xlim=(-2.0, 2.0),
            ylim=(-2.0, 2.0),
            minimum=None,
            log_levels=False,
            formula="x² − y² + y⁴/4",
            description="a saddle point at the origin (x² − y²), with minima at (0, ±√2) that "
            "the y⁴/4 term adds so the escape ends somewhere",
        ),
        Surface(
            "quadratic",
            _quadratic,
            start=(-4.0, 1.5),
            xlim=(-4.5, 4.5),
            ylim=(-2.0, 2.0),
            minimum=(0.0, 0.0),
            formula="x²/2 + 10·y²",
            description="an ill-conditioned bowl: curvature 20 times larger across (y) than "
            "along (x), where plain gradient descent zig-zags",
        ),
    )
}


def get_surface(name: str | Surface) -> Surface:
    """The surface called ``name`` (rosenbrock, beale, saddle, quadratic), or ``name`` itself."""
    if isinstance(name, Surface):
        return name
    key = str(name).strip().lower()
    if key not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; use one of {', '.join(SURFACES)}.")
    return SURFACES[key]
