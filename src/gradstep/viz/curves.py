"""Training curves: loss, metrics and learning rate over epochs for one run (with every step's
loss and learning rate where the run logged them, and the best epoch marked), several runs
overlaid, and the comparison chart of ``gradstep compare``.

The x axis is in epochs everywhere: epoch k's values sit at k (the end of that epoch) and step s
of an epoch of n steps at s/n, so a warm-up of a few hundred steps shows as a ramp.

>>> gs.viz.plot_history(history.history, "curves.png", steps=history.step_history,
...                     steps_per_epoch=trainer.steps_per_epoch, best_epoch=7)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._figure import Target, figure, finite, log_axis, save
from .run_files import RunRecord, load_run

__all__ = ["metric_panels", "plot_compare", "plot_history", "plot_run", "plot_runs"]

_SKIP = {"loss", "lr", "grad_norm", "time", "max_error"}
_BOUNDED = {"accuracy", "acc", "precision", "recall", "f1", "top_k_accuracy"}


def metric_panels(history: Mapping[str, Sequence[float]]) -> list[str]:
    """The metrics worth a panel: accuracy for classification, MAE and R² for regression (MSE
    would repeat a squared-error loss), otherwise the first metric logged."""
    keys = [k for k in history if not k.startswith("val_") and k not in _SKIP and history[k]]
    chosen = [k for k in ("accuracy", "mae", "r2") if k in keys]
    if chosen:
        return chosen
    rest = [k for k in keys if k != "mse"] or keys
    return rest[:1]


def _array(values: Sequence[float] | None) -> np.ndarray:
    a = np.asarray(list(values or []), dtype=np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def _epochs(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.float64)


def _step_x(steps: Mapping[str, Sequence[float]], spe: int | None, n: int) -> np.ndarray:
    """Each step's place on the epoch axis: s / steps_per_epoch."""
    per = spe or max(n, 1)
    return np.arange(1, n + 1, dtype=np.float64) / per


def _epoch_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)


def _line(ax: Any, x: np.ndarray, y: np.ndarray, **kw: Any) -> None:
    few = np.isfinite(y).sum() <= 40
    ax.plot(x, y, marker="o" if few else None, markersize=3, **kw)


def _best(ax: Any, best_epoch: int | None, values: np.ndarray | None, label: bool) -> None:
    """A dotted line at the best epoch (the weights best.safetensors holds) and a star on the
    validation curve there."""
    if best_epoch is None:
        return
    ax.axvline(
        best_epoch,
        color="0.35",
        linestyle=":",
        linewidth=1.2,
        label=f"best (epoch {best_epoch})" if label else None,
    )
    if values is not None and 0 < best_epoch <= len(values) and np.isfinite(values[best_epoch - 1]):
        ax.plot(
            best_epoch,
            values[best_epoch - 1],
            marker="*",
            markersize=12,
            color="C1",
            markeredgecolor="k",
            zorder=5,
            linestyle="none",
        )


def _r2_limits(ax: Any, *series: np.ndarray) -> None:
    vals = [v for s in series for v in s if np.isfinite(v)]
    if not vals:
        return
    low = min(vals)
    if low < -1:
        ax.set_ylim(-1.05, 1.02)
        ax.annotate(
            "values below −1 not shown",
            (0.98, 0.03),
            xycoords="axes fraction",
            ha="right",
            fontsize=8,
            color="0.35",
        )
    else:
        ax.set_ylim(low - 0.05 * (1.02 - low), 1.02)


def _layout(n: int) -> tuple[int, int]:
    return (2, 2) if n == 4 else (1, n)


def plot_history(
    history: Mapping[str, Sequence[float]],
    target: Target,
    title: str | None = None,
    *,
    steps: Mapping[str, Sequence[float]] | None = None,
    steps_per_epoch: int | None = None,
    best_epoch: int | None = None,
    note: str | None = None,
) -> Any:
    """Write a PNG of one run: the loss (train, val, and each step's loss faintly when ``steps``
    holds it), the metrics that matter for the task, and the learning rate per step (per epoch
    without ``steps``); ``best_epoch`` (1-based) is marked, ``note`` (e.g. why the run stopped)
    is printed on the loss panel."""
    if not history.get("loss"):
        raise ValueError("history has no 'loss' values; train at least one epoch first.")
    steps = steps or {}
    metrics = metric_panels(history)
    has_lr = bool(steps.get("lr") or history.get("lr"))
    panels = ["loss", *metrics] + (["lr"] if has_lr else [])
    rows, cols = _layout(len(panels))
    fig, axes = figure(rows, cols, width=4.8, height=3.5)
    for ax, key in zip(axes, panels):
        if key == "lr":
            _lr_panel(ax, history, steps, steps_per_epoch)
            continue
        train, val = _array(history.get(key)), _array(history.get(f"val_{key}"))
        shown = [*train, *val]
        if key == "loss" and steps.get("loss"):
            s = _array(steps["loss"])
            ax.plot(
                _step_x(steps, steps_per_epoch, len(s)),
                s,
                color="C0",
                alpha=0.25,
                linewidth=0.7,
                label="train (each step)",
            )
            shown += list(s)
        _line(
            ax,
            _epochs(len(train)),
            train,
            color="C0",
            label="train (epoch mean)" if key == "loss" else "train",
        )
        if len(val):
            _line(ax, _epochs(len(val)), val, color="C1", label="val")
        _best(ax, best_epoch, val if len(val) else None, label=key == "loss")
        _epoch_ticks(ax)
        ax.set_xlim(left=0)
        ax.set_ylabel(key)
        if key == "r2":
            ax.set_ylabel("R²")
            _r2_limits(ax, train, val)
        elif key in _BOUNDED:
            top = max(finite(shown), default=1.0)
            ax.set_ylim(top=min(1.0, top) + 0.02 if top <= 1 else None)
        elif key in ("loss", "mae", "mse"):
            log_axis(ax, shown)
        ax.legend(fontsize="small")
    if note:
        axes[0].annotate(
            note,
            (0.5, 0.97),
            xycoords="axes fraction",
            ha="center",
            va="top",
            fontsize=8,
            color="C3",
            wrap=True,
            bbox={"boxstyle": "round", "fc": "white", "ec": "C3", "alpha": 0.9},
        )
    if title:
        fig.suptitle(title, fontsize=11)
    save(fig, target)
    return fig


def _lr_panel(
    ax: Any,
    history: Mapping[str, Sequence[float]],
    steps: Mapping[str, Sequence[float]],
    steps_per_epoch: int | None,
) -> None:
    if steps.get("lr"):
        lr = _array(steps["lr"])
        ax.plot(_step_x(steps, steps_per_epoch, len(lr)), lr, color="C2", linewidth=1.2)
        ax.set_title("learning rate (each step)", fontsize=9)
    else:
        lr = _array(history.get("lr"))
        ax.step(_epochs(len(lr)), lr, where="post", color="C2", linewidth=1.2)
        ax.set_title("learning rate (last step of each epoch)", fontsize=9)
    _epoch_ticks(ax)
    ax.set_xlim(left=0)
    ax.set_ylabel("lr")
    ax.set_ylim(bottom=0)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))


def plot_run(run: str | Any, target: Target | None = None, title: str | None = None) -> Any:
    """Draw a run directory's curves (default: its curves.png) from its metrics.csv, steps.csv
    and summary.json."""
    rec = run if isinstance(run, RunRecord) else load_run(run)
    stop = str(rec.summary.get("stop_reason", ""))
    note = None
    if rec.summary.get("diverged") or "became" in stop:
        note = "stopped: " + stop.split(";")[0]
    return plot_history(
        rec.history,
        target if target is not None else rec.path / "curves.png",
        title=title or rec.title(),
        steps=rec.steps,
        steps_per_epoch=rec.steps_per_epoch,
        best_epoch=rec.best_epoch,
        note=note,
    )


def _labels(runs: Sequence[RunRecord]) -> list[str]:
    """Short labels: the parts of each run's title that differ between the runs."""
    titles = [r.title().split(" · ") for r in runs]
    common = set(titles[0]).intersection(*titles[1:]) if len(titles) > 1 else set()
    out = []
    for r, parts in zip(runs, titles):
        own = [p for p in parts if p not in common]
        out.append(" · ".join(own) or r.name)
    if len(set(out)) < len(out):
        out = [f"{r.name}: {o}" for r, o in zip(runs, out)]
    return out


def plot_runs(
    runs: Sequence[str | Any] | Mapping[str, str | Any],
    target: Target,
    title: str | None = None,
) -> Any:
    """Write a PNG with several runs on shared axes: loss (train solid, val dashed), the main
    metric, and the learning rate per step; one colour per run, the legend below the axes."""
    if isinstance(runs, Mapping):
        labels = list(runs)
        recs = [r if isinstance(r, RunRecord) else load_run(r) for r in runs.values()]
    else:
        recs = [r if isinstance(r, RunRecord) else load_run(r) for r in runs]
        labels = _labels(recs) if recs else []
    if not recs:
        raise ValueError("no runs to draw; pass at least one run directory.")
    metrics = metric_panels(recs[0].history)
    metric = next((m for m in ("accuracy", "r2") if m in metrics), metrics[0] if metrics else None)
    panels = ["loss"] + ([metric] if metric else []) + ["lr"]
    fig, axes = figure(1, len(panels), width=4.8, height=3.6)
    shown: dict[str, list[float]] = {p: [] for p in panels}
    peaks: list[float] = []
    for i, (rec, label) in enumerate(zip(recs, labels)):
        color = f"C{i % 10}"
        for ax, key in zip(axes, panels):
            if key == "lr":
                if rec.steps.get("lr"):
                    lr = _array(rec.steps["lr"])
                    ax.plot(_step_x(rec.steps, rec.steps_per_epoch, len(lr)), lr, color=color)
                else:
                    lr = _array(rec.history.get("lr"))
                    ax.step(_epochs(len(lr)), lr, where="post", color=color)
                peaks.append(float(np.nanmax(lr)) if np.isfinite(lr).any() else math.nan)
                shown[key] += list(lr)
                continue
            train = _array(rec.history.get(key))
            val = _array(rec.history.get(f"val_{key}"))
            _line(ax, _epochs(len(train)), train, color=color, label=label)
            if len(val):
                _line(ax, _epochs(len(val)), val, color=color, linestyle="--")
            shown[key] += [*train, *val]
    for ax, key in zip(axes, panels):
        _epoch_ticks(ax)
        ax.set_xlim(left=0)
        ax.set_ylabel("R²" if key == "r2" else key)
        if key == "lr":
            tops = [p for p in peaks if p > 0]
            if tops and max(tops) > 10 * min(tops):  # lrs far apart: each run's on its own scale
                log_axis(ax, [v for v in shown[key] if v > 0])
            else:
                ax.set_ylim(bottom=0)
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        elif key == "r2":
            _r2_limits(ax, np.asarray(shown[key]))
        elif key not in _BOUNDED:
            log_axis(ax, shown[key])
    from matplotlib.lines import Line2D

    handles, names = axes[0].get_legend_handles_labels()
    handles += [Line2D([], [], color="0.3"), Line2D([], [], color="0.3", linestyle="--")]
    names += ["train", "val"]
    fig.legend(
        handles,
        names,
        loc="outside lower center",
        ncol=min(len(names), 4),
        fontsize="small",
        frameon=False,
    )
    if title is None and recs:
        common = set(recs[0].title().split(" · "))
        for r in recs[1:]:
            common &= set(r.title().split(" · "))
        title = " · ".join(p for p in recs[0].title().split(" · ") if p in common) or None
    if title:
        fig.suptitle(title, fontsize=11)
    save(fig, target)
    return fig


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
    target: Target,
    key: str = "loss",
    title: str | None = None,
) -> Any:
    """Write a PNG with every run's ``key`` curve (and, beside it, its ``val_`` curve when the
    runs have one) on shared axes, one colour per run, the legend below the axes."""
    if not histories:
        raise ValueError("no runs to compare; pass at least one history.")
    has_val = all(h.get(f"val_{key}") for h in histories.values())
    keys = [key, f"val_{key}"] if has_val else [key]
    fig, axes = figure(1, len(keys), width=5.6, height=3.9)
    styles = _styles(list(histories))
    for ax, k in zip(axes, keys):
        values: list[float] = []
        for label, h in histories.items():
            y = _array(h.get(k))
            color, dash = styles[label]
            _line(ax, _epochs(len(y)), y, label=label, color=color, linestyle=dash)
            values += list(y)
        _epoch_ticks(ax)
        ax.set_xlim(left=0)
        ax.set_ylabel(k)
        if not any(m in k for m in _BOUNDED | {"r2"}):
            log_axis(ax, values)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        loc="outside lower center",
        ncol=min(len(names), 4),
        fontsize="small",
        frameon=False,
    )
    if title:
        fig.suptitle(title, fontsize=11)
    save(fig, target)
    return fig
