"""The gradient-health picture, from a callback, its dict, a JSON file, or several runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.train import GradientHealth
from gradstep.viz import load_gradient_health, plot_gradient_health

from .pixels import assert_picture


def _record(act) -> GradientHealth:
    gs.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), rng.integers(0, 3, 32)
    model = nn.Sequential(nn.Linear(4, 8), act(), nn.Linear(8, 8), act(), nn.Linear(8, 3))
    health = GradientHealth(every=1)
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    trainer.fit((x, y), epochs=2, batch_size=8, callbacks=[health], verbose=0)
    return health


def test_one_record(tmp_path):
    health = _record(nn.Sigmoid)
    fig = plot_gradient_health(health, tmp_path / "g.png", title="sigmoid")
    assert_picture(tmp_path / "g.png")
    assert len(fig.axes) == 3
    # one line per layer on the time panels, x in epochs (steps / steps per epoch)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_xdata()[:2], [0.25, 0.5])


def test_several_runs_share_axes(tmp_path):
    runs = {"sigmoid": _record(nn.Sigmoid), "relu": _record(nn.ReLU)}
    fig = plot_gradient_health(runs, tmp_path / "g.png")
    assert_picture(tmp_path / "g.png")
    assert len(fig.axes) == 6
    assert fig.axes[0].get_ylim() == fig.axes[3].get_ylim()
    assert fig.axes[0].get_title().startswith("sigmoid:")


def test_from_json_file(tmp_path):
    health = _record(nn.Tanh)
    path = tmp_path / "gradient_health.json"
    path.write_text(json.dumps(health.as_dict()))
    assert load_gradient_health(path) == health.as_dict()
    plot_gradient_health(str(path), tmp_path / "g.png")
    assert_picture(tmp_path / "g.png")


def test_empty_or_wrong_records_are_errors(tmp_path):
    with pytest.raises(ValueError, match="has no steps"):
        plot_gradient_health(GradientHealth(), tmp_path / "g.png")
    with pytest.raises(TypeError, match="expected a GradientHealth callback"):
        load_gradient_health(42)
