"""Decision boundaries: which epochs are recorded, the probabilities on the grid (against the
softmax and sigmoid by hand), saving and restoring the snapshots, and the picture."""

from __future__ import annotations

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.viz import BoundaryRecorder, plot_decision_boundaries
from gradstep.viz.boundary import frame_epochs, grid_points, probabilities

from .pixels import assert_picture


def test_frame_epochs():
    assert frame_epochs(200, 6) == [1, 3, 8, 24, 69, 200]
    assert frame_epochs(3, 6) == [1, 2, 3]
    assert frame_epochs(1, 6) == [1]
    assert frame_epochs(0, 6) == []


def test_grid_points_cover_the_bounds_row_major():
    pts = grid_points([0, 2, -1, 1], 3)
    np.testing.assert_array_equal(pts[:4], [[0, -1], [1, -1], [2, -1], [0, 0]])
    assert pts.shape == (9, 2)


def test_probabilities_by_hand():
    logits = np.array([[0.0, np.log(3.0)], [2.0, 2.0]])
    np.testing.assert_allclose(probabilities(logits), [[0.25, 0.75], [0.5, 0.5]])
    one = np.array([[0.0], [np.log(4.0)]])
    np.testing.assert_allclose(probabilities(one, "logit"), [[0.5, 0.5], [0.2, 0.8]])
    np.testing.assert_allclose(probabilities(np.array([0.3]), "probability"), [[0.7, 0.3]])


def _moons(n=60):
    rng = np.random.default_rng(0)
    t = rng.uniform(0, np.pi, n)
    y = rng.integers(0, 2, n)
    x = np.column_stack([np.cos(t) + y, np.sin(t) * (1 - 2 * y) + 0.5 * y])
    return x + 0.1 * rng.normal(size=x.shape), y


def _train(frames, epochs=8):
    gs.manual_seed(0)
    x, y = _moons()
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05))
    trainer.fit((x, y), epochs=epochs, batch_size=16, callbacks=[frames], verbose=0)
    return trainer, x, y


def test_recorder_snapshots_are_the_models_probabilities():
    x, _ = _moons()
    frames = BoundaryRecorder(x, frames=4, grid=20)
    trainer, x, y = _train(frames, epochs=8)
    assert frames.epochs == [1, 2, 4, 8]
    arrays = frames.as_arrays()
    assert arrays["probs"].shape == (4, 20, 20, 2)
    pts = grid_points(frames.bounds, 20)
    out = trainer.predict(pts)
    e = np.exp(out - out.max(axis=1, keepdims=True))
    expect = (e / e.sum(axis=1, keepdims=True)).reshape(20, 20, 2)
    np.testing.assert_allclose(arrays["probs"][-1], expect, rtol=1e-5, atol=1e-6)
    lo, hi = x.min(axis=0), x.max(axis=0)
    assert frames.bounds[0] < lo[0] and frames.bounds[1] > hi[0]


def test_recorder_state_round_trip():
    x, _ = _moons()
    frames = BoundaryRecorder(x, frames=3, grid=10)
    _train(frames, epochs=3)
    copy = BoundaryRecorder(x, grid=10)
    copy.load_state_dict(frames.state_dict())
    assert copy.epochs == frames.epochs
    np.testing.assert_array_equal(copy.as_arrays()["probs"], frames.as_arrays()["probs"])


def test_inputs_must_have_two_features():
    with pytest.raises(ValueError, match="2 features"):
        BoundaryRecorder(np.zeros((5, 3)))


def test_picture_from_recorder_and_from_a_function(tmp_path):
    x, _ = _moons()
    frames = BoundaryRecorder(x, frames=4, grid=40)
    trainer, x, y = _train(frames)
    fig = plot_decision_boundaries(frames, x, y, tmp_path / "b.png", names=["a", "b"])
    assert_picture(tmp_path / "b.png")
    assert [ax.get_title() for ax in fig.axes[:4]] == ["epoch 1", "epoch 2", "epoch 4", "epoch 8"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]

    def predict(pts):
        return probabilities(trainer.predict(pts))

    plot_decision_boundaries(predict, x, y, tmp_path / "now.png")
    assert_picture(tmp_path / "now.png")


def test_three_classes(tmp_path):
    rng = np.random.default_rng(1)
    centers = np.array([[0, 0], [3, 0], [0, 3]])
    y = rng.integers(0, 3, 90)
    x = centers[y] + 0.5 * rng.normal(size=(90, 2))
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    frames = BoundaryRecorder(x, frames=2, grid=30)
    trainer = gs.Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05))
    trainer.fit((x, y), epochs=5, batch_size=30, callbacks=[frames], verbose=0)
    plot_decision_boundaries(frames.as_arrays(), x, y, tmp_path / "b3.png")
    assert_picture(tmp_path / "b3.png")
