"""What every picture shares: matplotlib imported lazily (the ``plot`` extra), a figure drawn by
the Agg canvas (no GUI, no pyplot state shared with the caller), readable log axes, saving to a
path or an open binary file."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable
from typing import Any

Target = str | os.PathLike | io.IOBase


def require_matplotlib(what: str = "drawing pictures") -> None:
    """Raise ImportError with the install command when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"{what} needs matplotlib; install it with pip install 'gradstep[plot]'"
        ) from err


def figure(
    nrows: int = 1, ncols: int = 1, width: float = 5.0, height: float = 3.6, **kw: Any
) -> tuple[Any, list[Any]]:
    """A constrained-layout figure of ``nrows`` × ``ncols`` axes, each ``width`` × ``height``
    inches, and its axes as a flat list (row by row)."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, [ax for row in axes for ax in row]


def save(fig: Any, target: Target, dpi: int = 100, **kw: Any) -> None:
    """Write ``fig`` as PNG (or GIF/SVG by the file's suffix) to a path or a binary file."""
    if isinstance(target, str | os.PathLike):
        fig.savefig(os.fspath(target), dpi=dpi, **kw)
    else:
        fig.savefig(target, format=kw.pop("format", "png"), dpi=dpi, **kw)


def finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def log_axis(ax: Any, values: Iterable[float], axis: str = "y") -> bool:
    """Put ``axis`` on a log scale when every finite value is positive and they span more than a
    factor of 3, with ticks labelled at
    1, 2, 5 × 10ᵏ (or 1, 3 × 10ᵏ) when the values span few decades: matplotlib labels only the
    powers of ten, which leaves a short range with one label or none. Returns whether the axis
    became logarithmic."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    vals = finite(values)
    if not vals or min(vals) <= 0:
        return False
    decades = math.log10(max(vals)) - math.log10(min(vals))
    if decades < 0.5:  # less than a factor of 3: a log scale shows nothing a linear one does not
        return False
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target = ax.yaxis if axis == "y" else ax.xaxis
    if decades < 1.2:
        subs: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
    elif decades < 2.5:
        subs = (1.0, 2.0, 5.0)
    elif decades < 4.5:
        subs = (1.0, 3.0)
    else:
        subs = (1.0,)
    target.set_major_locator(LogLocator(base=10, subs=subs, numticks=8))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: _short(v)))
    target.set_minor_formatter(NullFormatter())
    return True


def _short(v: float) -> str:
    """A tick label: 0.05, 2, 300, 1e-05, 2e+04."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e+")
