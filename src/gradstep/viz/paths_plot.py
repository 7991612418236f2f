"""Pictures of optimizer paths: trajectories over the surface's contours, with f along each
path beside them (PNG), or the paths growing step by step (animated GIF, Pillow's writer)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._figure import Target, figure, log_axis, require_matplotlib, save
from .paths import OptimizerPath, surface_grid
from .surfaces import Surface, get_surface

__all__ = ["animate_paths", "plot_paths"]

_COLORS = {
    "sgd": "C0",
    "momentum": "C1",
    "nesterov": "C2",
    "adagrad": "C3",
    "rmsprop": "C4",
    "adam": "C5",
}


def _styles(paths: Sequence[OptimizerPath]) -> list[tuple[str, str]]:
    """A colour per optimizer (the same on every picture), dashed for the warm-up twin."""
    out = []
    spare = iter(f"C{i}" for i in range(6, 100))
    seen: dict[str, str] = {}
    for p in paths:
        family = p.label.split(" + ")[0].split()[0].lower()
        color = _COLORS.get(family) or seen.get(family) or next(spare)
        seen[family] = color
        out.append((color, "--" if "warm-up" in p.label and len(paths) > 1 else "-"))
    return out


def _contours(ax: Any, surf: Surface, n: int = 160) -> None:
    X, Y, Z = surface_grid(surf, n)
    if surf.log_levels:
        low = max(float(Z.min()), 1e-3)
        levels = np.logspace(math.log10(low), math.log10(float(Z.max())), 24)
        levels = np.concatenate([[float(Z.min()) - 1e-9], levels[levels > Z.min()]])
        from matplotlib.colors import LogNorm

        ax.contourf(
            X, Y, np.maximum(Z, low), levels=levels, cmap="Greys_r", norm=LogNorm(), alpha=0.45
        )
        ax.contour(X, Y, np.maximum(Z, low), levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    else:
        ax.contourf(X, Y, Z, levels=24, cmap="Greys_r", alpha=0.45)
        ax.contour(X, Y, Z, levels=24, colors="k", linewidths=0.3, alpha=0.5)
    if surf.minimum is not None:
        ax.plot(
            *surf.minimum,
            marker="*",
            color="gold",
            markeredgecolor="k",
            markersize=14,
            linestyle="none",
            zorder=5,
            label="minimum",
        )
    ax.set_xlim(*surf.xlim)
    ax.set_ylim(*surf.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal", adjustable="box")


def _gap(path: OptimizerPath, surf: Surface) -> np.ndarray:
    """What the right panel shows: f − f(minimum) where the minimum is known, else f."""
    if surf.minimum is None:
        return path.values
    from ..tensor import tensor

    fmin = float(
        surf.f(
            tensor(surf.minimum[0], dtype="float64"), tensor(surf.minimum[1], dtype="float64")
        ).item()
    )
    return path.values - fmin


def plot_paths(
    paths: Sequence[OptimizerPath],
    target: Target,
    surface: str | Surface | None = None,
    title: str | None = None,
) -> Any:
    """Write a PNG: every path over the contours of its surface (start ●, end ■, minimum ★) and,
    beside it, the distance to the minimum's value, f − f*, step by step (log scale)."""
    if not paths:
        raise ValueError("no optimizer paths to draw; pass at least one.")
    surf = get_surface(surface or paths[0].surface)
    fig, (ax, ax2) = figure(1, 2, width=5.4, height=4.6)
    _contours(ax, surf)
    start = paths[0].points[0]
    ax.plot(*start, marker="o", color="k", markersize=6, linestyle="none", zorder=6, label="start")
    styles = _styles(paths)
    gaps = []
    for p, (color, dash) in zip(paths, styles):
        pts = p.points
        text = f"{p.label} (diverged at step {p.steps})" if p.diverged else p.label
        ax.plot(
            pts[:, 0], pts[:, 1], color=color, linestyle=dash, linewidth=1.4, label=text, zorder=4
        )
        ax.plot(
            *pts[-1],
            marker="s",
            color=color,
            markeredgecolor="k",
            markersize=5,
            linestyle="none",
            zorder=6,
        )
        gap = _gap(p, surf)
        gaps.append(gap)
        steps = np.arange(len(gap))
        ax2.plot(steps, gap, color=color, linestyle=dash, linewidth=1.4)
    positive = surf.minimum is not None
    if positive:
        values = [v for g in gaps for v in g if v > 0]
        floor = max(min(values, default=1e-12), 1e-12)
        for line in ax2.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            line.set_ydata(np.maximum(y, floor))
        if any(p.diverged for p in paths):  # keep the others readable: cap at 1000 × the start
            values = [min(v, 1e3 * float(gaps[0][0])) for v in values]
        log_axis(ax2, [floor, *values])
        ax2.set_ylim(floor / 2, max(values) * 2)
        ax2.set_ylabel("f − f(minimum)")
    else:
        ax2.set_ylabel("f")
    ax2.set_xlabel("step")
    ax2.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(len(labels), 5),
        fontsize="small",
        frameon=False,
    )
    fig.suptitle(title or f"{surf.name}: f = {surf.formula}")
    save(fig, target)
    return fig


def animate_paths(
    paths: Sequence[OptimizerPath],
    target: str | os.PathLike,
    surface: str | Surface | None = None,
    frames: int = 60,
    fps: int = 12,
    title: str | None = None,
) -> None:
    """Write an animated GIF (Pillow) in which every path grows over the contours, ``frames``
    pictures spread over the steps; the last one is held for a second and a half.

    The contours are drawn once and each frame only redraws the paths on top of them."""
    if not paths:
        raise ValueError("no optimizer paths to draw; pass at least one.")
    require_matplotlib("an animated GIF")
    from PIL import Image

    surf = get_surface(surface or paths[0].surface)
    fig, (ax,) = figure(1, 1, width=5.6, height=4.8)
    _contours(ax, surf)
    ax.plot(*paths[0].points[0], marker="o", color="k", markersize=6, linestyle="none")
    lines, heads = [], []
    for p, (color, dash) in zip(paths, _styles(paths)):
        (line,) = ax.plot(
            [], [], color=color, linestyle=dash, linewidth=1.4, label=p.label, animated=True
        )
        (head,) = ax.plot(
            [], [], marker="o", color=color, markeredgecolor="k", markersize=5, animated=True
        )
        lines.append(line)
        heads.append(head)
    ax.legend(fontsize="small", loc="lower left", framealpha=0.85)
    ax.set_title(title or f"{surf.name}: f = {surf.formula}", fontsize=10)
    counter = ax.text(
        0.98,
        0.97,
        "",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=9,
        animated=True,
        bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.85},
    )
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    longest = max(p.steps for p in paths)
    counts = np.unique(np.linspace(0, longest, max(2, frames)).round().astype(int))
    pictures = []
    for n in counts:
        canvas.restore_region(background)
        for p, line, head in zip(paths, lines, heads):
            pts = p.points[: int(n) + 1]
            line.set_data(pts[:, 0], pts[:, 1])
            head.set_data([pts[-1, 0]], [pts[-1, 1]])
            ax.draw_artist(line)
            ax.draw_artist(head)
        counter.set_text(f"step {int(n)}")
        ax.draw_artist(counter)
        rgb = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        pictures.append(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE))
    durations = [int(1000 / fps)] * (len(pictures) - 1) + [1500]
    pictures[0].save(
        os.fspath(target),
        save_all=True,
        append_images=pictures[1:],
        duration=durations,
        loop=0,
        format="GIF",
    )
