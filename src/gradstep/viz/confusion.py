"""The confusion-matrix picture: rows are the true classes, columns the predicted ones (the
orientation of ``gs.train.confusion_matrix`` and scikit-learn), shaded by the share of each true
class, with the counts written in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._figure import Target, figure, save

__all__ = ["plot_confusion_matrix"]


def plot_confusion_matrix(
    cm: Any,
    target: Target,
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Any:
    """Write a PNG of the confusion matrix ``cm`` (counts C[i, j] of class i predicted as j):
    cells shaded by the row's share, counts (and shares) written in when the matrix is small."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"a confusion matrix must be square (classes × classes), got {cm.shape}.")
    n = cm.shape[0]
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=np.float64), where=rows > 0)
    side = min(2.2 + 0.42 * n, 9.0)
    fig, (ax,) = figure(1, 1, width=side + 1.2, height=side)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    labels = [str(names[i]) if names is not None and i < len(names) else str(i) for i in range(n)]
    labels = [s if len(s) <= 12 else s[:11] + "…" for s in labels]
    ticks = np.arange(n)
    ax.set_xticks(
        ticks,
        labels,
        rotation=45 if max(map(len, labels)) > 3 else 0,
        ha="right" if max(map(len, labels)) > 3 else "center",
        fontsize=8,
    )
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 15:
        for i in range(n):
            for j in range(n):
                if cm[i, j] == 0 and i != j:
                    continue
                text = f"{int(cm[i, j])}" if n > 6 else f"{int(cm[i, j])}\n{share[i, j]:.0%}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8 if n > 6 else 9,
                    color="white" if share[i, j] > 0.55 else "black",
                )
    total = int(cm.sum())
    acc = float(np.trace(cm)) / total if total else 0.0
    ax.set_title(title or f"confusion matrix · {total} samples · accuracy {acc:.1%}", fontsize=10)
    save(fig, target)
    return fig
