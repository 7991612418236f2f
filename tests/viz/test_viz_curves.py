"""Training curves: which panels a run gets, the best-epoch marker, per-step lr, readable log
ticks, legends outside the axes, and pictures that are not blank."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradstep.viz import plot_compare, plot_history, plot_runs
from gradstep.viz.curves import metric_panels

from .pixels import assert_picture

EPOCHS = 6
SPE = 5  # steps per epoch


def _classification() -> dict[str, list[float]]:
    loss = [2.0 * 0.7**e for e in range(EPOCHS)]
    return {
        "loss": loss,
        "accuracy": [0.5 + 0.08 * e for e in range(EPOCHS)],
        "val_loss": [v * 1.1 + 0.01 * e * e for e, v in enumerate(loss)],
        "val_accuracy": [0.45 + 0.08 * e for e in range(EPOCHS)],
        "lr": [0.01] * EPOCHS,
        "grad_norm": [1.0] * EPOCHS,
        "time": [0.1] * EPOCHS,
    }


def _steps() -> dict[str, list[float]]:
    n = EPOCHS * SPE
    return {
        "loss": [2.0 * 0.95**s for s in range(n)],
        "lr": [0.01 * min(1.0, (s + 1) / 8) for s in range(n)],  # warm-up over 8 steps
        "grad_norm": [1.0] * n,
    }


def test_panels_for_each_task():
    assert metric_panels(_classification()) == ["accuracy"]
    regression = {"loss": [1.0], "mse": [1.0], "mae": [0.5], "r2": [0.1], "val_mae": [0.6]}
    assert metric_panels(regression) == ["mae", "r2"]
    assert metric_panels({"loss": [1.0], "mse": [1.0], "f1": [0.3]}) == ["f1"]
    assert metric_panels({"loss": [1.0], "lr": [0.1]}) == []


def test_classification_curves_with_steps_and_best_epoch(tmp_path):
    fig = plot_history(
        _classification(),
        tmp_path / "c.png",
        title="digits · MLP · adam lr 0.01",
        steps=_steps(),
        steps_per_epoch=SPE,
        best_epoch=4,
    )
    assert_picture(tmp_path / "c.png")
    loss_ax, acc_ax, lr_ax = fig.axes[:3]
    assert [a.get_ylabel() for a in (loss_ax, acc_ax, lr_ax)] == ["loss", "accuracy", "lr"]
    # the lr panel has one point per step, at s / steps_per_epoch: the warm-up is visible
    (lr_line,) = lr_ax.get_lines()
    x, y = lr_line.get_data()
    assert len(y) == EPOCHS * SPE
    np.testing.assert_allclose(x[:3], [0.2, 0.4, 0.6])
    np.testing.assert_allclose(y[:8], [0.01 * (s + 1) / 8 for s in range(8)])
    # the best epoch: a vertical line at 4 on the loss and metric panels
    for ax in (loss_ax, acc_ax):
        verticals = [ln for ln in ax.get_lines() if np.all(np.asarray(ln.get_xdata()) == 4)]
        assert verticals, ax.get_ylabel()
    assert "best (epoch 4)" in [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert fig.get_suptitle() == "digits · MLP · adam lr 0.01"


def test_regression_curves_show_mae_and_r2_not_mse(tmp_path):
    h = {
        "loss": [600.0, 40.0, 5.0, 2.0],
        "mse": [600.0, 40.0, 5.0, 2.0],
        "mae": [20.0, 5.0, 1.5, 1.0],
        "r2": [-30.0, -0.5, 0.8, 0.95],
        "val_loss": [500.0, 30.0, 6.0, 2.5],
        "val_mae": [18.0, 4.0, 1.7, 1.1],
        "val_r2": [-25.0, -0.2, 0.75, 0.93],
        "lr": [0.01] * 4,
    }
    fig = plot_history(h, tmp_path / "r.png", best_epoch=4)
    assert_picture(tmp_path / "r.png")
    labels = [a.get_ylabel() for a in fig.axes]
    assert labels == ["loss", "mae", "R²", "lr"]
    r2_ax = fig.axes[2]
    low, high = r2_ax.get_ylim()
    assert -1.1 < low < -1 and 1 < high < 1.05  # R² below −1 cut off, with a note
    assert fig.axes[0].get_yscale() == "log"


def _labelled_ticks(ax) -> list[float]:
    ax.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    return [
        t.get_loc()
        for t in ax.yaxis.get_major_ticks()
        if lo <= t.get_loc() <= hi and t.label1.get_text()
    ]


@pytest.mark.parametrize(
    "low, high, scale",
    [(0.5, 0.9, "linear"), (0.5, 2.5, "log"), (0.02, 3.0, "log"), (1e-6, 10.0, "log")],
)
def test_loss_axis_has_enough_labelled_ticks(tmp_path, low, high, scale):
    """matplotlib's log axis labels only powers of ten: 0.5 … 2.5 would get one label. Less
    than a factor of 3 stays linear."""
    loss = list(np.geomspace(high, low, 8))
    fig = plot_history({"loss": loss}, tmp_path / "l.png")
    ax = fig.axes[0]
    assert ax.get_yscale() == scale
    ticks = _labelled_ticks(ax)
    assert 3 <= len(ticks) <= 12, ticks


def test_a_diverged_history_draws_and_shows_the_note(tmp_path):
    h = {
        "loss": [3.0, 2.0, 1e12, math.inf],
        "val_loss": [2.5, 1.9, 1e13],
        "accuracy": [0.3, 0.5, 0.1, math.nan],
        "val_accuracy": [0.35, 0.55, 0.1],
        "lr": [0.1] * 4,
    }
    steps = {"loss": [3.0, 2.5, 2.1, 1e10], "lr": [0.1] * 4, "grad_norm": [1.0] * 4}
    note = "stopped: the loss became inf at epoch 4, batch 1 (step 4)"
    fig = plot_history(h, tmp_path / "d.png", steps=steps, steps_per_epoch=1, note=note)
    assert_picture(tmp_path / "d.png")
    assert note in [t.get_text() for t in fig.axes[0].texts]


def test_lr_per_epoch_without_steps(tmp_path):
    fig = plot_history({"loss": [1.0, 0.5, 0.3], "lr": [0.1, 0.05, 0.01]}, tmp_path / "e.png")
    lr_ax = fig.axes[-1]
    assert lr_ax.get_title() == "learning rate (last step of each epoch)"
    assert_picture(tmp_path / "e.png")


def test_compare_legend_is_outside_the_axes(tmp_path):
    histories = {
        "adam + warm-up": _classification(),
        "adam": {k: [v * 1.2 for v in vs] for k, vs in _classification().items()},
        "sgd": {k: [v * 1.5 for v in vs] for k, vs in _classification().items()},
    }
    fig = plot_compare(histories, tmp_path / "cmp.png", title="loss per optimizer")
    assert_picture(tmp_path / "cmp.png")
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    fig.canvas.draw()
    box = legend.get_window_extent()
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent())
    assert [t.get_text() for t in legend.get_texts()] == list(histories)


def test_plot_runs_needs_runs(tmp_path):
    with pytest.raises(ValueError, match="no runs"):
        plot_runs([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="no 'loss' values"):
        plot_history({"accuracy": [0.5]}, tmp_path / "x.png")


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"pip install 'gradstep\[plot\]'"):
        plot_history({"loss": [1.0]}, tmp_path / "x.png")
