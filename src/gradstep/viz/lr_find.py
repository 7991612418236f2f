"""The learning-rate range test's picture: loss against lr on a log axis, raw and smoothed, with
the suggested lrs marked (they are heuristics, and the legend says so)."""

from __future__ import annotations

from typing import Any

from ._figure import Target, figure, finite, save


def plot_lr_find(result: Any, path: Target | None = None) -> Any:
    """Draw an ``LRFindResult``; saves a PNG at ``path`` when given and returns the figure.

    >>> plot_lr_find(trainer.lr_find((x, y)), "lr_find.png")
    """
    fig, (ax,) = figure(width=6.0, height=3.8)
    lrs, raw, smooth = result.lrs, result.losses, result.smoothed
    n = min(len(lrs), len(smooth))
    ax.plot(lrs[:n], raw[:n], color="0.75", lw=1, label="loss per step")
    ax.plot(lrs[:n], smooth[:n], color="C0", lw=2, label="smoothed loss")
    ax.set_xscale("log")
    ok = finite(smooth[:n])
    if ok:  # keep the blow-up at the end from flattening the interesting part
        low = min(finite([*ok, *raw[:n]]))
        high = min(max(ok), 4 * min(ok) if min(ok) > 0 else max(ok))
        pad = 0.05 * (high - low or 1.0)
        ax.set_ylim(low - pad, high + pad)
    for (name, lr), color in zip(result.suggestions.items(), ("C3", "C2")):
        ax.axvline(lr, color=color, ls="--", lw=1.2, label=f"{name}: {lr:.2g} (heuristic)")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title(f"learning-rate range test — {result.stopped_by}", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    if path is not None:
        save(fig, path)
    return fig
