"""Training curves (loss, metric and learning rate per epoch, train and val) and the comparison
chart that puts several runs' loss curves on one set of axes."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["plot_compare", "plot_history"]

_SKIP = {"loss", "lr", "grad_norm", "time", "max_error"}


def _figure(n_panels: int, width: float = 5.0, height: float = 3.6) -> tuple[Any, list[Any]]:
    """A figure with ``n_panels`` axes side by side, drawn by the Agg canvas (no GUI, no pyplot
    state shared with the caller)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "drawing curves needs matplotlib; install it with pip install 'gradstep[plot]'"
        ) from err
    fig = Figure(figsize=(width * n_panels, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, n_panels, i + 1) for i in range(n_panels)]
    return fig, axes


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _epochs(values: Sequence[float]) -> list[int]:
    return list(range(1, len(values) + 1))


def plot_history(
    history: Mapping[str, Sequence[float]], path: str | os.PathLike, title: str | None = None
) -> None:
    """Write a PNG with the loss (train and val), the first metric (train and val) and the
    learning rate per epoch, from a History's ``history`` dict."""
    if not history.get("loss"):
        raise ValueError("history has no 'loss' values; train at least one epoch first.")
    metric = next((k for k in history if not k.startswith("val_") and k not in _SKIP), None)
    panels = ["loss"] + ([metric] if metric else []) + (["lr"] if history.get("lr") else [])
    fig, axes = _figure(len(panels))
    for ax, key in zip(axes, panels):
        ax.plot(_epochs(history[key]), history[key], label="train" if key != "lr" else "lr")
        val = history.get(f"val_{key}")
        if val:
            ax.plot(_epochs(val), val, label="val")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.set_ylabel(key)
        if key == "loss" and all(v > 0 for v in history[key]):
            ax.set_yscale("log")
        if key == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        else:
            ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.savefig(os.fspath(path), dpi=100)


def _styles(labels: list[str]) -> dict[str, tuple[str, str]]:
    """One colour per run family (the label before " + "), a different line style for each
    variant of a family (e.g. "adam + warm-up" solid, "adam" dashed)."""
    families: dict[str, list[str]] = {}
    for label in labels:
        families.setdefault(label.split(" + ")[0], []).append(label)
    dashes = ["-", "--", ":", "-."]
    out = {}
    for i, members in enumerate(families.values()):
        for j, label in enumerate(members):
            out[label] = (f"C{i % 10}", dashes[j % len(dashes)])
    return out


def plot_compare(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | os.PathLike,
    key: str = "loss",
    title: str | None = None,
) -> None:
    """Write a PNG with every run's ``key`` curve (and, beside it, its ``val_`` curve when the
    runs have one) on shared axes, one colour per run."""
    if not histories:
        raise ValueError("no runs to compare; pass at least one history.")
    has_val = all(h.get(f"val_{key}") for h in histories.values())
    fig, axes = _figure(2 if has_val else 1, width=6.0, height=4.2)
    keys = [key, f"val_{key}"] if has_val else [key]
    styles = _styles(list(histories))
    for ax, k in zip(axes, keys):
        for label, h in histories.items():
            values = h.get(k) or []
            color, dash = styles[label]
            ax.plot(_epochs(values), values, label=label, color=color, linestyle=dash)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.set_ylabel(k)
        if all(v > 0 for h in histories.values() for v in (h.get(k) or [])):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.savefig(os.fspath(path), dpi=100)
