"""The gradient-health picture: per-layer gradient norms and update ratios over training (from
``gs.train.GradientHealth``), and the median gradient norm layer by layer — where vanishing
gradients show as norms that shrink by orders of magnitude towards the input."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._figure import Target, figure, log_axis, save

__all__ = ["load_gradient_health", "plot_gradient_health"]

HEALTHY_RATIO = 1e-3
"""A common rule of thumb: updates around a thousandth of the weights' size per step."""


def load_gradient_health(source: Any) -> dict[str, Any]:
    """A gradient-health record as a plain dict, from a GradientHealth callback, its
    ``as_dict()``, or a gradient_health.json file."""
    if hasattr(source, "as_dict"):
        return source.as_dict()
    if isinstance(source, str | os.PathLike):
        with open(source) as f:
            return json.load(f)
    if isinstance(source, Mapping) and "grad_norm" in source:
        return dict(source)
    raise TypeError(
        f"expected a GradientHealth callback, its as_dict() or a gradient_health.json path, got "
        f"{type(source).__name__}."
    )


def _is_one(records: Any) -> bool:
    return (
        hasattr(records, "as_dict")
        or isinstance(records, str | os.PathLike)
        or (isinstance(records, Mapping) and "grad_norm" in records)
    )


def _positive(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)


def plot_gradient_health(records: Any, target: Target, title: str | None = None) -> Any:
    """Write a PNG: for one record (or each of a {label: record} mapping, one row per run, on
    shared axes so that magnitudes compare) the gradient norm of every layer over training,
    the update ratio ‖Δw‖/‖w‖ with the 1e-3 rule of thumb, and the median gradient norm by
    layer (1 = the input side)."""
    runs = {"": records} if _is_one(records) else dict(records)
    if not runs:
        raise ValueError("no gradient-health records to draw; pass at least one.")
    data = {label: load_gradient_health(r) for label, r in runs.items()}
    for label, d in data.items():
        if not d.get("steps"):
            raise ValueError(
                f"the gradient-health record {label or ''} has no steps; train at least one "
                "step with the GradientHealth callback first."
            )
    fig, axes = figure(len(data), 3, width=4.6, height=3.4)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    all_g, all_r = [], []
    for d in data.values():
        for v in d["grad_norm"].values():
            all_g.extend(_positive(v)[np.isfinite(_positive(v))])
        for v in d["update_ratio"].values():
            all_r.extend(_positive(v)[np.isfinite(_positive(v))])
    for row, (label, d) in enumerate(data.items()):
        ax_g, ax_r, ax_l = axes[3 * row : 3 * row + 3]
        names = list(d["grad_norm"])
        colors = [cmap(i / max(len(names) - 1, 1) * 0.9) for i in range(len(names))]
        spe = d.get("steps_per_epoch")
        steps = np.asarray(d["steps"], dtype=np.float64)
        x = steps / spe if spe else steps
        medians = []
        for name, color in zip(names, colors):
            g = _positive(d["grad_norm"][name])
            r = _positive(d["update_ratio"][name])
            ax_g.plot(x[: len(g)], g, color=color, linewidth=1.0)
            ax_r.plot(x[: len(r)], r, color=color, linewidth=1.0)
            medians.append(np.nanmedian(g) if np.isfinite(g).any() else np.nan)
        ax_r.axhline(HEALTHY_RATIO, color="0.4", linestyle="--", linewidth=0.8)
        ax_r.annotate(
            "1e-3",
            (1.0, HEALTHY_RATIO),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.3",
        )
        depth = np.arange(1, len(names) + 1)
        ax_l.bar(depth, np.nan_to_num(medians, nan=0.0), color=colors, edgecolor="k", linewidth=0.5)
        ax_l.set_xticks(depth)
        if len(names) > 12:
            ax_l.set_xticks(depth[:: max(1, len(names) // 10)])
        prefix = f"{label}: " if label else ""
        ax_g.set_title(f"{prefix}gradient norm ‖∂E/∂W‖", fontsize=10)
        ax_r.set_title(f"{prefix}update ratio ‖ΔW‖ / ‖W‖", fontsize=10)
        ax_l.set_title(f"{prefix}median gradient norm by layer", fontsize=10)
        from matplotlib.ticker import MaxNLocator

        for ax in (ax_g, ax_r):
            ax.set_xlabel("epoch" if spe else "step")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        ax_l.set_xlabel("layer (1 = input side)")
        ax_l.grid(alpha=0.3, axis="y")
        if all_g:
            log_axis(ax_g, all_g)
            ax_g.set_ylim(min(all_g) / 2, max(all_g) * 2)
            log_axis(ax_l, all_g)
            ax_l.set_ylim(min(all_g) / 2, max(all_g) * 2)
        if all_r:
            log_axis(ax_r, [*all_r, HEALTHY_RATIO])
            ax_r.set_ylim(min(*all_r, HEALTHY_RATIO) / 2, max(*all_r, HEALTHY_RATIO) * 2)
    layers = next(iter(data.values())).get("layers", {})
    if layers and len(layers) <= 12:
        key = _layer_key([t or n for n, t in layers.items()])
        fig.supxlabel("layers: " + key, fontsize=8, color="0.3")
    if title:
        fig.suptitle(title)
    save(fig, target)
    return fig


def _layer_key(texts: list[str]) -> str:
    """ "1: Linear(64→32) · 2–8: Linear(32→32) · 9: Linear(32→10)": runs of equal layers joined."""
    parts, i = [], 0
    while i < len(texts):
        j = i
        while j + 1 < len(texts) and texts[j + 1] == texts[i]:
            j += 1
        span = f"{i + 1}" if i == j else f"{i + 1}–{j + 1}"
        parts.append(f"{span}: {texts[i]}")
        i = j + 1
    return " · ".join(parts)
