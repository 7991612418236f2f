"""Decision boundaries of a 2-D classifier as training proceeds: a callback predicts the class
probabilities on a grid at a few epochs (spaced geometrically: the early epochs change most),
and a picture shows each snapshot with the training points.

>>> frames = BoundaryRecorder(x_train)
>>> trainer.fit((x_train, y_train), epochs=200, callbacks=[frames])
>>> gs.viz.plot_decision_boundaries(frames, x_train, y_train, "boundary.png")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..train.callbacks import Callback
from ._figure import Target, figure, save

__all__ = [
    "BoundaryRecorder",
    "frame_epochs",
    "grid_points",
    "plot_decision_boundaries",
    "probabilities",
]


def frame_epochs(total: int, frames: int) -> list[int]:
    """Up to ``frames`` epochs from 1 to ``total``, spaced geometrically, always with both ends."""
    if total < 1 or frames < 1:
        return []
    picked = np.geomspace(1, total, num=min(frames, total)).round().astype(int)
    return sorted({1, total, *picked.tolist()})


def grid_points(bounds: Sequence[float], n: int) -> np.ndarray:
    """An ``n`` × ``n`` grid over (x0, x1, y0, y1) as (n·n, 2) rows, row-major from (x0, y0)."""
    x0, x1, y0, y1 = (float(b) for b in bounds)
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.column_stack([X.ravel(), Y.ravel()])


def probabilities(outputs: np.ndarray, rule: str = "argmax") -> np.ndarray:
    """Class probabilities from a model's outputs: softmax of logits (``argmax`` losses),
    sigmoid of one logit (``logit``: BCEWithLogits), or one probability as it is."""
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] > 1:
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    p = 1 / (1 + np.exp(-out[:, 0])) if rule == "logit" else np.clip(out[:, 0], 0, 1)
    return np.column_stack([1 - p, p])


def _bounds(x: np.ndarray, margin: float) -> list[float]:
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * margin + 1e-6
    return [lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]]


class BoundaryRecorder(Callback):
    """Snapshots of the class probabilities on a ``grid`` × ``grid`` lattice over the inputs
    ``x`` (two features) at ``epochs`` (1-based; default: ``frames`` of them spread
    geometrically over the run, and the last epoch trained)."""

    def __init__(
        self,
        x: Any,
        frames: int = 6,
        grid: int = 100,
        margin: float = 0.1,
        epochs: Sequence[int] | None = None,
    ) -> None:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(
                f"decision boundaries need inputs with 2 features, got shape {arr.shape}; use a "
                "2-D dataset (xor, moons, spirals)."
            )
        self.bounds = _bounds(arr, margin)
        self.grid = int(grid)
        self.frames = int(frames)
        self.epochs_wanted = None if epochs is None else sorted({int(e) for e in epochs})
        self.epochs: list[int] = []
        self.probs: list[np.ndarray] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        total = self.trainer.target_epochs or 1
        self._at = set(self.epochs_wanted or frame_epochs(total, self.frames))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 in self._at and epoch + 1 not in self.epochs:
            self.snapshot(epoch + 1)

    def on_train_end(self, logs: dict | None = None) -> None:
        done = self.trainer.epoch
        if done and done not in self.epochs:
            self.snapshot(done)

    def snapshot(self, epoch: int) -> None:
        """Record the probabilities the model gives now, labelled ``epoch``."""
        pts = grid_points(self.bounds, self.grid)
        with np.errstate(over="ignore", invalid="ignore"):
            p = probabilities(self.trainer.predict(pts), getattr(self.trainer, "rule", "argmax"))
        self.epochs.append(int(epoch))
        self.probs.append(p.reshape(self.grid, self.grid, -1).astype(np.float32))

    def as_arrays(self) -> dict[str, np.ndarray]:
        """epochs (F,), bounds (4,) and probs (F, grid, grid, classes): a run's boundary.npz."""
        probs = np.stack(self.probs) if self.probs else np.zeros((0, self.grid, self.grid, 0))
        return {
            "epochs": np.asarray(self.epochs, dtype=np.int64),
            "bounds": np.asarray(self.bounds, dtype=np.float64),
            "probs": probs.astype(np.float32),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "bounds": list(self.bounds),
            **({"epochs": list(self.epochs)} if self.epochs else {}),
            **({"probs": np.stack(self.probs)} if self.probs else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.bounds = list(state.get("bounds", self.bounds))
        self.epochs = [int(e) for e in state.get("epochs", [])]
        probs = state.get("probs")
        self.probs = [] if probs is None else [np.asarray(p) for p in np.asarray(probs)]


_CLASS_COLORS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _image(p: np.ndarray) -> np.ndarray:
    """RGB picture of a (G, G, C) probability grid: the likeliest class's colour, paler where
    the model is less sure (white at 1/C)."""
    c = p.shape[-1]
    cls = p.argmax(axis=-1)
    conf = (p.max(axis=-1) - 1 / c) / (1 - 1 / c) if c > 1 else np.ones(cls.shape)
    colors = np.stack([_rgb(_CLASS_COLORS[k % len(_CLASS_COLORS)]) for k in range(c)])
    strength = 0.15 + 0.5 * np.clip(conf, 0, 1)[..., None]
    return 1 - strength * (1 - colors[cls])


def plot_decision_boundaries(
    frames: Any,
    x: Any,
    y: Any,
    target: Target,
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Any:
    """Write a PNG with one panel per snapshot: the predicted class on the plane (paler where
    unsure), the boundary between classes, and the points ``x`` coloured by their class ``y``.

    ``frames``: a BoundaryRecorder, its ``as_arrays()`` (a run's boundary.npz), or a function
    from (n, 2) inputs to class probabilities (one panel of the model as it is now)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).astype(np.int64).ravel()
    if callable(frames) and not isinstance(frames, BoundaryRecorder | Mapping):
        bounds = _bounds(x, 0.1)
        pts = grid_points(bounds, 100)
        p = np.asarray(frames(pts), dtype=np.float64).reshape(100, 100, -1)
        data = {"epochs": np.asarray([0]), "bounds": np.asarray(bounds), "probs": p[None]}
        labels = ["now"]
    else:
        data = frames.as_arrays() if isinstance(frames, BoundaryRecorder) else dict(frames)
        labels = [f"epoch {int(e)}" for e in data["epochs"]]
    probs = np.asarray(data["probs"])
    if len(probs) == 0:
        raise ValueError("no decision-boundary snapshots to draw; train at least one epoch.")
    n = len(probs)
    cols = n if n <= 3 else (3 if n <= 6 else 4)
    rows = math.ceil(n / cols)
    fig, axes = figure(rows, cols, width=3.3, height=3.2)
    x0, x1, y0, y1 = (float(b) for b in data["bounds"])
    g = probs.shape[1]
    X, Y = np.meshgrid(np.linspace(x0, x1, g), np.linspace(y0, y1, g))
    for ax, p, label in zip(axes, probs, labels):
        ax.imshow(
            _image(p),
            extent=(x0, x1, y0, y1),
            origin="lower",
            aspect="auto",
            interpolation="bilinear",
        )
        c = p.shape[-1]
        cls = p.argmax(axis=-1)
        if c == 2 and p[..., 1].min() < 0.5 < p[..., 1].max():
            ax.contour(X, Y, p[..., 1], levels=[0.5], colors="k", linewidths=1.0)
        elif c > 2 and len(np.unique(cls)) > 1:
            ax.contour(X, Y, cls, levels=np.arange(c - 1) + 0.5, colors="k", linewidths=1.0)
        for k in np.unique(y):
            sel = y == k
            ax.scatter(
                x[sel, 0],
                x[sel, 1],
                s=10,
                color=_CLASS_COLORS[k % len(_CLASS_COLORS)],
                edgecolors="k",
                linewidths=0.4,
                label=str(names[k]) if names is not None and k < len(names) else str(k),
            )
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(label, fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in axes[n:]:
        ax.set_axis_off()
    handles, text = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        text,
        loc="outside lower center",
        ncol=min(len(text), 6),
        fontsize="small",
        frameon=False,
        title="class",
        title_fontsize="small",
    )
    if title:
        fig.suptitle(title, fontsize=11)
    save(fig, target)
    return fig


def predictor(trainer: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A function from (n, 2) inputs to the trainer's class probabilities."""
    return lambda pts: probabilities(trainer.predict(pts), getattr(trainer, "rule", "argmax"))
